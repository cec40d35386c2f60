package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/storetest"
)

var anyToken = regexp.MustCompile(`tap_[A-Za-z_]*[A-Za-z0-9]{28}`)

// S46: any store error → 5xx and no token, on every grant and at every
// store call on its path.
func TestS46StoreFailuresFailClosed(t *testing.T) {
	flows := []struct {
		name string
		run  func(f *fx) *httptest.ResponseRecorder
		prep func(f *fx) func(f *fx) *httptest.ResponseRecorder
	}{
		{name: "client_credentials", prep: func(f *fx) func(f *fx) *httptest.ResponseRecorder {
			return func(f *fx) *httptest.ResponseRecorder {
				return f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}})
			}
		}},
		{name: "authorization_code", prep: func(f *fx) func(f *fx) *httptest.ResponseRecorder {
			code := f.code(f.web, webRedirect, "write:tasks", alice)
			return func(f *fx) *httptest.ResponseRecorder { return f.exchange(f.web, code, webRedirect, verifier) }
		}},
		{name: "refresh_token", prep: func(f *fx) func(f *fx) *httptest.ResponseRecorder {
			rt := f.grant(f.web, webRedirect, "write:tasks", alice).RefreshToken
			return func(f *fx) *httptest.ResponseRecorder { return f.refresh(f.web, rt) }
		}},
		{name: "authorize", prep: func(f *fx) func(f *fx) *httptest.ResponseRecorder {
			require.NoError(f.t, f.consents.RememberConsent(context.Background(), alice, "web-app", scope.MustParse("write:tasks")))
			return func(f *fx) *httptest.ResponseRecorder {
				return f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
			}
		}},
	}
	for _, fl := range flows {
		for _, method := range storetest.Methods {
			t.Run(fl.name+"/"+method, func(t *testing.T) {
				f := newFx(t)
				run := fl.prep(f)
				f.st.Fail(method, nil)
				w := run(f)
				calls := f.st.Calls(method)
				f.st.Heal(method)
				if fl.name == "authorize" {
					// After the redirect URI is verified: an error redirect
					// without a code; before: an error page.
					if w.Code == http.StatusFound {
						p := redirectParams(t, w, webRedirect)
						if p.Get("code") != "" {
							return // the method is not on the path
						}
						assert.Contains(t, []string{"server_error", "temporarily_unavailable"}, p.Get("error"))
					} else {
						requireErrorPage(t, w, http.StatusServiceUnavailable)
					}
					assert.NotZero(t, calls)
					return
				}
				if w.Code == http.StatusOK {
					return // the method is not on the path, or is bookkeeping
				}
				assert.NotZero(t, calls)
				assert.GreaterOrEqual(t, w.Code, 500, w.Body.String())
				assert.NotRegexp(t, anyToken, w.Body.String())
			})
		}
	}
	t.Run("failures do not pass", func(t *testing.T) {
		// Each grant does reach the store: a broken store never yields 200.
		for _, fl := range flows[:3] {
			f := newFx(t)
			run := fl.prep(f)
			f.st.Fail(storetest.AllMethods, nil)
			w := run(f)
			assert.GreaterOrEqual(t, w.Code, 500, fl.name)
			assert.NotRegexp(t, anyToken, w.Body.String())
		}
	})
	t.Run("store panics", func(t *testing.T) {
		f := newFx(t)
		f.st.Panic("CreateToken")
		w := f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}})
		requireError(t, w, http.StatusInternalServerError, oauth.ErrServerError)
		assert.NotRegexp(t, anyToken, w.Body.String())
		f.st.Heal("CreateToken")
		f.st.Panic("SaveCode")
		require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "web-app", scope.MustParse("write:tasks")))
		w = f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
		requireErrorPage(t, w, http.StatusInternalServerError)
	})
	t.Run("store hangs", func(t *testing.T) {
		f := newFx(t)
		f.st.Hang("Client")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		r := formRequest(http.MethodPost, "/oauth/token", "grant_type=client_credentials&scope=read:tasks").WithContext(ctx)
		r.SetBasicAuth(f.svc.id, f.svc.secret)
		w := f.serve(r)
		requireError(t, w, http.StatusServiceUnavailable, oauth.ErrTemporarilyUnavailable)
	})
}

// S46 and S34: a refresh in the family's last idle window caps the new
// refresh token at the family's end; when the store cannot record the cap,
// nothing is handed out — else the token's record would outlive the family
// and introspection would call it active after the family ended.
func TestS46RefreshCapFailureFailsClosed(t *testing.T) {
	f := newFx(t, func(c *oauth.Config) {
		c.RefreshIdleTimeout = time.Hour
		c.RefreshMaxLifetime = 3 * time.Hour
	})
	tr := f.grant(f.web, webRedirect, "write:tasks", alice)
	for range 2 {
		f.clock.Advance(55 * time.Minute)
		tr = decodeTokens(t, f.refresh(f.web, tr.RefreshToken)) // at 55 and 110 minutes
	}
	f.clock.Advance(55 * time.Minute) // 165 minutes: a new refresh token would live past 180
	f.st.Fail("ExpireToken", nil)
	w := f.refresh(f.web, tr.RefreshToken)
	f.st.Heal("ExpireToken")
	assert.GreaterOrEqual(t, w.Code, 500, w.Body.String())
	assert.NotRegexp(t, anyToken, w.Body.String())

	f.clock.Advance(16 * time.Minute) // past the family's end
	all, err := f.mem.ListTokens(t.Context(), alice)
	require.NoError(t, err)
	for _, tok := range all {
		if tok.Kind == store.KindRefresh && !tok.Revoked() {
			assert.False(t, f.clock.Now().Before(tok.ExpiresAt), "refresh token %s outlives its family", tok.ID)
		}
	}
}
