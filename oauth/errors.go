package oauth

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// Error is an OAuth 2.0 error: an error code of RFC 6749 §4.1.2.1 or §5.2
// (or RFC 7009 §2.2.1) and a human-readable description. Two errors match
// with [errors.Is] when their codes are equal, so
// errors.Is(err, oauth.ErrInvalidGrant) holds for any *Error with code
// "invalid_grant", through wrapping.
//
// The HTTP status is decided where the error is written, not stored in the
// value. Descriptions are fixed texts chosen by this package; they never
// echo request input.
type Error struct {
	// Code is the error code, sent as the error parameter: one of the
	// codes of [ErrInvalidRequest] and its siblings.
	Code string
	// Description is the error_description: a fixed text for developers,
	// never request input; empty means none is sent.
	Description string
}

// Error returns "oauth: " followed by the code and the description.
func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The error codes this package answers with, as values to compare with
// [errors.Is].
var (
	ErrInvalidRequest          = &Error{Code: "invalid_request"}
	ErrInvalidClient           = &Error{Code: "invalid_client"}
	ErrInvalidGrant            = &Error{Code: "invalid_grant"}
	ErrUnauthorizedClient      = &Error{Code: "unauthorized_client"}
	ErrUnsupportedGrantType    = &Error{Code: "unsupported_grant_type"}
	ErrInvalidScope            = &Error{Code: "invalid_scope"}
	ErrAccessDenied            = &Error{Code: "access_denied"}
	ErrUnsupportedResponseType = &Error{Code: "unsupported_response_type"}
	ErrServerError             = &Error{Code: "server_error"}
	ErrTemporarilyUnavailable  = &Error{Code: "temporarily_unavailable"}
)

func oerr(code *Error, desc string) *Error { return &Error{Code: code.Code, Description: desc} }

// unavailableError marks a failure of the store: the request fails closed
// with 503 and the detail goes to the log.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "oauth: store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

func unavailable(err error) error { return &unavailableError{err} }

// rateLimitedError is a refused client authentication: too many failures.
type rateLimitedError struct{ retryAfter int }

func (e *rateLimitedError) Error() string { return "oauth: too many failed client authentications" }

// publicError turns any error into what may be shown to a client: an *Error
// as is; a store failure as temporarily_unavailable; anything else as
// server_error with a generic description. The second result is the HTTP
// status for the token, revocation and introspection endpoints.
func publicError(err error) (*Error, int) {
	var oe *Error
	if errors.As(err, &oe) {
		switch oe.Code {
		case "invalid_client":
			return oe, http.StatusUnauthorized
		case "server_error":
			return oe, http.StatusInternalServerError
		case "temporarily_unavailable":
			return oe, http.StatusServiceUnavailable
		}
		return oe, http.StatusBadRequest
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return oerr(ErrTemporarilyUnavailable, "the authorization server is temporarily unavailable"), http.StatusServiceUnavailable
	}
	var rl *rateLimitedError
	if errors.As(err, &rl) {
		return oerr(ErrInvalidClient, "too many failed client authentications"), http.StatusTooManyRequests
	}
	return oerr(ErrServerError, "internal error"), http.StatusInternalServerError
}

// writeJSONError writes an RFC 6749 §5.2 error response. basic says the
// client tried HTTP Basic authentication, which an invalid_client answer
// then challenges (RFC 6749 §5.2).
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, err error, basic bool) {
	oe, status := publicError(err)
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: request failed",
			slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	var rl *rateLimitedError
	if errors.As(err, &rl) {
		h.Set("Retry-After", strconv.Itoa(rl.retryAfter))
	} else if status == http.StatusUnauthorized && basic {
		h.Set("WWW-Authenticate", `Basic realm="`+s.realm+`", charset="UTF-8"`)
	}
	w.WriteHeader(status)
	b := make([]byte, 0, 96)
	b = append(b, `{"error":"`...)
	b = appendSafe(b, oe.Code)
	if oe.Description != "" {
		b = append(b, `","error_description":"`...)
		b = appendSafe(b, oe.Description)
	}
	b = append(b, `"}`...)
	_, _ = w.Write(b)
}

// appendSafe appends the bytes of s allowed in error and error_description
// by RFC 6749 §5.2 (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash,
// no control characters, no non-ASCII. So the result needs no JSON escaping
// and no header escaping.
func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b = append(b, c)
		}
	}
	return b
}

// recoverJSON turns a panic below an endpoint (a store that panics, say)
// into a 500 server_error: never a pass, never a token (SECURITY.md S48).
// http.ErrAbortHandler is re-raised.
func (s *Server) recoverJSON(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: panic while serving", slog.String("path", r.URL.Path),
		slog.String("panic", panicText(v)))
	s.writeJSONError(w, r, oerr(ErrServerError, "internal error"), false)
}

// recoverPage is recoverJSON for the authorization endpoint's pages.
func (s *Server) recoverPage(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: panic while serving", slog.String("path", r.URL.Path),
		slog.String("panic", panicText(v)))
	w.Header().Del("Location")
	s.errorPage(w, pageError{http.StatusInternalServerError, "Something went wrong. Please try again later."})
}

// panicText describes a panic value without its content when that could
// hold request data: only errors and strings are shown, cut short.
func panicText(v any) string {
	var t string
	switch x := v.(type) {
	case error:
		t = x.Error()
	case string:
		t = x
	default:
		return "non-error panic"
	}
	if len(t) > 200 {
		t = t[:200]
	}
	return t
}
