package token

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// ErrInvalid is matched by every verification failure that is the
// presenter's fault: malformed, unknown, expired, revoked, wrong kind, or a
// user who is no longer active. Callers must not tell these apart to the
// outside (SECURITY.md S37).
var ErrInvalid = errors.New("token: invalid")

// ErrUnavailable is matched by errors that come from the store failing
// (anything but not found). Callers fail closed on it: the request is not
// authenticated, and the client is not blamed (503).
var ErrUnavailable = errors.New("token: store unavailable")

// ErrScopeExceeds is returned by [Manager.Create] when the requested scopes
// are more than the user's current permissions.
var ErrScopeExceeds = errors.New("token: scopes exceed the user's permissions")

// ErrLifetime is returned by [Manager.Create] for an expiry in the past,
// beyond [Config.MaxLifetime], or "never" when not allowed.
var ErrLifetime = errors.New("token: expiry not allowed")

// ErrUser is returned when a token is to be made for a user who is unknown
// or not active.
var ErrUser = errors.New("token: user unknown or inactive")

type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return "token: store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// storeErr classifies an error from the store: not found (or a zero record)
// is ErrInvalid, anything else is ErrUnavailable.
func storeErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalid
	}
	return &unavailableError{err}
}

// Never is the expiry of a token that does not expire, when
// [Config.AllowNoExpiry] permits it.
var Never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Defaults of [Config].
const (
	DefaultMaxLifetime     = 365 * 24 * time.Hour
	DefaultAPILifetime     = 90 * 24 * time.Hour
	DefaultAccessLifetime  = time.Hour
	DefaultSessionLifetime = 12 * time.Hour
	DefaultTouchInterval   = time.Minute
	MaxRotationGrace       = 24 * time.Hour
)

// Config configures a [Manager]. Only Store is required.
type Config struct {
	// Store keeps the tokens. Required.
	Store store.Store
	// Directory answers who a user is now; nil means Store.
	Directory store.Users
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives audit events; nil means slog.Default().
	Logger *slog.Logger
	// Rand is the random source; nil means crypto/rand.Reader.
	Rand io.Reader
	// MaxLifetime caps the lifetime of API tokens; 0 means
	// DefaultMaxLifetime.
	MaxLifetime time.Duration
	// DefaultLifetime is the lifetime of an API token created without an
	// expiry; 0 means DefaultAPILifetime (capped by MaxLifetime).
	DefaultLifetime time.Duration
	// AllowNoExpiry lets API tokens be created with [Never] as expiry.
	AllowNoExpiry bool
	// AccessLifetime is the lifetime of OAuth access tokens; 0 means
	// DefaultAccessLifetime.
	AccessLifetime time.Duration
	// SessionLifetime is the lifetime of web sessions; 0 means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// TouchInterval is how stale LastUsedAt may get before a verification
	// records a use; 0 means DefaultTouchInterval.
	TouchInterval time.Duration
}

// Manager issues, verifies, lists, rotates and revokes tap_ tokens over a
// [store.Store]. It is safe for concurrent use.
type Manager struct {
	st      store.Store
	dir     store.Users
	now     func() time.Time
	log     *slog.Logger
	rand    io.Reader
	maxLife time.Duration
	defLife time.Duration
	noExp   bool
	access  time.Duration
	session time.Duration
	touch   time.Duration
}

// NewManager returns a manager for cfg, or an error if cfg is unusable.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("token: Config.Store is required")
	}
	m := &Manager{
		st: cfg.Store, dir: cfg.Directory, now: cfg.Now, log: cfg.Logger, rand: cfg.Rand,
		maxLife: cfg.MaxLifetime, defLife: cfg.DefaultLifetime, noExp: cfg.AllowNoExpiry,
		access: cfg.AccessLifetime, session: cfg.SessionLifetime, touch: cfg.TouchInterval,
	}
	if m.dir == nil {
		m.dir = cfg.Store
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.maxLife <= 0 {
		m.maxLife = DefaultMaxLifetime
	}
	if m.defLife <= 0 {
		m.defLife = DefaultAPILifetime
	}
	m.defLife = min(m.defLife, m.maxLife)
	if m.access <= 0 {
		m.access = DefaultAccessLifetime
	}
	if m.session <= 0 {
		m.session = DefaultSessionLifetime
	}
	if m.touch <= 0 {
		m.touch = DefaultTouchInterval
	}
	for _, d := range []time.Duration{m.maxLife, m.defLife, m.access, m.session} {
		if d < time.Second {
			return nil, fmt.Errorf("token: lifetime %v is too short", d)
		}
	}
	return m, nil
}

// Now returns the manager's clock reading.
func (m *Manager) Now() time.Time { return m.now() }

// Principal is who a verified token speaks for.
type Principal struct {
	TokenID  string    // the token's public ID
	Kind     Kind      // KindAPI, KindAccess or KindSession
	UserID   string    // empty for a client_credentials token
	OrgID    string    // the organization the token acts in
	ClientID string    // the OAuth client, if any
	FamilyID string    // the grant family, if any
	Scopes   scope.Set // effective: token scopes ∩ current permissions
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

// IsClient reports whether the principal is an OAuth client acting for
// itself (client_credentials) rather than a user.
func (p Principal) IsClient() bool { return p.UserID == "" }

// CreateRequest describes a new API token.
type CreateRequest struct {
	UserID string
	Name   string    // a label, at most 100 bytes
	Scopes scope.Set // must not be empty
	// ExpiresAt is when the token stops working: zero means the default
	// lifetime, [Never] means never (only when allowed).
	ExpiresAt time.Time
}

// Create makes an API token for a user. The scopes must be within the
// user's current permissions. The plaintext secret is returned once, with
// the stored record.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (Secret, store.Token, error) {
	if req.Scopes.IsEmpty() {
		return Secret{}, store.Token{}, errors.New("token: an API token needs at least one scope")
	}
	if len(req.Name) > 100 {
		return Secret{}, store.Token{}, errors.New("token: name longer than 100 bytes")
	}
	now := m.now()
	exp := req.ExpiresAt
	switch {
	case exp.IsZero():
		exp = now.Add(m.defLife)
	case exp.Equal(Never):
		if !m.noExp {
			return Secret{}, store.Token{}, fmt.Errorf("%w: tokens must expire", ErrLifetime)
		}
	case !exp.After(now):
		return Secret{}, store.Token{}, fmt.Errorf("%w: expiry is in the past", ErrLifetime)
	case exp.After(now.Add(m.maxLife)):
		return Secret{}, store.Token{}, fmt.Errorf("%w: longer than the maximum lifetime %v", ErrLifetime, m.maxLife)
	}
	u, err := m.activeUser(ctx, req.UserID)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	if !u.Permissions.Satisfies(req.Scopes) {
		extra := req.Scopes.Difference(u.Permissions.Closure())
		return Secret{}, store.Token{}, fmt.Errorf("%w: %s", ErrScopeExceeds, extra)
	}
	sec, rec, err := m.mint(ctx, store.Token{
		Kind: KindAPI, UserID: u.ID, OrgID: u.OrgID, Name: req.Name, Scopes: req.Scopes,
		CreatedAt: now, ExpiresAt: exp,
	})
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "token created",
		slog.String("token_id", rec.ID), slog.String("kind", rec.Kind.String()),
		slog.String("user", rec.UserID), slog.String("org", rec.OrgID))
	return sec, rec, nil
}

// CreateSession makes a web session for a user. A session grants whatever
// the user's permissions are at each request.
func (m *Manager) CreateSession(ctx context.Context, userID string) (Secret, store.Token, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	now := m.now()
	return m.mint(ctx, store.Token{
		Kind: KindSession, UserID: u.ID, OrgID: u.OrgID, Scopes: u.Permissions.Registry().All(),
		CreatedAt: now, ExpiresAt: now.Add(m.session),
	})
}

// IssueRequest describes an OAuth access or refresh token.
type IssueRequest struct {
	Kind     Kind // KindAccess or KindRefresh
	ClientID string
	UserID   string // empty for client_credentials
	OrgID    string
	FamilyID string
	Scopes   scope.Set
	// ExpiresAt zero means now + Config.AccessLifetime for access tokens;
	// refresh tokens must give it.
	ExpiresAt time.Time
}

// Issue stores and returns a new OAuth access or refresh token. The
// authorization server calls it after it has checked the grant.
func (m *Manager) Issue(ctx context.Context, req IssueRequest) (Secret, store.Token, error) {
	if req.Kind != KindAccess && req.Kind != KindRefresh {
		return Secret{}, store.Token{}, fmt.Errorf("token: Issue cannot make kind %v", req.Kind)
	}
	if req.ClientID == "" {
		return Secret{}, store.Token{}, errors.New("token: Issue needs a client")
	}
	now := m.now()
	exp := req.ExpiresAt
	if exp.IsZero() {
		if req.Kind == KindRefresh {
			return Secret{}, store.Token{}, errors.New("token: a refresh token needs an expiry")
		}
		exp = now.Add(m.access)
	}
	return m.mint(ctx, store.Token{
		Kind: req.Kind, ClientID: req.ClientID, UserID: req.UserID, OrgID: req.OrgID,
		FamilyID: req.FamilyID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: exp,
	})
}

// NewSecret returns a fresh secret of kind k from the manager's random
// source, without storing anything: authorization codes and client secrets
// are kept by the authorization server.
func (m *Manager) NewSecret(k Kind) (Secret, error) { return generate(m.rand, k) }

// NewID returns a fresh public identifier with the given prefix ("fam_",
// "tok_", …) from the manager's random source.
func (m *Manager) NewID(prefix string) (string, error) { return newID(m.rand, prefix) }

// mint generates a secret of rec.Kind and stores rec with its hash.
func (m *Manager) mint(ctx context.Context, rec store.Token) (Secret, store.Token, error) {
	sec, err := generate(m.rand, rec.Kind)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	if rec.ID, err = newID(m.rand, "tok_"); err != nil {
		return Secret{}, store.Token{}, err
	}
	rec.Hash = Hash(sec.s)
	if err := m.st.CreateToken(ctx, rec); err != nil {
		return Secret{}, store.Token{}, &unavailableError{err}
	}
	return sec, rec, nil
}

func (m *Manager) activeUser(ctx context.Context, id string) (store.User, error) {
	if id == "" {
		return store.User{}, ErrUser
	}
	u, err := m.dir.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.ID != id || !u.Active)) {
		return store.User{}, ErrUser
	}
	if err != nil {
		return store.User{}, &unavailableError{err}
	}
	return u, nil
}

// Lookup parses a presented secret and returns its stored record, whatever
// its state: revoked and expired records included. It checks that the
// record is sound (its hash matches, it has an ID and an expiry) and that
// its kind fits the prefix. Failures match [ErrInvalid]; store failures
// match [ErrUnavailable]. A malformed secret never reaches the store.
//
// Lookup is for the authorization server, which needs rotated-out refresh
// tokens to detect reuse. To authenticate a request use [Manager.Verify].
func (m *Manager) Lookup(ctx context.Context, presented string) (store.Token, error) {
	k, err := Parse(presented)
	if err != nil {
		return store.Token{}, err
	}
	h := Hash(presented)
	rec, err := m.st.TokenByHash(ctx, h)
	if err != nil {
		return store.Token{}, storeErr(err)
	}
	if subtle.ConstantTimeCompare(rec.Hash[:], h[:]) != 1 || rec.ID == "" || rec.ExpiresAt.IsZero() {
		return store.Token{}, ErrInvalid
	}
	switch {
	case k == KindAPI && (rec.Kind == KindAPI || rec.Kind == KindAccess):
	case k == rec.Kind && (k == KindRefresh || k == KindSession):
	default:
		return store.Token{}, ErrInvalid
	}
	return rec, nil
}

// Verify authenticates a bearer token — an API token or an OAuth access
// token — and returns its principal. Effective scopes are the token's
// scopes narrowed by the user's current permissions (or, for a
// client_credentials token, the client's current scopes), so a demotion
// applies on the next request. Every failure the presenter caused matches
// [ErrInvalid]; a store failure matches [ErrUnavailable].
func (m *Manager) Verify(ctx context.Context, presented string) (Principal, error) {
	return m.verify(ctx, presented, KindAPI)
}

// VerifySession authenticates a web session secret (tap_session_…), as
// [Manager.Verify] does bearer tokens.
func (m *Manager) VerifySession(ctx context.Context, presented string) (Principal, error) {
	return m.verify(ctx, presented, KindSession)
}

func (m *Manager) verify(ctx context.Context, presented string, want Kind) (Principal, error) {
	if k := prefixKind(presented); k != want {
		return Principal{}, ErrInvalid
	}
	rec, err := m.Lookup(ctx, presented)
	if err != nil {
		return Principal{}, err
	}
	now := m.now()
	if rec.Revoked() || !now.Before(rec.ExpiresAt) {
		return Principal{}, ErrInvalid
	}
	var allowed scope.Set
	if rec.UserID != "" {
		u, err := m.dir.User(ctx, rec.UserID)
		if err != nil {
			return Principal{}, storeErr(err)
		}
		if u.ID != rec.UserID || !u.Active || u.OrgID != rec.OrgID {
			return Principal{}, ErrInvalid
		}
		allowed = u.Permissions
	} else {
		c, err := m.st.Client(ctx, rec.ClientID)
		if err != nil {
			return Principal{}, storeErr(err)
		}
		if c.ID == "" || c.ID != rec.ClientID {
			return Principal{}, ErrInvalid
		}
		allowed = c.Scopes
	}
	if now.Sub(rec.LastUsedAt) >= m.touch {
		if err := m.st.TouchToken(ctx, rec.ID, now); err != nil {
			// Recording use is bookkeeping; a failure here is logged, not
			// fatal, since the token was verified against the store.
			m.log.LogAttrs(ctx, slog.LevelWarn, "token: recording last use failed",
				slog.String("token_id", rec.ID), slog.String("error", err.Error()))
		}
	}
	return Principal{
		TokenID: rec.ID, Kind: rec.Kind, UserID: rec.UserID, OrgID: rec.OrgID,
		ClientID: rec.ClientID, FamilyID: rec.FamilyID,
		Scopes: rec.Scopes.Narrow(allowed), ExpiresAt: rec.ExpiresAt,
	}, nil
}

// Revoke revokes the token with the given ID. Unknown ID → an error
// matching [store.ErrNotFound]; revoking twice succeeds.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	if err := m.st.RevokeToken(ctx, id, m.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return &unavailableError{err}
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "token revoked", slog.String("token_id", id))
	return nil
}

// List returns the user's API tokens, newest last; records never hold
// secrets.
func (m *Manager) List(ctx context.Context, userID string) ([]store.Token, error) {
	all, err := m.st.ListTokens(ctx, userID)
	if err != nil {
		return nil, &unavailableError{err}
	}
	out := all[:0]
	for _, t := range all {
		if t.Kind == KindAPI {
			out = append(out, t)
		}
	}
	return out, nil
}

// Deprovision revokes every token, refresh family and unredeemed code of the
// user (SECURITY.md S45). Re-provisioning the user later revives nothing.
func (m *Manager) Deprovision(ctx context.Context, userID string) error {
	if err := m.st.RevokeUser(ctx, userID, m.now()); err != nil {
		return &unavailableError{err}
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "user deprovisioned", slog.String("user", userID))
	return nil
}
