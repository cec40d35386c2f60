// Command tapioca is the Tapioca demo (package
// [tapioca.dev/auth/examples/tapioca/demo]) with PostgreSQL: -postgres URL
// keeps its tokens, codes, refresh families, OAuth clients and users in
// that database, through [pgstore]. It lives in the store/pgstore module,
// which holds the driver, so the core module needs none. From the
// repository root:
//
//	go -C store/pgstore run ./cmd/tapioca -postgres 'postgres://user:password@127.0.0.1:5432/db?sslmode=disable'
//
// It migrates the schema at start (idempotent, so restarting on the same
// database is fine: the demo's users and clients replace their rows, and
// the tokens of earlier runs stay valid until they expire or are revoked).
// The other flags are the demo's; relative -data paths are relative to
// store/pgstore. Without -postgres it runs on the in-memory store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"tapioca.dev/auth/examples/tapioca/demo"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, options); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tapioca:", err)
		}
		os.Exit(2)
	}
}

// options run the demo on pgstore for -postgres.
var options = demo.Options{OpenPostgres: openPostgres}

// migrateTimeout bounds connecting and migrating at start, so an
// unreachable or hanging database fails the start instead of hanging it.
const migrateTimeout = 30 * time.Second

// openPostgres opens the store at url and brings its schema up to date.
func openPostgres(ctx context.Context, url string) (demo.Store, func(), error) {
	st, err := pgstore.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	return pgStore{st}, st.Close, nil
}

// pgStore is pgstore with the atomic user update the demo needs when
// several instances share the database ([demo.UserUpdater]): a permissions
// change on one instance racing a deprovisioning on another must not
// re-activate the user.
type pgStore struct{ *pgstore.Store }

var (
	_ demo.Store       = pgStore{}
	_ demo.UserUpdater = pgStore{}
	_ store.Sweeper    = pgStore{}
)

// UpdateUser implements [demo.UserUpdater]: it locks the user's row
// (SELECT … FOR UPDATE), so concurrent updates from any instance wait for
// each other, changes the record and writes it in the same transaction.
// It reads and writes the table of pgstore's schema
// (migrations/0001_init.sql); scopes are stored as their RFC 6749 §3.3
// string, as pgstore stores them.
func (s pgStore) UpdateUser(ctx context.Context, id string, change func(*store.User)) (store.User, error) {
	var u store.User
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		var perms string
		err := tx.QueryRow(ctx, `SELECT id, org_id, active, permissions FROM tapioca_users WHERE id = $1 FOR UPDATE`, id).
			Scan(&u.ID, &u.OrgID, &u.Active, &perms)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: user %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("pgstore: user %s: %w", id, err)
		}
		if perms != "" {
			if u.Permissions, err = scope.Default.Parse(perms); err != nil {
				return fmt.Errorf("pgstore: user %s: stored scope: %w", id, err)
			}
		}
		change(&u)
		u.ID = id
		_, err = tx.Exec(ctx, `UPDATE tapioca_users SET org_id = $2, active = $3, permissions = $4 WHERE id = $1`,
			id, u.OrgID, u.Active, u.Permissions.String())
		if err != nil {
			return fmt.Errorf("pgstore: update user %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}
