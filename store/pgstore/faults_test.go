package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// Every method of a store whose server refuses connections returns a
// system error: never a sentinel, never a record.
func TestConnectionRefusedFailsClosed(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("postgres://tapioca:pw-not-in-errors@127.0.0.1:%d/tapioca?sslmode=disable&connect_timeout=2", closedPort(t))
	st, err := pgstore.Open(context.Background(), url)
	require.NoError(t, err, "the pool connects lazily")
	t.Cleanup(st.Close)

	h := secretHash()
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Migrate", st.Migrate},
		{"CreateToken", func(ctx context.Context) error {
			return st.CreateToken(ctx, store.Token{ID: "t", Hash: h, Kind: store.KindAPI, ExpiresAt: t0})
		}},
		{"TokenByHash", func(ctx context.Context) error {
			tok, err := st.TokenByHash(ctx, h)
			assert.Zero(t, tok)
			return err
		}},
		{"ListTokens", func(ctx context.Context) error {
			toks, err := st.ListTokens(ctx, "u")
			assert.Nil(t, toks)
			return err
		}},
		{"RevokeToken", func(ctx context.Context) error { return st.RevokeToken(ctx, "t", t0) }},
		{"TouchToken", func(ctx context.Context) error { return st.TouchToken(ctx, "t", t0) }},
		{"SaveCode", func(ctx context.Context) error { return st.SaveCode(ctx, store.Code{Hash: h, ExpiresAt: t0}) }},
		{"ConsumeCode", func(ctx context.Context) error {
			c, err := st.ConsumeCode(ctx, h, t0)
			assert.Zero(t, c)
			return err
		}},
		{"CreateFamily", func(ctx context.Context) error {
			return st.CreateFamily(ctx, store.Family{ID: "f", Current: h, ExpiresAt: t0})
		}},
		{"RotateFamily", func(ctx context.Context) error {
			f, err := st.RotateFamily(ctx, "f", h, secretHash(), t0)
			assert.Zero(t, f)
			return err
		}},
		{"RevokeFamily", func(ctx context.Context) error { return st.RevokeFamily(ctx, "f", t0) }},
		{"Client", func(ctx context.Context) error {
			c, err := st.Client(ctx, "c")
			assert.Zero(t, c)
			return err
		}},
		{"User", func(ctx context.Context) error {
			u, err := st.User(ctx, "u")
			assert.Zero(t, u)
			return err
		}},
		{"RevokeUser", func(ctx context.Context) error { return st.RevokeUser(ctx, "u", t0) }},
		{"DeleteExpired", func(ctx context.Context) error {
			_, err := st.DeleteExpired(ctx, t0, 10)
			return err
		}},
		{"ListClients", func(ctx context.Context) error {
			cs, err := st.ListClients(ctx)
			assert.Nil(t, cs)
			return err
		}},
		{"PutClient", func(ctx context.Context) error { return st.PutClient(ctx, store.Client{ID: "c"}) }},
		{"PutUser", func(ctx context.Context) error { return st.PutUser(ctx, store.User{ID: "u"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx)
			requireSystemError(t, err)
			assert.NotContains(t, err.Error(), "pw-not-in-errors")
		})
	}
}

// victimPool opens a pool whose connections carry a unique
// application_name, so the test can find and kill their backends.
func victimPool(t *testing.T, schema string) (*pgxpool.Pool, string) {
	app := "victim_" + schema
	return newPool(t, schema, func(c *pgxpool.Config) {
		c.ConnConfig.RuntimeParams["application_name"] = app
	}), app
}

// adminConn is a plain connection on schema, outside the store's pool.
func adminConn(t *testing.T, schema string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(testURL(t))
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// killWaiting terminates the backend of app that waits for a lock, once it
// does. It polls pg_stat_activity, bounded in time.
func killWaiting(t *testing.T, admin *pgx.Conn, app string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var killed bool
		err := admin.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock' LIMIT 1`, app).Scan(&killed)
		if err == nil {
			require.True(t, killed)
			return
		}
		require.ErrorIs(t, err, pgx.ErrNoRows)
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the store's backend never waited for the lock")
}

// A backend killed in the middle of a store operation — after some of its
// writes, while it waits for a row lock another session holds — makes the
// call fail with a system error; the transaction is rolled back entirely,
// and the pool works again on the next call.
func TestBackendKilledMidTransaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// lock is run in the blocking session's transaction.
		lock string
		call func(st *pgstore.Store, refresh store.Hash) error
	}{
		{
			// RevokeUser revokes the families, then blocks on the tokens.
			name: "RevokeUser",
			lock: "SELECT 1 FROM tapioca_tokens WHERE user_id = 'u' FOR UPDATE",
			call: func(st *pgstore.Store, refresh store.Hash) error { return st.RevokeUser(context.Background(), "u", t0) },
		},
		{
			// RevokeFamily revokes the family, then blocks on its tokens.
			name: "RevokeFamily",
			lock: "SELECT 1 FROM tapioca_tokens WHERE family_id = 'u-fam' FOR UPDATE",
			call: func(st *pgstore.Store, refresh store.Hash) error {
				return st.RevokeFamily(context.Background(), "u-fam", t0)
			},
		},
		{
			name: "ConsumeCode",
			lock: "SELECT 1 FROM tapioca_codes WHERE user_id = 'u' FOR UPDATE",
			call: func(st *pgstore.Store, refresh store.Hash) error {
				_, err := st.ConsumeCode(context.Background(), codeHash("u"), t0)
				return err
			},
		},
		{
			name: "RotateFamily",
			lock: "SELECT 1 FROM tapioca_families WHERE id = 'u-fam' FOR UPDATE",
			call: func(st *pgstore.Store, refresh store.Hash) error {
				_, err := st.RotateFamily(context.Background(), "u-fam", refresh, secretHash(), t0)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			schema := newSchema(t)
			pool, app := victimPool(t, schema)
			st, err := pgstore.New(pool)
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			seedUser(t, st, "u")
			refresh := refreshHash(t, st, "u")

			blocker := adminConn(t, schema)
			tx, err := blocker.Begin(ctx)
			require.NoError(t, err)
			_, err = tx.Exec(ctx, tt.lock)
			require.NoError(t, err)

			done := make(chan error, 1)
			go func() { done <- tt.call(st, refresh) }()
			killWaiting(t, adminConn(t, schema), app)
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the call did not return after its backend was killed")
			}
			requireSystemError(t, err)
			require.NoError(t, tx.Rollback(ctx))

			// Nothing of the killed call stayed, and the pool works: the
			// code is redeemable once, the family rotates from its
			// current token, no token is revoked.
			assertUserRevoked(t, st, "u", false)
		})
	}
}

// refreshHash returns the current refresh token hash of the user's family
// as seeded by seedUser.
func refreshHash(t *testing.T, st *pgstore.Store, user string) store.Hash {
	t.Helper()
	toks, err := st.ListTokens(context.Background(), user)
	require.NoError(t, err)
	require.Len(t, toks, 3)
	return toks[1].Hash
}

// Killing every connection of the pool fails at most the calls that meet a
// dead connection, each with a system error; the pool then reconnects.
func TestPoolRecoversAfterBackendsKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	pool, app := victimPool(t, schema)
	st, err := pgstore.New(pool)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	h := secretHash()
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: "t", Hash: h, Kind: store.KindAPI, UserID: "u",
		Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0}))

	// Fill the pool with connections, then kill them all.
	conns := make([]*pgxpool.Conn, 0, 4)
	for range 4 {
		c, err := pool.Acquire(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	var killed int
	require.NoError(t, adminConn(t, schema).QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, app).Scan(&killed))
	require.GreaterOrEqual(t, killed, 4)

	for i := 0; ; i++ {
		require.LessOrEqual(t, i, int(pool.Config().MaxConns), "the pool did not recover")
		tok, err := st.TokenByHash(ctx, h)
		if err == nil {
			assert.Equal(t, "t", tok.ID)
			break
		}
		requireSystemError(t, err)
	}
}

// A database that hangs — here, a table locked by another session — makes
// every call return at the caller's deadline with a system error that
// matches context.DeadlineExceeded: the request fails at its deadline
// instead of waiting forever, and nothing changes.
func TestHangingDatabaseFailsAtDeadline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	st, err := pgstore.New(newPool(t, schema))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	seedUser(t, st, "u")
	refresh := refreshHash(t, st, "u")

	blocker := adminConn(t, schema)
	tx, err := blocker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "LOCK TABLE tapioca_tokens, tapioca_codes, tapioca_families, tapioca_users IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"TokenByHash", func(ctx context.Context) error { _, err := st.TokenByHash(ctx, refresh); return err }},
		{"User", func(ctx context.Context) error { _, err := st.User(ctx, "u"); return err }},
		{"ConsumeCode", func(ctx context.Context) error { _, err := st.ConsumeCode(ctx, codeHash("u"), t0); return err }},
		{"RotateFamily", func(ctx context.Context) error {
			_, err := st.RotateFamily(ctx, "u-fam", refresh, secretHash(), t0)
			return err
		}},
		{"RevokeUser", func(ctx context.Context) error { return st.RevokeUser(ctx, "u", t0) }},
	}
	for _, c := range calls {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := c.call(cctx)
		cancel()
		requireSystemError(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded, c.name)
	}
	require.NoError(t, tx.Rollback(ctx))
	assertUserRevoked(t, st, "u", false)
}
