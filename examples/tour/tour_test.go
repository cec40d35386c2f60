package tour_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

// The regions between "// README: <name>" and "// README end" are the
// README's snippets, verbatim (see readme_test.go).

func init() { slog.SetDefault(slog.New(slog.DiscardHandler)) }

// get sends a GET with an optional bearer token to h and returns the status
// and body.
func get(h http.Handler, path, bearer string) (int, string) {
	r := httptest.NewRequest("GET", path, nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, strings.TrimSpace(w.Body.String())
}

func Example_wrapAHandler() {
	tasksHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprintf(w, "tasks of %s, for %s\n", p.OrgID, p.UserID)
	})
	// README: wrap a handler
	st := memstore.New() // or your own store.Store
	tokens, err := token.NewManager(token.Config{Store: st})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/tasks", middleware.Authenticate(tokens)(middleware.Require("read:tasks")(tasksHandler)))
	// README end

	_ = st.PutUser(store.User{ID: "user_1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")})
	sec, _, _ := tokens.Create(context.Background(), token.CreateRequest{UserID: "user_1", Scopes: scope.MustParse("read:tasks")})
	fmt.Println(get(mux, "/api/v1/tasks", sec.Reveal()))
	fmt.Println(get(mux, "/api/v1/tasks", ""))
	// Output:
	// 200 tasks of acme, for user_1
	// 401 {"error":"unauthorized","error_description":"authentication required"}
}

func Example_createAndVerifyAToken() {
	ctx := context.Background()
	st := memstore.New()
	tokens, _ := token.NewManager(token.Config{Store: st})
	// README: create and verify a token
	// The host's directory says who the user is now; memstore keeps one.
	_ = st.PutUser(store.User{ID: "user_1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks read:time")})

	secret, rec, err := tokens.Create(ctx, token.CreateRequest{
		UserID: "user_1", Name: "CI pipeline", Scopes: scope.MustParse("read:tasks"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(secret)                               // tap_[REDACTED]: secrets redact themselves in logs
	plaintext := secret.Reveal()                      // tap_ + 28 characters: show it to the user once
	fmt.Println(len(plaintext), rec.Name, rec.Scopes) // the record has a hash and an ID, never the secret

	p, err := tokens.Verify(ctx, plaintext)
	fmt.Println(err, p.UserID, p.OrgID, p.Scopes.Contains("read:tasks"), p.Scopes.Contains("write:tasks"))

	_ = tokens.Revoke(ctx, rec.ID)
	_, err = tokens.Verify(ctx, plaintext)
	fmt.Println(errors.Is(err, token.ErrInvalid))
	// README end
	// Output:
	// tap_[REDACTED]
	// 32 CI pipeline read:tasks
	// <nil> user_1 acme true false
	// true
}

// signedIn is a host where user_1 is signed in and has approved before.
type signedIn struct{}

func (signedIn) Session(*http.Request) (oauth.Session, error) {
	return oauth.Session{UserID: "user_1", ID: "session_1"}, nil
}
func (signedIn) LoginURL(*http.Request, string) (string, error) { return "/login", nil }

// approve plays a user who is signed in and has consented: it opens the
// authorization URL and returns the code from the redirect.
func approve(authURL string) string {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authURL)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		panic(err)
	}
	return loc.Query().Get("code")
}

func Example_oauthFlowWithXOAuth2() {
	ctx := context.Background()
	st := memstore.New()
	tokens, _ := token.NewManager(token.Config{Store: st})
	_ = st.PutUser(store.User{ID: "user_1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")})
	_ = st.PutClient(store.Client{ID: "my-spa", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("read:tasks")})
	consents := &oauth.MemoryConsents{}
	_ = consents.RememberConsent(ctx, "user_1", "my-spa", scope.MustParse("read:tasks"))
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	as, err := oauth.NewServer(oauth.Config{Issuer: issuer, Store: st, Tokens: tokens, Host: signedIn{}, Consents: consents})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth/", as)
	mux.Handle("/api/v1/tasks", middleware.Authenticate(tokens)(middleware.Require("read:tasks")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "[]") }))))
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()
	state := "af0ifjsldkj"

	// README: run the OAuth flow with x/oauth2
	conf := &oauth2.Config{
		ClientID: "my-spa", // a public client: no secret, PKCE
		Endpoint: oauth2.Endpoint{
			AuthURL: issuer + "/oauth/authorize", TokenURL: issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://127.0.0.1:9999/callback", // loopback: any port matches
		Scopes:      []string{"read:tasks"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	// The user signs in and approves at authURL; the browser comes back to
	// RedirectURL?code=…&state=…&iss=… (check state and iss).
	code := approve(authURL)

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}
	client := conf.Client(ctx, tok) // refreshes on expiry, rotating the refresh token
	res, err := client.Get(issuer + "/api/v1/tasks")
	// README end
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(tok.Type(), tok.Extra("scope"), tok.RefreshToken != "", res.StatusCode)
	// Output:
	// Bearer read:tasks true 200
}

// fixtures lets the conformance suite create users and clients in memstore.
type fixtures struct{ s *memstore.Store }

func (f fixtures) PutUser(_ context.Context, u store.User) error     { return f.s.PutUser(u) }
func (f fixtures) PutClient(_ context.Context, c store.Client) error { return f.s.PutClient(c) }

// README: implement the store with storetest
func TestMyStore(t *testing.T) {
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) {
		s := memstore.New() // your implementation: mystore.New(testDB(t))
		return s, fixtures{s}
	})
}

// README end
