// Package oauth is the OAuth 2.0 authorization server of tapioca.dev/auth:
// the endpoints Tapioca's web apps, single-page and mobile apps and machine
// clients talk to. It mints tap_ tokens through package token and keeps its
// state in the host's [store.Store].
//
// A [Server] is an [http.Handler] built by [NewServer] from a [Config]. At
// its default paths it serves:
//
//	GET  /oauth/authorize                        RFC 6749 §3.1, §4.1.1-4.1.2; RFC 7636 §4.3; RFC 9207 §2
//	POST /oauth/authorize                        the consent page's answer (CSRF-protected)
//	POST /oauth/token                            RFC 6749 §3.2, §4.1.3, §4.4, §5, §6; RFC 7636 §4.5-4.6
//	POST /oauth/revoke                           RFC 7009 §2
//	POST /oauth/introspect                       RFC 7662 §2
//	GET  /.well-known/oauth-authorization-server RFC 8414 §2, §3
//
// # Grants
//
//   - authorization_code with PKCE (RFC 7636 §4), S256 only. PKCE is required
//     of every client unless Config.UnsafeAllowConfidentialWithoutPKCE lets
//     confidential clients skip it; public clients always need it
//     (RFC 9700 §2.1.1). Codes are tap_code_ secrets stored as SHA-256
//     hashes, single use, bound to client, redirect URI, challenge, user
//     and scope, and live 60 s by default (at most 10 minutes). A second
//     redemption revokes everything the first one issued (RFC 6749 §4.1.2).
//   - refresh_token, rotated on every use (RFC 9700 §4.14.2) by a
//     compare-and-swap on the family's current token. Presenting a
//     rotated-out refresh token revokes its whole family. Of concurrent
//     refreshes with one token exactly one wins; the others, which read
//     the token while it was still current, get invalid_grant without
//     revoking anything (a client racing itself, say two tabs), while the
//     same token presented later is reuse. A refresh token
//     ends after Config.RefreshIdleTimeout without use and its family after
//     Config.RefreshMaxLifetime; every refresh re-checks that the user is
//     active and narrows the scope to the user's current permissions.
//   - client_credentials (RFC 6749 §4.4), for confidential clients only,
//     without refresh token. The token's subject is the client (no user),
//     acting in the client's organization.
//
// Only response_type=code exists; the implicit and password grants never
// will (RFC 9700 §2.1.2, §2.4).
//
// # Client authentication
//
// client_secret_basic (RFC 6749 §2.3.1, form-urlencoded id and secret),
// client_secret_post (§2.3.1), and none for public clients (§2.1, §3.2.1). Client secrets are
// tap_secret_ secrets made by [NewClientSecret]; stores keep only their
// SHA-256, compared in constant time against each live hash (two during a
// rotation). High-entropy secrets need no slow hash (NIST SP 800-63B
// §5.1.2.2), so authenticating a client costs one SHA-256, not a bcrypt.
// An unknown client and a wrong secret get byte-identical answers; failed
// authentications are rate limited per client ID and per remote address
// (429 with Retry-After; RFC 6749 §2.3.1 asks for protection against
// brute force). Only an attempt that presents a secret counts against a
// client ID, and never for a public client: its ID is public, so a made-up
// secret for it counts against the sender's address alone, and nobody can
// lock a public client out.
//
// # Login and consent
//
// They belong to the host. The host implements [Host] (who is signed in;
// where to sign in) and optionally a [ConsentStore] (remembered consents,
// revocable; [MemoryConsents] keeps them in memory). The server renders a
// consent page, replaceable through Config.ConsentPage, whose form carries
// a CSRF token bound to the session, the user and the request; every page
// of the authorization endpoint denies framing.
//
// The granted scope is requested ∩ client-allowed ∩ the user's current
// permissions ([scope.Set.Narrow]). A request without scope gets
// Config.DefaultScope, empty by default, which refuses such requests with
// invalid_scope: there is no implicit "everything".
//
// # Errors
//
// Errors are [*Error] values carrying an RFC 6749 §5.2 code, compared with
// [errors.Is] against [ErrInvalidGrant] and its siblings. Token endpoint
// errors are JSON (RFC 6749 §5.2) with Cache-Control: no-store;
// invalid_client is 401 with WWW-Authenticate: Basic when the client used
// Basic. Authorization errors go back to the redirect URI with state and iss
// (RFC 9207 §2) only once the client and the redirect URI are verified; before
// that the browser gets an error page, never a redirect. Every store
// failure fails closed: 503, no token, never "active":true.
//
// Redirect URIs match byte for byte ([MatchRedirectURI]; RFC 9700 §2.1,
// §4.1.3), except that loopback IP literals match in any port (RFC 8252
// §7.3). Hosts check new
// clients with [ValidateClient] and [ValidateRedirectURI].
package oauth
