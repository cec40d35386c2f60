package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tapioca.dev/auth/store"
)

// CreateToken stores t. A token with the same ID or hash → ErrExists.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tapioca_tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		t.ID, t.Hash[:], int16(t.Kind), t.UserID, t.OrgID, t.ClientID, t.FamilyID, t.Name, scopes(t.Scopes),
		ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.LastUsedAt), ts(t.RevokedAt))
	return wrap("create token "+t.ID, err)
}

// TokenByHash returns the token whose hash is h, revoked and expired ones
// included. Not found → ErrNotFound. One indexed read, no lock.
func (s *Store) TokenByHash(ctx context.Context, h store.Hash) (store.Token, error) {
	t, err := s.scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tapioca_tokens WHERE hash = $1`, h[:]))
	if err != nil {
		return store.Token{}, wrap("token by hash", err)
	}
	return t, nil
}

// tokenAndUserQuery reads a token (tapioca_tokens t, tokenColumns) and its
// user (tapioca_users u, NULL when there is none) by the token's hash.
var tokenAndUserQuery = "SELECT t." +
	strings.ReplaceAll(strings.Join(strings.Fields(tokenColumns), " "), ", ", ", t.") +
	", u.id, u.org_id, u.active, u.permissions FROM tapioca_tokens t" +
	" LEFT JOIN tapioca_users u ON t.user_id <> '' AND u.id = t.user_id WHERE t.hash = $1"

// TokenAndUserByHash implements [store.TokenUsers]: the token whose hash is
// h and its user as stored now, in one statement (one round trip); a zero
// User when the token has no user or the user is unknown. Not found →
// ErrNotFound.
func (s *Store) TokenAndUserByHash(ctx context.Context, h store.Hash) (store.Token, store.User, error) {
	var (
		r      tokenRow
		uid    pgtype.Text
		uorg   pgtype.Text
		active pgtype.Bool
		perms  pgtype.Text
	)
	err := s.pool.QueryRow(ctx, tokenAndUserQuery, h[:]).Scan(r.dest(&uid, &uorg, &active, &perms)...)
	if err != nil {
		return store.Token{}, store.User{}, wrap("token and user by hash", err)
	}
	t, err := s.decodeToken(&r)
	if err != nil {
		return store.Token{}, store.User{}, wrap("token and user by hash", err)
	}
	if !uid.Valid {
		return t, store.User{}, nil
	}
	u := store.User{ID: uid.String, OrgID: uorg.String, Active: active.Bool}
	if u.Permissions, err = s.parseScopes(perms.String); err != nil {
		return store.Token{}, store.User{}, fmt.Errorf("pgstore: user %s: %w", u.ID, err)
	}
	return t, u, nil
}

// ListTokens returns every token of the user in creation order; none → an
// empty slice. The empty ID names no user: it lists nothing (the
// client_credentials tokens, which have no user, are not "its" tokens).
func (s *Store) ListTokens(ctx context.Context, userID string) ([]store.Token, error) {
	if userID == "" {
		return []store.Token{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tapioca_tokens WHERE user_id = $1 ORDER BY seq`, userID)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := s.scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list tokens", err)
	}
	return out, nil
}

// RevokeToken marks the token revoked at the given time (the epoch for
// the zero time), keeping the first revocation time. Not found →
// ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tapioca_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, stamp(at))
	if err != nil {
		return wrap("revoke token "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: revoke token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExpireToken moves the token's ExpiresAt earlier, to at (the epoch for
// the zero time); never later. Not found → ErrNotFound.
func (s *Store) ExpireToken(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tapioca_tokens SET expires_at = $2
		WHERE id = $1 AND (expires_at IS NULL OR expires_at > $2)`, id, stamp(at))
	if err != nil {
		return wrap("expire token "+id, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	return s.exists(ctx, "expire token", id)
}

// exists returns nil if the token with the given ID exists, else
// ErrNotFound: the second half of the conditional updates above, when
// they updated nothing.
func (s *Store) exists(ctx context.Context, op, id string) error {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM tapioca_tokens WHERE id = $1`, id).Scan(&one)
	return wrap(op+" "+id, err)
}

// TouchToken records a use at the given time unless a later one is already
// recorded. Not found → ErrNotFound.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tapioca_tokens SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, id, ts(at))
	if err != nil {
		return wrap("touch token "+id, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Nothing updated: an unknown token, or a later use already recorded.
	return s.exists(ctx, "touch token", id)
}
