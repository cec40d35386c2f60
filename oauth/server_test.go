package oauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

func TestNewServerValidates(t *testing.T) {
	st := memstore.New()
	tm, err := token.NewManager(token.Config{Store: st})
	require.NoError(t, err)
	ok := oauth.Config{Issuer: issuer, Store: st, Tokens: tm, Host: fakeHost{}}
	tests := []struct {
		name string
		mod  func(*oauth.Config)
		ok   bool
	}{
		{"valid", func(*oauth.Config) {}, true},
		{"http loopback issuer", func(c *oauth.Config) { c.Issuer = "http://127.0.0.1:8080" }, true},
		{"no issuer", func(c *oauth.Config) { c.Issuer = "" }, false},
		{"http issuer", func(c *oauth.Config) { c.Issuer = "http://auth.example" }, false},
		{"issuer with query", func(c *oauth.Config) { c.Issuer = "https://auth.example?x=1" }, false},
		{"issuer with fragment", func(c *oauth.Config) { c.Issuer = "https://auth.example#x" }, false},
		{"relative issuer", func(c *oauth.Config) { c.Issuer = "/auth" }, false},
		{"no store", func(c *oauth.Config) { c.Store = nil }, false},
		{"no tokens", func(c *oauth.Config) { c.Tokens = nil }, false},
		{"no host", func(c *oauth.Config) { c.Host = nil }, false},
		{"no host, client_credentials only", func(c *oauth.Config) {
			c.Host = nil
			c.GrantTypes = []string{oauth.GrantClientCredentials}
		}, true},
		{"password grant", func(c *oauth.Config) { c.GrantTypes = []string{"password"} }, false},
		{"implicit grant", func(c *oauth.Config) { c.GrantTypes = []string{"implicit"} }, false},
		{"code lifetime over 10 minutes", func(c *oauth.Config) { c.CodeLifetime = 11 * 60e9 }, false},
		{"short consent key", func(c *oauth.Config) { c.ConsentKey = []byte("short") }, false},
		{"relative path", func(c *oauth.Config) { c.Paths.Token = "token" }, false},
		{"custom paths", func(c *oauth.Config) {
			c.Paths = oauth.Paths{Authorize: "/a", Token: "/t", Revoke: "/r", Introspect: "/i", Metadata: "/m"}
		}, true},
		{"two endpoints at one path", func(c *oauth.Config) { c.Paths.Revoke = "/x"; c.Paths.Introspect = "/x" }, false},
		{"an endpoint at another's default path", func(c *oauth.Config) { c.Paths.Introspect = oauth.DefaultTokenPath }, false},
		{"the metadata path taken", func(c *oauth.Config) { c.Paths.Authorize = oauth.DefaultMetadataPath }, false},
		{"two endpoints at one path, code grant off", func(c *oauth.Config) {
			c.GrantTypes = []string{oauth.GrantClientCredentials}
			c.Paths.Authorize = oauth.DefaultTokenPath
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			s, err := oauth.NewServer(cfg)
			if tt.ok {
				require.NoError(t, err)
				require.NotNil(t, s)
			} else {
				require.Error(t, err)
				require.Nil(t, s)
			}
		})
	}
}

// NewServer refuses two endpoints at one path (ServeHTTP would answer only
// one of them), and its error says which two collide.
func TestNewServerRefusesSharedPath(t *testing.T) {
	st := memstore.New()
	tm, err := token.NewManager(token.Config{Store: st})
	require.NoError(t, err)
	s, err := oauth.NewServer(oauth.Config{Issuer: issuer, Store: st, Tokens: tm, Host: fakeHost{},
		Paths: oauth.Paths{Revoke: oauth.DefaultTokenPath}})
	require.Error(t, err)
	assert.Nil(t, s)
	// The message is for the operator: it names both fields and the path.
	assert.ErrorContains(t, err, "Paths.Token")
	assert.ErrorContains(t, err, "Paths.Revoke")
	assert.ErrorContains(t, err, oauth.DefaultTokenPath)
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &oauth.Error{Code: "invalid_grant", Description: "x"})
	assert.ErrorIs(t, err, oauth.ErrInvalidGrant)
	assert.NotErrorIs(t, err, oauth.ErrInvalidClient)
	assert.False(t, errors.Is(errors.New("invalid_grant"), oauth.ErrInvalidGrant))
	assert.Equal(t, "oauth: invalid_grant: x", (&oauth.Error{Code: "invalid_grant", Description: "x"}).Error())
}

func TestMetadata(t *testing.T) {
	f := newFx(t)
	w := f.serve(httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil))
	require.Equal(t, http.StatusOK, w.Code)
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	assert.Equal(t, issuer, m["issuer"])
	assert.Equal(t, issuer+"/oauth/authorize", m["authorization_endpoint"])
	assert.Equal(t, issuer+"/oauth/token", m["token_endpoint"])
	assert.Equal(t, issuer+"/oauth/revoke", m["revocation_endpoint"])
	assert.Equal(t, issuer+"/oauth/introspect", m["introspection_endpoint"])
	assert.Equal(t, []any{"code"}, m["response_types_supported"])
	assert.Equal(t, []any{"authorization_code", "refresh_token", "client_credentials"}, m["grant_types_supported"])
	assert.Equal(t, []any{"client_secret_basic", "client_secret_post", "none"}, m["token_endpoint_auth_methods_supported"])
	assert.Equal(t, []any{"S256"}, m["code_challenge_methods_supported"])
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])
	assert.Len(t, m["scopes_supported"], len(scope.Default.Names()))

	// Exactly what is enabled: a client_credentials-only server.
	f2 := newFx(t, func(c *oauth.Config) { c.GrantTypes = []string{oauth.GrantClientCredentials} })
	md := f2.srv.Metadata()
	assert.Equal(t, []string{"client_credentials"}, md.GrantTypesSupported)
	assert.Empty(t, md.AuthorizationEndpoint)
	assert.Empty(t, md.CodeChallengeMethodsSupported)
	assert.NotContains(t, md.TokenEndpointAuthMethodsSupported, "none")
	w = f2.authorize(authorizeQuery(f2.web, webRedirect, "read:tasks"), alice)
	assert.Equal(t, http.StatusNotFound, w.Code)
}

func TestUnknownPath(t *testing.T) {
	f := newFx(t)
	w := f.serve(httptest.NewRequest(http.MethodGet, "/oauth/nope", nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
}

var accessRE = regexp.MustCompile(`^tap_[A-Za-z0-9]{28}$`)
var refreshRE = regexp.MustCompile(`^tap_refresh_[A-Za-z0-9]{28}$`)

func TestClientCredentials(t *testing.T) {
	f := newFx(t)
	w := f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}})
	tr := decodeTokens(t, w)
	assert.Regexp(t, accessRE, tr.AccessToken)
	assert.Equal(t, "Bearer", tr.TokenType)
	assert.Equal(t, 3600, tr.ExpiresIn)
	assert.Empty(t, tr.RefreshToken)
	assert.Equal(t, "read:tasks", tr.Scope)

	p, err := f.tokens.Verify(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.True(t, p.IsClient())
	assert.Equal(t, "svc", p.ClientID)
	assert.Equal(t, "acme", p.OrgID)
}

func TestAuthorizationCodeFlow(t *testing.T) {
	f := newFx(t)
	tr := f.grant(f.web, webRedirect, "write:tasks read:time", alice)
	assert.Regexp(t, accessRE, tr.AccessToken)
	assert.Regexp(t, refreshRE, tr.RefreshToken)
	assert.Equal(t, "Bearer", tr.TokenType)
	assert.Equal(t, 3600, tr.ExpiresIn)
	// web-app may have write:time, which implies read:time.
	assert.Equal(t, "write:tasks read:time", tr.Scope)

	p, err := f.tokens.Verify(t.Context(), tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, alice, p.UserID)
	assert.Equal(t, "web-app", p.ClientID)

	tr2 := decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
	assert.NotEqual(t, tr.RefreshToken, tr2.RefreshToken)
	assert.Regexp(t, refreshRE, tr2.RefreshToken)
	assert.Equal(t, "write:tasks read:time", tr2.Scope)
}
