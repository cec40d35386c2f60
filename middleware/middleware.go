package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"tapioca.dev/auth/token"
)

// Verifier verifies presented tap_ secrets. [*token.Manager] implements it.
//
// Verify authenticates a bearer token (an API token or an OAuth access
// token); VerifySession authenticates a web session secret (tap_session_…).
// Both return an error matching [token.ErrInvalid] when the presenter is at
// fault (malformed, unknown, expired, revoked, wrong kind, user gone) and
// one matching [token.ErrUnavailable] when the store failed. They must be
// safe for concurrent use.
type Verifier interface {
	// Verify authenticates a bearer token: an API token or an OAuth
	// access token ("tap_…").
	Verify(ctx context.Context, secret string) (token.Principal, error)
	// VerifySession authenticates a web session secret ("tap_session_…").
	VerifySession(ctx context.Context, secret string) (token.Principal, error)
}

var _ Verifier = (*token.Manager)(nil)

// DefaultRealm is the realm of the WWW-Authenticate challenge when
// [Config.Realm] is empty.
const DefaultRealm = "tapioca"

// MaxAuthorizationLen is the longest Authorization header value the
// middleware reads; a longer one is refused with invalid_request.
const MaxAuthorizationLen = 4096

// Config configures an [Authenticator]. Only Verifier is required; the zero
// values of the other fields give a bearer-only middleware that answers
// errors in JSON.
type Config struct {
	// Verifier verifies the presented secrets, typically a
	// [*token.Manager]. Required.
	Verifier Verifier

	// Realm is the realm of the WWW-Authenticate challenge (RFC 6750 §3);
	// "" means [DefaultRealm]. It must be printable ASCII.
	Realm string

	// SessionCookie is the name of the web app's HTTP-only session cookie,
	// whose value is a tap_session_… secret verified with
	// [Verifier.VerifySession]. "" means cookies are never read: bearer
	// tokens only.
	//
	// An Authorization header wins over the cookie: when a request carries
	// both, only the header is read. Unsafe requests (anything but GET,
	// HEAD and OPTIONS) authenticated by the cookie must pass
	// CrossOriginProtection, else they are refused with 403.
	SessionCookie string

	// CrossOriginProtection checks cookie-authenticated requests against
	// cross-site request forgery; nil means a zero
	// [http.CrossOriginProtection] (no trusted origins, no bypass).
	// Bearer-authenticated requests are not checked: a browser never
	// attaches a bearer token by itself.
	CrossOriginProtection *http.CrossOriginProtection

	// Timeout, when positive, bounds each verification with a context
	// deadline, on top of the request's own; a store that honours its
	// context and has not answered by then fails the request with 503.
	// Zero means the request's context alone bounds it (http.Server sets
	// no deadline by itself: use http.TimeoutHandler or set one here).
	Timeout time.Duration

	// ErrorHandler writes every failure response; nil means [WriteError]
	// (JSON). It is called with the WWW-Authenticate header already set
	// when RFC 6750 §3 asks for one, and must write the status and body.
	// A host uses it to render HTML for browsers, or redirect to a login
	// page. The wrapped handler is never called after a failure, whatever
	// ErrorHandler does. For failures of [Require], [RequireAny],
	// [RequireOrg] and [CheckOrg], [FromContext] of r's context returns the
	// principal that was refused.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, e *Error)

	// Logger receives a record of every 5xx failure and, at debug level,
	// of refused credentials; never a secret. nil means slog.Default().
	Logger *slog.Logger
}

// Authenticator is the authenticating middleware of a [Config]. It is safe
// for concurrent use.
type Authenticator struct {
	v         Verifier
	challenge string // `Bearer realm="…"`
	cookie    string
	cop       *http.CrossOriginProtection
	timeout   time.Duration
	onError   func(http.ResponseWriter, *http.Request, *Error)
	log       *slog.Logger // nil: slog.Default() at the time of logging
}

func (a *Authenticator) logger() *slog.Logger {
	if a.log == nil {
		return slog.Default()
	}
	return a.log
}

// New returns the middleware of cfg, or an error if cfg is unusable: no
// verifier, a realm or cookie name with characters a header cannot carry,
// or a negative timeout.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("middleware: Config.Verifier is required")
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	if !printable(realm) {
		return nil, errors.New("middleware: Config.Realm must be printable ASCII")
	}
	if cfg.SessionCookie != "" && !validCookieName(cfg.SessionCookie) {
		return nil, fmt.Errorf("middleware: invalid Config.SessionCookie %q", cfg.SessionCookie)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("middleware: negative Config.Timeout")
	}
	a := &Authenticator{
		v:         cfg.Verifier,
		challenge: "Bearer realm=" + quote(realm),
		cookie:    cfg.SessionCookie,
		cop:       cfg.CrossOriginProtection,
		timeout:   cfg.Timeout,
		onError:   cfg.ErrorHandler,
		log:       cfg.Logger,
	}
	if a.cop == nil {
		a.cop = new(http.CrossOriginProtection)
	}
	if a.onError == nil {
		a.onError = WriteError
	}
	return a, nil
}

// Authenticate returns bearer-token middleware over v with the defaults of
// [Config]: it is New(Config{Verifier: v}).Authenticate. It panics if v is
// nil. Use [New] for session cookies, a realm or an error handler.
func Authenticate(v Verifier) func(http.Handler) http.Handler {
	a, err := New(Config{Verifier: v})
	if err != nil {
		panic(err)
	}
	return a.Authenticate
}

// Authenticate wraps next: a request reaches next only with a verified
// principal in its context, read with [FromContext]. Every failure is
// answered through [Config.ErrorHandler] and next is not called:
//
//   - no credentials, or credentials of another scheme ("Basic …") → 401,
//     challenge without error (RFC 6750 §3.1);
//   - a malformed Authorization header (a bare "Bearer", a Bearer value
//     that is not exactly one b64token, no scheme, several Authorization
//     headers, longer than [MaxAuthorizationLen]), several session
//     cookies, or an access_token query parameter → 400 invalid_request;
//   - a token or session that is invalid, expired, revoked or unknown →
//     401 invalid_token, with one description for all;
//   - a cookie-authenticated unsafe cross-origin request → 403
//     access_denied;
//   - a store failure or a verification past its deadline → 503
//     temporarily_unavailable, which does not blame the token;
//   - a panicking verifier → 500 server_error.
//
// A token in the query string never authenticates (RFC 6750 §2.3 is not
// supported): a request with an access_token query parameter is refused.
func (a *Authenticator) Authenticate(next http.Handler) http.Handler {
	if next == nil {
		panic("middleware: Authenticate of a nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, e := a.authenticate(r)
		if e != nil {
			a.fail(w, r, e)
			return
		}
		next.ServeHTTP(w, withPrincipal(r, p, a))
	})
}

// authenticate finds and verifies the request's credentials.
func (a *Authenticator) authenticate(r *http.Request) (token.Principal, *Error) {
	if r.URL != nil && hasQueryToken(r.URL.RawQuery) {
		return token.Principal{}, newError(CodeInvalidRequest, descQueryToken)
	}
	if hv, ok := r.Header["Authorization"]; ok {
		if len(hv) != 1 {
			return token.Principal{}, newError(CodeInvalidRequest, descMalformed)
		}
		tok, ok := parseBearer(hv[0])
		if !ok {
			if otherScheme(hv[0]) {
				// RFC 6750 §3.1: a client that "attempted using an
				// unsupported authentication method" gets the bare
				// challenge, with no error code.
				return token.Principal{}, newError(CodeUnauthorized, descNoCredentials)
			}
			return token.Principal{}, newError(CodeInvalidRequest, descMalformed)
		}
		return a.verify(r.Context(), tok, false)
	}
	if a.cookie == "" {
		return token.Principal{}, newError(CodeUnauthorized, descNoCredentials)
	}
	cookies := r.CookiesNamed(a.cookie)
	switch len(cookies) {
	case 0:
		return token.Principal{}, newError(CodeUnauthorized, descNoCredentials)
	case 1:
	default:
		return token.Principal{}, newError(CodeInvalidRequest, descCookies)
	}
	if err := a.cop.Check(r); err != nil {
		e := newError(CodeAccessDenied, descCrossOrigin)
		e.Err = err
		return token.Principal{}, e
	}
	return a.verify(r.Context(), cookies[0].Value, true)
}

// verify calls the verifier, turning its errors and panics into an *Error.
func (a *Authenticator) verify(ctx context.Context, secret string, session bool) (p token.Principal, e *Error) {
	defer func() {
		if v := recover(); v != nil {
			// The panic value is not logged: it could hold anything,
			// the presented secret included.
			e = newError(CodeServerError, descServerError)
			e.Err = fmt.Errorf("middleware: verifier panicked (%T)", v)
			p = token.Principal{}
		}
	}()
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	var err error
	if session {
		p, err = a.v.VerifySession(ctx, secret)
	} else {
		p, err = a.v.Verify(ctx, secret)
	}
	switch {
	case err == nil && p.TokenID == "":
		// A verifier that says yes without saying who: fail closed
		// (SECURITY.md S47).
		e = newError(CodeInvalidToken, descInvalidToken)
		e.Err = errors.New("middleware: verifier returned an empty principal")
	case err == nil:
		return p, nil
	case errors.Is(err, token.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled):
		e = newError(CodeUnavailable, descUnavailable)
		e.Err = err
	case errors.Is(err, token.ErrInvalid):
		e = newError(CodeInvalidToken, descInvalidToken)
		e.Err = err
	default:
		e = newError(CodeServerError, descServerError)
		e.Err = err
	}
	return token.Principal{}, e
}

// fail logs e and answers the request through the error handler.
func (a *Authenticator) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	log := a.logger()
	if s := e.StatusCode(); s >= 500 && !errors.Is(e.Err, context.Canceled) {
		// context.Canceled: the client went away; not worth an error.
		log.LogAttrs(r.Context(), slog.LevelError, "middleware: request refused",
			slog.Int("status", s), slog.String("error", e.Code), slog.Any("cause", e.Err))
	} else if log.Enabled(r.Context(), slog.LevelDebug) {
		log.LogAttrs(r.Context(), slog.LevelDebug, "middleware: request refused",
			slog.Int("status", s), slog.String("error", e.Code))
	}
	if c := a.challengeFor(e); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	a.onError(w, r, e)
}

// challengeFor returns the WWW-Authenticate value for e (RFC 6750 §3), or ""
// when e is no bearer-token failure (403 access_denied, 5xx).
func (a *Authenticator) challengeFor(e *Error) string {
	switch e.Code {
	case CodeUnauthorized:
		return a.challenge
	case CodeInvalidRequest, CodeInvalidToken, CodeInsufficientScope:
		var b strings.Builder
		b.WriteString(a.challenge)
		b.WriteString(`, error=`)
		b.WriteString(quote(e.Code))
		if e.Description != "" {
			b.WriteString(`, error_description=`)
			b.WriteString(quote(e.Description))
		}
		if e.Scope != "" {
			b.WriteString(`, scope=`)
			b.WriteString(quote(e.Scope))
		}
		return b.String()
	}
	return ""
}

// hasQueryToken reports whether a raw query has an access_token parameter.
// It does not allocate for queries that do not mention it.
func hasQueryToken(raw string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(kv, "=")
		if k == "access_token" || (strings.Contains(k, "%") && unescapedIs(k, "access_token")) {
			return true
		}
	}
	return false
}

func unescapedIs(k, want string) bool {
	u, err := url.QueryUnescape(k)
	return err == nil && u == want // url.ParseQuery drops undecodable keys too
}

// printable reports whether s is non-empty printable ASCII.
func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validCookieName reports whether s is an RFC 6265 cookie-name (a token).
func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
