package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// S49: input limits; NUL, CR, LF and invalid UTF-8 → invalid_request; input
// is never reflected unescaped.
func TestS49InputLimits(t *testing.T) {
	t.Run("authorize redirects invalid_request", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(q url.Values)
		}{
			{"state over 512 bytes", func(q url.Values) { q.Set("state", strings.Repeat("s", 513)) }},
			{"state with NUL", func(q url.Values) { q.Set("state", "a\x00b") }},
			{"state with CR LF", func(q url.Values) { q.Set("state", "a\r\nLocation: x") }},
			{"state invalid UTF-8", func(q url.Values) { q.Set("state", "a\xffb") }},
			{"33 scopes", func(q url.Values) { q.Set("scope", strings.TrimSpace(strings.Repeat("write:tasks ", 33))) }},
			{"scope with LF", func(q url.Values) { q.Set("scope", "write:tasks\nread:time") }},
			{"challenge with NUL", func(q url.Values) { q.Set("code_challenge", challenge[:42]+"\x00") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFx(t)
				q := authorizeQuery(f.web, webRedirect, "write:tasks")
				tt.mod(q)
				p := redirectParams(t, f.authorize(q, alice), webRedirect)
				assert.Equal(t, "invalid_request", p.Get("error"))
				assert.Empty(t, p.Get("code"))
			})
		}
	})
	t.Run("state of 512 bytes is echoed exactly", func(t *testing.T) {
		f := newFx(t)
		q := authorizeQuery(f.web, webRedirect, "write:tasks")
		st := strings.Repeat("s", 512)
		q.Set("state", st)
		require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "web-app", scope.MustParse("write:tasks")))
		p := redirectParams(t, f.authorize(q, alice), webRedirect)
		assert.Equal(t, st, p.Get("state"))
		assert.NotEmpty(t, p.Get("code"))
	})
	t.Run("32 scopes", func(t *testing.T) {
		f := newFx(t)
		require.NoError(t, f.consents.RememberConsent(t.Context(), alice, "web-app", scope.MustParse("write:tasks")))
		q := authorizeQuery(f.web, webRedirect, strings.TrimSpace(strings.Repeat("write:tasks ", 32)))
		p := redirectParams(t, f.authorize(q, alice), webRedirect)
		assert.NotEmpty(t, p.Get("code"))
	})
	t.Run("authorize error pages", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(q url.Values)
		}{
			{"redirect_uri over 2 KiB", func(q url.Values) { q.Set("redirect_uri", webRedirect+"?"+strings.Repeat("a", 2048)) }},
			{"redirect_uri with NUL", func(q url.Values) { q.Set("redirect_uri", webRedirect+"\x00") }},
			{"client_id with CR", func(q url.Values) { q.Set("client_id", "web-app\r") }},
			{"client_id invalid UTF-8", func(q url.Values) { q.Set("client_id", "web-app\xc3") }},
			{"client_id markup", func(q url.Values) { q.Set("client_id", "<script>alert(1)</script>") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFx(t)
				q := authorizeQuery(f.web, webRedirect, "write:tasks")
				tt.mod(q)
				w := f.authorize(q, alice)
				requireErrorPage(t, w, http.StatusBadRequest)
				assert.NotContains(t, w.Body.String(), "<script>")
				assert.NotContains(t, w.Body.String(), "alert")
			})
		}
	})
	t.Run("token endpoint", func(t *testing.T) {
		tests := []struct {
			name string
			form url.Values
			code *oauth.Error
		}{
			{"grant_type with NUL", url.Values{"grant_type": {"client_credentials\x00"}, "scope": {"read:tasks"}}, oauth.ErrInvalidRequest},
			{"scope with CR", url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks\r"}}, oauth.ErrInvalidRequest},
			{"scope invalid UTF-8", url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks\xff"}}, oauth.ErrInvalidRequest},
			{"33 scopes", url.Values{"grant_type": {"client_credentials"}, "scope": {strings.TrimSpace(strings.Repeat("read:tasks ", 33))}}, oauth.ErrInvalidRequest},
			{"oversized refresh_token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("a", 600)}}, oauth.ErrInvalidRequest},
			{"verifier over 128", url.Values{"grant_type": {"authorization_code"}, "code": {"tap_code_x"}, "redirect_uri": {webRedirect},
				"code_verifier": {strings.Repeat("a", 129)}}, oauth.ErrInvalidGrant},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFx(t)
				w := f.token(f.other, tt.form)
				requireError(t, w, http.StatusBadRequest, tt.code)
			})
		}
	})
	t.Run("consent page escapes host data", func(t *testing.T) {
		f := newFx(t)
		require.NoError(t, f.mem.PutClient(store.Client{ID: "evil", Name: `<img src=x onerror=alert(1)>`, Public: true,
			RedirectURIs: []string{"https://evil.example/cb"}, GrantTypes: []string{"authorization_code"},
			Scopes: scope.MustParse("read:tasks")}))
		q := authorizeQuery(clientFx{id: "evil"}, "https://evil.example/cb", "read:tasks")
		q.Set("state", `"><script>x</script>`)
		w := f.authorize(q, alice)
		require.Equal(t, http.StatusOK, w.Code)
		assert.NotContains(t, w.Body.String(), "<img")
		assert.NotContains(t, w.Body.String(), "<script>")
	})
}
