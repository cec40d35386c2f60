package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

func formRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// S17: POST with a form body only; parameters from the body only; capped
// body.
func TestS17TokenEndpointFormBodyOnly(t *testing.T) {
	tests := []struct {
		name   string
		req    func(f *fx) *http.Request
		status int
	}{
		{"GET with query", func(f *fx) *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/oauth/token?grant_type=client_credentials&client_id=svc&client_secret="+f.svc.secret, nil)
			return r
		}, http.StatusBadRequest},
		{"secret in query", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token?client_secret="+f.svc.secret, "grant_type=client_credentials&client_id=svc&scope=read:tasks")
		}, http.StatusBadRequest},
		{"code in query", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token?code=tap_code_x", "grant_type=client_credentials&scope=read:tasks")
			r.SetBasicAuth(f.svc.id, f.svc.secret)
			return r
		}, http.StatusBadRequest},
		{"JSON body", func(f *fx) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
			r.Header.Set("Content-Type", "application/json")
			r.SetBasicAuth(f.svc.id, f.svc.secret)
			return r
		}, http.StatusBadRequest},
		{"no content type", func(f *fx) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read:tasks"))
			r.SetBasicAuth(f.svc.id, f.svc.secret)
			return r
		}, http.StatusBadRequest},
		{"body over 16 KiB", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", "grant_type=client_credentials&scope=read:tasks&pad="+strings.Repeat("a", 17<<10))
			r.SetBasicAuth(f.svc.id, f.svc.secret)
			return r
		}, http.StatusBadRequest},
		{"body over 16 KiB without length", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", "grant_type=client_credentials&scope=read:tasks&pad="+strings.Repeat("a", 17<<10))
			r.ContentLength = -1
			r.SetBasicAuth(f.svc.id, f.svc.secret)
			return r
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			w := f.serve(tt.req(f))
			requireError(t, w, tt.status, oauth.ErrInvalidRequest)
			assert.NotContains(t, w.Body.String(), "access_token")
		})
	}
	t.Run("charset parameter accepted", func(t *testing.T) {
		f := newFx(t)
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read:tasks"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		r.SetBasicAuth(f.svc.id, f.svc.secret)
		decodeTokens(t, f.serve(r))
	})
}

func basicHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// S18: client_secret_basic, client_secret_post, none; two methods →
// invalid_request; failed Basic → 401 with WWW-Authenticate: Basic.
func TestS18ClientAuthMethods(t *testing.T) {
	cc := "grant_type=client_credentials&scope=read:tasks"
	tests := []struct {
		name      string
		req       func(f *fx) *http.Request
		status    int
		code      *oauth.Error
		challenge bool
	}{
		{"basic", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Set("Authorization", basicHeader(f.svc.id, f.svc.secret))
			return r
		}, http.StatusOK, nil, false},
		{"basic scheme case-insensitive", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Set("Authorization", "bAsIc "+strings.TrimPrefix(basicHeader(f.svc.id, f.svc.secret), "Basic "))
			return r
		}, http.StatusOK, nil, false},
		{"post", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", cc+"&client_id=svc&client_secret="+url.QueryEscape(f.svc.secret))
		}, http.StatusOK, nil, false},
		{"basic and post", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc+"&client_id=svc&client_secret="+url.QueryEscape(f.svc.secret))
			r.Header.Set("Authorization", basicHeader(f.svc.id, f.svc.secret))
			return r
		}, http.StatusBadRequest, oauth.ErrInvalidRequest, false},
		{"basic with other client_id in body", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc+"&client_id=web-app")
			r.Header.Set("Authorization", basicHeader(f.svc.id, f.svc.secret))
			return r
		}, http.StatusBadRequest, oauth.ErrInvalidRequest, false},
		{"two Authorization headers", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Add("Authorization", basicHeader(f.svc.id, f.svc.secret))
			r.Header.Add("Authorization", basicHeader(f.svc.id, f.svc.secret))
			return r
		}, http.StatusBadRequest, oauth.ErrInvalidRequest, false},
		{"basic wrong secret", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Set("Authorization", basicHeader(f.svc.id, f.svc.secret+"x"))
			return r
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, true},
		{"basic malformed", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Set("Authorization", "Basic !!!")
			return r
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, true},
		{"bearer instead of basic", func(f *fx) *http.Request {
			r := formRequest(http.MethodPost, "/oauth/token", cc)
			r.Header.Set("Authorization", "Bearer "+f.svc.secret)
			return r
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, true},
		{"post wrong secret", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", cc+"&client_id=svc&client_secret=nope")
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, false},
		{"no authentication", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", cc)
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, false},
		{"none for a confidential client", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", cc+"&client_id=svc")
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, false},
		{"secret for a public client", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", "grant_type=refresh_token&refresh_token=x&client_id=spa&client_secret=s")
		}, http.StatusUnauthorized, oauth.ErrInvalidClient, false},
		{"client_secret without client_id", func(f *fx) *http.Request {
			return formRequest(http.MethodPost, "/oauth/token", cc+"&client_secret="+url.QueryEscape(f.svc.secret))
		}, http.StatusBadRequest, oauth.ErrInvalidRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			w := f.serve(tt.req(f))
			if tt.code == nil {
				decodeTokens(t, w)
				return
			}
			requireError(t, w, tt.status, tt.code)
			if tt.challenge {
				assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Basic")
			} else {
				assert.Empty(t, w.Header().Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("form-urlencoded id and secret", func(t *testing.T) {
		f := newFx(t)
		odd := f.addClient(store.Client{ID: "a:b c+d%é", GrantTypes: []string{"client_credentials"},
			Scopes: scope.MustParse("read:tasks"), OrgID: "acme"})
		r := formRequest(http.MethodPost, "/oauth/token", cc)
		r.Header.Set("Authorization", basicHeader(odd.id, odd.secret))
		decodeTokens(t, f.serve(r))
	})
	t.Run("public client with none", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.spa, cliRedirect, "read:tasks", alice)
		assert.NotEmpty(t, tr.RefreshToken)
		// x/oauth2 in header mode sends Basic with an empty secret.
		r := formRequest(http.MethodPost, "/oauth/token", "grant_type=refresh_token&refresh_token="+tr.RefreshToken)
		r.Header.Set("Authorization", basicHeader("spa", ""))
		decodeTokens(t, f.serve(r))
	})
	t.Run("second live secret during rotation", func(t *testing.T) {
		f := newFx(t)
		sec2, h2, err := oauth.NewClientSecret()
		require.NoError(t, err)
		c, err := f.mem.Client(t.Context(), "svc")
		require.NoError(t, err)
		c.SecretHashes = append(c.SecretHashes, h2)
		require.NoError(t, f.mem.PutClient(c))
		decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
		decodeTokens(t, f.token(clientFx{id: "svc", secret: sec2.Reveal()}, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
		// Drop the old one: it stops working.
		c.SecretHashes = c.SecretHashes[1:]
		require.NoError(t, f.mem.PutClient(c))
		requireError(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}),
			http.StatusUnauthorized, oauth.ErrInvalidClient)
	})
}

// S19: an unknown client and a wrong secret get byte-identical responses.
func TestS19UnknownClientAndWrongSecretIdentical(t *testing.T) {
	f := newFx(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}
	for _, basic := range []bool{true, false} {
		t.Run("basic="+strconv.FormatBool(basic), func(t *testing.T) {
			send := func(id, secret string) *httptest.ResponseRecorder {
				if basic {
					r := formRequest(http.MethodPost, "/oauth/token", form.Encode())
					r.Header.Set("Authorization", basicHeader(id, secret))
					return f.serve(r)
				}
				v := url.Values{"client_id": {id}, "client_secret": {secret}}
				for k, x := range form {
					v[k] = x
				}
				return f.serve(formRequest(http.MethodPost, "/oauth/token", v.Encode()))
			}
			wrong := send("svc", "tap_secret_wrongwrongwrongwrongwrongwrong")
			unknown := send("nobody", "tap_secret_wrongwrongwrongwrongwrongwrong")
			public := send("spa", "tap_secret_wrongwrongwrongwrongwrongwrong")
			requireError(t, wrong, http.StatusUnauthorized, oauth.ErrInvalidClient)
			for _, other := range []*httptest.ResponseRecorder{unknown, public} {
				assert.Equal(t, wrong.Code, other.Code)
				assert.Equal(t, wrong.Header(), other.Header())
				assert.Equal(t, wrong.Body.Bytes(), other.Body.Bytes())
			}
		})
	}
}

// S20: a code redeemed by another client or with another redirect URI →
// invalid_grant.
func TestS20CodeBoundToClientAndRedirect(t *testing.T) {
	tests := []struct {
		name     string
		client   func(f *fx) clientFx
		redirect string
	}{
		{"other client", func(f *fx) clientFx { return f.other }, webRedirect},
		{"other redirect_uri", func(f *fx) clientFx { return f.web }, "https://app.example/callback2"},
		{"redirect_uri with trailing slash", func(f *fx) clientFx { return f.web }, webRedirect + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			code := f.code(f.web, webRedirect, "write:tasks", alice)
			requireError(t, f.exchange(tt.client(f), code, tt.redirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
		})
	}
	t.Run("missing redirect_uri", func(t *testing.T) {
		f := newFx(t)
		code := f.code(f.web, webRedirect, "write:tasks", alice)
		w := f.token(f.web, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidRequest)
	})
}

// S21: PKCE verifier: missing, wrong, out of grammar → invalid_grant; a
// verifier for a code issued without a challenge is refused.
func TestS21PKCEVerifier(t *testing.T) {
	tests := []struct {
		name, verifier string
	}{
		{"missing", ""},
		{"wrong", strings.Repeat("a", 43)},
		{"too short", verifier[:42]},
		{"too long", strings.Repeat("a", 129)},
		{"bad character", verifier[:42] + "+"},
		{"challenge as verifier", challenge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			code := f.code(f.web, webRedirect, "write:tasks", alice)
			requireError(t, f.exchange(f.web, code, webRedirect, tt.verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
		})
	}
	t.Run("verifier without challenge", func(t *testing.T) {
		f := newFx(t, func(c *oauth.Config) { c.UnsafeAllowConfidentialWithoutPKCE = true })
		q := authorizeQuery(f.web, webRedirect, "write:tasks")
		q.Del("code_challenge")
		q.Del("code_challenge_method")
		code := f.codeQ(q, alice)
		requireError(t, f.exchange(f.web, code, webRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
		code = f.codeQ(q, alice)
		decodeTokens(t, f.exchange(f.web, code, webRedirect, ""))
	})
	t.Run("128-character verifier", func(t *testing.T) {
		f := newFx(t)
		v := strings.Repeat("A-._~z9", 19)[:128]
		q := authorizeQuery(f.web, webRedirect, "write:tasks")
		q.Set("code_challenge", s256(v))
		code := f.codeQ(q, alice)
		decodeTokens(t, f.exchange(f.web, code, webRedirect, v))
	})
}

// S22: a second redemption → invalid_grant and every token of the first
// redemption dies.
func TestS22CodeReplayRevokesFirstGrant(t *testing.T) {
	for _, replayer := range []string{"same client", "other client"} {
		t.Run(replayer, func(t *testing.T) {
			f := newFx(t)
			code := f.code(f.web, webRedirect, "write:tasks", alice)
			first := decodeTokens(t, f.exchange(f.web, code, webRedirect, verifier))
			_, err := f.tokens.Verify(t.Context(), first.AccessToken)
			require.NoError(t, err)

			c := f.web
			if replayer == "other client" {
				c = f.other
			}
			requireError(t, f.exchange(c, code, webRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)

			// Middleware path: Verify fails.
			_, err = f.tokens.Verify(t.Context(), first.AccessToken)
			require.ErrorIs(t, err, token.ErrInvalid)
			// Refresh: invalid_grant.
			requireError(t, f.refresh(f.web, first.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
			// Introspection: inactive.
			assert.Equal(t, map[string]any{"active": false}, f.introspect(first.AccessToken))
			assert.Equal(t, map[string]any{"active": false}, f.introspect(first.RefreshToken))
			assert.Contains(t, f.logs.String(), "authorization code reused")
		})
	}
}

// replayDuring runs a replay of the code from inside a store call of the
// first redemption, to pin down the interleavings of a race.
type replayDuring struct {
	store.Store
	method string
	once   sync.Once
	replay func()
}

func (r *replayDuring) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	c, err := r.Store.ConsumeCode(ctx, h, at)
	if r.method == "ConsumeCode" && err == nil {
		r.once.Do(r.replay)
	}
	return c, err
}

func (r *replayDuring) CreateFamily(ctx context.Context, fam store.Family) error {
	err := r.Store.CreateFamily(ctx, fam)
	if r.method == "CreateFamily" && fam.UserID != "" {
		r.once.Do(r.replay)
	}
	return err
}

func (r *replayDuring) CreateToken(ctx context.Context, tok store.Token) error {
	err := r.Store.CreateToken(ctx, tok)
	if r.method == "CreateToken" && tok.FamilyID != "" {
		r.once.Do(r.replay)
	}
	return err
}

// S22 under a race: a replay landing at any point of the first redemption
// leaves no live token from it.
func TestS22ReplayRacingFirstRedemption(t *testing.T) {
	for _, method := range []string{"ConsumeCode", "CreateToken", "CreateFamily"} {
		t.Run("replay after "+method, func(t *testing.T) {
			rd := &replayDuring{method: method}
			f := newFxWrapped(t, func(s store.Store) store.Store { rd.Store = s; return rd })
			code := f.code(f.web, webRedirect, "write:tasks", alice)
			var replayed *httptest.ResponseRecorder
			rd.replay = func() { replayed = f.exchange(f.web, code, webRedirect, verifier) }
			first := f.exchange(f.web, code, webRedirect, verifier)
			require.NotNil(t, replayed)
			requireError(t, replayed, http.StatusBadRequest, oauth.ErrInvalidGrant)
			// The first redemption is the one 200, but its tokens are dead.
			tr := decodeTokens(t, first)
			_, err := f.tokens.Verify(t.Context(), tr.AccessToken)
			require.ErrorIs(t, err, token.ErrInvalid)
			requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
			// Nothing of alice's is live.
			all, err := f.mem.ListTokens(t.Context(), alice)
			require.NoError(t, err)
			for _, tok := range all {
				assert.True(t, tok.Revoked(), "token %s of kind %v is live", tok.ID, tok.Kind)
			}
		})
	}
}

// S23: 50 concurrent redemptions of one code → exactly one 200.
func TestS23ConcurrentCodeRedemption(t *testing.T) {
	f := newFx(t)
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	const n = 50
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			w := f.exchange(f.web, code, webRedirect, verifier)
			statuses[i], bodies[i] = w.Code, w.Body.String()
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	var winner tokenResp
	for i, s := range statuses {
		if s == http.StatusOK {
			ok++
			require.NoError(t, jsonUnmarshal(bodies[i], &winner))
		} else {
			assert.Equal(t, http.StatusBadRequest, s)
			assert.Contains(t, bodies[i], "invalid_grant")
		}
	}
	require.Equal(t, 1, ok)
	// The 49 others were replays (S22): the winner's tokens died with them.
	_, err := f.tokens.Verify(t.Context(), winner.AccessToken)
	require.ErrorIs(t, err, token.ErrInvalid)
	requireError(t, f.refresh(f.web, winner.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
}

// S24: the success and error shapes.
func TestS24TokenResponseShape(t *testing.T) {
	f := newFx(t)
	code := f.code(f.web, webRedirect, "write:tasks read:time", alice)
	w := f.exchange(f.web, code, webRedirect, verifier)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Contains(t, w.Header().Get("Content-Type"), "application/json")
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &raw))
	assert.Len(t, raw, 5)
	tr := decodeTokens(t, w)
	want := `{"access_token":"` + tr.AccessToken + `","token_type":"Bearer","expires_in":3600,"refresh_token":"` +
		tr.RefreshToken + `","scope":"write:tasks read:time"}`
	assert.Equal(t, want, w.Body.String())

	// Errors: an RFC 6749 §5.2 code, a description without CR, LF or
	// quotes that never echoes input, no-store.
	marker := "ZZMARKERZZ"
	bad := []url.Values{
		{"grant_type": {marker}},
		{"grant_type": {"authorization_code"}, "code": {marker}, "redirect_uri": {webRedirect}},
		{"grant_type": {"refresh_token"}, "refresh_token": {marker + "\"\r\n"}},
		{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webRedirect + marker}, "code_verifier": {verifier}},
		{"scope": {marker}, "grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
	}
	codes := map[string]bool{"invalid_request": true, "invalid_client": true, "invalid_grant": true,
		"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true}
	for _, form := range bad {
		w := f.token(f.web, form)
		assert.NotEqual(t, http.StatusOK, w.Code)
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		var e errResp
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.True(t, codes[e.Error], e.Error)
		assert.NotContains(t, w.Body.String(), marker)
		assert.NotContains(t, e.Description, "\r")
		assert.NotContains(t, e.Description, "\n")
		assert.NotContains(t, e.Description, `"`)
	}
}

// S25: client_credentials only for confidential clients, no refresh token,
// scope limited to the client's, the subject is a client.
func TestS25ClientCredentials(t *testing.T) {
	f := newFx(t)
	t.Run("public client", func(t *testing.T) {
		require.NoError(t, f.mem.PutClient(store.Client{ID: "pub-cc", Public: true,
			GrantTypes: []string{"client_credentials"}, Scopes: scope.MustParse("read:tasks")}))
		w := f.token(clientFx{id: "pub-cc"}, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrUnauthorizedClient)
	})
	t.Run("client without the grant", func(t *testing.T) {
		w := f.token(f.web, url.Values{"grant_type": {"client_credentials"}, "scope": {"write:tasks"}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrUnauthorizedClient)
	})
	t.Run("scope outside the client's", func(t *testing.T) {
		w := f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin:billing"}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidScope)
	})
	t.Run("scope narrowed to the client's", func(t *testing.T) {
		tr := decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"write:tasks write:time"}}))
		assert.Equal(t, "read:tasks write:time", tr.Scope)
		assert.Empty(t, tr.RefreshToken)
	})
	t.Run("omitted scope without default", func(t *testing.T) {
		w := f.token(f.svc, url.Values{"grant_type": {"client_credentials"}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidScope)
	})
	t.Run("subject is a client", func(t *testing.T) {
		tr := decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
		p, err := f.tokens.Verify(t.Context(), tr.AccessToken)
		require.NoError(t, err)
		assert.True(t, p.IsClient())
		assert.Empty(t, p.UserID)
		assert.Equal(t, "acme", p.OrgID)
		m := f.introspect(tr.AccessToken)
		assert.Equal(t, true, m["active"])
		assert.NotContains(t, m, "sub")
		assert.Equal(t, "svc", m["client_id"])
		// A refresh token is never issued, so none can be presented.
		requireError(t, f.refresh(f.svc, tr.AccessToken), http.StatusBadRequest, oauth.ErrUnauthorizedClient)
	})
}

// S26: failed client authentications are rate limited per client and per
// remote address.
func TestS26FailedAuthRateLimited(t *testing.T) {
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}
	send := func(f *fx, id, secret, addr string) *httptest.ResponseRecorder {
		r := formRequest(http.MethodPost, "/oauth/token", cc.Encode())
		r.Header.Set("Authorization", basicHeader(id, secret))
		r.RemoteAddr = addr
		return f.serve(r)
	}
	t.Run("per client", func(t *testing.T) {
		f := newFx(t)
		for i := range oauth.DefaultFailedAuthBurst {
			w := send(f, "svc", "wrong", "192.0.2."+strconv.Itoa(i)+":1234")
			requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		}
		// Now even the right secret is refused, from a fresh address.
		w := send(f, "svc", f.svc.secret, "198.51.100.7:1")
		require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
		ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.Equal(t, 6, ra)
		assert.NotContains(t, w.Body.String(), "access_token")
		// Other clients are not affected.
		decodeTokens(t, send(f, "other", f.other.secret, "198.51.100.7:1"))
		f.clock.Advance(oauth.DefaultFailedAuthInterval)
		decodeTokens(t, send(f, "svc", f.svc.secret, "198.51.100.7:1"))
		assert.Contains(t, f.logs.String(), "rate limited")
	})
	t.Run("per remote address", func(t *testing.T) {
		f := newFx(t)
		for i := range oauth.DefaultFailedAuthBurst {
			send(f, "guess-"+strconv.Itoa(i), "wrong", "203.0.113.9:4000")
		}
		w := send(f, "svc", f.svc.secret, "203.0.113.9:4001")
		require.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
		decodeTokens(t, send(f, "svc", f.svc.secret, "203.0.113.10:4001"))
	})
	t.Run("unknown and known clients limited alike", func(t *testing.T) {
		f := newFx(t)
		for range oauth.DefaultFailedAuthBurst {
			send(f, "ghost", "wrong", "192.0.2.1:1")
			send(f, "svc", "wrong", "192.0.2.2:1")
		}
		a := send(f, "ghost", "wrong", "192.0.2.3:1")
		b := send(f, "svc", "wrong", "192.0.2.4:1")
		assert.Equal(t, a.Code, b.Code)
		assert.Equal(t, a.Body.String(), b.Body.String())
		assert.Equal(t, a.Header(), b.Header())
	})
	t.Run("bounded memory", func(t *testing.T) {
		f := newFx(t, func(c *oauth.Config) { c.RateLimitKeys = 100 })
		for i := range 1000 {
			send(f, "ghost-"+strconv.Itoa(i), "wrong", "192.0.2."+strconv.Itoa(i%250)+":1")
		}
		assert.LessOrEqual(t, oauth.RateLimiterKeys(f.srv), 400)
	})
}

// S26 without a lockout: a public client's ID ships in its app, so anyone
// can present it with a made-up secret. Those failures count against the
// sender's address only; the client's own bucket is never drained, and its
// legitimate requests without a secret (the "none" method) are never
// refused. Confidential clients stay limited per client ID.
func TestS26PublicClientCannotBeLockedOut(t *testing.T) {
	sendAs := func(f *fx, addr string, form url.Values, basic string) *httptest.ResponseRecorder {
		r := formRequest(http.MethodPost, "/oauth/token", form.Encode())
		if basic != "" {
			r.Header.Set("Authorization", basic)
		}
		r.RemoteAddr = addr
		return f.serve(r)
	}
	attack := func(f *fx, c clientFx, grant url.Values) {
		// Three times the burst, each from its own address so no address
		// is limited; half as client_secret_post, half as Basic.
		for i := range 3 * oauth.DefaultFailedAuthBurst {
			form := url.Values{}
			for k, v := range grant {
				form[k] = v
			}
			basic := ""
			if i%2 == 0 {
				form.Set("client_id", c.id)
				form.Set("client_secret", "x")
			} else {
				basic = basicHeader(c.id, "x")
			}
			w := sendAs(f, "192.0.2."+strconv.Itoa(i)+":1234", form, basic)
			requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		}
	}

	t.Run("public refresh after attack from many addresses", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.spa, cliRedirect, "read:tasks", alice)
		attack(f, f.spa, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tap_refresh_x"}})
		w := sendAs(f, "198.51.100.7:1", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {f.spa.id},
		}, "")
		decodeTokens(t, w)
	})
	t.Run("public code exchange after attack from many addresses", func(t *testing.T) {
		f := newFx(t)
		code := f.code(f.spa, cliRedirect, "read:tasks", alice)
		attack(f, f.spa, url.Values{"grant_type": {"authorization_code"}})
		w := sendAs(f, "198.51.100.7:1", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cliRedirect},
			"code_verifier": {verifier}, "client_id": {f.spa.id},
		}, "")
		decodeTokens(t, w)
	})
	t.Run("a secret for a public client counts against the address", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.spa, cliRedirect, "read:tasks", alice)
		bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
			"client_id": {f.spa.id}, "client_secret": {"x"}}
		for range oauth.DefaultFailedAuthBurst {
			requireError(t, sendAs(f, "203.0.113.9:1", bad, ""), http.StatusUnauthorized, oauth.ErrInvalidClient)
		}
		good := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {f.spa.id}}
		w := sendAs(f, "203.0.113.9:2", good, "")
		require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
		assert.NotContains(t, w.Body.String(), "access_token")
		decodeTokens(t, sendAs(f, "203.0.113.10:1", good, ""))
	})
	t.Run("confidential clients stay limited per client", func(t *testing.T) {
		for _, method := range []string{"client_secret_post", "client_secret_basic"} {
			t.Run(method, func(t *testing.T) {
				f := newFx(t)
				tr := f.grant(f.web, webRedirect, "write:tasks", alice)
				refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
				for i := range oauth.DefaultFailedAuthBurst {
					form, basic := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tap_refresh_x"}}, ""
					if method == "client_secret_post" {
						form.Set("client_id", f.web.id)
						form.Set("client_secret", "wrong")
					} else {
						basic = basicHeader(f.web.id, "wrong")
					}
					requireError(t, sendAs(f, "192.0.2."+strconv.Itoa(i)+":1", form, basic),
						http.StatusUnauthorized, oauth.ErrInvalidClient)
				}
				// The right secret from a fresh address is refused too.
				w := sendAs(f, "198.51.100.7:1", refresh, basicHeader(f.web.id, f.web.secret))
				require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
				ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
				require.NoError(t, err)
				assert.Equal(t, 6, ra)
				assert.NotContains(t, w.Body.String(), "access_token")
				f.clock.Advance(oauth.DefaultFailedAuthInterval)
				decodeTokens(t, sendAs(f, "198.51.100.7:1", refresh, basicHeader(f.web.id, f.web.secret)))
			})
		}
	})
	t.Run("unknown client and wrong secret still alike", func(t *testing.T) {
		f := newFx(t)
		post := func(id, addr string) *httptest.ResponseRecorder {
			return sendAs(f, addr, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"},
				"client_id": {id}, "client_secret": {"wrong"}}, "")
		}
		for i := range oauth.DefaultFailedAuthBurst + 2 {
			a := post("ghost", "192.0.2."+strconv.Itoa(i)+":1")
			b := post("svc", "198.51.100."+strconv.Itoa(i)+":1")
			require.Equal(t, a.Code, b.Code, "attempt %d", i)
			require.Equal(t, a.Body.String(), b.Body.String())
			require.Equal(t, a.Header(), b.Header())
		}
	})
}

// S22 with S46: when a replay got its revocation in before the first
// redemption stored its tokens, the first redemption revokes them itself;
// if that revocation fails, it hands out nothing.
func TestS22ReplayRacingFirstRedemptionRevocationFails(t *testing.T) {
	rd := &replayDuring{method: "ConsumeCode"}
	f := newFxWrapped(t, func(s store.Store) store.Store { rd.Store = s; return rd })
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	var replayed *httptest.ResponseRecorder
	rd.replay = func() {
		replayed = f.exchange(f.web, code, webRedirect, verifier)
		f.st.Fail("RevokeFamily", nil) // from now on
	}
	first := f.exchange(f.web, code, webRedirect, verifier)
	f.st.Heal("RevokeFamily")
	require.NotNil(t, replayed)
	requireError(t, replayed, http.StatusBadRequest, oauth.ErrInvalidGrant)
	if first.Code == http.StatusOK {
		tr := decodeTokens(t, first)
		_, err := f.tokens.Verify(t.Context(), tr.AccessToken)
		require.ErrorIs(t, err, token.ErrInvalid, "the first redemption handed out a live access token after a replay")
	}
	requireError(t, first, http.StatusServiceUnavailable, oauth.ErrTemporarilyUnavailable)
}
