package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

// signedIn is a host where one user is always signed in.
type signedIn struct{}

func (signedIn) Session(*http.Request) (oauth.Session, error) {
	return oauth.Session{UserID: "user_1", ID: "session_1"}, nil
}

func (signedIn) LoginURL(*http.Request, string) (string, error) { return "/login", nil }

// server is a small Tapioca: the library's authorization server and one API
// route, on 127.0.0.1. The user has already consented to the public client.
func server(t *testing.T) (base, machineSecret string) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	require.NoError(t, st.PutUser(store.User{ID: "user_1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")}))
	require.NoError(t, st.PutClient(store.Client{ID: "tapioca-spa", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("write:tasks"), OrgID: "acme"}))
	sec, hash, err := oauth.NewClientSecret()
	require.NoError(t, err)
	require.NoError(t, st.PutClient(store.Client{ID: "tapioca-machine", SecretHashes: []store.Hash{hash},
		GrantTypes: []string{"client_credentials"}, Scopes: scope.MustParse("read:tasks"), OrgID: "acme"}))
	log := slog.New(slog.DiscardHandler)
	tokens, err := token.NewManager(token.Config{Store: st, Logger: log})
	require.NoError(t, err)
	consents := &oauth.MemoryConsents{}
	require.NoError(t, consents.RememberConsent(ctx, "user_1", "tapioca-spa", scope.MustParse("read:tasks write:tasks")))

	hs := httptest.NewUnstartedServer(nil)
	base = "http://" + hs.Listener.Addr().String()
	as, err := oauth.NewServer(oauth.Config{Issuer: base, Store: st, Tokens: tokens, Host: signedIn{}, Consents: consents, Logger: log})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/oauth/", as)
	mux.Handle("/.well-known/oauth-authorization-server", as)
	mux.Handle("GET /api/v1/tasks", middleware.Authenticate(tokens)(middleware.Require("read:tasks")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := middleware.FromContext(r.Context())
			fmt.Fprintf(w, `{"data": [{"id": "task_1", "title": "for %s", "status": "todo"}]}`, p.OrgID)
		}))))
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(hs.Close)
	return base, sec.Reveal()
}

// follow plays the browser: it opens the URL and follows the redirects to
// the client's loopback listener.
func follow(ctx context.Context, u string) error { return browse(ctx, http.DefaultClient, u) }

func browse(ctx context.Context, hc *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("browser got %s", res.Status)
	}
	return nil
}

func TestRun(t *testing.T) {
	base, machine := server(t)
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"-server", base, "-machine-secret", machine, "-timeout", "20s"}, &out, follow)
	require.NoError(t, err, out.String())
	s := out.String()
	assert.Contains(t, s, "Open this URL in your browser")
	assert.Contains(t, s, "Authorization code + PKCE: got a Bearer token for \"write:tasks\"")
	assert.Contains(t, s, "refresh token: true")
	assert.Contains(t, s, "Client credentials: got a Bearer token for \"read:tasks\"")
	assert.Equal(t, 2, strings.Count(s, "GET /api/v1/tasks → 1 tasks"))
	assert.NotContains(t, s, "tap_", "no token is printed")
}

func TestRunErrors(t *testing.T) {
	base, _ := server(t)
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"bad flow", []string{"-flow", "implicit"}, "-flow"},
		{"wrong machine secret", []string{"-server", base, "-flow", "client-credentials", "-machine-secret", "tap_secret_wrong"}, "client credentials flow"},
		{"no server", []string{"-server", "http://127.0.0.1:1", "-flow", "client-credentials"}, "metadata"},
		{"unknown client", []string{"-server", base, "-flow", "code", "-client-id", "nobody", "-timeout", "5s"}, "authorization code flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out strings.Builder
			err := run(ctx, tt.args, &out, follow)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

// TestRunRequiresIss: the server advertises RFC 9207's iss parameter, so a
// redirect without it is refused (RFC 9207 §2.4: a mix-up attacker strips it).
func TestRunRequiresIss(t *testing.T) {
	base, _ := server(t)
	stripIss := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		q := req.URL.Query()
		q.Del("iss")
		req.URL.RawQuery = q.Encode()
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	err := run(ctx, []string{"-server", base, "-flow", "code", "-timeout", "5s"}, &out,
		func(ctx context.Context, u string) error { return browse(ctx, stripIss, u) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RFC 9207")
}
