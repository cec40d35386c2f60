package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"tapioca.dev/auth/store"
)

// CreateFamily stores f. A family with the same ID → ErrExists.
func (s *Store) CreateFamily(ctx context.Context, f store.Family) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tapioca_families (`+familyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		f.ID, f.ClientID, f.UserID, f.OrgID, scopes(f.Scopes), f.Current[:], int32(f.Rotations),
		ts(f.CreatedAt), ts(f.ExpiresAt), ts(f.RevokedAt))
	return wrap("create family "+f.ID, err)
}

// RotateFamily is a compare-and-swap on the family's current refresh token,
// done by the database in one statement: a conditional UPDATE of the family
// (which locks its row, so concurrent rotations — from any instance —
// serialize and all but one find Current changed) and, in the same
// statement, the revocation of the presented token. Unknown family →
// ErrNotFound; revoked family → ErrRevoked; presented not current →
// ErrReused, with the family unchanged.
func (s *Store) RotateFamily(ctx context.Context, id string, presented, next store.Hash, at time.Time) (store.Family, error) {
	f, err := s.scanFamily(s.pool.QueryRow(ctx, `
		WITH f AS (
			UPDATE tapioca_families SET current = $3, rotations = rotations + 1
			WHERE id = $1 AND current = $2 AND revoked_at IS NULL
			RETURNING `+familyColumns+`
		), t AS (
			UPDATE tapioca_tokens SET revoked_at = $4
			WHERE hash = $2 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM f)
		)
		SELECT `+familyColumns+` FROM f`, id, presented[:], next[:], stamp(at)))
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Family{}, wrap("rotate family "+id, err)
	}
	// Nothing rotated: tell why.
	var revoked pgtype.Timestamptz
	err = s.pool.QueryRow(ctx, `SELECT revoked_at FROM tapioca_families WHERE id = $1`, id).Scan(&revoked)
	switch {
	case err != nil:
		return store.Family{}, wrap("rotate family "+id, err)
	case revoked.Valid:
		return store.Family{}, fmt.Errorf("pgstore: rotate family %s: %w", id, store.ErrRevoked)
	default:
		return store.Family{}, fmt.Errorf("pgstore: rotate family %s: %w", id, store.ErrReused)
	}
}

// RevokeFamily revokes the family and every token of it, in one
// transaction, at the given time (the epoch for the zero time).
// Idempotent; a missing family is not an error (its tokens are still
// revoked).
func (s *Store) RevokeFamily(ctx context.Context, id string, at time.Time) error {
	when := stamp(at)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Families before tokens, the order every writer locks them in.
		if _, err := tx.Exec(ctx, `UPDATE tapioca_families SET revoked_at = $2
			WHERE id = $1 AND revoked_at IS NULL`, id, when); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE tapioca_tokens SET revoked_at = $2
			WHERE family_id = $1 AND family_id <> '' AND revoked_at IS NULL`, id, when)
		return err
	})
	return wrap("revoke family "+id, err)
}

// RevokeUser revokes, in one transaction, every refresh family, every
// token and every unredeemed code of the user, at the given time (the
// epoch for the zero time). Idempotent; an unknown user is not an error,
// nor is the empty ID, which names no user. Nothing revoked is ever
// un-revoked by this store.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	if userID == "" {
		// No user: client_credentials tokens have an empty UserID and
		// must not be caught by it.
		return nil
	}
	when := stamp(at)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tapioca_families SET revoked_at = $2
			WHERE user_id = $1 AND revoked_at IS NULL`, userID, when); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tapioca_tokens SET revoked_at = $2
			WHERE user_id = $1 AND revoked_at IS NULL`, userID, when); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE tapioca_codes SET revoked_at = $2
			WHERE user_id = $1 AND revoked_at IS NULL`, userID, when)
		return err
	})
	return wrap("revoke user "+userID, err)
}
