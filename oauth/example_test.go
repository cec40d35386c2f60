package oauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"golang.org/x/oauth2/clientcredentials"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

// exampleHost is the host's side of sign-in: here, a session cookie set by
// the host's own login page.
type exampleHost struct{}

func (exampleHost) Session(r *http.Request) (oauth.Session, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return oauth.Session{}, nil // nobody signed in
	}
	return oauth.Session{UserID: c.Value, ID: "sess-" + c.Value}, nil
}

func (exampleHost) LoginURL(_ *http.Request, returnTo string) (string, error) {
	return "/login?return_to=" + returnTo, nil
}

// A machine client gets a token with golang.org/x/oauth2/clientcredentials;
// the resource side verifies it with the token manager.
func ExampleServer() {
	ctx := context.Background()
	st := memstore.New()
	logger := slog.New(slog.DiscardHandler)
	tokens, err := token.NewManager(token.Config{Store: st, Logger: logger})
	if err != nil {
		panic(err)
	}

	// Register a confidential client: the secret is shown once, the store
	// keeps its SHA-256.
	secret, hash, err := oauth.NewClientSecret()
	if err != nil {
		panic(err)
	}
	client := store.Client{ID: "reporting", SecretHashes: []store.Hash{hash},
		GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: scope.MustParse("read:tasks read:time"), OrgID: "acme"}
	if err := oauth.ValidateClient(client); err != nil {
		panic(err)
	}
	if err := st.PutClient(client); err != nil {
		panic(err)
	}

	srv, err := oauth.NewServer(oauth.Config{
		Issuer: "https://tapioca.dev", Store: st, Tokens: tokens, Host: exampleHost{},
		Consents: &oauth.MemoryConsents{}, Logger: logger,
	})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	cc := clientcredentials.Config{ClientID: "reporting", ClientSecret: secret.Reveal(),
		TokenURL: ts.URL + "/oauth/token", Scopes: []string{"read:tasks"}}
	tok, err := cc.Token(ctx)
	if err != nil {
		panic(err)
	}
	p, err := tokens.Verify(ctx, tok.AccessToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.TokenType, tok.Extra("scope"), p.ClientID, p.OrgID, p.IsClient())
	// Output: Bearer read:tasks reporting acme true
}

// Registered redirect URIs match byte for byte, except that a native app on
// a loopback IP literal may pick any port.
func ExampleMatchRedirectURI() {
	fmt.Println(oauth.MatchRedirectURI("https://app.example/cb", "https://app.example/cb"))
	fmt.Println(oauth.MatchRedirectURI("https://app.example/cb", "https://app.example/cb/"))
	fmt.Println(oauth.MatchRedirectURI("http://127.0.0.1/cb", "http://127.0.0.1:49152/cb"))
	fmt.Println(oauth.MatchRedirectURI("http://localhost/cb", "http://localhost:49152/cb"))
	// Output:
	// true
	// false
	// true
	// false
}

// A host checks a redirect URI before registering it.
func ExampleValidateRedirectURI() {
	for _, uri := range []string{
		"https://app.example/callback",
		"http://127.0.0.1/callback",
		"com.example.app:/oauth2redirect",
		"http://app.example/callback",
		"https://*.app.example/callback",
		"https://app.example/callback#x",
	} {
		fmt.Println(uri, oauth.ValidateRedirectURI(uri) == nil)
	}
	// Output:
	// https://app.example/callback true
	// http://127.0.0.1/callback true
	// com.example.app:/oauth2redirect true
	// http://app.example/callback false
	// https://*.app.example/callback false
	// https://app.example/callback#x false
}
