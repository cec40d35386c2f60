package pgstore

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// ts encodes an optional time: the zero time is NULL.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// epoch is what a revocation or an expiry given the zero time records: the
// zero time would be NULL, "not revoked" (package store: a zero time still
// revokes).
var epoch = time.Unix(0, 0).UTC()

// stamp encodes the time of a revocation or an expiry: at, or the epoch
// for the zero time; never NULL.
func stamp(at time.Time) pgtype.Timestamptz {
	if at.IsZero() {
		at = epoch
	}
	return ts(at)
}

// tm decodes an optional time: NULL is the zero time. Times come back in
// UTC.
func tm(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// scopes encodes a scope set as its canonical string (RFC 6749 §3.3).
func scopes(s scope.Set) string { return s.String() }

// hash decodes a bytea hash column; anything but 32 bytes is corrupt.
func hash(b []byte) (store.Hash, error) {
	var h store.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("stored hash has %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

func (s *Store) parseScopes(text string) (scope.Set, error) {
	if text == "" && s.reg == scope.Default {
		// The zero Set is the empty set of the default registry: return
		// it as such, so records round-trip exactly.
		return scope.Set{}, nil
	}
	set, err := s.reg.Parse(text)
	if err != nil {
		return scope.Set{}, fmt.Errorf("stored scope: %w", err)
	}
	return set, nil
}

const tokenColumns = `id, hash, kind, user_id, org_id, client_id, family_id, name, scopes,
	created_at, expires_at, last_used_at, revoked_at`

// tokenRow is a row of tapioca_tokens as scanned, before decoding.
type tokenRow struct {
	t                               store.Token
	h                               []byte
	kind                            int16
	sc                              string
	created, expires, used, revoked pgtype.Timestamptz
}

// dest returns the scan destinations of tokenColumns, in order, followed
// by those of more columns, in one slice.
func (r *tokenRow) dest(more ...any) []any {
	d := make([]any, 0, 13+len(more))
	d = append(d, &r.t.ID, &r.h, &r.kind, &r.t.UserID, &r.t.OrgID, &r.t.ClientID, &r.t.FamilyID, &r.t.Name, &r.sc,
		&r.created, &r.expires, &r.used, &r.revoked)
	return append(d, more...)
}

func (s *Store) decodeToken(r *tokenRow) (store.Token, error) {
	t := r.t
	var err error
	if t.Hash, err = hash(r.h); err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", t.ID, err)
	}
	if t.Scopes, err = s.parseScopes(r.sc); err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", t.ID, err)
	}
	t.Kind = store.Kind(r.kind)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = tm(r.created), tm(r.expires), tm(r.used), tm(r.revoked)
	return t, nil
}

func (s *Store) scanToken(row pgx.Row) (store.Token, error) {
	var r tokenRow
	if err := row.Scan(r.dest()...); err != nil {
		return store.Token{}, err
	}
	return s.decodeToken(&r)
}

const codeColumns = `hash, client_id, user_id, org_id, redirect_uri, scopes, challenge, family_id,
	created_at, expires_at`

func (s *Store) scanCode(row pgx.Row) (store.Code, error) {
	var (
		c                store.Code
		h                []byte
		sc               string
		created, expires pgtype.Timestamptz
	)
	if err := row.Scan(&h, &c.ClientID, &c.UserID, &c.OrgID, &c.RedirectURI, &sc, &c.Challenge, &c.FamilyID,
		&created, &expires); err != nil {
		return store.Code{}, err
	}
	var err error
	if c.Hash, err = hash(h); err != nil {
		return store.Code{}, fmt.Errorf("code: %w", err)
	}
	if c.Scopes, err = s.parseScopes(sc); err != nil {
		return store.Code{}, fmt.Errorf("code of family %s: %w", c.FamilyID, err)
	}
	c.CreatedAt, c.ExpiresAt = tm(created), tm(expires)
	return c, nil
}

const familyColumns = `id, client_id, user_id, org_id, scopes, current, rotations,
	created_at, expires_at, revoked_at`

func (s *Store) scanFamily(row pgx.Row) (store.Family, error) {
	var (
		f                         store.Family
		sc                        string
		cur                       []byte
		rotations                 int32
		created, expires, revoked pgtype.Timestamptz
	)
	if err := row.Scan(&f.ID, &f.ClientID, &f.UserID, &f.OrgID, &sc, &cur, &rotations,
		&created, &expires, &revoked); err != nil {
		return store.Family{}, err
	}
	var err error
	if f.Current, err = hash(cur); err != nil {
		return store.Family{}, fmt.Errorf("family %s: %w", f.ID, err)
	}
	if f.Scopes, err = s.parseScopes(sc); err != nil {
		return store.Family{}, fmt.Errorf("family %s: %w", f.ID, err)
	}
	f.Rotations = int(rotations)
	f.CreatedAt, f.ExpiresAt, f.RevokedAt = tm(created), tm(expires), tm(revoked)
	return f, nil
}

const clientColumns = `id, secret_hashes, public, redirect_uris, grant_types, scopes, org_id, name`

func (s *Store) scanClient(row pgx.Row) (store.Client, error) {
	var (
		c       store.Client
		secrets [][]byte
		sc      string
	)
	if err := row.Scan(&c.ID, &secrets, &c.Public, &c.RedirectURIs, &c.GrantTypes, &sc, &c.OrgID, &c.Name); err != nil {
		return store.Client{}, err
	}
	if secrets != nil {
		c.SecretHashes = make([]store.Hash, len(secrets))
		for i, b := range secrets {
			h, err := hash(b)
			if err != nil {
				return store.Client{}, fmt.Errorf("client %s: secret hash: %w", c.ID, err)
			}
			c.SecretHashes[i] = h
		}
	}
	var err error
	if c.Scopes, err = s.parseScopes(sc); err != nil {
		return store.Client{}, fmt.Errorf("client %s: %w", c.ID, err)
	}
	return c, nil
}

// secretHashes encodes client secret hashes as a bytea[]; nil stays NULL.
func secretHashes(hs []store.Hash) [][]byte {
	if hs == nil {
		return nil
	}
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}
