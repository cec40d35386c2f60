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

	"tapioca.dev/auth/examples/tapioca/demo"
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
	return st, st.Close, nil
}
