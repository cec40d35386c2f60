package oauth_test

import (
	"context"
	"net/http"
	"net/url"
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

// liveRefresh counts the user's live refresh tokens.
func (f *fx) liveRefresh(user string) int {
	f.t.Helper()
	all, err := f.mem.ListTokens(context.Background(), user)
	require.NoError(f.t, err)
	n := 0
	for _, tok := range all {
		if tok.Kind == store.KindRefresh && !tok.Revoked() && f.clock.Now().Before(tok.ExpiresAt) {
			n++
		}
	}
	return n
}

// S5 (at this layer): an access token as refresh_token → invalid_grant.
func TestS05AccessTokenAsRefreshToken(t *testing.T) {
	f := newFx(t)
	tr := f.grant(f.web, webRedirect, "write:tasks", alice)
	requireError(t, f.refresh(f.web, tr.AccessToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	requireError(t, f.refresh(f.web, code), http.StatusBadRequest, oauth.ErrInvalidGrant)
	// The refresh token still works: nothing was revoked.
	decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
}

// S27: a refresh token works only for the client it was issued to.
func TestS27RefreshBoundToClient(t *testing.T) {
	f := newFx(t)
	tr := f.grant(f.web, webRedirect, "write:tasks", alice)
	requireError(t, f.refresh(f.other, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	requireError(t, f.refresh(f.spa, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
}

// S28: requested scope ⊆ the original grant, else invalid_scope; omitted =
// the original.
func TestS28RefreshScope(t *testing.T) {
	f := newFx(t)
	tr := f.grant(f.web, webRedirect, "write:tasks read:time", alice)
	require.Equal(t, "write:tasks read:time", tr.Scope)
	rt := tr.RefreshToken

	for _, s := range []string{"write:time", "admin:org", "write:tasks write:time", "read:task", "write:tasks  read:time"} {
		w := f.token(f.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {s}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidScope)
	}
	narrow := decodeTokens(t, f.token(f.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"read:tasks"}}))
	assert.Equal(t, "read:tasks", narrow.Scope)
	p, err := f.tokens.Verify(t.Context(), narrow.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "read:tasks", p.Scopes.String())
	// Omitted: the original grant again.
	again := decodeTokens(t, f.refresh(f.web, narrow.RefreshToken))
	assert.Equal(t, "write:tasks read:time", again.Scope)
}

// S29: every refresh rotates; a rotated-out token → invalid_grant and the
// whole family dies.
func TestS29RefreshRotationAndReuse(t *testing.T) {
	f := newFx(t)
	first := f.grant(f.web, webRedirect, "write:tasks", alice)
	second := decodeTokens(t, f.refresh(f.web, first.RefreshToken))
	third := decodeTokens(t, f.refresh(f.web, second.RefreshToken))
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	assert.NotEqual(t, second.RefreshToken, third.RefreshToken)
	for _, a := range []string{first.AccessToken, second.AccessToken, third.AccessToken} {
		_, err := f.tokens.Verify(t.Context(), a)
		require.NoError(t, err)
	}

	// Reuse of a rotated-out token.
	requireError(t, f.refresh(f.web, first.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	assert.Contains(t, f.logs.String(), "refresh token reused")

	// The live refresh token and every access token of the family died.
	requireError(t, f.refresh(f.web, third.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	for _, a := range []string{first.AccessToken, second.AccessToken, third.AccessToken} {
		_, err := f.tokens.Verify(t.Context(), a)
		require.ErrorIs(t, err, token.ErrInvalid)
	}
	assert.Equal(t, 0, f.liveRefresh(alice))

	// Another grant of the same user and client is unaffected.
	other := f.grant(f.web, webRedirect, "write:tasks", alice)
	decodeTokens(t, f.refresh(f.web, other.RefreshToken))
}

// S29 and S52: presenting any revoked refresh token answers invalid_grant
// and revokes the family, but only a token rotated out of a family that is
// still live is logged as reuse; a token revoked with its family (the
// revocation endpoint, deprovisioning) or on its own is logged as a
// revoked token presented.
func TestS52RefreshReuseTellsRotationFromRevocation(t *testing.T) {
	const (
		reused  = "refresh token reused"
		revoked = "revoked refresh token presented"
	)
	tests := []struct {
		name  string
		event string
		// revoke makes a refresh token of tr revoked and returns it.
		revoke func(f *fx, tr tokenResp) string
	}{
		{"rotated out", reused, func(f *fx, tr tokenResp) string {
			decodeTokens(f.t, f.refresh(f.web, tr.RefreshToken))
			return tr.RefreshToken
		}},
		{"revoked at the revocation endpoint", revoked, func(f *fx, tr tokenResp) string {
			require.Equal(f.t, http.StatusOK, f.post("/oauth/revoke", f.web, url.Values{"token": {tr.RefreshToken}}).Code)
			return tr.RefreshToken
		}},
		{"rotated out, then revoked at the revocation endpoint", revoked, func(f *fx, tr tokenResp) string {
			next := decodeTokens(f.t, f.refresh(f.web, tr.RefreshToken))
			require.Equal(f.t, http.StatusOK, f.post("/oauth/revoke", f.web, url.Values{"token": {next.RefreshToken}}).Code)
			return tr.RefreshToken
		}},
		{"deprovisioned", revoked, func(f *fx, tr tokenResp) string {
			require.NoError(f.t, f.tokens.Deprovision(context.Background(), alice))
			return tr.RefreshToken
		}},
		{"revoked on its own", revoked, func(f *fx, tr tokenResp) string {
			all, err := f.mem.ListTokens(context.Background(), alice)
			require.NoError(f.t, err)
			for _, tok := range all {
				if tok.Kind == store.KindRefresh && !tok.Revoked() {
					require.NoError(f.t, f.mem.RevokeToken(context.Background(), tok.ID, f.clock.Now()))
				}
			}
			return tr.RefreshToken
		}},
		{"store fails telling them apart", reused, func(f *fx, tr tokenResp) string {
			decodeTokens(f.t, f.refresh(f.web, tr.RefreshToken))
			f.st.Fail("RotateFamily", nil) // logged as the worse case; nothing else changes
			return tr.RefreshToken
		}},
	}
	var bodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFx(t)
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			rt := tt.revoke(f, tr)
			w := f.refresh(f.web, rt)
			f.st.Heal("RotateFamily")
			requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidGrant)
			bodies = append(bodies, w.Body.String())

			// The family is dead: no live refresh token, no live access token.
			assert.Equal(t, 0, f.liveRefresh(alice))
			all, err := f.mem.ListTokens(t.Context(), alice)
			require.NoError(t, err)
			for _, tok := range all {
				assert.True(t, tok.Revoked(), "token %s of the family is live", tok.ID)
			}

			logs := f.logs.String()
			other := map[string]string{reused: revoked, revoked: reused}[tt.event]
			assert.Equal(t, 1, strings.Count(logs, tt.event), logs)
			assert.NotContains(t, logs, other)
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, tt.event) {
					assert.Contains(t, line, "client=web-app")
					assert.Contains(t, line, "user=alice")
					assert.Contains(t, line, "org=acme")
					assert.Contains(t, line, "family=fam_")
				}
			}
		})
	}
	// The answer is the same whatever revoked the token.
	for _, b := range bodies[1:] {
		assert.Equal(t, bodies[0], b)
	}
}

// barrierStore holds every lookup of one hash, after it read the store,
// until n lookups arrived (or a bounded wait passed): n refreshes that all
// saw the token current are in flight at once.
type barrierStore struct {
	store.Store
	target  store.Hash
	n       int
	mu      sync.Mutex
	arrived int
	release chan struct{}
}

func (b *barrierStore) TokenByHash(ctx context.Context, h store.Hash) (store.Token, error) {
	tok, err := b.Store.TokenByHash(ctx, h)
	if h == b.target {
		b.mu.Lock()
		b.arrived++
		if b.arrived == b.n {
			close(b.release)
		}
		b.mu.Unlock()
		select {
		case <-b.release:
		case <-time.After(5 * time.Second):
		}
	}
	return tok, err
}

// S30: 50 concurrent refreshes with one token → exactly one success and
// one live refresh token.
func TestS30ConcurrentRefresh(t *testing.T) {
	const n = 50
	b := &barrierStore{n: n, release: make(chan struct{})}
	f := newFxWrapped(t, func(s store.Store) store.Store { b.Store = s; return b })
	tr := f.grant(f.web, webRedirect, "write:tasks", alice)
	b.target = token.Hash(tr.RefreshToken)

	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := f.refresh(f.web, tr.RefreshToken)
			statuses[i], bodies[i] = w.Code, w.Body.String()
		})
	}
	wg.Wait()
	winners := 0
	var winner string
	for i, s := range statuses {
		if s == http.StatusOK {
			winners++
			winner = bodies[i]
		} else {
			assert.Equal(t, http.StatusBadRequest, s)
			assert.Contains(t, bodies[i], "invalid_grant")
		}
	}
	require.Equal(t, 1, winners)
	assert.Equal(t, 1, f.liveRefresh(alice))

	// The winner's refresh token is the live one.
	var wt tokenResp
	require.NoError(t, jsonUnmarshal(winner, &wt))
	b.target = store.Hash{}
	decodeTokens(t, f.refresh(f.web, wt.RefreshToken))
	assert.Equal(t, 1, f.liveRefresh(alice))
}

// S31: refresh tokens expire after inactivity and after an absolute
// maximum; each use re-checks the user.
func TestS31RefreshExpiry(t *testing.T) {
	lifetimes := func(c *oauth.Config) {
		c.RefreshIdleTimeout = time.Hour
		c.RefreshMaxLifetime = 3 * time.Hour
	}
	t.Run("idle", func(t *testing.T) {
		f := newFx(t, lifetimes)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		f.clock.Advance(time.Hour - time.Second)
		tr = decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
		f.clock.Advance(time.Hour)
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("absolute", func(t *testing.T) {
		f := newFx(t, lifetimes)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		for range 3 {
			f.clock.Advance(55 * time.Minute)
			tr = decodeTokens(t, f.refresh(f.web, tr.RefreshToken)) // at 55, 110, 165 minutes
		}
		f.clock.Advance(14 * time.Minute) // 179 minutes: still inside
		tr = decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
		f.clock.Advance(time.Minute) // 180 minutes: the family ended
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("user deactivated", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.NoError(t, f.mem.SetUserActive(alice, false))
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("user deleted", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		f.mem.DeleteUser(alice)
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("user moved to another org", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.NoError(t, f.mem.PutUser(store.User{ID: alice, OrgID: "globex", Active: true, Permissions: scope.MustParse("write:tasks")}))
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("user demoted", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks read:time", alice)
		require.NoError(t, f.mem.SetUserPermissions(alice, scope.MustParse("read:tasks")))
		tr2 := decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
		assert.Equal(t, "read:tasks", tr2.Scope)
		// Promoted back: the original grant, never more.
		require.NoError(t, f.mem.SetUserPermissions(alice, scope.MustParse("admin:org")))
		tr3 := decodeTokens(t, f.refresh(f.web, tr2.RefreshToken))
		assert.Equal(t, "write:tasks read:time", tr3.Scope)
	})
	t.Run("user lost every granted permission", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.NoError(t, f.mem.SetUserPermissions(alice, scope.MustParse("read:finance")))
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("deprovisioned", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		code := f.code(f.web, webRedirect, "write:tasks", alice)
		require.NoError(t, f.tokens.Deprovision(t.Context(), alice))
		requireError(t, f.refresh(f.web, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
		requireError(t, f.exchange(f.web, code, webRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
		assert.Equal(t, map[string]any{"active": false}, f.introspect(tr.AccessToken))
	})
}

// S32: revocation needs client authentication; unknown, malformed, expired
// or revoked tokens → 200; no revoking another client's token; revoking a
// refresh token revokes its access tokens.
func TestS32Revocation(t *testing.T) {
	revoke := func(f *fx, c clientFx, tok string) int {
		return f.post("/oauth/revoke", c, url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}}).Code
	}
	t.Run("bad credentials", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		w := f.post("/oauth/revoke", clientFx{id: "web-app", secret: "wrong"}, url.Values{"token": {tr.RefreshToken}})
		requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Basic")
		w = f.serve(formRequest(http.MethodPost, "/oauth/revoke", "token="+tr.RefreshToken))
		requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
	})
	t.Run("nothing to revoke is 200", func(t *testing.T) {
		f := newFx(t)
		unknown, err := token.Generate(token.KindRefresh)
		require.NoError(t, err)
		expired := f.grant(f.web, webRedirect, "write:tasks", alice)
		revoked := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.Equal(t, http.StatusOK, revoke(f, f.web, revoked.RefreshToken))
		f.clock.Advance(oauth.DefaultRefreshMaxLifetime)
		for _, tok := range []string{unknown.Reveal(), "garbage", "tap_" + "x", expired.RefreshToken, revoked.RefreshToken, expired.AccessToken} {
			assert.Equal(t, http.StatusOK, revoke(f, f.web, tok), tok)
		}
	})
	t.Run("missing token", func(t *testing.T) {
		f := newFx(t)
		requireError(t, f.post("/oauth/revoke", f.web, url.Values{}), http.StatusBadRequest, oauth.ErrInvalidRequest)
	})
	t.Run("another client's token", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.Equal(t, http.StatusOK, revoke(f, f.other, tr.RefreshToken))
		require.Equal(t, http.StatusOK, revoke(f, f.other, tr.AccessToken))
		_, err := f.tokens.Verify(t.Context(), tr.AccessToken)
		require.NoError(t, err)
		decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
	})
	t.Run("refresh token takes its access tokens", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		tr2 := decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
		require.Equal(t, http.StatusOK, revoke(f, f.web, tr2.RefreshToken))
		for _, a := range []string{tr.AccessToken, tr2.AccessToken} {
			_, err := f.tokens.Verify(t.Context(), a)
			require.ErrorIs(t, err, token.ErrInvalid)
		}
		requireError(t, f.refresh(f.web, tr2.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
	t.Run("access token alone", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		require.Equal(t, http.StatusOK, revoke(f, f.web, tr.AccessToken))
		_, err := f.tokens.Verify(t.Context(), tr.AccessToken)
		require.ErrorIs(t, err, token.ErrInvalid)
		decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
	})
	t.Run("public client revokes its own", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.spa, cliRedirect, "read:tasks", alice)
		require.Equal(t, http.StatusOK, revoke(f, f.spa, tr.RefreshToken))
		requireError(t, f.refresh(f.spa, tr.RefreshToken), http.StatusBadRequest, oauth.ErrInvalidGrant)
	})
}

// S33: a store error during revocation → 503, never 200.
func TestS33RevocationStoreError(t *testing.T) {
	for _, method := range []string{"TokenByHash", "RevokeFamily", "RevokeToken", "Client"} {
		for _, kind := range []string{"refresh", "access"} {
			t.Run(method+"/"+kind, func(t *testing.T) {
				f := newFx(t)
				tr := f.grant(f.web, webRedirect, "write:tasks", alice)
				tok := tr.RefreshToken
				if kind == "access" {
					tok = tr.AccessToken
				}
				f.st.Fail(method, nil)
				w := f.post("/oauth/revoke", f.web, url.Values{"token": {tok}})
				if (method == "RevokeFamily" && kind == "access") || (method == "RevokeToken" && kind == "refresh") {
					assert.Equal(t, http.StatusOK, w.Code) // that method is not on this path
					return
				}
				requireError(t, w, http.StatusServiceUnavailable, oauth.ErrTemporarilyUnavailable)
			})
		}
	}
}

// S34: introspection needs caller authentication; anything not valid now
// → exactly {"active":false}; a store error never yields active:true.
func TestS34Introspection(t *testing.T) {
	t.Run("authentication", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		w := f.serve(formRequest(http.MethodPost, "/oauth/introspect", "token="+tr.AccessToken))
		requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		w = f.post("/oauth/introspect", clientFx{id: "other", secret: "wrong"}, url.Values{"token": {tr.AccessToken}})
		requireError(t, w, http.StatusUnauthorized, oauth.ErrInvalidClient)
		w = f.post("/oauth/introspect", f.spa, url.Values{"token": {tr.AccessToken}})
		requireError(t, w, http.StatusBadRequest, oauth.ErrUnauthorizedClient)
	})
	t.Run("only own tokens unless an introspector", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		cc := decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
		w := f.post("/oauth/introspect", f.svc, url.Values{"token": {tr.AccessToken}})
		assert.Equal(t, `{"active":false}`, w.Body.String())
		w = f.post("/oauth/introspect", f.svc, url.Values{"token": {cc.AccessToken}})
		assert.Contains(t, w.Body.String(), `"active":true`)
		w = f.post("/oauth/introspect", f.web, url.Values{"token": {tr.RefreshToken}})
		assert.Contains(t, w.Body.String(), `"active":true`)
		assert.Equal(t, true, f.introspect(tr.AccessToken)["active"]) // "other" is an introspector
	})
	t.Run("active", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		m := f.introspect(tr.AccessToken)
		assert.Equal(t, true, m["active"])
		assert.Equal(t, "write:tasks", m["scope"])
		assert.Equal(t, "web-app", m["client_id"])
		assert.Equal(t, alice, m["sub"])
		assert.Equal(t, issuer, m["iss"])
		assert.Equal(t, float64(t0.Add(time.Hour).Unix()), m["exp"])
		m = f.introspect(tr.RefreshToken)
		assert.Equal(t, true, m["active"])
		assert.Equal(t, "refresh_token", m["token_type"])
	})
	inactive := []struct {
		name string
		tok  func(f *fx) string
	}{
		{"unknown", func(f *fx) string {
			s, _ := token.Generate(token.KindAccess)
			return s.Reveal()
		}},
		{"malformed", func(f *fx) string { return "tap_nope" }},
		{"garbage", func(f *fx) string { return "\x01\x02" }},
		{"expired", func(f *fx) string {
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			f.clock.Advance(time.Hour)
			return tr.AccessToken
		}},
		{"revoked", func(f *fx) string {
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			f.post("/oauth/revoke", f.web, url.Values{"token": {tr.RefreshToken}})
			return tr.AccessToken
		}},
		{"rotated-out refresh", func(f *fx) string {
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			decodeTokens(f.t, f.refresh(f.web, tr.RefreshToken))
			return tr.RefreshToken
		}},
		{"user deactivated", func(f *fx) string {
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			require.NoError(f.t, f.mem.SetUserActive(alice, false))
			return tr.AccessToken
		}},
		{"refresh of deactivated user", func(f *fx) string {
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			require.NoError(f.t, f.mem.SetUserActive(alice, false))
			return tr.RefreshToken
		}},
		{"a code", func(f *fx) string { return f.code(f.web, webRedirect, "write:tasks", alice) }},
		{"a client secret", func(f *fx) string { return f.svc.secret }},
	}
	for _, tt := range inactive {
		t.Run("inactive "+tt.name, func(t *testing.T) {
			f := newFx(t)
			tok := tt.tok(f)
			w := f.post("/oauth/introspect", f.other, url.Values{"token": {tok}})
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, `{"active":false}`, w.Body.String())
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		})
	}
	for _, method := range []string{"TokenByHash", "User", "Client"} {
		t.Run("store error in "+method, func(t *testing.T) {
			f := newFx(t)
			tr := f.grant(f.web, webRedirect, "write:tasks", alice)
			cc := decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
			toks := []string{tr.AccessToken, tr.RefreshToken, cc.AccessToken}
			if method == "User" {
				toks = toks[:2] // a client_credentials token has no user to look up
			}
			for _, tok := range toks {
				f.st.Fail(method, nil)
				w := f.post("/oauth/introspect", f.other, url.Values{"token": {tok}})
				f.st.Heal(method)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
				assert.NotContains(t, w.Body.String(), "true")
			}
		})
	}
	t.Run("zero record from the store", func(t *testing.T) {
		f := newFx(t)
		tr := f.grant(f.web, webRedirect, "write:tasks", alice)
		f.st.Zero("TokenByHash")
		w := f.post("/oauth/introspect", f.other, url.Values{"token": {tr.AccessToken}})
		assert.Equal(t, `{"active":false}`, w.Body.String())
	})
}
