package pgstore

import (
	"context"
	"fmt"
	"time"

	"tapioca.dev/auth/store"
)

// Client returns the client with the given ID. Not found → ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (store.Client, error) {
	c, err := s.scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM tapioca_clients WHERE id = $1`, id))
	if err != nil {
		return store.Client{}, wrap("client "+id, err)
	}
	return c, nil
}

// ListClients returns every registered client, ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM tapioca_clients ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, wrap("list clients", err)
	}
	defer rows.Close()
	out := []store.Client{}
	for rows.Next() {
		c, err := s.scanClient(rows)
		if err != nil {
			return nil, wrap("list clients", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list clients", err)
	}
	return out, nil
}

// PutClient registers c, replacing the client with the same ID. It is the
// host side of [store.Clients], for fixtures, demos and admin tools; it
// stores only the hashes of the client's secrets.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tapioca_clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO UPDATE SET secret_hashes = EXCLUDED.secret_hashes, public = EXCLUDED.public,
			redirect_uris = EXCLUDED.redirect_uris, grant_types = EXCLUDED.grant_types,
			scopes = EXCLUDED.scopes, org_id = EXCLUDED.org_id, name = EXCLUDED.name`,
		c.ID, secretHashes(c.SecretHashes), c.Public, c.RedirectURIs, c.GrantTypes, scopes(c.Scopes), c.OrgID, c.Name)
	return wrap("put client "+c.ID, err)
}

// User returns the user with the given ID. Not found → ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	var (
		u  store.User
		sc string
	)
	err := s.pool.QueryRow(ctx, `SELECT id, org_id, active, permissions FROM tapioca_users WHERE id = $1`, id).
		Scan(&u.ID, &u.OrgID, &u.Active, &sc)
	if err != nil {
		return store.User{}, wrap("user "+id, err)
	}
	if u.Permissions, err = s.parseScopes(sc); err != nil {
		return store.User{}, fmt.Errorf("pgstore: user %s: %w", id, err)
	}
	return u, nil
}

// PutUser stores u, replacing the user with the same ID. It is the host
// side of [store.Users], for fixtures and demos; a host with its own
// directory implements [store.Users] on it instead. Re-activating a user
// revives none of what [Store.RevokeUser] revoked.
func (s *Store) PutUser(ctx context.Context, u store.User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tapioca_users (id, org_id, active, permissions) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, active = EXCLUDED.active, permissions = EXCLUDED.permissions`,
		u.ID, u.OrgID, u.Active, scopes(u.Permissions))
	return wrap("put user "+u.ID, err)
}

// DeleteExpired deletes at most limit tokens, codes and families whose
// ExpiresAt is before the given time — tokens first, then codes, then
// families, each batch one DELETE of at most the remaining count, oldest
// first — and returns how many it deleted. Callers repeat until it returns
// fewer than limit. A limit below 1 deletes nothing.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	total := 0
	for _, q := range []struct{ table, key string }{
		{"tapioca_tokens", "id"},
		{"tapioca_codes", "hash"},
		{"tapioca_families", "id"},
	} {
		if total >= limit {
			break
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM `+q.table+` WHERE `+q.key+` IN (
			SELECT `+q.key+` FROM `+q.table+` WHERE expires_at < $1 ORDER BY expires_at LIMIT $2
			FOR UPDATE SKIP LOCKED)`, ts(before), limit-total)
		if err != nil {
			return total, wrap("delete expired from "+q.table, err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
