package middleware_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

func ExampleAuthenticate() {
	ctx := context.Background()
	st := memstore.New()
	_ = st.PutUser(store.User{ID: "alice", OrgID: "acme", Active: true, Permissions: scope.MustParse("read:tasks")})
	tokens, _ := token.NewManager(token.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	secret, _, _ := tokens.Create(ctx, token.CreateRequest{UserID: "alice", Name: "example", Scopes: scope.MustParse("read:tasks")})

	tasks := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprintf(w, "tasks of %s", p.OrgID)
	})
	// The three lines of a protected handler.
	api := middleware.Authenticate(tokens)(middleware.Require("read:tasks")(tasks))
	admin := middleware.Authenticate(tokens)(middleware.Require("admin:org")(tasks))

	for _, tc := range []struct {
		h    http.Handler
		auth string
	}{
		{api, "Bearer " + secret.Reveal()},
		{api, ""},
		{api, "Bearer tap_0000000000000000000000000000"},
		{api, "Bearer"},
		{admin, "Bearer " + secret.Reveal()},
	} {
		r := httptest.NewRequest("GET", "/tasks", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		tc.h.ServeHTTP(w, r)
		if c := w.Header().Get("WWW-Authenticate"); c != "" {
			fmt.Println(w.Code, c)
		} else {
			fmt.Println(w.Code)
		}
	}
	// Output:
	// 200
	// 401 Bearer realm="tapioca"
	// 401 Bearer realm="tapioca", error="invalid_token", error_description="the access token is invalid, expired or revoked"
	// 400 Bearer realm="tapioca", error="invalid_request", error_description="malformed Authorization header; expected: Bearer <token>"
	// 403 Bearer realm="tapioca", error="insufficient_scope", error_description="the access token lacks a required scope", scope="admin:org"
}
