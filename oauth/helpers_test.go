package oauth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

const (
	issuer      = "https://auth.tapioca.test"
	webRedirect = "https://app.example/callback"
	cliRedirect = "http://127.0.0.1/cb"
	// verifier/challenge: the RFC 7636 appendix B pair.
	verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	state     = "xyz-state_123"
	sessionHd = "X-Test-Session" // the fake host reads the signed-in user from it
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeHost: the signed-in user comes from a request header; the login page
// is on another origin.
type fakeHost struct{}

func (fakeHost) Session(r *http.Request) (oauth.Session, error) {
	u := r.Header.Get(sessionHd)
	if u == "" {
		return oauth.Session{}, nil
	}
	return oauth.Session{UserID: u, ID: "sess-" + u}, nil
}

func (fakeHost) LoginURL(_ *http.Request, returnTo string) (string, error) {
	return "https://login.tapioca.test/signin?return_to=" + url.QueryEscape(returnTo), nil
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type clientFx struct {
	id, secret string
}

// fx is a fresh fixture: memstore behind a Faulty wrapper, a token manager
// and a server, with three clients and two users.
type fx struct {
	t        testing.TB
	mem      *memstore.Store
	st       *storetest.Faulty
	clock    *clock
	tokens   *token.Manager
	srv      *oauth.Server
	consents *oauth.MemoryConsents
	logs     *logBuffer
	web      clientFx // confidential: authorization_code, refresh_token
	spa      clientFx // public: authorization_code, refresh_token
	svc      clientFx // confidential: client_credentials
	other    clientFx // confidential: authorization_code, refresh_token, client_credentials
}

const (
	alice = "alice" // acme, write:tasks read:time
	bob   = "bob"   // acme, read:tasks
)

func newFx(t testing.TB, mod ...func(*oauth.Config)) *fx {
	t.Helper()
	return newFxWrapped(t, nil, mod...)
}

// newFxWrapped is newFx with the store seen by both the token manager and
// the server wrapped by wrap.
func newFxWrapped(t testing.TB, wrap func(store.Store) store.Store, mod ...func(*oauth.Config)) *fx {
	t.Helper()
	f := &fx{t: t, mem: memstore.New(), clock: &clock{t: t0}, consents: &oauth.MemoryConsents{}, logs: &logBuffer{}}
	f.st = storetest.NewFaulty(f.mem)
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, bench := t.(*testing.B); bench {
		logger = slog.New(slog.DiscardHandler) // measure the library, not log I/O
	}
	var err error
	var st store.Store = f.st
	if wrap != nil {
		st = wrap(st)
	}
	f.tokens, err = token.NewManager(token.Config{Store: st, Now: f.clock.Now, Logger: logger})
	require.NoError(t, err)

	require.NoError(t, f.mem.PutUser(store.User{ID: alice, OrgID: "acme", Active: true,
		Permissions: scope.MustParse("write:tasks read:time")}))
	require.NoError(t, f.mem.PutUser(store.User{ID: bob, OrgID: "acme", Active: true,
		Permissions: scope.MustParse("read:tasks")}))

	f.web = f.addClient(store.Client{ID: "web-app", Name: "Web App", RedirectURIs: []string{webRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("write:tasks write:time"), OrgID: "acme"})
	f.spa = f.addClient(store.Client{ID: "spa", Public: true, RedirectURIs: []string{cliRedirect, "https://spa.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("read:tasks read:time"), OrgID: "acme"})
	f.svc = f.addClient(store.Client{ID: "svc", GrantTypes: []string{"client_credentials"},
		Scopes: scope.MustParse("read:tasks write:time"), OrgID: "acme"})
	f.other = f.addClient(store.Client{ID: "other", RedirectURIs: []string{"https://other.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:     scope.MustParse("write:tasks write:time"), OrgID: "globex"})

	cfg := oauth.Config{
		Issuer: issuer, Store: st, Tokens: f.tokens, Host: fakeHost{}, Consents: f.consents,
		Now: f.clock.Now, Logger: logger, ConsentKey: bytes.Repeat([]byte("k"), 32),
		Introspectors: []string{"other"},
	}
	for _, m := range mod {
		m(&cfg)
	}
	f.srv, err = oauth.NewServer(cfg)
	require.NoError(t, err)
	return f
}

// addClient registers c; a confidential client gets a fresh secret.
func (f *fx) addClient(c store.Client) clientFx {
	f.t.Helper()
	var secret string
	if !c.Public {
		sec, h, err := oauth.NewClientSecret()
		require.NoError(f.t, err)
		secret = sec.Reveal()
		c.SecretHashes = []store.Hash{h}
	}
	require.NoError(f.t, f.mem.PutClient(c))
	return clientFx{id: c.ID, secret: secret}
}

// serve runs one request through the server.
func (f *fx) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// post sends a form to path, authenticating c with Basic (if c.secret is
// set) or client_id alone (public).
func (f *fx) post(path string, c clientFx, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case c.secret != "":
		r.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	case c.id != "":
		form.Set("client_id", c.id)
		r = httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return f.serve(r)
}

func (f *fx) token(c clientFx, form url.Values) *httptest.ResponseRecorder {
	return f.post("/oauth/token", c, form)
}

// authorizeQuery is a valid authorization request for c.
func authorizeQuery(c clientFx, redirect, scopes string) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {redirect},
		"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	if scopes != "" {
		q.Set("scope", scopes)
	}
	return q
}

// authorize sends a GET authorization request as user ("" = nobody).
func (f *fx) authorize(q url.Values, user string) *httptest.ResponseRecorder {
	return f.authorizeRaw(q.Encode(), user)
}

func (f *fx) authorizeRaw(rawQuery, user string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+rawQuery, nil)
	if user != "" {
		r.Header.Set(sessionHd, user)
	}
	return f.serve(r)
}

// code runs an authorization request for user with a remembered consent
// and returns the code from the redirect.
func (f *fx) code(c clientFx, redirect, scopes, user string) string {
	f.t.Helper()
	return f.codeQ(authorizeQuery(c, redirect, scopes), user)
}

func (f *fx) codeQ(q url.Values, user string) string {
	f.t.Helper()
	set, err := scope.Parse(q.Get("scope"))
	require.NoError(f.t, err)
	require.NoError(f.t, f.consents.RememberConsent(context.Background(), user, q.Get("client_id"), set))
	w := f.authorize(q, user)
	require.Equal(f.t, http.StatusFound, w.Code, w.Body.String())
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(f.t, err)
	require.Empty(f.t, loc.Query().Get("error"), loc.String())
	code := loc.Query().Get("code")
	require.NotEmpty(f.t, code)
	return code
}

// exchange redeems a code.
func (f *fx) exchange(c clientFx, code, redirect, verifier string) *httptest.ResponseRecorder {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return f.token(c, form)
}

func (f *fx) refresh(c clientFx, rt string) *httptest.ResponseRecorder {
	return f.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// tokenResp is the token endpoint's success answer.
type tokenResp struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func decodeTokens(t testing.TB, w *httptest.ResponseRecorder) tokenResp {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var tr tokenResp
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
	return tr
}

// grant runs authorize + exchange for c and user.
func (f *fx) grant(c clientFx, redirect, scopes, user string) tokenResp {
	f.t.Helper()
	code := f.code(c, redirect, scopes, user)
	return decodeTokens(f.t, f.exchange(c, code, redirect, verifier))
}

type errResp struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// requireError checks an RFC 6749 §5.2 error answer.
func requireError(t testing.TB, w *httptest.ResponseRecorder, status int, code *oauth.Error) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	var e errResp
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	require.Equal(t, code.Code, e.Error, w.Body.String())
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
}

// redirectParams checks a redirect to prefix and returns its query.
func redirectParams(t testing.TB, w *httptest.ResponseRecorder, prefix string) url.Values {
	t.Helper()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, w.Code, w.Body.String())
	loc := w.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, prefix+"?") || strings.HasPrefix(loc, prefix+"&"), loc)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	return u.Query()
}

// requireErrorPage checks an error page: no redirect at all.
func requireErrorPage(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Empty(t, w.Header().Get("Location"))
	require.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// introspect returns the introspection answer for tok, asked by f.web.
func (f *fx) introspect(tok string) map[string]any {
	f.t.Helper()
	w := f.post("/oauth/introspect", f.other, url.Values{"token": {tok}})
	require.Equal(f.t, http.StatusOK, w.Code, w.Body.String())
	var m map[string]any
	require.NoError(f.t, json.Unmarshal(w.Body.Bytes(), &m))
	return m
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
