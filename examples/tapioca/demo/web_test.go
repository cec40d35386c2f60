package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// browser is an http.Client with a cookie jar that does not follow
// redirects, so tests see each step.
func (d *demo) browser() *http.Client { return newBrowser(d.t) }

func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (d *demo) send(c *http.Client, method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	d.t.Helper()
	return send(d.t, c, method, d.hs.URL+path, form, hdr...)
}

// send sends a request (a form, if any) and reads the answer.
func send(t *testing.T, c *http.Client, method, url string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func (d *demo) signIn(c *http.Client, user, returnTo string) *http.Response {
	d.t.Helper()
	res, _ := d.send(c, "POST", "/login", url.Values{"username": {user}, "password": {d.password(user)}, "return_to": {returnTo}})
	require.Equal(d.t, http.StatusSeeOther, res.StatusCode)
	return res
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`id="new-token" readonly value="(tap_[A-Za-z0-9]+)"`)
)

func TestLogin(t *testing.T) {
	d := newDemo(t)
	c := d.browser()

	res, body := d.send(c, "GET", "/login", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, body, `name="password"`)

	res, body = d.send(c, "POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong password"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, body, "Wrong username or password.")
	res, _ = d.send(c, "POST", "/login", url.Values{"username": {"nobody"}, "password": {"wrong password"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	// A cross-site login POST is refused (login CSRF).
	res, _ = d.send(c, "POST", "/login", url.Values{"username": {"alice"}, "password": {d.password("alice")}}, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	res = d.signIn(c, "alice", "//evil.example/")
	assert.Equal(t, "/settings/tokens", res.Header.Get("Location"), "an off-site return_to is ignored")
	var cookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			cookie = ck
		}
	}
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.False(t, cookie.Secure, "plain http in tests")
	assert.True(t, strings.HasPrefix(cookie.Value, "tap_session_"))

	// The session works on the API; unsafe cross-origin requests are refused.
	res, _ = d.send(c, "GET", "/api/v1/tasks", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	req := func(site string) int {
		r, err := http.NewRequest("POST", d.hs.URL+"/api/v1/projects", strings.NewReader(`{"name": "From the browser"}`))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Sec-Fetch-Site", site)
		res, err := c.Do(r)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, req("cross-site"))
	assert.Equal(t, http.StatusCreated, req("same-origin"))

	// Sign-out needs the CSRF token and revokes the session.
	res, body = d.send(c, "GET", "/settings/tokens", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m)
	res, _ = d.send(c, "POST", "/logout", url.Values{"csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = d.send(c, "POST", "/logout", url.Values{"csrf": {m[1]}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, err := d.s.tokens.VerifySession(context.Background(), cookie.Value)
	assert.Error(t, err, "the session is revoked at sign-out")
	res, _ = d.send(c, "GET", "/settings/tokens", nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestTokensPage(t *testing.T) {
	d := newDemo(t)
	c := d.browser()
	d.signIn(c, "bob", "/settings/tokens")
	res, body := d.send(c, "GET", "/settings/tokens", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `value="write:tasks"`)
	assert.NotContains(t, body, `value="admin:org"`, "only the scopes the user has are offered")
	csrf := csrfRE.FindStringSubmatch(body)[1]

	// Without the CSRF token: refused, nothing made.
	res, _ = d.send(c, "POST", "/settings/tokens", url.Values{"name": {"ci"}, "scope": {"read:tasks"}, "days": {"30"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// A scope bob lacks: refused.
	res, _ = d.send(c, "POST", "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}, "scope": {"admin:org"}, "days": {"30"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	res, body = d.send(c, "POST", "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}, "scope": {"read:tasks"}, "days": {"30"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	m := secretRE.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	secret := m[1]
	status, _, _ := d.do("GET", "/api/v1/tasks", secret, "")
	assert.Equal(t, http.StatusOK, status)
	status, _, _ = d.do("POST", "/api/v1/projects", secret, `{"name": "x"}`)
	assert.Equal(t, http.StatusForbidden, status, "the token has read:tasks only")

	// The list shows it, never its secret.
	res, body = d.send(c, "GET", "/settings/tokens", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, secret)
	id := regexp.MustCompile(`data-id="(tok_[A-Za-z0-9]+)"`).FindStringSubmatch(body)[1]

	// Rotate: new secret works, old one does not.
	res, body = d.send(c, "POST", "/settings/tokens/"+id+"/rotate", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	rotated := secretRE.FindStringSubmatch(body)[1]
	status, _, _ = d.do("GET", "/api/v1/tasks", secret, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _, _ = d.do("GET", "/api/v1/tasks", rotated, "")
	assert.Equal(t, http.StatusOK, status)

	// Revoke.
	res, body = d.send(c, "GET", "/settings/tokens", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	id = regexp.MustCompile(`data-id="(tok_[A-Za-z0-9]+)"`).FindStringSubmatch(body)[1]
	res, _ = d.send(c, "POST", "/settings/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	status, _, _ = d.do("GET", "/api/v1/tasks", rotated, "")
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestTokensAPI(t *testing.T) {
	d := newDemo(t)
	alice := d.token("alice", "write:tasks read:time")

	status, _, resp := d.do("POST", "/api/v1/tokens", alice, `{"name": "script", "scopes": ["read:tasks"], "expires_in_days": 7}`)
	require.Equal(t, http.StatusCreated, status, resp)
	var made newTokenView
	require.NoError(t, json.Unmarshal([]byte(resp), &made))
	assert.Equal(t, []string{"read:tasks"}, made.Scopes)
	status, _, _ = d.do("GET", "/api/v1/tasks", made.Token, "")
	assert.Equal(t, http.StatusOK, status)

	// A token cannot mint a stronger token than itself.
	status, _, resp = d.do("POST", "/api/v1/tokens", alice, `{"name": "more", "scopes": ["admin:org"]}`)
	assert.Equal(t, http.StatusBadRequest, status, resp)
	status, _, _ = d.do("POST", "/api/v1/tokens", alice, `{"name": "x", "scopes": ["read:tasks"], "extra": 1}`)
	assert.Equal(t, http.StatusBadRequest, status)

	status, _, resp = d.do("GET", "/api/v1/tokens", alice, "")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, resp, made.Token)
	assert.Contains(t, resp, made.ID)

	// Another user's token ID is not found.
	bobs := d.token("bob", "read:tasks")
	status, _, _ = d.do("DELETE", "/api/v1/tokens/"+made.ID, bobs, "")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = d.do("POST", "/api/v1/tokens/"+made.ID+"/rotate", bobs, "")
	assert.Equal(t, http.StatusNotFound, status)

	status, _, resp = d.do("POST", "/api/v1/tokens/"+made.ID+"/rotate", alice, "")
	require.Equal(t, http.StatusCreated, status, resp)
	var rotated newTokenView
	require.NoError(t, json.Unmarshal([]byte(resp), &rotated))
	status, _, _ = d.do("GET", "/api/v1/tasks", made.Token, "")
	assert.Equal(t, http.StatusUnauthorized, status)

	status, _, resp = d.do("DELETE", "/api/v1/tokens/"+rotated.ID, alice, "")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, fmt.Sprintf(`{"id": %q, "deleted": true}`, rotated.ID), resp)
	status, _, _ = d.do("GET", "/api/v1/tasks", rotated.Token, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	// Revoking again succeeds and changes nothing (RFC 7009 §2.2); a token
	// the user never had is still 404.
	status, _, resp = d.do("DELETE", "/api/v1/tokens/"+rotated.ID, alice, "")
	assert.Equal(t, http.StatusOK, status, resp)
	status, _, _ = d.do("DELETE", "/api/v1/tokens/tok_nosuchtoken0000", alice, "")
	assert.Equal(t, http.StatusNotFound, status)

	status, _, _ = d.do("GET", "/api/v1/tokens", "", "")
	assert.Equal(t, http.StatusUnauthorized, status)
}

// TestTokenMintedByTokenExpiresNoLater: a token made with an API token
// expires no later than that token, so a leaked short-lived token cannot
// make itself a long-lived successor.
func TestTokenMintedByTokenExpiresNoLater(t *testing.T) {
	d := newDemo(t)
	sec, parent, err := d.s.tokens.Create(context.Background(), token.CreateRequest{
		UserID: "user_alice", Name: "CI, one day", Scopes: scope.Default.MustParse("write:tasks"),
		ExpiresAt: d.s.now().Add(24 * time.Hour),
	})
	require.NoError(t, err)
	for _, body := range []string{
		`{"name": "long", "scopes": ["read:tasks"], "expires_in_days": 365}`,
		`{"name": "default", "scopes": ["read:tasks"]}`,
	} {
		status, _, resp := d.do("POST", "/api/v1/tokens", sec.Reveal(), body)
		require.Equal(t, http.StatusCreated, status, resp)
		var made newTokenView
		require.NoError(t, json.Unmarshal([]byte(resp), &made))
		assert.False(t, made.ExpiresAt.After(parent.ExpiresAt), "%s expires %v, after its maker %v", made.Name, made.ExpiresAt, parent.ExpiresAt)
	}

	// A session (a person signed in) still chooses any allowed expiry.
	session, _, err := d.s.tokens.CreateSession(context.Background(), "user_alice")
	require.NoError(t, err)
	status, _, resp := d.do("POST", "/api/v1/tokens", "", `{"name": "year", "scopes": ["read:tasks"], "expires_in_days": 365}`,
		"Cookie", sessionCookie+"="+session.Reveal())
	require.Equal(t, http.StatusCreated, status, resp)
	var made newTokenView
	require.NoError(t, json.Unmarshal([]byte(resp), &made))
	assert.True(t, made.ExpiresAt.After(d.s.now().Add(364*24*time.Hour)))
}

// TestTokenCannotManageStrongerTokens: an API token revokes or rotates only
// tokens it could have made itself, so a leaked narrow CI token can neither
// kill the user's admin token nor rotate it (nor a longer-lived token of
// the same scopes) into a secret the attacker holds. Listing stays allowed;
// the person, signed in, manages every token.
func TestTokenCannotManageStrongerTokens(t *testing.T) {
	ctx := context.Background()
	d := newDemo(t)
	mk := func(name, scopes string, life time.Duration) (string, store.Token) {
		sec, rec, err := d.s.tokens.Create(ctx, token.CreateRequest{
			UserID: "user_alice", Name: name, Scopes: scope.Default.MustParse(scopes), ExpiresAt: d.s.now().Add(life),
		})
		require.NoError(t, err)
		return sec.Reveal(), rec
	}
	day := 24 * time.Hour
	adminSecret, admin := mk("admin", "admin:org", 365*day)
	_, longRead := mk("long read", "read:tasks", 365*day)
	ci, _ := mk("CI", "read:tasks", day)
	_, shortRead := mk("short read", "read:tasks", day/2)

	tests := []struct {
		name   string
		target store.Token
		says   string
	}{
		{"stronger scopes", admin, "scopes (admin:org) are not within this token's (read:tasks)"},
		{"same scopes, later expiry", longRead, "after this token"},
	}
	for _, tt := range tests {
		for _, op := range []struct{ method, path string }{
			{"DELETE", "/api/v1/tokens/" + tt.target.ID},
			{"POST", "/api/v1/tokens/" + tt.target.ID + "/rotate"},
		} {
			t.Run(tt.name+"/"+op.method, func(t *testing.T) {
				status, h, resp := d.do(op.method, op.path, ci, "")
				require.Equal(t, http.StatusForbidden, status, resp)
				assert.Contains(t, h.Get("Content-Type"), "application/json")
				var e apiError
				require.NoError(t, json.Unmarshal([]byte(resp), &e))
				assert.Equal(t, "access_denied", e.Error)
				assert.Contains(t, e.Description, tt.says)
				all, err := d.s.tokens.List(ctx, "user_alice")
				require.NoError(t, err)
				for _, tok := range all {
					if tok.ID == tt.target.ID {
						assert.False(t, tok.Revoked(), "a refused request revoked the target")
					}
				}
			})
		}
	}
	status, _, _ := d.do("GET", "/api/v1/organization", adminSecret, "")
	assert.Equal(t, http.StatusOK, status, "the admin token still works")
	status, _, resp := d.do("GET", "/api/v1/tokens", ci, "")
	require.Equal(t, http.StatusOK, status, resp)
	assert.Contains(t, resp, admin.ID, "listing stays allowed")

	// A token it could have made: narrower or equal scopes, no later expiry.
	status, _, resp = d.do("POST", "/api/v1/tokens/"+shortRead.ID+"/rotate", ci, "")
	require.Equal(t, http.StatusCreated, status, resp)
	var rotated newTokenView
	require.NoError(t, json.Unmarshal([]byte(resp), &rotated))
	assert.True(t, rotated.ExpiresAt.Equal(shortRead.ExpiresAt), "rotation keeps the expiry")
	status, _, resp = d.do("DELETE", "/api/v1/tokens/"+rotated.ID, ci, "")
	assert.Equal(t, http.StatusOK, status, resp)

	// The person, signed in, manages every token.
	session, _, err := d.s.tokens.CreateSession(ctx, "user_alice")
	require.NoError(t, err)
	cookie := sessionCookie + "=" + session.Reveal()
	status, _, resp = d.do("POST", "/api/v1/tokens/"+admin.ID+"/rotate", "", "", "Cookie", cookie)
	assert.Equal(t, http.StatusCreated, status, resp)
	status, _, resp = d.do("DELETE", "/api/v1/tokens/"+longRead.ID, "", "", "Cookie", cookie)
	assert.Equal(t, http.StatusOK, status, resp)
}

func TestMayManage(t *testing.T) {
	now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	read, admin := scope.Default.MustParse("read:tasks"), scope.Default.MustParse("admin:org read:tasks")
	api := func(s scope.Set, exp time.Time) token.Principal {
		return token.Principal{Kind: token.KindAPI, UserID: "user_alice", Scopes: s, ExpiresAt: exp}
	}
	tok := func(s scope.Set, exp time.Time) store.Token { return store.Token{Scopes: s, ExpiresAt: exp} }
	tests := []struct {
		name   string
		caller token.Principal
		target store.Token
		ok     bool
	}{
		{"itself", api(read, now), tok(read, now), true},
		{"narrower, sooner", api(admin, now), tok(read, now.Add(-time.Hour)), true},
		{"stronger scopes", api(read, now), tok(admin, now), false},
		{"later expiry", api(read, now), tok(read, now.Add(time.Second)), false},
		{"never-expiring target, expiring caller", api(read, now), tok(read, token.Never), false},
		{"never-expiring target, never-expiring caller", api(read, token.Never), tok(read, token.Never), true},
		{"caller without expiry fails closed", api(read, time.Time{}), tok(read, now), false},
		{"session", token.Principal{Kind: token.KindSession, UserID: "user_alice", Scopes: read}, tok(admin, token.Never), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mayManage(tt.caller, tt.target)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var be *beyondCallerError
			assert.ErrorAs(t, err, &be)
		})
	}
}

// TestSecureCookie: served over TLS (an https issuer), the session cookie
// is Secure.
func TestSecureCookie(t *testing.T) {
	s, err := newServer(config{Issuer: "https://127.0.0.1:8443", Data: testData(), hashPassword: memoHash,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var pw string
	for _, u := range s.users {
		if u.Username == "alice" {
			pw = u.Password
		}
	}
	req := httptest.NewRequest("POST", "https://127.0.0.1:8443/login", strings.NewReader(url.Values{"username": {"alice"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	cs := rec.Result().Cookies()
	require.Len(t, cs, 1)
	assert.True(t, cs[0].Secure)
	assert.True(t, cs[0].HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cs[0].SameSite)
}

// TestRequestLog: one line per request with method, path (no query),
// status, duration and the token's public ID; never the secret.
func TestRequestLog(t *testing.T) {
	d := newDemo(t)
	tok := d.token("alice", "read:tasks")
	status, _, _ := d.do("GET", "/api/v1/tasks?secret=hunter2", tok, "")
	require.Equal(t, http.StatusOK, status)
	status, _, _ = d.do("GET", "/api/v1/"+tok, tok, "")
	require.Equal(t, http.StatusNotFound, status)
	logs := d.logs.String()
	assert.Regexp(t, `msg=request method=GET path=/api/v1/tasks status=200 duration=\S+ token_id=tok_\w+`, logs)
	assert.NotContains(t, logs, "hunter2", "no query string in the log")
	assert.NotContains(t, logs, tok[4:16], "no piece of the token in the log")
	assert.Contains(t, logs, "path=/api/v1/tap_[REDACTED]")
}

// TestLoginThrottle: after loginBurst failures for a username, even the
// right password is refused (429 with Retry-After) until the clock moves on.
func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s, err := newServer(config{Issuer: "http://127.0.0.1:8080", Data: testData(), hashPassword: memoHash,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	require.NoError(t, err)
	var pw string
	for _, u := range s.users {
		if u.Username == "bob" {
			pw = u.Password
		}
	}
	login := func(user, password, addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"username": {user}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	for i := range loginBurst {
		require.Equal(t, http.StatusUnauthorized, login("bob", "guess", fmt.Sprintf("192.0.2.%d:1000", i)).Code)
	}
	rec := login("bob", pw, "198.51.100.1:1000")
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "throttled per username, from any address")
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	now = now.Add(loginInterval)
	assert.Equal(t, http.StatusSeeOther, login("bob", pw, "198.51.100.1:1000").Code, "one more attempt per interval")

	// Per address: one address guessing many usernames.
	for i := range loginBurst {
		require.Equal(t, http.StatusUnauthorized, login(fmt.Sprintf("nobody%d", i), "guess", "203.0.113.9:1000").Code)
	}
	assert.Equal(t, http.StatusTooManyRequests, login("erin", "guess", "203.0.113.9:1000").Code)
}

// TestLoginThrottleCannotBeFlushed: the table of throttled keys is bounded,
// but a throttled address cannot make it forget itself by trying many new
// usernames (a throttled attempt records nothing), and when the table is
// full it drops the keys that have recovered before any throttled one.
func TestLoginThrottleCannotBeFlushed(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	attacker := "addr:203.0.113.9"
	for range loginBurst {
		require.Zero(t, l.wait("user:bob", attacker))
		l.fail("user:bob", attacker)
	}
	require.Positive(t, l.wait("user:bob", attacker))

	for i := range loginKeys + 1 {
		require.Positive(t, l.wait(fmt.Sprintf("user:guess%d", i), attacker), "throttled")
	}
	assert.Positive(t, l.wait("user:bob", "addr:198.51.100.1"), "bob is still throttled")
	assert.Positive(t, l.wait("user:alice", attacker), "the address is still throttled")

	// A full table of recovered keys makes room without forgiving bob.
	for i := 0; len(l.m) < loginKeys; i++ {
		l.fail(fmt.Sprintf("user:old%d", i))
	}
	now = now.Add(loginBurst * loginInterval) // every key recovered...
	for range loginBurst {
		l.fail("user:bob", attacker) // ...but bob is failing again
	}
	for i := range loginKeys / 2 {
		l.fail(fmt.Sprintf("user:new%d", i), "addr:198.51.100.7")
		now = now.Add(time.Millisecond)
	}
	assert.Positive(t, l.wait("user:bob", "addr:198.51.100.2"), "a full table dropped recovered keys, not bob")
	assert.LessOrEqual(t, len(l.m), loginKeys)
}
