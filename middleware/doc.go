// Package middleware is the resource-server side of tapioca.dev/auth:
// net/http middleware that authenticates requests with tap_ bearer tokens
// (API tokens and OAuth access tokens) or the web app's session cookie,
// puts the verified [token.Principal] in the request context, and checks
// scopes and organizations per route.
//
// Wrapping an existing handler:
//
//	tokens, _ := token.NewManager(token.Config{Store: st})
//	api := middleware.Authenticate(tokens)(
//		middleware.Require("read:tasks")(tasksHandler))
//
// Handlers read the principal with [FromContext].
//
// # Bearer tokens (RFC 6750)
//
// Tokens are read from the Authorization header only (RFC 6750 §2.1), with
// the scheme compared case-insensitively. The form-body and URI-query
// methods (§2.2, §2.3) are not supported: a request with an access_token
// query parameter is refused with invalid_request, so a token in a URL
// never authenticates. Errors follow §3 and §3.1:
//
//   - no credentials, or credentials of another scheme ("Basic …", an
//     "unsupported authentication method" in §3.1's words): 401 and
//     `WWW-Authenticate: Bearer realm="…"` with no error attribute;
//   - a malformed request (a bare "Bearer", two tokens, junk, several
//     Authorization headers, a header over [MaxAuthorizationLen]): 400
//     error="invalid_request";
//   - a token that is invalid, expired, revoked or unknown: 401
//     error="invalid_token", with one description for all of them;
//   - a valid token lacking a scope ([Require], [RequireAny]): 403
//     error="insufficient_scope" and scope="<required>".
//
// Failures that are not the client's are not blamed on its token: a store
// failure or a store that does not answer by the request's deadline gives
// 503 temporarily_unavailable, a panicking verifier 500 server_error. The
// wrapped handler is never called on any failure. Bodies are JSON,
// {"error": …, "error_description": …}, sent with Cache-Control: no-store;
// [Config.ErrorHandler] lets a host render them its own way.
//
// # Session cookies
//
// With [Config.SessionCookie] set, a request without an Authorization header
// is authenticated by that cookie, whose value is a tap_session_… secret.
// The header wins when both are present. Unsafe cookie-authenticated
// requests (POST, PUT, PATCH, DELETE …) must pass
// [http.CrossOriginProtection] (Sec-Fetch-Site and Origin), else 403.
//
// Browsers send CORS preflight requests (OPTIONS) without credentials:
// answer them before Authenticate, outside the protected handler.
//
// # Organizations
//
// A principal acts in one organization. [RequireOrg] and [CheckOrg] refuse
// with 403 a request for a resource another organization owns.
package middleware
