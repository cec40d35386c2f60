package token

import (
	"context"
	"crypto/sha256"
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
// user who is no longer active. [Manager.Verify] returns exactly ErrInvalid
// in all these cases, so callers cannot tell them apart to the outside
// (SECURITY.md S37); the reason is logged at Debug level.
var ErrInvalid = errors.New("token: invalid")

// ErrUnavailable is matched by errors that come from the store failing
// (anything but not found), including a context that ended while the store
// was called. Callers fail closed on it: the request is not authenticated,
// and the client is not blamed (503).
var ErrUnavailable = errors.New("token: store unavailable")

// ErrScopeExceeds is returned by [Manager.Create] when the requested scopes
// are more than the user's current permissions.
var ErrScopeExceeds = errors.New("token: scopes exceed the user's permissions")

// ErrLifetime is returned by [Manager.Create] for an expiry in the past,
// beyond [Config.MaxLifetime], or "never" when not allowed, and by
// [Manager.Rotate] for a grace period outside [0, MaxRotationGrace].
var ErrLifetime = errors.New("token: expiry not allowed")

// ErrRotated is returned by [Manager.Rotate] for a token that was already
// rotated, by this call's competitor or earlier: a token is rotated at most
// once. It also matches [ErrInvalid].
var ErrRotated error = &rotatedError{}

type rotatedError struct{}

func (*rotatedError) Error() string { return "token: already rotated" }

func (*rotatedError) Is(target error) bool { return target == ErrInvalid }

// ErrUser is returned when a token is to be made for a user who is unknown,
// not active, or no longer in the token's organization.
var ErrUser = errors.New("token: user unknown or inactive")

type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return "token: store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Never is the expiry of a token that does not expire, when
// [Config.AllowNoExpiry] permits it.
var Never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Defaults of [Config], and the longest grace period of [Manager.Rotate].
const (
	DefaultMaxLifetime     = 365 * 24 * time.Hour
	DefaultAPILifetime     = 90 * 24 * time.Hour
	DefaultAccessLifetime  = time.Hour
	DefaultSessionLifetime = 12 * time.Hour
	DefaultTouchInterval   = time.Minute
	MaxRotationGrace       = 24 * time.Hour
)

// MaxNameLen is the longest name of an API token, in bytes.
const MaxNameLen = 100

// Config configures a [Manager]. Only Store is required; every other zero
// value means the documented default.
type Config struct {
	// Store keeps the tokens. Required.
	Store store.Store
	// Directory answers who a user is now; nil means Store.
	Directory store.Users
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives audit events; nil means slog.Default(). No secret is
	// ever logged, only public token IDs.
	Logger *slog.Logger
	// Rand is the random source; nil means crypto/rand. Set it only in
	// tests (SECURITY.md S1: secrets come from crypto/rand); it must be
	// safe for concurrent use.
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
	// TouchInterval is how stale a token's LastUsedAt may get before a
	// verification records a use; 0 means DefaultTouchInterval. A token is
	// touched at most once per interval per process, however many requests
	// present it concurrently.
	TouchInterval time.Duration
}

// Manager issues, verifies, lists, rotates and revokes tap_ tokens over a
// [store.Store]. It is safe for concurrent use.
type Manager struct {
	st      store.Store
	dir     store.Users
	joined  store.TokenUsers // non-nil: tokens and their users in one read
	now     func() time.Time
	log     *slog.Logger
	rand    io.Reader // nil: crypto/rand
	maxLife time.Duration
	defLife time.Duration
	noExp   bool
	access  time.Duration
	session time.Duration
	touch   time.Duration
	touched touchThrottle
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
		m.joined, _ = cfg.Store.(store.TokenUsers)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.maxLife == 0 {
		m.maxLife = DefaultMaxLifetime
	}
	if m.defLife == 0 {
		m.defLife = DefaultAPILifetime
	}
	m.defLife = min(m.defLife, m.maxLife)
	if m.access == 0 {
		m.access = DefaultAccessLifetime
	}
	if m.session == 0 {
		m.session = DefaultSessionLifetime
	}
	if m.touch == 0 {
		m.touch = DefaultTouchInterval
	}
	for _, d := range []time.Duration{m.maxLife, m.defLife, m.access, m.session} {
		if d < time.Second {
			return nil, fmt.Errorf("token: lifetime %v is too short", d)
		}
	}
	if m.touch < 0 {
		return nil, fmt.Errorf("token: negative TouchInterval %v", m.touch)
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
	UserID string    // the user the token acts for; must be active
	Name   string    // a label, at most MaxNameLen bytes
	Scopes scope.Set // must not be empty
	// ExpiresAt is when the token stops working: zero means the default
	// lifetime, [Never] means never (only when allowed).
	ExpiresAt time.Time
}

// Create makes an API token for a user. The user must be active and the
// scopes within the user's current permissions (else an error matching
// [ErrUser] or [ErrScopeExceeds]); the expiry must be in the future and
// within [Config.MaxLifetime] (else [ErrLifetime]). The plaintext secret
// is returned once, with the stored record; only its hash is stored.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (Secret, store.Token, error) {
	if req.Scopes.IsEmpty() {
		return Secret{}, store.Token{}, errors.New("token: an API token needs at least one scope")
	}
	if len(req.Name) > MaxNameLen {
		return Secret{}, store.Token{}, fmt.Errorf("token: name longer than %d bytes", MaxNameLen)
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
		exp = Never
	case !exp.After(now):
		return Secret{}, store.Token{}, fmt.Errorf("%w: expiry is in the past", ErrLifetime)
	case exp.After(now.Add(m.maxLife)):
		return Secret{}, store.Token{}, fmt.Errorf("%w: longer than the maximum lifetime %v", ErrLifetime, m.maxLife)
	}
	u, err := m.activeUser(ctx, req.UserID)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	if u.Permissions.Registry() != req.Scopes.Registry() {
		return Secret{}, store.Token{}, fmt.Errorf("%w: scopes of another registry", ErrScopeExceeds)
	}
	if !u.Permissions.Satisfies(req.Scopes) {
		extra := req.Scopes.Difference(u.Permissions.Closure())
		return Secret{}, store.Token{}, fmt.Errorf("%w: %s", ErrScopeExceeds, extra)
	}
	sec, rec, err := m.mintForUser(ctx, store.Token{
		Kind: KindAPI, UserID: u.ID, OrgID: u.OrgID, Name: req.Name, Scopes: req.Scopes,
		CreatedAt: now, ExpiresAt: exp,
	})
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	m.audit(ctx, "token created", &rec)
	return sec, rec, nil
}

// CreateSession makes a web session for an active user. A session grants
// whatever the user's permissions are at each request.
func (m *Manager) CreateSession(ctx context.Context, userID string) (Secret, store.Token, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	now := m.now()
	sec, rec, err := m.mintForUser(ctx, store.Token{
		Kind: KindSession, UserID: u.ID, OrgID: u.OrgID, Scopes: u.Permissions.Registry().All(),
		CreatedAt: now, ExpiresAt: now.Add(m.session),
	})
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	m.audit(ctx, "token created", &rec)
	return sec, rec, nil
}

// IssueRequest describes an OAuth access or refresh token.
type IssueRequest struct {
	Kind     Kind      // KindAccess or KindRefresh
	ClientID string    // the OAuth client the token is issued to; required
	UserID   string    // empty for client_credentials
	OrgID    string    // the organization the token acts in
	FamilyID string    // the grant family (tokens of one code), if any
	Scopes   scope.Set // the granted scopes, already checked by the caller
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
	sec, rec, err := m.mint(ctx, store.Token{
		Kind: req.Kind, ClientID: req.ClientID, UserID: req.UserID, OrgID: req.OrgID,
		FamilyID: req.FamilyID, Scopes: req.Scopes, CreatedAt: now, ExpiresAt: exp,
	})
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	m.audit(ctx, "token created", &rec)
	return sec, rec, nil
}

// NewSecret returns a fresh secret of kind k from the manager's random
// source, without storing anything: authorization codes and client secrets
// are kept by the authorization server.
func (m *Manager) NewSecret(k Kind) (Secret, error) { return generate(m.rand, k) }

// NewID returns a fresh public identifier with the given prefix ("fam_",
// "tok_", …) from the manager's random source.
func (m *Manager) NewID(prefix string) (string, error) { return newID(m.rand, prefix) }

// mint generates a secret of rec.Kind and stores rec with its hash, under
// a fresh random ID unless rec.ID is set. A failing random source issues
// nothing and makes no store call. A set ID that the store already holds
// is [ErrRotated]: only [Manager.Rotate] sets one, to its successor ID.
func (m *Manager) mint(ctx context.Context, rec store.Token) (Secret, store.Token, error) {
	sec, err := generate(m.rand, rec.Kind)
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "token: random source failed", slog.String("error", err.Error()))
		return Secret{}, store.Token{}, err
	}
	preset := rec.ID != ""
	if !preset {
		if rec.ID, err = newID(m.rand, "tok_"); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "token: random source failed", slog.String("error", err.Error()))
			return Secret{}, store.Token{}, err
		}
	}
	rec.Hash = Hash(sec.Reveal())
	if err := m.st.CreateToken(ctx, rec); err != nil {
		if preset && errors.Is(err, store.ErrExists) {
			return Secret{}, store.Token{}, ErrRotated
		}
		return Secret{}, store.Token{}, m.storeFailed(ctx, "CreateToken", err, rec.ID)
	}
	return sec, rec, nil
}

// mintForUser mints rec, a token of an active user, and then reads the
// user again: a deprovisioning (the user deactivated in the directory, then
// [Manager.Deprovision]) that ran between the caller's check of the user
// and the store write revoked nothing of this token, so it is revoked here
// and the call fails with [ErrUser] — else re-provisioning the user would
// revive it (SECURITY.md S45).
func (m *Manager) mintForUser(ctx context.Context, rec store.Token) (Secret, store.Token, error) {
	sec, rec, err := m.mint(ctx, rec)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	u, err := m.activeUser(ctx, rec.UserID)
	if err == nil && u.OrgID != rec.OrgID {
		err = fmt.Errorf("%w: the user left the token's organization", ErrUser)
	}
	if err != nil {
		if rerr := m.st.RevokeToken(ctx, rec.ID, m.now()); rerr != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "token: revoking a token of a deprovisioned user failed",
				slog.String("token_id", rec.ID), slog.String("user", rec.UserID), slog.String("error", rerr.Error()))
		}
		return Secret{}, store.Token{}, err
	}
	return sec, rec, nil
}

// activeUser returns the directory's record of an active user.
func (m *Manager) activeUser(ctx context.Context, id string) (store.User, error) {
	if id == "" {
		return store.User{}, ErrUser
	}
	u, err := m.dir.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.ID != id || !u.Active)) {
		return store.User{}, ErrUser
	}
	if err != nil {
		return store.User{}, m.storeFailed(ctx, "User", err, "")
	}
	return u, nil
}

// Lookup parses a presented secret and returns its stored record, whatever
// its state: revoked and expired records included. It checks that the
// record is sound (its hash matches, it has an ID and an expiry) and that
// its kind fits the prefix ("tap_" → an API or access token,
// "tap_refresh_" → a refresh token, "tap_session_" → a session). Every
// failure is [ErrInvalid]; store failures match [ErrUnavailable]. A
// malformed secret, and codes and client secrets (which the token store does
// not keep), never reach the store.
//
// Lookup is for the authorization server, which needs rotated-out refresh
// tokens to detect reuse. To authenticate a request use [Manager.Verify].
func (m *Manager) Lookup(ctx context.Context, presented string) (store.Token, error) {
	k, err := Parse(presented)
	if err != nil {
		m.invalid(ctx, "malformed", nil)
		return store.Token{}, ErrInvalid
	}
	if k != KindAPI && k != KindRefresh && k != KindSession {
		m.invalid(ctx, "wrong kind", nil)
		return store.Token{}, ErrInvalid
	}
	var rec store.Token
	if err := m.lookup(ctx, presented, k, &rec, nil); err != nil {
		return store.Token{}, err
	}
	return rec, nil
}

// lookup finds the record of a parsed secret of prefix kind k and stores it
// in *rec (written in place: a Token is large, and this is the hot path).
// With a non-nil u and a store that reads tokens with their users
// ([store.TokenUsers]), it stores the token's user in *u from the same read
// and reports that it did; otherwise *u is left alone and the caller asks
// the directory.
func (m *Manager) lookup(ctx context.Context, presented string, k Kind, rec *store.Token, u *store.User) error {
	h := Hash(presented)
	var err error
	if u != nil && m.joined != nil {
		*rec, *u, err = m.joined.TokenAndUserByHash(ctx, h)
	} else {
		*rec, err = m.st.TokenByHash(ctx, h)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			m.invalid(ctx, "unknown", nil)
			return ErrInvalid
		}
		return m.storeFailed(ctx, "TokenByHash", err, "")
	}
	// A plain comparison: the store found the record by h, so its timing
	// tells nothing about a secret.
	if rec.Hash != h || rec.ID == "" || rec.ExpiresAt.IsZero() {
		m.invalid(ctx, "unsound record", nil)
		return ErrInvalid
	}
	switch {
	case k == KindAPI && (rec.Kind == KindAPI || rec.Kind == KindAccess):
	case k == rec.Kind && (k == KindRefresh || k == KindSession):
	default:
		m.invalid(ctx, "wrong kind", rec)
		return ErrInvalid
	}
	return nil
}

// Verify authenticates a bearer token — an API token or an OAuth access
// token ("tap_…") — and returns its principal:
//
//  1. parse and checksum, with no I/O: a malformed secret or another kind
//     (a refresh token, a session) never reaches the store;
//  2. SHA-256, then one store lookup by hash;
//  3. revocation (state: a revoked token never comes back, whatever the
//     clock says) and expiry against the injected clock: valid until the
//     instant before ExpiresAt;
//  4. the user's current state from the directory (read in the same step
//     as the token when the store implements [store.TokenUsers] and
//     Config.Directory is nil): an unknown or inactive
//     user, or one who moved to another organization, verifies nothing;
//     effective scopes are the token's scopes narrowed by the user's current
//     permissions (for a client_credentials token, by the client's current
//     scopes), so a demotion applies on the next request;
//  5. a use is recorded (LastUsedAt) at most once per
//     [Config.TouchInterval] per token.
//
// Every failure the presenter caused is exactly [ErrInvalid]; the reason
// goes to the log at Debug level, with the token's public ID when known. A
// store failure, or the context ending during a store call, matches
// [ErrUnavailable]: fail closed. A panicking store is not recovered: the
// panic propagates to the caller (the middleware turns it into a 500), so
// it can never become a pass.
func (m *Manager) Verify(ctx context.Context, presented string) (Principal, error) {
	return m.verify(ctx, presented, KindAPI)
}

// VerifySession authenticates a web session secret (tap_session_…), as
// [Manager.Verify] does bearer tokens.
func (m *Manager) VerifySession(ctx context.Context, presented string) (Principal, error) {
	return m.verify(ctx, presented, KindSession)
}

func (m *Manager) verify(ctx context.Context, presented string, want Kind) (Principal, error) {
	k, err := Parse(presented)
	if err != nil {
		m.invalid(ctx, "malformed", nil)
		return Principal{}, ErrInvalid
	}
	if k != want {
		m.invalid(ctx, "wrong kind", nil)
		return Principal{}, ErrInvalid
	}
	var rec store.Token
	var u store.User // the token's user, when the store reads it with the token
	if err := m.lookup(ctx, presented, k, &rec, &u); err != nil {
		return Principal{}, err
	}
	now := m.now()
	if rec.Revoked() {
		m.invalid(ctx, "revoked", &rec)
		return Principal{}, ErrInvalid
	}
	if !now.Before(rec.ExpiresAt) {
		m.invalid(ctx, "expired", &rec)
		return Principal{}, ErrInvalid
	}
	var allowed scope.Set
	if rec.UserID != "" {
		if m.joined == nil {
			if u, err = m.dir.User(ctx, rec.UserID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					m.invalid(ctx, "unknown user", &rec)
					return Principal{}, ErrInvalid
				}
				return Principal{}, m.storeFailed(ctx, "User", err, rec.ID)
			}
		} else if u.ID == "" {
			m.invalid(ctx, "unknown user", &rec)
			return Principal{}, ErrInvalid
		}
		if u.ID != rec.UserID || !u.Active || u.OrgID != rec.OrgID {
			m.invalid(ctx, "inactive user", &rec)
			return Principal{}, ErrInvalid
		}
		allowed = u.Permissions
	} else {
		if rec.Kind != KindAccess {
			// Only a client_credentials access token has no user; an API
			// token or a session without one is unsound (S47).
			m.invalid(ctx, "unknown user", &rec)
			return Principal{}, ErrInvalid
		}
		c, err := m.st.Client(ctx, rec.ClientID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				m.invalid(ctx, "unknown client", &rec)
				return Principal{}, ErrInvalid
			}
			return Principal{}, m.storeFailed(ctx, "Client", err, rec.ID)
		}
		if c.ID == "" || c.ID != rec.ClientID || c.OrgID != rec.OrgID {
			m.invalid(ctx, "unknown client", &rec)
			return Principal{}, ErrInvalid
		}
		allowed = c.Scopes
	}
	if now.Sub(rec.LastUsedAt) >= m.touch && m.touched.claim(rec.ID, now, m.touch) {
		if err := m.st.TouchToken(ctx, rec.ID, now); err != nil {
			// Fail closed on every store error (SECURITY.md S46), even
			// this bookkeeping write: a store that cannot record a use is
			// not one to trust with the answer. Forget the claim so the
			// next request tries again rather than slipping past.
			m.touched.release(rec.ID)
			return Principal{}, m.storeFailed(ctx, "TouchToken", err, rec.ID)
		}
	}
	return Principal{
		TokenID: rec.ID, Kind: rec.Kind, UserID: rec.UserID, OrgID: rec.OrgID,
		ClientID: rec.ClientID, FamilyID: rec.FamilyID,
		Scopes: rec.Scopes.Narrow(allowed), ExpiresAt: rec.ExpiresAt,
	}, nil
}

// Revoke revokes the token with the given ID, of any kind. Unknown ID → an
// error matching [store.ErrNotFound]; revoking twice succeeds. Revocation is
// state: no clock change revives the token.
//
// Revoke does not check who owns the token: a host acting on a user's
// request uses [Manager.RevokeForUser], which does.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	if err := m.st.RevokeToken(ctx, id, m.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return m.storeFailed(ctx, "RevokeToken", err, id)
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "token revoked", slog.String("token_id", id))
	return nil
}

// RevokeForUser revokes the user's API token with the given ID. An ID that
// is not one of the user's API tokens → an error matching
// [store.ErrNotFound], so one user cannot revoke another's token by
// guessing IDs. Revoking twice succeeds.
func (m *Manager) RevokeForUser(ctx context.Context, userID, id string) error {
	t, err := m.owned(ctx, userID, id)
	if err != nil {
		return err
	}
	if err := m.st.RevokeToken(ctx, t.ID, m.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return m.storeFailed(ctx, "RevokeToken", err, t.ID)
	}
	m.audit(ctx, "token revoked", &t)
	return nil
}

// Rotate replaces the user's API token id with a new secret that has the
// same name, scopes, user, organization and expiry: rotation changes the
// secret, never extends the token's life (create a new token for that).
// The old token is revoked at once when grace is 0; otherwise it keeps
// working until now+grace (or its own expiry, if earlier), so deployments
// can switch over. grace must be within [0, MaxRotationGrace] (else
// [ErrLifetime]).
//
// The token must belong to the user (else [store.ErrNotFound]) and still
// be live (else [ErrInvalid]); the user must be active and in the token's
// organization (else [ErrUser]). The new plaintext is returned once, with
// its record. If the old token cannot be retired, the new one is revoked
// and an error matching [ErrUnavailable] is returned: a caller never holds
// two live secrets it did not ask for.
//
// A token is rotated at most once, even by concurrent calls in processes
// that share the store: the successor's ID is derived from the old token's
// ID, so the store's CreateToken, which refuses a second token with the
// same ID, lets exactly one rotation store a successor. Every other call,
// concurrent or later (during the grace period too), gets [ErrRotated]
// and no secret. That includes a retry after a rotation that failed with
// [ErrUnavailable] once its successor was stored: the old token then works
// as before until it expires or is revoked, but its replacement is a new
// token from [Manager.Create].
func (m *Manager) Rotate(ctx context.Context, userID, id string, grace time.Duration) (Secret, store.Token, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return Secret{}, store.Token{}, fmt.Errorf("%w: rotation grace %v outside [0, %v]", ErrLifetime, grace, MaxRotationGrace)
	}
	all, err := m.listTokens(ctx, userID, id)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	old, ok := findAPIToken(all, userID, id)
	if !ok {
		return Secret{}, store.Token{}, errNotOwned
	}
	next := successorID(old.ID)
	if _, ok := findToken(all, next); ok {
		return Secret{}, store.Token{}, ErrRotated // no need to mint a loser
	}
	now := m.now()
	if old.Revoked() || !now.Before(old.ExpiresAt) {
		return Secret{}, store.Token{}, fmt.Errorf("%w: cannot rotate a revoked or expired token", ErrInvalid)
	}
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	if u.OrgID != old.OrgID {
		return Secret{}, store.Token{}, fmt.Errorf("%w: the user left the token's organization", ErrUser)
	}
	sec, rec, err := m.mintForUser(ctx, store.Token{
		ID:   next,
		Kind: KindAPI, UserID: old.UserID, OrgID: old.OrgID, Name: old.Name, Scopes: old.Scopes,
		CreatedAt: now, ExpiresAt: old.ExpiresAt,
	})
	if err != nil {
		return Secret{}, store.Token{}, err
	}
	op := "RevokeToken"
	if grace == 0 {
		err = m.st.RevokeToken(ctx, old.ID, now)
	} else {
		op = "ExpireToken"
		err = m.st.ExpireToken(ctx, old.ID, now.Add(grace))
	}
	if err != nil {
		if rerr := m.st.RevokeToken(ctx, rec.ID, now); rerr != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "token: revoking a half-rotated token failed",
				slog.String("token_id", rec.ID), slog.String("error", rerr.Error()))
		}
		return Secret{}, store.Token{}, m.storeFailed(ctx, op, err, old.ID)
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "token rotated",
		slog.String("token_id", rec.ID), slog.String("old_token_id", old.ID),
		slog.String("user", rec.UserID), slog.String("org", rec.OrgID),
		slog.Duration("grace", grace))
	return sec, rec, nil
}

// successorID is the ID of the token that replaces the token oldID in
// [Manager.Rotate]: "tok_" and 16 base62 characters, like a random ID, but
// a function of oldID, so that concurrent rotations of one token compete
// for one ID in the store. IDs are public and guard nothing: knowing the
// successor's ID in advance gives nothing.
func successorID(oldID string) string {
	sum := sha256.Sum256([]byte("tapioca token rotation\x00" + oldID))
	buf := make([]byte, len("tok_")+idLen)
	copy(buf, "tok_")
	for i := range idLen {
		buf[len("tok_")+i] = alphabet[sum[i]%62] // a slight bias does not matter in a public ID
	}
	return string(buf)
}

var errNotOwned = fmt.Errorf("token: no such token of the user: %w", store.ErrNotFound)

// owned returns the user's API token with the given ID.
func (m *Manager) owned(ctx context.Context, userID, id string) (store.Token, error) {
	all, err := m.listTokens(ctx, userID, id)
	if err != nil {
		return store.Token{}, err
	}
	if t, ok := findAPIToken(all, userID, id); ok {
		return t, nil
	}
	return store.Token{}, errNotOwned
}

// listTokens lists the tokens of the user, for a look for token id: an
// empty user or ID is not found, with no store call.
func (m *Manager) listTokens(ctx context.Context, userID, id string) ([]store.Token, error) {
	if userID == "" || id == "" {
		return nil, fmt.Errorf("token: no such token: %w", store.ErrNotFound)
	}
	all, err := m.st.ListTokens(ctx, userID)
	if err != nil {
		return nil, m.storeFailed(ctx, "ListTokens", err, "")
	}
	return all, nil
}

// findAPIToken returns the API token of the user with the given ID in all.
func findAPIToken(all []store.Token, userID, id string) (store.Token, bool) {
	t, ok := findToken(all, id)
	return t, ok && t.UserID == userID && t.Kind == KindAPI
}

// findToken returns the token with the given ID in all.
func findToken(all []store.Token, id string) (store.Token, bool) {
	for _, t := range all {
		if t.ID == id {
			return t, true
		}
	}
	return store.Token{}, false
}

// List returns the user's API tokens in creation order, revoked and expired
// ones included (check [store.Token.Revoked] and ExpiresAt, or use
// [Manager.Live]). Records hold hashes, never secrets: show their ID, Name,
// Scopes and times.
func (m *Manager) List(ctx context.Context, userID string) ([]store.Token, error) {
	if userID == "" {
		return []store.Token{}, nil
	}
	all, err := m.st.ListTokens(ctx, userID)
	if err != nil {
		return nil, m.storeFailed(ctx, "ListTokens", err, "")
	}
	out := make([]store.Token, 0, len(all))
	for _, t := range all {
		if t.Kind == KindAPI && t.UserID == userID {
			out = append(out, t)
		}
	}
	return out, nil
}

// Live reports whether a listed token still works by its own record: not
// revoked and not expired by the manager's clock. (Verification also
// checks the user's current state.)
func (m *Manager) Live(t store.Token) bool {
	return !t.Revoked() && m.now().Before(t.ExpiresAt)
}

// Deprovision revokes every token, refresh family and unredeemed code of the
// user (SECURITY.md S45). Re-provisioning the user later revives nothing:
// revocation is state. An empty user ID → [ErrUser].
//
// Deactivate the user in the directory first, then call Deprovision: a
// token that [Manager.Create], [Manager.CreateSession] or [Manager.Rotate]
// was storing meanwhile is then either revoked by Deprovision or found by
// their second look at the directory, and revoked.
func (m *Manager) Deprovision(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrUser
	}
	var org string
	if u, err := m.dir.User(ctx, userID); err == nil {
		org = u.OrgID // for the audit event only; the user may be gone already
	}
	if err := m.st.RevokeUser(ctx, userID, m.now()); err != nil {
		return m.storeFailed(ctx, "RevokeUser", err, "")
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "user deprovisioned", slog.String("user", userID), slog.String("org", org))
	return nil
}

// audit logs a lifecycle event of a token at Info level: its public ID,
// kind, user, organization and client. Never a secret.
func (m *Manager) audit(ctx context.Context, msg string, t *store.Token) {
	m.log.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.String("token_id", t.ID), slog.String("kind", t.Kind.String()),
		slog.String("user", t.UserID), slog.String("org", t.OrgID),
		slog.String("client", t.ClientID))
}

// invalid logs a verification failure at Debug level with its reason and,
// when the record is known, its public ID, user and organization.
func (m *Manager) invalid(ctx context.Context, reason string, t *store.Token) {
	if !m.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	if t == nil {
		m.log.LogAttrs(ctx, slog.LevelDebug, "token verification failed", slog.String("reason", reason))
		return
	}
	m.log.LogAttrs(ctx, slog.LevelDebug, "token verification failed", slog.String("reason", reason),
		slog.String("token_id", t.ID), slog.String("kind", t.Kind.String()),
		slog.String("user", t.UserID), slog.String("org", t.OrgID), slog.String("client", t.ClientID))
}

// storeFailed logs a store failure (Warn when the context ended, Error
// otherwise) and returns it wrapped so that it matches [ErrUnavailable].
func (m *Manager) storeFailed(ctx context.Context, op string, err error, tokenID string) error {
	level := slog.LevelError
	if ctx.Err() != nil {
		level = slog.LevelWarn
	}
	m.log.LogAttrs(ctx, level, "token: store failed", slog.String("op", op),
		slog.String("token_id", tokenID), slog.String("error", err.Error()))
	return &unavailableError{err}
}
