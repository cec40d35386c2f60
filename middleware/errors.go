package middleware

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Error codes of [Error]. The first three are RFC 6750 §3.1's and appear
// in the WWW-Authenticate challenge; the others appear only in the body.
const (
	// CodeInvalidRequest: a malformed request (400).
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidToken: a token that is invalid, expired, revoked or
	// unknown (401).
	CodeInvalidToken = "invalid_token"
	// CodeInsufficientScope: a valid token without the required scope
	// (403).
	CodeInsufficientScope = "insufficient_scope"
	// CodeUnauthorized: no credentials at all (401). RFC 6750 §3.1 says
	// the challenge then carries no error code, so this one is only in
	// the body.
	CodeUnauthorized = "unauthorized"
	// CodeAccessDenied: a valid principal that may not do this: another
	// organization's resource, or a cross-origin request authenticated by
	// a session cookie (403).
	CodeAccessDenied = "access_denied"
	// CodeUnavailable: the store failed or did not answer in time (503).
	// The client's credentials are not blamed.
	CodeUnavailable = "temporarily_unavailable"
	// CodeServerError: anything else that went wrong on the server,
	// a panicking verifier included (500).
	CodeServerError = "server_error"
)

// Errors to compare with [errors.Is]: an [*Error] matches the one with its
// code.
var (
	ErrNoCredentials     = &Error{Code: CodeUnauthorized}
	ErrInvalidRequest    = &Error{Code: CodeInvalidRequest}
	ErrInvalidToken      = &Error{Code: CodeInvalidToken}
	ErrInsufficientScope = &Error{Code: CodeInsufficientScope}
	ErrAccessDenied      = &Error{Code: CodeAccessDenied}
	ErrUnavailable       = &Error{Code: CodeUnavailable}
	ErrServerError       = &Error{Code: CodeServerError}
)

// Descriptions: fixed text, never an echo of the request.
const (
	descNoCredentials = "authentication required"
	descMalformed     = "malformed Authorization header; expected: Bearer <token>"
	descCookies       = "several session cookies"
	descQueryToken    = "access tokens in the URL are not accepted"
	descInvalidToken  = "the access token is invalid, expired or revoked"
	descCrossOrigin   = "cross-origin request refused"
	descOrg           = "the resource belongs to another organization"
	descUnavailable   = "authentication is temporarily unavailable; retry later"
	descServerError   = "internal error"
	descScopeAll      = "the access token lacks a required scope"
	descScopeAny      = "the access token has none of the accepted scopes"
)

// Error is a failed authentication or authorization, handed to
// [Config.ErrorHandler]. Its fields are safe to show to the client except
// Err.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Description is a fixed, human-readable text; it never repeats the
	// request.
	Description string
	// Scope is the required scope for [CodeInsufficientScope]: every
	// scope for [Require], the accepted ones for [RequireAny].
	Scope string
	// Err is the cause, for logs only; it is never written to the client.
	Err error
}

func newError(code, desc string) *Error { return &Error{Code: code, Description: desc} }

// Error returns "middleware: " and the code.
func (e *Error) Error() string { return "middleware: " + e.Code }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// StatusCode returns the HTTP status of the error's code: 400, 401, 403,
// 500 or 503.
func (e *Error) StatusCode() int {
	switch e.Code {
	case CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeUnauthorized, CodeInvalidToken:
		return http.StatusUnauthorized
	case CodeInsufficientScope, CodeAccessDenied:
		return http.StatusForbidden
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError writes e as JSON — {"error": code, "error_description": text}
// plus "scope" for insufficient_scope — with e's status code,
// Content-Type application/json and Cache-Control no-store. It is the
// default [Config.ErrorHandler]; a custom one may call it for API clients.
func WriteError(w http.ResponseWriter, _ *http.Request, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.StatusCode())
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
		Scope       string `json:"scope,omitempty"`
	}{e.Code, e.Description, e.Scope})
}

// quote returns s as an RFC 9110 quoted-string: backslash before '"' and
// '\', and every byte outside printable ASCII dropped, so no value can
// break out of its attribute or the header.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c <= 0x7e:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
