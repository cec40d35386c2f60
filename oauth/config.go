package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// Grant types (RFC 6749 §4). The implicit grant and the resource owner
// password credentials grant are never supported (RFC 9700 §2.1.2, §2.4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Defaults and limits of [Config].
const (
	// DefaultCodeLifetime is Config.CodeLifetime's default.
	DefaultCodeLifetime = 60 * time.Second
	// MaxCodeLifetime is the longest Config.CodeLifetime allowed (RFC
	// 6749 §4.1.2 recommends at most 10 minutes).
	MaxCodeLifetime = 10 * time.Minute
	// DefaultRefreshIdleTimeout is Config.RefreshIdleTimeout's default.
	DefaultRefreshIdleTimeout = 30 * 24 * time.Hour
	// DefaultRefreshMaxLifetime is Config.RefreshMaxLifetime's default.
	DefaultRefreshMaxLifetime = 90 * 24 * time.Hour
	// DefaultFailedAuthBurst failed client authentications are allowed per
	// client ID and per remote address before they are rate limited ...
	DefaultFailedAuthBurst = 10
	// ... and then one more every DefaultFailedAuthInterval.
	DefaultFailedAuthInterval = 6 * time.Second
	// DefaultRateLimitKeys is how many client IDs and how many remote
	// addresses the rate limiter tracks at most (each; twice that during
	// eviction).
	DefaultRateLimitKeys = 10000
)

// Default paths of the endpoints.
const (
	DefaultAuthorizePath  = "/oauth/authorize"
	DefaultTokenPath      = "/oauth/token"
	DefaultRevokePath     = "/oauth/revoke"
	DefaultIntrospectPath = "/oauth/introspect"
	// DefaultMetadataPath is the RFC 8414 §3 well-known path; an issuer
	// with a path component gets that path appended.
	DefaultMetadataPath = "/.well-known/oauth-authorization-server"
)

// Paths are the URL paths the [Server] answers. An empty field means its
// default (DefaultAuthorizePath, …). Each is an absolute path without
// query or fragment, matched exactly against r.URL.Path, and no two
// endpoints may share one ([NewServer] refuses that).
type Paths struct {
	// Authorize is the authorization endpoint ([Server.ServeAuthorize]);
	// empty means DefaultAuthorizePath.
	Authorize string
	// Token is the token endpoint ([Server.ServeToken]); empty means
	// DefaultTokenPath.
	Token string
	// Revoke is the revocation endpoint ([Server.ServeRevoke]); empty
	// means DefaultRevokePath.
	Revoke string
	// Introspect is the introspection endpoint ([Server.ServeIntrospect]);
	// empty means DefaultIntrospectPath.
	Introspect string
	// Metadata is where the metadata is served ([Server.ServeMetadata]);
	// empty means DefaultMetadataPath followed by the issuer's path, if
	// any (RFC 8414 §3.1).
	Metadata string
}

// Session is who is signed in for a browser request, as the host's
// [Host.Session] tells it.
type Session struct {
	// UserID is the signed-in user; empty means nobody is signed in.
	UserID string
	// ID identifies the sign-in session (for example the public ID of the
	// session token, never the secret). The consent page's CSRF token is
	// bound to it and to UserID. Required when UserID is set: a Session
	// with a UserID and an empty ID fails the authorization request
	// closed with server_error, since the CSRF token would otherwise be
	// bound to the user alone.
	ID string
}

// Host is what the host application provides for the authorization
// endpoint: who is signed in, and where to sign in. Login pages, passwords
// and SSO stay in the host.
type Host interface {
	// Session returns who is signed in for r. A zero Session means nobody
	// is; a signed-in user comes with a non-empty [Session.ID] (a Session
	// with a UserID and no ID fails the request closed). An error is a
	// failure of the host (the request fails closed).
	Session(r *http.Request) (Session, error)

	// LoginURL returns the URL of the host's sign-in page for r. After
	// signing in, the host sends the browser back to returnTo, a path and
	// query on this server (the authorization request); the host must only
	// follow same-origin return URLs.
	LoginURL(r *http.Request, returnTo string) (string, error)
}

// ConsentStore remembers which scopes a user allowed a client, so the
// consent page is not shown again. Implementations must be safe for
// concurrent use. [MemoryConsents] is an in-memory implementation.
type ConsentStore interface {
	// Consented reports whether the user has consented to the client for
	// every scope of scopes (implications honoured). No record → false, nil.
	Consented(ctx context.Context, userID, clientID string, scopes scope.Set) (bool, error)

	// RememberConsent records that the user consented to the client for
	// scopes, adding to what was remembered before. Idempotent.
	RememberConsent(ctx context.Context, userID, clientID string, scopes scope.Set) error

	// RevokeConsent forgets every consent of the user to the client. The
	// next authorization request shows the consent page again. Idempotent;
	// no record is not an error.
	RevokeConsent(ctx context.Context, userID, clientID string) error
}

// ConsentPage renders the consent page. It must write an HTML form that
// POSTs every field of p.Fields unchanged, plus a field "decision" with
// the value "allow" or "deny", to p.Action. The server has already set
// the anti-framing headers (SECURITY.md S15) when it is called.
type ConsentPage func(w http.ResponseWriter, r *http.Request, p *ConsentPrompt)

// ConsentPrompt is what a [ConsentPage] shows.
type ConsentPrompt struct {
	// ClientID is the ID of the client asking for access.
	ClientID string
	// ClientName is the client's registered name; ClientID if none.
	ClientName string
	// UserID is the signed-in user.
	UserID string
	// Scopes are the scopes to be granted, in canonical order.
	Scopes []string
	// Action is the URL the form posts to.
	Action string
	// Fields are the hidden fields, the CSRF token among them.
	Fields []Field
}

// Field is a hidden form field of the consent page.
type Field struct {
	// Name is the field's name attribute.
	Name string
	// Value is the field's value, to be sent back unchanged (HTML-escaped
	// in the page, as html/template does).
	Value string
}

// Config configures a [Server]. Issuer, Store, Tokens and Host are
// required; every other field has a safe default.
type Config struct {
	// Issuer is the authorization server's issuer identifier (RFC 8414
	// §2): an https URL without query or fragment, or an http URL whose
	// host is a loopback address (development). Required.
	Issuer string
	// Store keeps clients, codes, refresh families and tokens. Required.
	Store store.Store
	// Tokens mints and verifies tap_ tokens; it should use the same store.
	// Required.
	Tokens *token.Manager
	// Host tells who is signed in and where to sign in. Required for the
	// authorization code grant.
	Host Host
	// Directory answers who a user is now; nil means Store.
	Directory store.Users
	// Consents remembers consents; nil means the consent page is shown on
	// every authorization request.
	Consents ConsentStore
	// ConsentPage replaces the default consent page.
	ConsentPage ConsentPage
	// ConsentKey is the HMAC key of the consent page's CSRF tokens, at
	// least 32 bytes. Nil means a random key per process: set it when
	// several instances share the traffic.
	ConsentKey []byte
	// Scopes is the scope registry; nil means [scope.Default].
	Scopes *scope.Registry
	// DefaultScope is granted (narrowed like any request) when a request
	// omits the scope parameter. The zero value is the empty set: a
	// request without scope is refused with invalid_scope. Choose a
	// least-privilege set (for example "read:tasks"), never everything.
	DefaultScope scope.Set
	// GrantTypes are the enabled grants; nil means all three:
	// authorization_code, refresh_token, client_credentials.
	GrantTypes []string
	// Paths are the endpoints' URL paths; zero fields mean the defaults.
	Paths Paths
	// Introspectors are the confidential clients — resource servers — that
	// may introspect any token (RFC 7662 §4). Every other confidential
	// client learns only about its own tokens: another client's token is
	// reported as {"active":false}.
	Introspectors []string
	// CodeLifetime is how long an authorization code is redeemable; 0
	// means DefaultCodeLifetime (60 s); at most MaxCodeLifetime (10 min).
	CodeLifetime time.Duration
	// RefreshIdleTimeout ends a refresh token not used for this long; 0
	// means DefaultRefreshIdleTimeout.
	RefreshIdleTimeout time.Duration
	// RefreshMaxLifetime ends a refresh family this long after the code
	// was redeemed, however often it was used; 0 means
	// DefaultRefreshMaxLifetime.
	RefreshMaxLifetime time.Duration
	// UnsafeAllowConfidentialWithoutPKCE lets confidential clients use the
	// authorization code grant without PKCE. It gives up the protection
	// against code injection and stolen codes (RFC 9700 §2.1.1); public
	// clients always need PKCE.
	UnsafeAllowConfidentialWithoutPKCE bool
	// FailedAuthBurst and FailedAuthInterval rate limit failed client
	// authentications per client ID and per remote address: Burst
	// failures, then one per Interval (429 with Retry-After). Zero means
	// the defaults. A failure counts against the client ID only when a
	// secret was presented for a client that is not public; a public
	// client's own requests (without a secret) are never refused by it.
	// The remote address is r.RemoteAddr (an IPv6 address counts by its
	// /64 prefix): behind a proxy, set it from the forwarded header before
	// the Server sees the request.
	FailedAuthBurst int
	// FailedAuthInterval is how often one more failure is allowed once
	// FailedAuthBurst failures are spent (the bucket refills at this
	// rate); 0 means DefaultFailedAuthInterval.
	FailedAuthInterval time.Duration
	// RateLimitKeys bounds the rate limiter's memory: how many client IDs
	// and remote addresses it tracks; 0 means DefaultRateLimitKeys.
	RateLimitKeys int
	// Now is the clock; nil means Tokens.Now.
	Now func() time.Time
	// Logger receives security events; nil means slog.Default().
	Logger *slog.Logger
}

// Server is an OAuth 2.0 authorization server. It is an [http.Handler]
// answering at the configured paths; requests to other paths get 404. It
// is safe for concurrent use.
type Server struct {
	issuer   string
	issParam string // "&iss=" + the escaped issuer (RFC 9207 §2)
	origin   string // scheme://host of the issuer
	realm    string
	st       store.Store
	tokens   *token.Manager
	host     Host
	dir      store.Users
	consents ConsentStore
	page     ConsentPage
	key      []byte
	reg      *scope.Registry
	defScope scope.Set
	paths    Paths
	grants   grantSet
	codeLife time.Duration
	idle     time.Duration
	maxLife  time.Duration
	noPKCE   bool
	now      func() time.Time
	log      *slog.Logger

	introspectors map[string]bool

	clientLimit *limiter
	addrLimit   *limiter
	dummyHash   store.Hash
	metadata    []byte
}

type grantSet struct{ code, refresh, cc bool }

func (g grantSet) has(gt string) bool {
	switch gt {
	case GrantAuthorizationCode:
		return g.code
	case GrantRefreshToken:
		return g.refresh
	case GrantClientCredentials:
		return g.cc
	}
	return false
}

// NewServer returns a server for cfg, or an error naming what is wrong
// with cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("oauth: Config.Store is required")
	}
	if cfg.Tokens == nil {
		return nil, errors.New("oauth: Config.Tokens is required")
	}
	s := &Server{
		st: cfg.Store, tokens: cfg.Tokens, host: cfg.Host, dir: cfg.Directory,
		consents: cfg.Consents, page: cfg.ConsentPage, reg: cfg.Scopes,
		codeLife: cfg.CodeLifetime, idle: cfg.RefreshIdleTimeout, maxLife: cfg.RefreshMaxLifetime,
		noPKCE: cfg.UnsafeAllowConfidentialWithoutPKCE, now: cfg.Now, log: cfg.Logger,
	}
	iss, err := checkIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	s.issuer = cfg.Issuer
	s.issParam = "&iss=" + url.QueryEscape(cfg.Issuer)
	s.origin = iss.Scheme + "://" + iss.Host
	s.realm = iss.Host
	if s.dir == nil {
		s.dir = cfg.Store
	}
	if s.reg == nil {
		s.reg = scope.Default
	}
	if !cfg.DefaultScope.IsEmpty() && cfg.DefaultScope.Registry() != s.reg {
		return nil, errors.New("oauth: Config.DefaultScope is not of Config.Scopes")
	}
	s.defScope = cfg.DefaultScope
	if s.defScope.IsEmpty() {
		s.defScope = s.reg.Empty()
	}
	if cfg.GrantTypes == nil {
		s.grants = grantSet{true, true, true}
	}
	for _, gt := range cfg.GrantTypes {
		switch gt {
		case GrantAuthorizationCode:
			s.grants.code = true
		case GrantRefreshToken:
			s.grants.refresh = true
		case GrantClientCredentials:
			s.grants.cc = true
		default:
			return nil, fmt.Errorf("oauth: unsupported grant type %q in Config.GrantTypes", gt)
		}
	}
	if s.grants.refresh && !s.grants.code {
		return nil, errors.New("oauth: refresh_token needs authorization_code in Config.GrantTypes")
	}
	if s.grants.code && s.host == nil {
		return nil, errors.New("oauth: Config.Host is required for the authorization code grant")
	}
	if s.page == nil {
		s.page = defaultConsentPage
	}
	switch {
	case cfg.ConsentKey == nil:
		s.key = make([]byte, 32)
		if _, err := rand.Read(s.key); err != nil {
			return nil, fmt.Errorf("oauth: generating the consent key: %w", err)
		}
	case len(cfg.ConsentKey) < 32:
		return nil, errors.New("oauth: Config.ConsentKey must be at least 32 bytes")
	default:
		s.key = slices.Clone(cfg.ConsentKey)
	}
	if s.codeLife == 0 {
		s.codeLife = DefaultCodeLifetime
	}
	if s.codeLife < time.Second || s.codeLife > MaxCodeLifetime {
		return nil, fmt.Errorf("oauth: Config.CodeLifetime must be between 1s and %v", MaxCodeLifetime)
	}
	if s.idle == 0 {
		s.idle = DefaultRefreshIdleTimeout
	}
	if s.maxLife == 0 {
		s.maxLife = DefaultRefreshMaxLifetime
	}
	if s.idle < time.Minute || s.maxLife < s.idle {
		return nil, errors.New("oauth: refresh lifetimes must be ≥ 1m with RefreshIdleTimeout ≤ RefreshMaxLifetime")
	}
	if s.now == nil {
		s.now = cfg.Tokens.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	burst, interval, keys := cfg.FailedAuthBurst, cfg.FailedAuthInterval, cfg.RateLimitKeys
	if burst == 0 {
		burst = DefaultFailedAuthBurst
	}
	if interval == 0 {
		interval = DefaultFailedAuthInterval
	}
	if keys == 0 {
		keys = DefaultRateLimitKeys
	}
	if burst < 1 || interval < 0 || keys < 1 {
		return nil, errors.New("oauth: rate limit settings must be positive")
	}
	s.clientLimit = newLimiter(rate.Every(interval), burst, keys)
	s.addrLimit = newLimiter(rate.Every(interval), burst, keys)
	if _, err := rand.Read(s.dummyHash[:]); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}

	s.introspectors = make(map[string]bool, len(cfg.Introspectors))
	for _, id := range cfg.Introspectors {
		s.introspectors[id] = true
	}

	s.paths = cfg.Paths
	issPath := strings.TrimSuffix(iss.Path, "/")
	paths := []struct {
		name string
		v    *string
		def  string
	}{
		{"Authorize", &s.paths.Authorize, DefaultAuthorizePath}, {"Token", &s.paths.Token, DefaultTokenPath},
		{"Revoke", &s.paths.Revoke, DefaultRevokePath}, {"Introspect", &s.paths.Introspect, DefaultIntrospectPath},
		{"Metadata", &s.paths.Metadata, DefaultMetadataPath + issPath},
	}
	for i, p := range paths {
		if *p.v == "" {
			*p.v = p.def
		}
		if !strings.HasPrefix(*p.v, "/") || strings.ContainsAny(*p.v, "?#") {
			return nil, fmt.Errorf("oauth: path %q must be an absolute path", *p.v)
		}
		// One path, one endpoint: ServeHTTP would silently answer only
		// the first of two endpoints sharing a path.
		for _, q := range paths[:i] {
			if *q.v == *p.v {
				return nil, fmt.Errorf("oauth: Config.Paths.%s and Config.Paths.%s are both %q; each endpoint needs its own path", q.name, p.name, *p.v)
			}
		}
	}
	s.metadata = s.buildMetadata()
	return s, nil
}

// checkIssuer accepts an https URL, or http on a loopback host, without
// query, fragment or user info (RFC 8414 §2).
func checkIssuer(issuer string) (*url.URL, error) {
	if issuer == "" {
		return nil, errors.New("oauth: Config.Issuer is required")
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		strings.ContainsAny(issuer, "?#") {
		return nil, fmt.Errorf("oauth: Config.Issuer %q must be an absolute URL without user info, query or fragment", issuer)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("oauth: Config.Issuer %q: http is only allowed on a loopback host", issuer)
		}
	default:
		return nil, fmt.Errorf("oauth: Config.Issuer %q must use https", issuer)
	}
	return u, nil
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// ServeHTTP dispatches to the endpoint configured for r.URL.Path; other
// paths get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case s.paths.Token:
		s.ServeToken(w, r)
	case s.paths.Authorize:
		s.ServeAuthorize(w, r)
	case s.paths.Revoke:
		s.ServeRevoke(w, r)
	case s.paths.Introspect:
		s.ServeIntrospect(w, r)
	case s.paths.Metadata:
		s.ServeMetadata(w, r)
	default:
		http.NotFound(w, r)
	}
}
