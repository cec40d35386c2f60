package oauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// S7: redirect URIs match byte for byte.
func TestS07RedirectURIExactMatch(t *testing.T) {
	const reg = "https://app.example/cb?a=1&b=2"
	tests := []struct {
		name, requested string
	}{
		{"other case in host", "https://APP.example/cb?a=1&b=2"},
		{"other case in path", "https://app.example/CB?a=1&b=2"},
		{"other case in scheme", "HTTPS://app.example/cb?a=1&b=2"},
		{"trailing slash", "https://app.example/cb/?a=1&b=2"},
		{"extra query", "https://app.example/cb?a=1&b=2&c=3"},
		{"reordered query", "https://app.example/cb?b=2&a=1"},
		{"missing query", "https://app.example/cb"},
		{"fragment", "https://app.example/cb?a=1&b=2#x"},
		{"percent-encoding", "https://app.example/%63b?a=1&b=2"},
		{"userinfo", "https://evil@app.example/cb?a=1&b=2"},
		{"backslash", `https://app.example\cb?a=1&b=2`},
		{"dot-dot", "https://app.example/x/../cb?a=1&b=2"},
		{"scheme change", "http://app.example/cb?a=1&b=2"},
		{"default port", "https://app.example:443/cb?a=1&b=2"},
		{"other host suffix", "https://app.example.evil/cb?a=1&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.False(t, oauth.MatchRedirectURI(reg, tt.requested))
			f := newFx(t)
			require.NoError(t, f.mem.PutClient(store.Client{ID: "c", Public: true, RedirectURIs: []string{reg},
				GrantTypes: []string{"authorization_code"}, Scopes: scope.MustParse("read:tasks")}))
			w := f.authorize(authorizeQuery(clientFx{id: "c"}, tt.requested, "read:tasks"), alice)
			requireErrorPage(t, w, http.StatusBadRequest)
		})
	}
	t.Run("exact", func(t *testing.T) {
		assert.True(t, oauth.MatchRedirectURI(reg, reg))
	})
}

// S8: loopback IP literals match in any port; the rest stays exact.
func TestS08LoopbackAnyPort(t *testing.T) {
	tests := []struct {
		name, registered, requested string
		match                       bool
	}{
		{"v4 any port", "http://127.0.0.1/cb", "http://127.0.0.1:51234/cb", true},
		{"v4 registered with port", "http://127.0.0.1:8080/cb", "http://127.0.0.1:9/cb", true},
		{"v4 no port", "http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true},
		{"v6 any port", "http://[::1]/cb", "http://[::1]:4242/cb", true},
		{"v4 path differs", "http://127.0.0.1/cb", "http://127.0.0.1:5000/cb2", false},
		{"v4 query differs", "http://127.0.0.1/cb?a=1", "http://127.0.0.1:5000/cb?a=2", false},
		{"v4 trailing slash", "http://127.0.0.1/cb", "http://127.0.0.1:5000/cb/", false},
		{"localhost is not 127.0.0.1", "http://127.0.0.1/cb", "http://localhost:5000/cb", false},
		{"127.0.0.1 is not localhost", "http://localhost/cb", "http://127.0.0.1:5000/cb", false},
		{"localhost needs its port", "http://localhost:3000/cb", "http://localhost:3001/cb", false},
		{"v4 is not v6", "http://127.0.0.1/cb", "http://[::1]:5000/cb", false},
		{"https loopback is exact", "https://127.0.0.1/cb", "https://127.0.0.1:5000/cb", false},
		{"host suffix", "http://127.0.0.1/cb", "http://127.0.0.1.evil.example:5000/cb", false},
		{"userinfo", "http://127.0.0.1/cb", "http://127.0.0.1:5000@evil.example/cb", false},
		{"port out of range", "http://127.0.0.1/cb", "http://127.0.0.1:65536/cb", false},
		{"leading zero port", "http://127.0.0.1/cb", "http://127.0.0.1:080/cb", false},
		{"empty port", "http://127.0.0.1/cb", "http://127.0.0.1:/cb", false},
		{"fragment", "http://127.0.0.1/cb", "http://127.0.0.1:5000/cb#x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.match, oauth.MatchRedirectURI(tt.registered, tt.requested))
		})
	}
	t.Run("endpoint", func(t *testing.T) {
		f := newFx(t)
		code := f.code(f.spa, "http://127.0.0.1:61000/cb", "read:tasks", alice)
		// The code is bound to the URI with the port actually used.
		requireError(t, f.exchange(f.spa, code, cliRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
		code = f.code(f.spa, "http://127.0.0.1:61000/cb", "read:tasks", alice)
		decodeTokens(t, f.exchange(f.spa, code, "http://127.0.0.1:61000/cb", verifier))
	})
}

// S9: registration refuses non-loopback http, fragments and wildcards.
func TestS09RegistrationValidation(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb?x=1", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8080/cb", true},
		{"http://[::1]/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"http://app.example/cb", false},
		{"http://localhost/cb", false},
		{"http://10.0.0.1/cb", false},
		{"https://app.example/cb#frag", false},
		{"https://*.app.example/cb", false},
		{"https://app.example/*", false},
		{"https://user:pw@app.example/cb", false},
		{"https://app.example/a/../cb", false},
		{`https://app.example\cb`, false},
		{"https://app.example/c b", false},
		{"/relative/cb", false},
		{"", false},
		{"javascript:alert(1)", false},
		{"https:///cb", false},
		{"https://app.example/" + strings.Repeat("a", 2100), false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := oauth.ValidateRedirectURI(tt.uri)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
	_, h, err := oauth.NewClientSecret()
	require.NoError(t, err)
	good := store.Client{ID: "c", SecretHashes: []store.Hash{h}, RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("read:tasks")}
	clients := []struct {
		name string
		mod  func(*store.Client)
		ok   bool
	}{
		{"good", func(*store.Client) {}, true},
		{"http redirect", func(c *store.Client) { c.RedirectURIs = []string{"http://app.example/cb"} }, false},
		{"wildcard redirect", func(c *store.Client) { c.RedirectURIs = []string{"https://app.example/*"} }, false},
		{"no redirect", func(c *store.Client) { c.RedirectURIs = nil }, false},
		{"public with secret", func(c *store.Client) { c.Public = true }, false},
		{"public client_credentials", func(c *store.Client) {
			c.Public, c.SecretHashes, c.GrantTypes = true, nil, []string{"client_credentials"}
		}, false},
		{"three secrets", func(c *store.Client) { c.SecretHashes = []store.Hash{h, h, h} }, false},
		{"no secret", func(c *store.Client) { c.SecretHashes = nil }, false},
		{"password grant", func(c *store.Client) { c.GrantTypes = []string{"password"} }, false},
		{"implicit grant", func(c *store.Client) { c.GrantTypes = []string{"implicit"} }, false},
		{"refresh alone", func(c *store.Client) { c.GrantTypes = []string{"refresh_token"} }, false},
		{"no scope", func(c *store.Client) { c.Scopes = scope.Set{} }, false},
	}
	for _, tt := range clients {
		t.Run("client "+tt.name, func(t *testing.T) {
			c := good
			c.SecretHashes = append([]store.Hash(nil), good.SecretHashes...)
			tt.mod(&c)
			if tt.ok {
				assert.NoError(t, oauth.ValidateClient(c))
			} else {
				assert.Error(t, oauth.ValidateClient(c))
			}
		})
	}
}

// S10: unknown client or unregistered redirect URI → error page, no 3xx, no
// Location.
func TestS10UnverifiedRedirectGetsErrorPage(t *testing.T) {
	tests := []struct {
		name   string
		query  func(f *fx) string
		status int
		fail   string // a store method made to fail
	}{
		{"unknown client", func(f *fx) string {
			return authorizeQuery(clientFx{id: "nope"}, webRedirect, "read:tasks").Encode()
		}, http.StatusBadRequest, ""},
		{"missing client_id", func(f *fx) string {
			q := authorizeQuery(f.web, webRedirect, "read:tasks")
			q.Del("client_id")
			return q.Encode()
		}, http.StatusBadRequest, ""},
		{"unregistered redirect_uri", func(f *fx) string {
			return authorizeQuery(f.web, "https://evil.example/cb", "read:tasks").Encode()
		}, http.StatusBadRequest, ""},
		{"another client's redirect_uri", func(f *fx) string {
			return authorizeQuery(f.web, "https://other.example/cb", "read:tasks").Encode()
		}, http.StatusBadRequest, ""},
		{"missing redirect_uri", func(f *fx) string {
			q := authorizeQuery(f.web, webRedirect, "read:tasks")
			q.Del("redirect_uri")
			return q.Encode()
		}, http.StatusBadRequest, ""},
		{"duplicated redirect_uri", func(f *fx) string {
			return authorizeQuery(f.web, webRedirect, "read:tasks").Encode() + "&redirect_uri=" + url.QueryEscape(webRedirect)
		}, http.StatusBadRequest, ""},
		{"duplicated client_id", func(f *fx) string {
			return authorizeQuery(f.web, webRedirect, "read:tasks").Encode() + "&client_id=spa"
		}, http.StatusBadRequest, ""},
		{"malformed query", func(f *fx) string { return "client_id=%zz" }, http.StatusBadRequest, ""},
		{"unknown client with an otherwise bad request", func(f *fx) string {
			return "response_type=token&client_id=nope&redirect_uri=" + url.QueryEscape("https://evil.example/")
		}, http.StatusBadRequest, ""},
		{"client lookup fails", func(f *fx) string {
			return authorizeQuery(f.web, webRedirect, "read:tasks").Encode()
		}, http.StatusServiceUnavailable, "Client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			if tt.fail != "" {
				f.st.Fail(tt.fail, nil)
			}
			w := f.authorizeRaw(tt.query(f), alice)
			requireErrorPage(t, w, tt.status)
			assert.NotContains(t, w.Body.String(), "evil.example")
		})
	}
}

// S11: after verification errors go to the redirect URI with error, the exact
// state and iss; every authorization response carries iss.
func TestS11ErrorsRedirectWithStateAndIss(t *testing.T) {
	f := newFx(t)
	q := authorizeQuery(f.web, webRedirect, "read:tasks")
	q.Set("state", "s t/ä=&?x")
	q.Set("response_type", "token")
	p := redirectParams(t, f.authorize(q, alice), webRedirect)
	assert.Equal(t, "unsupported_response_type", p.Get("error"))
	assert.Equal(t, "s t/ä=&?x", p.Get("state"))
	assert.Equal(t, issuer, p.Get("iss"))

	// Success carries iss too, and a registered query is kept.
	require.NoError(t, f.mem.PutClient(store.Client{ID: "q", Public: true, RedirectURIs: []string{"https://q.example/cb?tenant=7"},
		GrantTypes: []string{"authorization_code"}, Scopes: scope.MustParse("read:tasks")}))
	require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "q", scope.MustParse("read:tasks")))
	w := f.authorize(authorizeQuery(clientFx{id: "q"}, "https://q.example/cb?tenant=7", "read:tasks"), alice)
	p = redirectParams(t, w, "https://q.example/cb?tenant=7")
	assert.Equal(t, "7", p.Get("tenant"))
	assert.NotEmpty(t, p.Get("code"))
	assert.Equal(t, state, p.Get("state"))
	assert.Equal(t, issuer, p.Get("iss"))

	// A denied consent too.
	w = f.consentPost(t, f.web, webRedirect, "write:tasks", alice, "deny")
	p = redirectParams(t, w, webRedirect)
	assert.Equal(t, "access_denied", p.Get("error"))
	assert.Equal(t, state, p.Get("state"))
	assert.Equal(t, issuer, p.Get("iss"))
}

// S12: only response_type=code; implicit and password never.
func TestS12OnlyCodeResponseType(t *testing.T) {
	for _, rt := range []string{"token", "id_token", "code token", "none"} {
		t.Run("response_type="+rt, func(t *testing.T) {
			f := newFx(t)
			q := authorizeQuery(f.web, webRedirect, "read:tasks")
			q.Set("response_type", rt)
			p := redirectParams(t, f.authorize(q, alice), webRedirect)
			assert.Equal(t, "unsupported_response_type", p.Get("error"))
			assert.Empty(t, p.Get("code"))
			assert.Empty(t, p.Get("access_token"))
		})
	}
	for _, gt := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "token"} {
		t.Run("grant_type="+gt, func(t *testing.T) {
			f := newFx(t)
			w := f.token(f.other, url.Values{"grant_type": {gt}, "username": {alice}, "password": {"pw"}, "scope": {"write:tasks"}})
			requireError(t, w, http.StatusBadRequest, oauth.ErrUnsupportedGrantType)
		})
	}
}

// S13: PKCE required (public always, confidential by default), S256 only,
// 43-character challenge.
func TestS13PKCERequired(t *testing.T) {
	tests := []struct {
		name   string
		client func(f *fx) clientFx
		mod    func(q url.Values)
		unsafe bool // Config.UnsafeAllowConfidentialWithoutPKCE
		ok     bool
	}{
		{"public without challenge", func(f *fx) clientFx { return f.spa }, func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, false, false},
		{"public without challenge even when unsafe", func(f *fx) clientFx { return f.spa }, func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, true, false},
		{"confidential without challenge", func(f *fx) clientFx { return f.web }, func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, false, false},
		{"confidential without challenge when unsafe", func(f *fx) clientFx { return f.web }, func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, true, true},
		{"plain", func(f *fx) clientFx { return f.web }, func(q url.Values) { q.Set("code_challenge_method", "plain") }, false, false},
		{"plain with verifier as challenge", func(f *fx) clientFx { return f.spa }, func(q url.Values) {
			q.Set("code_challenge_method", "plain")
			q.Set("code_challenge", verifier)
		}, false, false},
		{"missing method", func(f *fx) clientFx { return f.spa }, func(q url.Values) { q.Del("code_challenge_method") }, false, false},
		{"lower-case s256", func(f *fx) clientFx { return f.spa }, func(q url.Values) { q.Set("code_challenge_method", "s256") }, false, false},
		{"short challenge", func(f *fx) clientFx { return f.spa }, func(q url.Values) { q.Set("code_challenge", challenge[:42]) }, false, false},
		{"long challenge", func(f *fx) clientFx { return f.spa }, func(q url.Values) { q.Set("code_challenge", challenge+"A") }, false, false},
		{"padded challenge", func(f *fx) clientFx { return f.spa }, func(q url.Values) { q.Set("code_challenge", challenge[:42]+"=") }, false, false},
		{"method without challenge", func(f *fx) clientFx { return f.web }, func(q url.Values) { q.Del("code_challenge") }, true, false},
		{"S256", func(f *fx) clientFx { return f.spa }, func(url.Values) {}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t, func(c *oauth.Config) { c.UnsafeAllowConfidentialWithoutPKCE = tt.unsafe })
			c := tt.client(f)
			redirect := webRedirect
			if c.id == "spa" {
				redirect = cliRedirect
			}
			q := authorizeQuery(c, redirect, "read:tasks")
			tt.mod(q)
			require.NoError(t, f.consents.RememberConsent(t.Context(), alice, c.id, scope.MustParse("read:tasks")))
			p := redirectParams(t, f.authorize(q, alice), redirect)
			if tt.ok {
				assert.NotEmpty(t, p.Get("code"))
				assert.Empty(t, p.Get("error"))
			} else {
				assert.Equal(t, "invalid_request", p.Get("error"))
				assert.Empty(t, p.Get("code"))
			}
		})
	}
}

// savedCodes records the codes a store was asked to save.
type savedCodes struct {
	store.Store
	codes []store.Code
}

func (s *savedCodes) SaveCode(ctx context.Context, c store.Code) error {
	s.codes = append(s.codes, c)
	return s.Store.SaveCode(ctx, c)
}

// S14: codes have ≥128 random bits, are stored hashed, live 60 s by default
// (at most 10 minutes) and are bound to client, redirect URI, challenge,
// user and scope.
func TestS14CodeProperties(t *testing.T) {
	spy := &savedCodes{}
	f := newFx(t, func(c *oauth.Config) {
		spy.Store = c.Store
		c.Store = spy
	})
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	assert.Regexp(t, regexp.MustCompile(`^tap_code_[A-Za-z0-9]{28}$`), code)
	k, err := token.Parse(code)
	require.NoError(t, err)
	assert.Equal(t, token.KindCode, k)
	require.Len(t, spy.codes, 1)
	c := spy.codes[0]
	assert.Equal(t, token.Hash(code), c.Hash)
	assert.Equal(t, "web-app", c.ClientID)
	assert.Equal(t, webRedirect, c.RedirectURI)
	assert.Equal(t, challenge, c.Challenge)
	assert.Equal(t, alice, c.UserID)
	assert.Equal(t, "acme", c.OrgID)
	assert.Equal(t, "write:tasks", c.Scopes.String())
	assert.Equal(t, 60*time.Second, c.ExpiresAt.Sub(c.CreatedAt))
	assert.NotEmpty(t, c.FamilyID)

	// Valid at 59 s, gone at 60 s.
	code2 := f.code(f.web, webRedirect, "write:tasks", alice)
	f.clock.Advance(59 * time.Second)
	decodeTokens(t, f.exchange(f.web, code, webRedirect, verifier))
	f.clock.Advance(time.Second)
	requireError(t, f.exchange(f.web, code2, webRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)

	// A longer lifetime than 10 minutes is refused.
	_, err = oauth.NewServer(oauth.Config{Issuer: issuer, Store: f.st, Tokens: f.tokens, Host: fakeHost{}, CodeLifetime: 10*time.Minute + 1})
	require.Error(t, err)
}

// A stored code outlives the request, so it holds copies of what it keeps
// from the query: the parser shares memory with the query, and a code
// pointing into it would pin the whole query (up to the header limit) for
// the code's lifetime.
func TestCodeRecordDoesNotPinTheQuery(t *testing.T) {
	spy := &savedCodes{}
	f := newFx(t, func(c *oauth.Config) {
		spy.Store = c.Store
		c.Store = spy
	})
	require.NoError(t, f.consents.RememberConsent(t.Context(), alice, f.spa.id, scope.MustParse("read:tasks")))
	// Nothing escaped, so nothing needs decoding: the parsed values are
	// pieces of the query itself.
	raw := "response_type=code&client_id=spa&redirect_uri=" + cliRedirect + "&state=" + state +
		"&code_challenge=" + challenge + "&code_challenge_method=S256&scope=read:tasks&pad=" + strings.Repeat("x", 4<<10)
	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+raw, nil)
	r.Header.Set(sessionHd, alice)
	w := f.serve(r)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	require.Len(t, spy.codes, 1)
	c := spy.codes[0]
	require.Equal(t, cliRedirect, c.RedirectURI)
	require.Equal(t, challenge, c.Challenge)
	q := r.URL.RawQuery
	lo := uintptr(unsafe.Pointer(unsafe.StringData(q)))
	for _, v := range []string{c.RedirectURI, c.Challenge} {
		p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
		assert.False(t, p >= lo && p < lo+uintptr(len(q)), "the stored code's %q points into the request's query", v)
	}
}

// consentPost shows the consent page as user and submits its form with
// decision.
func (f *fx) consentPost(t *testing.T, c clientFx, redirect, scopes, user, decision string) *httptest.ResponseRecorder {
	t.Helper()
	fields := f.consentForm(t, c, redirect, scopes, user)
	fields.Set("decision", decision)
	return f.postConsent(fields, user)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm shows the consent page and returns its hidden fields.
func (f *fx) consentForm(t *testing.T, c clientFx, redirect, scopes, user string) url.Values {
	t.Helper()
	w := f.authorize(authorizeQuery(c, redirect, scopes), user)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	fields := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(w.Body.String(), -1) {
		fields.Add(m[1], htmlUnescape(m[2]))
	}
	require.NotEmpty(t, fields.Get("csrf_token"))
	return fields
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+")
	return r.Replace(s)
}

func (f *fx) postConsent(fields url.Values, user string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/oauth/authorize", strings.NewReader(fields.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		r.Header.Set(sessionHd, user)
	}
	return f.serve(r)
}

// S15: login, consent and error pages deny framing; the consent POST needs
// a CSRF token bound to the session; redirects after a POST use 303.
func TestS15ConsentPageFramingAndCSRF(t *testing.T) {
	framing := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
	}
	t.Run("consent page", func(t *testing.T) {
		f := newFx(t)
		w := f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
		require.Equal(t, http.StatusOK, w.Code)
		framing(t, w)
		assert.Contains(t, w.Body.String(), "Web App")
		assert.Contains(t, w.Body.String(), "write:tasks")
	})
	t.Run("login redirect", func(t *testing.T) {
		f := newFx(t)
		w := f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), "")
		require.Equal(t, http.StatusFound, w.Code)
		framing(t, w)
		loc, err := url.Parse(w.Header().Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "login.tapioca.test", loc.Host)
		back, err := url.Parse(loc.Query().Get("return_to"))
		require.NoError(t, err)
		assert.Equal(t, "/oauth/authorize", back.Path)
		assert.Equal(t, state, back.Query().Get("state"))
		assert.Equal(t, challenge, back.Query().Get("code_challenge"))
	})
	t.Run("error page", func(t *testing.T) {
		f := newFx(t)
		w := f.authorize(authorizeQuery(clientFx{id: "nope"}, webRedirect, "write:tasks"), alice)
		requireErrorPage(t, w, http.StatusBadRequest)
		framing(t, w)
	})
	t.Run("allow", func(t *testing.T) {
		f := newFx(t)
		w := f.consentPost(t, f.web, webRedirect, "write:tasks", alice, "allow")
		require.Equal(t, http.StatusSeeOther, w.Code)
		p := redirectParams(t, w, webRedirect)
		decodeTokens(t, f.exchange(f.web, p.Get("code"), webRedirect, verifier))
		// The consent is remembered: the next request gets a code at once.
		w = f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
		require.Equal(t, http.StatusFound, w.Code)
		// ... and revocable.
		require.NoError(t, f.consents.RevokeConsent(t.Context(), alice, "web-app"))
		w = f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
		require.Equal(t, http.StatusOK, w.Code)
	})
	bad := []struct {
		name string
		mod  func(f *fx, fields url.Values) (url.Values, string)
	}{
		{"no token", func(f *fx, v url.Values) (url.Values, string) { v.Del("csrf_token"); return v, alice }},
		{"garbage token", func(f *fx, v url.Values) (url.Values, string) { v.Set("csrf_token", "1.abc"); return v, alice }},
		{"another user's session", func(f *fx, v url.Values) (url.Values, string) { return v, bob }},
		{"other state", func(f *fx, v url.Values) (url.Values, string) { v.Set("state", "other"); return v, alice }},
		{"other challenge", func(f *fx, v url.Values) (url.Values, string) {
			v.Set("code_challenge", s256(strings.Repeat("v", 43)))
			return v, alice
		}},
		{"expired", func(f *fx, v url.Values) (url.Values, string) { f.clock.Advance(31 * time.Minute); return v, alice }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			require.NoError(t, f.mem.PutUser(store.User{ID: bob, OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")}))
			fields := f.consentForm(t, f.web, webRedirect, "write:tasks", alice)
			fields.Set("decision", "allow")
			fields, user := tt.mod(f, fields)
			w := f.postConsent(fields, user)
			require.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
			assert.Empty(t, w.Header().Get("Location"))
			framing(t, w)
		})
	}
	t.Run("two tokens", func(t *testing.T) {
		f := newFx(t)
		fields := f.consentForm(t, f.web, webRedirect, "write:tasks", alice)
		fields.Set("decision", "allow")
		fields.Add("csrf_token", fields.Get("csrf_token"))
		p := redirectParams(t, f.postConsent(fields, alice), webRedirect)
		assert.Equal(t, "invalid_request", p.Get("error"))
		assert.Empty(t, p.Get("code"))
	})
	t.Run("session-bound", func(t *testing.T) {
		// The same user in another session cannot replay the form.
		f := newFx(t)
		fields := f.consentForm(t, f.web, webRedirect, "write:tasks", alice)
		fields.Set("decision", "allow")
		srv, err := oauth.NewServer(oauth.Config{Issuer: issuer, Store: f.st, Tokens: f.tokens, Consents: f.consents,
			Host: otherSessionHost{}, ConsentKey: []byte(strings.Repeat("k", 32)), Now: f.clock.Now,
			Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/oauth/authorize", strings.NewReader(fields.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.Equal(t, http.StatusForbidden, w.Code)
	})
}

// A Session with a user but no session ID would bind the consent page's
// CSRF token to the user alone: the authorization request fails closed
// with server_error, before any consent page or code, GET and POST alike.
func TestSessionWithoutIDFailsClosed(t *testing.T) {
	for _, remembered := range []bool{false, true} {
		t.Run(fmt.Sprintf("remembered consent %v", remembered), func(t *testing.T) {
			f := newFx(t)
			// A consent form from a proper session, to post below.
			fields := f.consentForm(t, f.web, webRedirect, "write:tasks", alice)
			fields.Set("decision", "allow")
			if remembered {
				require.NoError(t, f.consents.RememberConsent(t.Context(), alice, f.web.id, scope.MustParse("write:tasks")))
			}
			logs := &logBuffer{}
			srv, err := oauth.NewServer(oauth.Config{Issuer: issuer, Store: f.st, Tokens: f.tokens, Consents: f.consents,
				Host: noSessionIDHost{}, ConsentKey: []byte(strings.Repeat("k", 32)), Now: f.clock.Now,
				Logger: slog.New(slog.NewTextHandler(logs, nil))})
			require.NoError(t, err)
			serve := func(r *http.Request) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				return w
			}
			q := authorizeQuery(f.web, webRedirect, "write:tasks")
			w := serve(httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+q.Encode(), nil))
			p := redirectParams(t, w, webRedirect)
			assert.Equal(t, "server_error", p.Get("error"))
			assert.Equal(t, state, p.Get("state"))
			assert.Empty(t, p.Get("code"))
			assert.NotContains(t, w.Body.String(), "csrf_token")

			// The consent form is refused the same way.
			r := httptest.NewRequest(http.MethodPost, "/oauth/authorize", strings.NewReader(fields.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			p = redirectParams(t, serve(r), webRedirect)
			assert.Equal(t, "server_error", p.Get("error"))
			assert.Empty(t, p.Get("code"))
			assert.Contains(t, logs.String(), "without a session ID")
		})
	}
}

type noSessionIDHost struct{ fakeHost }

func (noSessionIDHost) Session(*http.Request) (oauth.Session, error) {
	return oauth.Session{UserID: alice}, nil
}

type otherSessionHost struct{ fakeHost }

func (otherSessionHost) Session(*http.Request) (oauth.Session, error) {
	return oauth.Session{UserID: alice, ID: "another-session"}, nil
}

// S16: duplicated parameters → invalid_request; empty ones count as absent;
// unknown ones are ignored.
func TestS16DuplicateAndEmptyParams(t *testing.T) {
	f := newFx(t)
	require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "web-app", scope.MustParse("write:tasks")))
	base := authorizeQuery(f.web, webRedirect, "write:tasks").Encode()
	for _, dup := range []string{"state=other", "response_type=code", "scope=read:tasks", "code_challenge=" + challenge, "code_challenge_method=S256"} {
		t.Run("duplicate "+dup, func(t *testing.T) {
			p := redirectParams(t, f.authorizeRaw(base+"&"+dup, alice), webRedirect)
			assert.Equal(t, "invalid_request", p.Get("error"))
			assert.Empty(t, p.Get("code"))
		})
	}
	t.Run("empty duplicate counts as absent", func(t *testing.T) {
		p := redirectParams(t, f.authorizeRaw(base+"&state=&scope=", alice), webRedirect)
		assert.NotEmpty(t, p.Get("code"))
		assert.Equal(t, state, p.Get("state"))
	})
	t.Run("unknown parameter ignored", func(t *testing.T) {
		p := redirectParams(t, f.authorizeRaw(base+"&foo=bar&foo=baz&nonce=1", alice), webRedirect)
		assert.NotEmpty(t, p.Get("code"))
	})
	t.Run("empty scope is absent: no default → invalid_scope", func(t *testing.T) {
		q := authorizeQuery(f.web, webRedirect, "")
		q.Set("scope", "")
		p := redirectParams(t, f.authorize(q, alice), webRedirect)
		assert.Equal(t, "invalid_scope", p.Get("error"))
	})
	t.Run("token endpoint duplicate", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token",
			strings.NewReader("grant_type=client_credentials&grant_type=client_credentials&scope=read:tasks"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(f.svc.id, f.svc.secret)
		requireError(t, f.serve(r), http.StatusBadRequest, oauth.ErrInvalidRequest)
	})
	t.Run("token endpoint empty and unknown", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token",
			strings.NewReader("grant_type=client_credentials&scope=&scope=read:tasks&foo=1&foo=2&code="))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(f.svc.id, f.svc.secret)
		decodeTokens(t, f.serve(r))
	})
}

// S42: granted scope = requested ∩ client-allowed ∩ user's permissions; an
// omitted scope gets the configured least-privilege default.
func TestS42GrantedScopeNarrowing(t *testing.T) {
	t.Run("intersection", func(t *testing.T) {
		f := newFx(t)
		// alice: write:tasks read:time; web-app: write:tasks write:time.
		tr := f.grant(f.web, webRedirect, "write:tasks write:time admin:org", alice)
		assert.Equal(t, "write:tasks read:time", tr.Scope)
	})
	t.Run("nothing left", func(t *testing.T) {
		f := newFx(t)
		require.NoError(t, f.consents.RememberConsent(t.Context(), bob, "web-app", scope.MustParse("write:time")))
		p := redirectParams(t, f.authorize(authorizeQuery(f.web, webRedirect, "write:time"), bob), webRedirect)
		assert.Equal(t, "invalid_scope", p.Get("error"))
	})
	t.Run("default", func(t *testing.T) {
		f := newFx(t, func(c *oauth.Config) { c.DefaultScope = scope.MustParse("read:tasks") })
		require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "web-app", scope.MustParse("read:tasks")))
		q := authorizeQuery(f.web, webRedirect, "")
		p := redirectParams(t, f.authorize(q, alice), webRedirect)
		tr := decodeTokens(t, f.exchange(f.web, p.Get("code"), webRedirect, verifier))
		assert.Equal(t, "read:tasks", tr.Scope)
	})
	t.Run("unknown scope", func(t *testing.T) {
		f := newFx(t)
		p := redirectParams(t, f.authorize(authorizeQuery(f.web, webRedirect, "read:task"), alice), webRedirect)
		assert.Equal(t, "invalid_scope", p.Get("error"))
	})
	t.Run("inactive user", func(t *testing.T) {
		f := newFx(t)
		require.NoError(t, f.mem.SetUserActive(alice, false))
		p := redirectParams(t, f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice), webRedirect)
		assert.Equal(t, "access_denied", p.Get("error"))
	})
}
