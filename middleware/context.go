package middleware

import (
	"context"
	"net/http"

	"tapioca.dev/auth/token"
)

// ctxKey is the context key of the authentication result.
type ctxKey struct{}

// authInfo is what [Authenticator.Authenticate] leaves in the context.
type authInfo struct {
	p token.Principal
	a *Authenticator
}

// authContext carries an authInfo. It stands in for context.WithValue so
// that the value lives in the context node itself, which [withPrincipal]
// allocates together with the request copy: one allocation per request.
// It forwards everything else to its parent, so deadlines, cancellation
// and other values work as usual.
type authContext struct {
	context.Context
	info authInfo
}

func (c *authContext) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

func (c *authContext) String() string { return "middleware.authContext" }

func newContext(parent context.Context, p token.Principal, a *Authenticator) context.Context {
	return &authContext{Context: parent, info: authInfo{p: p, a: a}}
}

// authRequest is the request handed to the wrapped handler together with
// its context, in one allocation instead of two.
type authRequest struct {
	req http.Request
	ctx authContext
}

// withPrincipal returns a shallow copy of r whose context carries p, as
// r.WithContext(newContext(…)) would. WithContext is inlined here, so its
// own copy of r stays on the stack and the new request and context share
// one heap object.
func withPrincipal(r *http.Request, p token.Principal, a *Authenticator) *http.Request {
	ar := &authRequest{ctx: authContext{Context: r.Context(), info: authInfo{p: p, a: a}}}
	ar.req = *r.WithContext(&ar.ctx)
	return &ar.req
}

func infoFrom(ctx context.Context) *authInfo {
	i, _ := ctx.Value(ctxKey{}).(*authInfo)
	return i
}

// FromContext returns the principal that [Authenticator.Authenticate]
// verified for the request whose context is ctx, and whether there is one.
func FromContext(ctx context.Context) (token.Principal, bool) {
	if i := infoFrom(ctx); i != nil {
		return i.p, true
	}
	return token.Principal{}, false
}

// NewContext returns a copy of ctx that carries p as if
// [Authenticator.Authenticate] had verified it, for tests of handlers that
// read [FromContext] and for hosts that authenticate some other way. Scope
// and organization checks of the returned context answer errors with
// [WriteError].
func NewContext(ctx context.Context, p token.Principal) context.Context {
	return newContext(ctx, p, nil)
}
