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

// SaveCode stores c. A code with the same hash → ErrExists.
func (s *Store) SaveCode(ctx context.Context, c store.Code) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tapioca_codes (`+codeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.Hash[:], c.ClientID, c.UserID, c.OrgID, c.RedirectURI, scopes(c.Scopes), c.Challenge, c.FamilyID,
		ts(c.CreatedAt), ts(c.ExpiresAt))
	return wrap("save code", err)
}

// ConsumeCode atomically marks the code used and returns it. The
// consumption is one conditional UPDATE: PostgreSQL locks the row, and a
// concurrent consumer — in this process or another — waits for the lock,
// re-checks the condition, finds the code used and updates nothing, so of
// any number of consumers exactly one wins. The losers, and every later
// call, get a *store.CodeUsedError with the code's family. An unknown or
// expired code, or one of a deprovisioned user → ErrNotFound.
func (s *Store) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	c, err := s.scanCode(s.pool.QueryRow(ctx, `UPDATE tapioca_codes SET used_at = $2
		WHERE hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2
		RETURNING `+codeColumns, h[:], ts(at)))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Code{}, wrap("consume code", err)
	}
	// Nothing consumed: tell why.
	var (
		familyID, clientID, userID, orgID string
		expires, used                     pgtype.Timestamptz
		revoked                           bool
	)
	err = s.pool.QueryRow(ctx, `SELECT family_id, client_id, user_id, org_id, expires_at, used_at, revoked_at IS NOT NULL
		FROM tapioca_codes WHERE hash = $1`, h[:]).Scan(&familyID, &clientID, &userID, &orgID, &expires, &used, &revoked)
	if err != nil {
		return store.Code{}, wrap("consume code", err)
	}
	switch {
	case used.Valid:
		return store.Code{}, &store.CodeUsedError{FamilyID: familyID, ClientID: clientID, UserID: userID, OrgID: orgID}
	case revoked, !expires.Valid, !expires.Time.After(at):
		return store.Code{}, fmt.Errorf("pgstore: consume code: %w", store.ErrNotFound)
	default:
		// The row changed between the two statements; refuse rather than
		// guess.
		return store.Code{}, errors.New("pgstore: consume code: code changed concurrently")
	}
}
