package pgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
)

// envURL names the environment variable that points the tests at a server.
const envURL = "TAPIOCA_PG_URL"

// testURL returns the test database URL, or skips the test with the way to
// run it.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		tb.Skip("pgstore: no database; run against PostgreSQL with " + envURL +
			"=postgres://tapioca:tapioca@127.0.0.1:5432/tapioca_test?sslmode=disable go -C store/pgstore test ./... " +
			"(see .ci/run for creating the role and database)")
	}
	return u
}

// newSchema creates an empty schema for one test and drops it when the test
// ends, so tests and their subtests never see each other's rows.
func newSchema(tb testing.TB) string {
	tb.Helper()
	u := testURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tapioca_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+name)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newPool opens a pool on the test database with schema first in its
// search_path, closed when the test ends.
func newPool(tb testing.TB, schema string, tune ...func(*pgxpool.Config)) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testURL(tb))
	require.NoError(tb, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	for _, f := range tune {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// newStore returns a migrated store on a fresh schema.
func newStore(tb testing.TB) *pgstore.Store {
	tb.Helper()
	st, err := pgstore.New(newPool(tb, newSchema(tb)))
	require.NoError(tb, err)
	require.NoError(tb, st.Migrate(context.Background()))
	return st
}

// secretHash returns a fresh random secret's hash; the secret is dropped,
// as the library does.
func secretHash() store.Hash {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return sha256.Sum256(b[:])
}
