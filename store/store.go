package store

import (
	"context"
	"errors"
	"time"

	"tapioca.dev/auth/scope"
)

// Sentinel errors. Any error a store returns that does not match one of
// these (with [errors.Is]) is a system failure: the library fails closed on
// it and never treats it as "not found".
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record with the same key (ID or hash) is already stored.
	ErrExists = errors.New("store: already exists")
	// ErrCodeUsed: the authorization code was consumed before. Stores
	// return it as a *[CodeUsedError] that carries the code's family.
	ErrCodeUsed = errors.New("store: authorization code already used")
	// ErrReused: a refresh token that is no longer its family's current one
	// was presented. The caller revokes the family.
	ErrReused = errors.New("store: refresh token reused")
	// ErrRevoked: the refresh family was revoked.
	ErrRevoked = errors.New("store: revoked")
)

// CodeUsedError is returned by [Codes.ConsumeCode] for a code that was
// consumed before. It matches [ErrCodeUsed] with [errors.Is] and names the
// family of the tokens the first consumption issued, so the caller can
// revoke them (RFC 6749 §4.1.2), and whose code it was, so the security
// event can be logged with client, user and organization.
type CodeUsedError struct {
	// FamilyID is the family of the tokens the first consumption issued.
	FamilyID string
	// ClientID, UserID and OrgID are the code's client, user and
	// organization.
	ClientID, UserID, OrgID string
}

// Error returns the text of [ErrCodeUsed]; the family is not in it.
func (e *CodeUsedError) Error() string { return "store: authorization code already used" }

// Is reports whether target is [ErrCodeUsed].
func (e *CodeUsedError) Is(target error) bool { return target == ErrCodeUsed }

// Hash is the SHA-256 of a secret. Stores keep hashes, never secrets.
type Hash [32]byte

// IsZero reports whether h is the zero hash, which never matches a secret.
func (h Hash) IsZero() bool { return h == Hash{} }

// Kind is the kind of a tap_ secret.
type Kind uint8

// The kinds of tap_ secrets. The zero Kind is invalid.
const (
	KindAPI          Kind = iota + 1 // a personal API token, tap_
	KindAccess                       // an OAuth access token, tap_
	KindRefresh                      // an OAuth refresh token, tap_refresh_
	KindSession                      // a web session, tap_session_
	KindCode                         // an authorization code, tap_code_
	KindClientSecret                 // an OAuth client secret, tap_secret_
)

var kindNames = [...]string{"invalid", "api", "access", "refresh", "session", "code", "client_secret"}

// String returns the kind's lower-case name ("api", "refresh", …).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Token is a stored token: an API token, an OAuth access or refresh token, or
// a web session. A Token whose Hash is zero, whose ID is empty or whose
// ExpiresAt is zero is not a valid record; the library treats it as not
// found.
type Token struct {
	ID         string    // public ID, safe to show and log; never the secret
	Hash       Hash      // SHA-256 of the secret
	Kind       Kind      // KindAPI, KindAccess, KindRefresh or KindSession
	UserID     string    // the user; empty for a client_credentials token
	OrgID      string    // the organization the token acts in
	ClientID   string    // the OAuth client; empty for API tokens and sessions
	FamilyID   string    // the grant family (OAuth tokens of one code); empty otherwise
	Name       string    // a label chosen by the user (API tokens)
	Scopes     scope.Set // the scopes granted when the token was made
	CreatedAt  time.Time // when it was created
	ExpiresAt  time.Time // when it stops working; never zero
	LastUsedAt time.Time // last recorded use; zero if never used
	RevokedAt  time.Time // when it was revoked; zero while live
}

// Revoked reports whether the token was revoked.
func (t *Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Client is a registered OAuth client.
type Client struct {
	// ID is the client_id (RFC 6749 §2.2).
	ID string
	// SecretHashes holds the SHA-256 of each live client secret: one, or two
	// while a secret is being rotated. Empty for public clients.
	SecretHashes []Hash
	// Public clients (single-page and mobile apps) cannot keep a secret and
	// authenticate with "none"; they must use PKCE.
	Public bool
	// RedirectURIs are matched byte for byte (loopback URIs in any port).
	RedirectURIs []string
	// GrantTypes allowed: "authorization_code", "refresh_token",
	// "client_credentials".
	GrantTypes []string
	// Scopes the client may ever be granted.
	Scopes scope.Set
	// OrgID is the organization that owns the client; client_credentials
	// tokens act in it.
	OrgID string
	// Name is shown on the consent page.
	Name string
}

// Code is an authorization code waiting for redemption.
type Code struct {
	Hash        Hash      // SHA-256 of the code
	ClientID    string    // the client it was issued to
	UserID      string    // the user who approved it
	OrgID       string    // the user's organization
	RedirectURI string    // the redirect_uri of the authorization request
	Scopes      scope.Set // the granted scope
	Challenge   string    // the PKCE S256 code_challenge; empty if none
	FamilyID    string    // family of every token its redemption issues
	CreatedAt   time.Time // when it was issued
	ExpiresAt   time.Time // when it stops being redeemable; never zero
}

// Family is a refresh-token family: the grant one authorization code
// started, and the refresh tokens rotated from it. Exactly one refresh token
// of a family is current at a time.
type Family struct {
	ID        string    // family ID; also FamilyID of its tokens
	ClientID  string    // the client it was issued to
	UserID    string    // the user who granted it
	OrgID     string    // the user's organization
	Scopes    scope.Set // the original grant; a refresh may narrow it
	Current   Hash      // hash of the current refresh token
	Rotations int       // how many times it rotated
	CreatedAt time.Time // when the family started
	ExpiresAt time.Time // absolute end of the family; never zero
	RevokedAt time.Time // when it was revoked; zero while live
}

// Revoked reports whether the family was revoked.
func (f *Family) Revoked() bool { return !f.RevokedAt.IsZero() }

// User is what the host's directory says about a user now.
type User struct {
	ID     string // the user's ID in the directory; the empty ID names no user
	OrgID  string // the organization the user belongs to
	Active bool   // false once deprovisioned or suspended
	// Permissions are the user's current permissions in the organization;
	// a token never grants more than these.
	Permissions scope.Set
}

// Tokens stores API tokens, OAuth access and refresh tokens and web
// sessions, keyed by ID and by hash. Implementations must be safe for
// concurrent use; each method is one atomic step.
type Tokens interface {
	// CreateToken stores t. A token with the same ID or the same hash
	// already stored → ErrExists, and nothing changes. The check and the
	// insert are one atomic step: of concurrent creations with one ID or
	// hash exactly one succeeds. Not idempotent: creating t again reports
	// ErrExists.
	CreateToken(ctx context.Context, t Token) error

	// TokenByHash returns the token whose Hash is h, including revoked and
	// expired ones: the caller checks them against its clock. Not found →
	// ErrNotFound. This is the hot path of every request: it should take
	// no exclusive lock.
	TokenByHash(ctx context.Context, h Hash) (Token, error)

	// ListTokens returns every token of the user, of every kind, revoked and
	// expired ones included, in creation order. No tokens, an unknown user
	// or the empty userID (which names no user) → an empty slice and a nil
	// error.
	ListTokens(ctx context.Context, userID string) ([]Token, error)

	// RevokeToken marks the token revoked at the given time. Not found →
	// ErrNotFound. Idempotent: revoking a revoked token succeeds and keeps
	// the first RevokedAt. A revoked token stays revoked whatever the
	// clock says: revocation is state, not time. A zero at still revokes:
	// the store records the Unix epoch as RevokedAt.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// ExpireToken moves the token's ExpiresAt earlier, to at, when at is
	// before the recorded ExpiresAt; it never moves it later. Not found →
	// ErrNotFound. Idempotent: a repeat, or a later at, succeeds and
	// changes nothing; of concurrent calls the earliest at stays. A revoked
	// token is expired all the same and stays revoked. A zero at stands for
	// the Unix epoch: the token expires. Rotation with a grace period uses
	// it to end the old token's life at the end of the grace period.
	ExpireToken(ctx context.Context, id string, at time.Time) error

	// TouchToken records a use of the token at the given time (LastUsedAt).
	// Not found → ErrNotFound. Idempotent: a touch at or before the
	// recorded one, or at the zero time, succeeds and changes nothing; of
	// concurrent touches the latest stays. A revoked or expired token is
	// touched all the same and stays revoked.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// Codes stores authorization codes. Implementations must be safe for
// concurrent use; each method is one atomic step.
type Codes interface {
	// SaveCode stores c. A code with the same hash already stored →
	// ErrExists, and nothing changes. The check and the insert are one
	// atomic step: of concurrent saves of one hash exactly one succeeds.
	// Not idempotent: saving c again reports ErrExists.
	SaveCode(ctx context.Context, c Code) error

	// ConsumeCode atomically marks the code with hash h as used and returns
	// it. Of any number of concurrent calls for one code exactly one
	// succeeds. Every other call, concurrent or later, returns a
	// *CodeUsedError (matching ErrCodeUsed) carrying the code's FamilyID,
	// ClientID, UserID and OrgID; this takes precedence over expiry, so a
	// consumed code that has since expired still reports it (and a late
	// replay still revokes the family) until a [Sweeper] deletes the code.
	// Otherwise: unknown code, or a code whose ExpiresAt is not after at →
	// ErrNotFound; an unredeemed code of a user that was deprovisioned
	// (see [Deprovisioner]) → ErrNotFound. A consumed code of a
	// deprovisioned user may report either: its family is revoked already.
	ConsumeCode(ctx context.Context, h Hash, at time.Time) (Code, error)
}

// Families stores refresh-token families. Implementations must be safe for
// concurrent use; each method is one atomic step.
type Families interface {
	// CreateFamily stores f, revoked already if f.RevokedAt is set. A
	// family with the same ID already stored → ErrExists, and nothing
	// changes. The check and the insert are one atomic step: of concurrent
	// creations with one ID exactly one succeeds (the library relies on it
	// to close the race between a code's first redemption and its replay).
	// Not idempotent: creating f again reports ErrExists.
	CreateFamily(ctx context.Context, f Family) error

	// RotateFamily is a compare-and-swap: if presented is the family's
	// Current hash, it sets Current to next, increments Rotations, marks
	// the token whose hash is presented revoked at the given time, and
	// returns the updated family, all in one atomic step. A zero at revokes
	// the presented token at the Unix epoch. Of any number of concurrent
	// rotations with one presented hash exactly one succeeds. Not
	// idempotent: repeating a rotation reports ErrReused. Otherwise:
	//   - unknown family → ErrNotFound;
	//   - revoked family → ErrRevoked;
	//   - presented is not Current (a rotated-out token) → ErrReused; the
	//     family is left unchanged and the caller revokes it.
	RotateFamily(ctx context.Context, id string, presented, next Hash, at time.Time) (Family, error)

	// RevokeFamily revokes the family and every token whose FamilyID is id
	// (its access and refresh tokens), at the given time; a zero at still
	// revokes, at the Unix epoch. The family and its tokens are revoked
	// together, in one atomic step. Idempotent: a repeat succeeds and keeps
	// the first RevokedAt of each record. It succeeds when no family record
	// exists, still revoking the tokens that name it (a code redeemed
	// without a refresh token). It must revoke every token whose
	// CreateToken returned before the call; one created concurrently may
	// be missed (the library creates a family's tokens before its record,
	// and revokes the family again when creating the record reports
	// ErrExists).
	RevokeFamily(ctx context.Context, id string, at time.Time) error
}

// Clients looks up registered OAuth clients. Implementations must be safe
// for concurrent use.
type Clients interface {
	// Client returns the client with the given ID. Not found → ErrNotFound.
	// The result is a copy: changing its slices changes nothing stored.
	Client(ctx context.Context, id string) (Client, error)
}

// Users is the host's directory of users. Implementations must be safe for
// concurrent use.
type Users interface {
	// User returns what the directory says about the user now. Not found →
	// ErrNotFound; the library then treats the user's tokens as invalid.
	User(ctx context.Context, id string) (User, error)
}

// Deprovisioner revokes everything of a user in one call.
// Implementations must be safe for concurrent use.
type Deprovisioner interface {
	// RevokeUser revokes, at the given time, every token of the user (API,
	// access, refresh, session), every refresh family of the user, and makes
	// every unredeemed code of the user unredeemable, all in one call; a
	// zero at still revokes, at the Unix epoch. Idempotent: a repeat
	// succeeds and keeps the first RevokedAt of each record. An unknown
	// user is not an error, and the empty userID names no user: it revokes
	// nothing (client_credentials tokens have no user). Nothing it revoked
	// is revived later, whatever the directory says. A call that fails may
	// have done part of the work; repeating it completes it.
	//
	// It must catch every token, family and code whose CreateToken,
	// CreateFamily or SaveCode returned before RevokeUser was called. One
	// created concurrently may be missed: the library deactivates the user
	// in the directory before calling RevokeUser, reads the user again
	// after each such write, and revokes what it wrote for a user no
	// longer active (S45).
	RevokeUser(ctx context.Context, userID string, at time.Time) error
}

// Store is everything the library needs from a host: 14 methods in all.
type Store interface {
	Tokens
	Codes
	Families
	Clients
	Users
	Deprovisioner
}

// Sweeper is an optional capability: deleting records that expired.
// The library probes for it with a type assertion. Implementations must
// be safe for concurrent use, with the other methods and with concurrent
// sweeps.
type Sweeper interface {
	// DeleteExpired deletes at most limit tokens, codes and families whose
	// ExpiresAt is before the given time, revoked, consumed or not, and
	// returns how many it deleted. Nothing expired, a limit below 1 or a
	// zero before → 0 and a nil error. Callers repeat until it returns
	// fewer than limit; a record that a concurrent call is writing may be
	// left for the next sweep. Deleting a consumed code ends its
	// CodeUsedError: a replay then reports ErrNotFound.
	DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error)
}

// TokenUsers is an optional capability of a store that keeps tokens and
// users in one database: it reads a token and its user in one step, one
// round trip instead of two on every verification. [token.Manager] uses it
// when its Directory is the store itself (Config.Directory nil). The
// library probes for it with a type assertion. Implementations must be
// safe for concurrent use.
//
// A wrapper that embeds such a store and answers User its own way (asking
// an identity provider, say) must answer TokenAndUserByHash the same way,
// or hide it: an embedded TokenAndUserByHash is promoted, and verification
// would then read the wrapped store's users instead of the wrapper's.
type TokenUsers interface {
	// TokenAndUserByHash returns what TokenByHash(h) returns and, read in
	// the same step, what User(t.UserID) would return then: the token's
	// user as stored now (never a cached copy), or a zero User when the
	// token has no user or no user has that ID. No token with hash h →
	// ErrNotFound. A read: nothing changes.
	TokenAndUserByHash(ctx context.Context, h Hash) (Token, User, error)
}

// ClientLister is an optional capability for admin screens.
// Implementations must be safe for concurrent use.
type ClientLister interface {
	// ListClients returns every registered client, ordered by ID (byte
	// order), as copies. No clients → an empty slice and a nil error. A client put
	// or deleted concurrently may or may not be listed.
	ListClients(ctx context.Context) ([]Client, error)
}
