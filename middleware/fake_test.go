package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/token"
)

// fakeVerifier is a small Verifier with function fields for failure
// injection; nil functions look secrets up in the maps.
type fakeVerifier struct {
	bearer   map[string]token.Principal
	sessions map[string]token.Principal
	verify   func(ctx context.Context, secret string) (token.Principal, error)
	calls    atomic.Int64
}

func newFake() *fakeVerifier {
	return &fakeVerifier{
		bearer: map[string]token.Principal{
			"good":  {TokenID: "tok_good", Kind: token.KindAPI, UserID: "u1", OrgID: "orgA", Scopes: scope.MustParse("read:tasks")},
			"admin": {TokenID: "tok_admin", Kind: token.KindAPI, UserID: "u2", OrgID: "orgA", Scopes: scope.MustParse("admin:org")},
		},
		sessions: map[string]token.Principal{
			"tap_session_good": {TokenID: "tok_sess", Kind: token.KindSession, UserID: "u1", OrgID: "orgA", Scopes: scope.MustParse("write:tasks")},
		},
	}
}

func (f *fakeVerifier) Verify(ctx context.Context, secret string) (token.Principal, error) {
	f.calls.Add(1)
	if f.verify != nil {
		return f.verify(ctx, secret)
	}
	if p, ok := f.bearer[secret]; ok {
		return p, nil
	}
	return token.Principal{}, token.ErrInvalid
}

func (f *fakeVerifier) VerifySession(ctx context.Context, secret string) (token.Principal, error) {
	f.calls.Add(1)
	if f.verify != nil {
		return f.verify(ctx, secret)
	}
	if p, ok := f.sessions[secret]; ok {
		return p, nil
	}
	return token.Principal{}, token.ErrInvalid
}

// spy is a handler that records whether it ran and the principal it saw.
type spy struct {
	called atomic.Bool
	p      token.Principal
	ok     bool
}

func (s *spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.called.Store(true)
	s.p, s.ok = middleware.FromContext(r.Context())
	w.WriteHeader(http.StatusOK)
}

func newAuth(t *testing.T, cfg middleware.Config) *middleware.Authenticator {
	t.Helper()
	a, err := middleware.New(cfg)
	require.NoError(t, err)
	return a
}

// request builds a request with the given Authorization header values.
func request(method, target string, auth ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for _, v := range auth {
		r.Header.Add("Authorization", v)
	}
	return r
}

// challengeError returns the error attribute of a WWW-Authenticate value.
func challengeAttr(h, name string) (string, bool) {
	_, rest, ok := strings.Cut(h, name+`="`)
	if !ok {
		return "", false
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v, true
}
