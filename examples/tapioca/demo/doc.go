// Package demo is the Tapioca demo service: a small Tapioca API wired the
// way a real host wires tapioca.dev/auth — a JSON API under /api/v1 guarded
// by scopes (the scope table of Tapioca's API docs), web sign-in, an API
// token settings page and an OAuth 2.0 authorization server (RFC 6749
// §4.1 with PKCE, RFC 7636; §4.4 client credentials; §6 refresh).
//
// Two commands run it. In the core module, on the in-memory store:
//
//	go run ./examples/tapioca [-addr 127.0.0.1:8080] [-issuer URL] [-data FILE]
//
// and in the store/pgstore module, which holds the PostgreSQL driver so
// the core module needs none, on a PostgreSQL database:
//
//	go -C store/pgstore run ./cmd/tapioca -postgres URL [flags]
//
// Both are a few lines around [Run]; the second one sets
// [Options.OpenPostgres]. Instances on one database share tokens, sessions
// and whether each user is active and what they may do (read from the store
// on every request); -key-file gives them one key for the CSRF tokens of
// their forms and consent pages.
//
// At start the demo prints its users and their passwords, a fresh API
// token, the OAuth clients with their secrets and a curl line that works as
// printed. Those are the demo's own secrets, made for this run; the request
// logs never contain a secret.
package demo
