package token_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

func ExampleGenerate() {
	sec, err := token.Generate(token.KindAPI)
	if err != nil {
		panic(err) // the random source failed; nothing was issued
	}
	s := sec.Reveal() // hand this to its owner once; store only token.Hash(s)
	kind, err := token.Parse(s)
	fmt.Println(kind, err, len(s), strings.HasPrefix(s, "tap_"))
	fmt.Println(sec) // a Secret redacts itself
	// Output:
	// api <nil> 32 true
	// tap_[REDACTED]
}

func ExampleParse() {
	for _, s := range []string{
		"tap_0123456789ABCDEFGHIJKL2qKFHd",
		"tap_refresh_0123456789ABCDEFGHIJKL4RGSxV",
		"tap_0123456789ABCDEFGHIJKL2qKFHe", // one character off
		"tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx", // the documentation's placeholder
	} {
		kind, err := token.Parse(s)
		fmt.Println(kind, err)
	}
	// Output:
	// api <nil>
	// refresh <nil>
	// invalid token: malformed
	// invalid token: malformed
}

func ExampleScan() {
	text := "export TAPIOCA_TOKEN=tap_0123456789ABCDEFGHIJKL2qKFHd\n" +
		"# see tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx in the docs\n"
	for _, m := range token.Scan(text) {
		fmt.Println(m.Kind, m.Offset, m.Length, m.Secret)
	}
	// Output:
	// api 21 32 tap_[REDACTED]
}

func ExampleRedact() {
	fmt.Println(token.Redact("curl -H 'Authorization: Bearer tap_0123456789ABCDEFGHIJKL2qKFHd' …"))
	// Output:
	// curl -H 'Authorization: Bearer tap_[REDACTED]' …
}

func ExampleReplaceAttr() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // for a stable example output
			}
			return token.ReplaceAttr(groups, a)
		},
	})
	slog.New(h).Info("request", "auth", "Bearer tap_0123456789ABCDEFGHIJKL2qKFHd")
	// Output:
	// level=INFO msg=request auth="Bearer tap_[REDACTED]"
}

// exampleHost sets up what a host has: a store with one user, and a
// manager over it with a fixed clock.
func exampleHost() (*token.Manager, *memstore.Store) {
	st := memstore.New()
	_ = st.PutUser(store.User{ID: "alice", OrgID: "acme", Active: true, Permissions: scope.MustParse("admin:org")})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := token.NewManager(token.Config{
		Store:  st,
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	return m, st
}

func ExampleManager_Create() {
	m, _ := exampleHost()
	ctx := context.Background()

	sec, rec, err := m.Create(ctx, token.CreateRequest{
		UserID: "alice",
		Name:   "CI deploys",
		Scopes: scope.MustParse("read:tasks write:time"),
		// ExpiresAt zero: the default lifetime (90 days).
	})
	if err != nil {
		panic(err)
	}
	// Show sec.Reveal() to alice once; keep only rec (it holds the hash).
	fmt.Println(len(sec.Reveal()), rec.Kind, rec.Name, rec.Scopes, rec.ExpiresAt.Format(time.DateOnly))

	_, _, err = m.Create(ctx, token.CreateRequest{UserID: "alice", Scopes: scope.MustParse("admin:billing")})
	fmt.Println(errors.Is(err, token.ErrScopeExceeds))
	// Output:
	// 32 api CI deploys read:tasks write:time 2026-05-30
	// true
}

func ExampleManager_Verify() {
	m, st := exampleHost()
	ctx := context.Background()
	sec, _, _ := m.Create(ctx, token.CreateRequest{UserID: "alice", Scopes: scope.MustParse("write:tasks")})

	// On every request: the Bearer token from the Authorization header.
	p, err := m.Verify(ctx, sec.Reveal())
	fmt.Println(p.UserID, p.OrgID, p.Scopes, err)

	// A demotion applies on the next request.
	_ = st.SetUserPermissions("alice", scope.MustParse("read:tasks"))
	p, _ = m.Verify(ctx, sec.Reveal())
	fmt.Println(p.Scopes)

	_, err = m.Verify(ctx, "tap_0123456789ABCDEFGHIJKL2qKFHd") // well-formed, never issued
	fmt.Println(errors.Is(err, token.ErrInvalid))
	// Output:
	// alice acme write:tasks <nil>
	// read:tasks
	// true
}

func ExampleManager_Rotate() {
	m, _ := exampleHost()
	ctx := context.Background()
	old, rec, _ := m.Create(ctx, token.CreateRequest{UserID: "alice", Name: "CI", Scopes: scope.MustParse("read:tasks")})

	// Replace the secret; the old one keeps working for an hour.
	sec, next, err := m.Rotate(ctx, "alice", rec.ID, time.Hour)
	fmt.Println(err, next.Name, next.Scopes, next.ExpiresAt.Equal(rec.ExpiresAt))
	_, errOld := m.Verify(ctx, old.Reveal())
	_, errNew := m.Verify(ctx, sec.Reveal())
	fmt.Println(errOld, errNew)
	// Output:
	// <nil> CI read:tasks true
	// <nil> <nil>
}

func ExampleManager_List() {
	m, _ := exampleHost()
	ctx := context.Background()
	_, a, _ := m.Create(ctx, token.CreateRequest{UserID: "alice", Name: "laptop", Scopes: scope.MustParse("read:tasks")})
	_, _, _ = m.Create(ctx, token.CreateRequest{UserID: "alice", Name: "CI", Scopes: scope.MustParse("write:time")})

	// A user revokes one of their own tokens by ID.
	_ = m.RevokeForUser(ctx, "alice", a.ID)

	toks, _ := m.List(ctx, "alice")
	for _, t := range toks {
		fmt.Println(t.Name, t.Scopes, m.Live(t))
	}
	// Output:
	// laptop read:tasks false
	// CI write:time true
}
