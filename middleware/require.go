package middleware

import (
	"errors"
	"net/http"

	"tapioca.dev/auth/scope"
)

// Require returns middleware that lets a request through only when its
// principal's effective scopes grant every one of names, honouring the
// implications of [scope.Default] ("write:tasks" satisfies "read:tasks").
// Otherwise it answers 403 insufficient_scope with scope="<names>"
// (RFC 6750 §3.1); without a principal in the context (no
// [Authenticator.Authenticate] before it) it answers 500. It panics when
// names is empty or holds a name [scope.Default] does not know: a wiring
// mistake must stop the program at start-up, not let requests through. Use
// [RequireSet] for another registry.
func Require(names ...string) func(http.Handler) http.Handler {
	return RequireSet(mustSet("Require", names))
}

// RequireAny is like [Require] but lets a request through when its
// principal's scopes grant at least one of names.
func RequireAny(names ...string) func(http.Handler) http.Handler {
	return RequireAnySet(mustSet("RequireAny", names))
}

// RequireSet is [Require] for a set of any registry: every scope of
// required must be granted. It panics when required is empty.
func RequireSet(required scope.Set) func(http.Handler) http.Handler {
	if required.IsEmpty() {
		panic("middleware: RequireSet of no scopes")
	}
	return requirement(required, scope.Set.Satisfies, descScopeAll)
}

// RequireAnySet is [RequireAny] for a set of any registry: at least one
// scope of accepted must be granted. It panics when accepted is empty.
func RequireAnySet(accepted scope.Set) func(http.Handler) http.Handler {
	if accepted.IsEmpty() {
		panic("middleware: RequireAnySet of no scopes")
	}
	return requirement(accepted, scope.Set.SatisfiesAny, descScopeAny)
}

func mustSet(fn string, names []string) scope.Set {
	if len(names) == 0 {
		panic("middleware: " + fn + " of no scopes")
	}
	s, err := scope.Default.New(names...)
	if err != nil {
		panic("middleware: " + fn + ": " + err.Error())
	}
	return s
}

func requirement(want scope.Set, ok func(have, want scope.Set) bool, desc string) func(http.Handler) http.Handler {
	wire := want.String()
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("middleware: Require of a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i := infoFrom(r.Context())
			if i == nil {
				failUnwrapped(w, r)
				return
			}
			if !ok(i.p.Scopes, want) {
				e := newError(CodeInsufficientScope, desc)
				e.Scope = wire
				i.fail(w, r, e)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireOrg returns middleware that lets a request through only when its
// principal acts in the organization that owns the requested resource, as
// orgOf tells it from the request (a path value, a header of a trusted
// proxy…). An empty organization on either side never matches. Otherwise
// it answers 403 access_denied. Use [CheckOrg] inside a handler when the
// owner is only known after loading the resource.
func RequireOrg(orgOf func(r *http.Request) string) func(http.Handler) http.Handler {
	if orgOf == nil {
		panic("middleware: RequireOrg of a nil function")
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("middleware: RequireOrg of a nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if CheckOrg(w, r, orgOf(r)) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// CheckOrg reports whether the request's principal acts in organization
// orgID, the owner of the resource the handler is about to serve. When it
// does not — another organization, an empty orgID, or no principal — it
// writes the failure response (403 access_denied, or 500 without a
// principal) and returns false; the handler must then return without
// writing anything.
//
//	task, err := db.Task(ctx, id)
//	...
//	if !middleware.CheckOrg(w, r, task.OrgID) {
//		return
//	}
func CheckOrg(w http.ResponseWriter, r *http.Request, orgID string) bool {
	i := infoFrom(r.Context())
	if i == nil {
		failUnwrapped(w, r)
		return false
	}
	if orgID == "" || i.p.OrgID != orgID {
		i.fail(w, r, newError(CodeAccessDenied, descOrg))
		return false
	}
	return true
}

// fail answers through the Authenticator that verified the principal, or
// with the defaults for a context made by [NewContext].
func (i *authInfo) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	if i.a != nil {
		i.a.fail(w, r, e)
		return
	}
	defaultAuthenticator.fail(w, r, e)
}

// failUnwrapped answers a request that reached a scope or organization
// check without a principal in its context: a wiring mistake (no
// Authenticate before it), answered 500 so it fails closed and shows.
func failUnwrapped(w http.ResponseWriter, r *http.Request) {
	e := newError(CodeServerError, descServerError)
	e.Err = errUnwrapped
	defaultAuthenticator.fail(w, r, e)
}

var errUnwrapped = errors.New("middleware: scope or organization check without Authenticate before it")

// defaultAuthenticator answers failures outside an Authenticate: the
// defaults of Config.
var defaultAuthenticator = &Authenticator{challenge: "Bearer realm=" + quote(DefaultRealm), onError: WriteError}
