package demo

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/token"
)

// host is the demo's side of the authorization endpoint: who is signed in
// (the session cookie) and where to sign in (/login, which comes back to
// the authorization request).
type host struct{ s *server }

var _ oauth.Host = host{}

// Session implements oauth.Host.
func (h host) Session(r *http.Request) (oauth.Session, error) {
	cs := r.CookiesNamed(sessionCookie)
	if len(cs) != 1 {
		return oauth.Session{}, nil
	}
	p, err := h.s.tokens.VerifySession(r.Context(), cs[0].Value)
	switch {
	case errors.Is(err, token.ErrUnavailable):
		return oauth.Session{}, err // fail closed: the store is down
	case err != nil:
		return oauth.Session{}, nil // not signed in
	}
	return oauth.Session{UserID: p.UserID, ID: p.TokenID}, nil
}

// LoginURL implements oauth.Host. /login only follows local return paths.
func (h host) LoginURL(_ *http.Request, returnTo string) (string, error) {
	return "/login?return_to=" + url.QueryEscape(returnTo), nil
}

// codeLifetime is longer than the library's 60 s default so a person can
// copy the code from the browser into the docs' curl request; the library
// caps it at 10 minutes (SECURITY.md S14).
const codeLifetime = 5 * time.Minute

// mountOAuth mounts the authorization server at /oauth/ and its metadata
// at /.well-known/oauth-authorization-server. It has no Directory: like the
// token manager, it asks the store who a user is now.
func (s *server) mountOAuth() error {
	as, err := oauth.NewServer(oauth.Config{
		Issuer: s.issuer.String(),
		Store:  s.st,
		Tokens: s.tokens,
		Host:   host{s},
		// Remembered consents are this process's: another instance asks
		// again. The consent page's CSRF key is shared through -key-file.
		Consents:     &oauth.MemoryConsents{},
		ConsentKey:   s.consentKey,
		DefaultScope: scope.Default.MustParse("read:tasks"),
		CodeLifetime: codeLifetime,
		Now:          s.now,
		Logger:       s.log,
	})
	if err != nil {
		return err
	}
	s.oauth = as
	s.handle("/oauth/", "", as)
	s.handle("GET /.well-known/oauth-authorization-server", "", as)
	return nil
}
