package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNewRefusesNilPool(t *testing.T) {
	t.Parallel()
	_, err := pgstore.New(nil)
	require.ErrorIs(t, err, pgstore.ErrNilPool)
}

func TestOpenHidesMalformedURL(t *testing.T) {
	t.Parallel()
	_, err := pgstore.Open(context.Background(), "postgres://user:hunter2secret@127.0.0.1:notaport/db")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2secret")
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ms, err := pgstore.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		assert.Equal(t, i+1, m.Version, "migrations are numbered 1, 2, … without gaps: %s", m.Name)
		assert.NotEmpty(t, m.SQL)
	}
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	ctx := context.Background()
	const instances = 6
	stores := make([]*pgstore.Store, instances)
	for i := range stores {
		st, err := pgstore.New(newPool(t, schema))
		require.NoError(t, err)
		stores[i] = st
	}
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { errs[i] = st.Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, stores[0].Migrate(ctx), "a second run finds nothing to do")

	ms, err := pgstore.Migrations()
	require.NoError(t, err)
	var n int
	require.NoError(t, stores[0].Pool().QueryRow(ctx, "SELECT count(*) FROM tapioca_schema_migrations").Scan(&n))
	assert.Equal(t, len(ms), n)

	// The store works on the migrated schema.
	_, err = stores[1].TokenByHash(ctx, secretHash())
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)

	tok := store.Token{
		ID: "tok1", Hash: secretHash(), Kind: store.KindAPI, UserID: "u1", OrgID: "o1",
		Name: "laptop", Scopes: scope.MustParse("read:tasks write:time"),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
	require.NoError(t, st.CreateToken(ctx, tok))
	got, err := st.TokenByHash(ctx, tok.Hash)
	require.NoError(t, err)
	assert.Equal(t, tok, got)
	assert.True(t, got.Scopes.Equal(tok.Scopes))

	client := store.Client{
		ID: "c1", SecretHashes: []store.Hash{secretHash(), secretHash()},
		RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		Scopes: scope.MustParse("read:tasks"), OrgID: "o1", Name: "App",
	}
	public := store.Client{ID: "c0", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}}
	require.NoError(t, st.PutClient(ctx, client))
	require.NoError(t, st.PutClient(ctx, public))
	gotC, err := st.Client(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, client, gotC)
	list, err := st.ListClients(ctx)
	require.NoError(t, err)
	assert.Equal(t, []store.Client{public, client}, list)

	user := store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: scope.MustParse("admin:org")}
	require.NoError(t, st.PutUser(ctx, user))
	gotU, err := st.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, user, gotU)
	user.Active = false
	require.NoError(t, st.PutUser(ctx, user), "PutUser replaces")
	gotU, err = st.User(ctx, "u1")
	require.NoError(t, err)
	assert.False(t, gotU.Active)
}

func TestCustomRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := scope.MustNewRegistry([]string{"read:docs", "write:docs"}, []scope.Implication{{From: "write:docs", To: "read:docs"}})
	st, err := pgstore.New(newPool(t, newSchema(t)), pgstore.WithRegistry(reg))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))

	set, err := reg.Parse("write:docs")
	require.NoError(t, err)
	require.NoError(t, st.PutUser(ctx, store.User{ID: "u", Active: true, Permissions: set}))
	u, err := st.User(ctx, "u")
	require.NoError(t, err)
	assert.True(t, u.Permissions.Equal(set))
	assert.True(t, u.Permissions.Contains("read:docs"))
}

// A stored scope the registry does not know fails the read closed: a
// system error, never ErrNotFound and never a record with fewer scopes.
func TestUnknownStoredScopeFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	h := secretHash()
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: "t", Hash: h, Kind: store.KindAPI, UserID: "u", ExpiresAt: t0}))
	_, err := st.Pool().Exec(ctx, "UPDATE tapioca_tokens SET scopes = 'read:tasks launch:missiles'")
	require.NoError(t, err)
	_, err = st.TokenByHash(ctx, h)
	require.Error(t, err)
	requireSystemError(t, err)
}

func TestConsumeCodeOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	c := store.Code{Hash: secretHash(), ClientID: "c", UserID: "u", FamilyID: "fam1", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	require.NoError(t, st.SaveCode(ctx, c))
	require.ErrorIs(t, st.SaveCode(ctx, c), store.ErrExists)

	const n = 50
	var wins, used int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			got, err := st.ConsumeCode(ctx, c.Hash, t0.Add(time.Second))
			mu.Lock()
			defer mu.Unlock()
			var cu *store.CodeUsedError
			switch {
			case err == nil:
				wins++
				assert.Equal(t, c, got)
			case errors.As(err, &cu):
				used++
				assert.Equal(t, "fam1", cu.FamilyID)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, n-1, used)

	other := store.Code{Hash: secretHash(), FamilyID: "f2", ExpiresAt: t0.Add(time.Minute)}
	require.NoError(t, st.SaveCode(ctx, other))
	_, err := st.ConsumeCode(ctx, other.Hash, t0.Add(time.Minute))
	require.ErrorIs(t, err, store.ErrNotFound, "a code is not redeemable at its expiry")
	_, err = st.ConsumeCode(ctx, secretHash(), t0)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRotateFamilyOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	r0 := secretHash()
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: "r0", Hash: r0, Kind: store.KindRefresh, UserID: "u", FamilyID: "f", ExpiresAt: t0.Add(time.Hour)}))
	require.NoError(t, st.CreateFamily(ctx, store.Family{ID: "f", UserID: "u", Current: r0, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	require.ErrorIs(t, st.CreateFamily(ctx, store.Family{ID: "f", Current: r0}), store.ErrExists)

	const n = 50
	var wins, reused int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f, err := st.RotateFamily(ctx, "f", r0, secretHash(), t0.Add(time.Duration(i)*time.Second))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				assert.Equal(t, 1, f.Rotations)
			case errors.Is(err, store.ErrReused):
				reused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, n-1, reused)

	old, err := st.TokenByHash(ctx, r0)
	require.NoError(t, err)
	assert.True(t, old.Revoked(), "the rotated-out token is revoked")

	require.NoError(t, st.RevokeFamily(ctx, "f", t0.Add(time.Hour)))
	require.NoError(t, st.RevokeFamily(ctx, "f", t0.Add(2*time.Hour)), "idempotent")
	_, err = st.RotateFamily(ctx, "f", r0, secretHash(), t0)
	require.ErrorIs(t, err, store.ErrRevoked)
	_, err = st.RotateFamily(ctx, "nope", r0, secretHash(), t0)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, st.RevokeFamily(ctx, "nope", t0), "a missing family is not an error")
}

func TestRevokeUserCascade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	seedUser(t, st, "u")
	seedUser(t, st, "other")
	at := t0.Add(time.Minute)
	require.NoError(t, st.RevokeUser(ctx, "u", at))
	require.NoError(t, st.RevokeUser(ctx, "u", at.Add(time.Minute)), "idempotent")
	require.NoError(t, st.RevokeUser(ctx, "nobody", at))

	// The empty user ID names nobody: client_credentials tokens (no user)
	// are neither listed nor revoked through it.
	cc := store.Token{ID: "cc", Hash: secretHash(), Kind: store.KindAccess, ClientID: "svc", ExpiresAt: t0.Add(time.Hour)}
	require.NoError(t, st.CreateToken(ctx, cc))
	require.NoError(t, st.RevokeUser(ctx, "", at))
	none, err := st.ListTokens(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, none)
	got, err := st.TokenByHash(ctx, cc.Hash)
	require.NoError(t, err)
	assert.False(t, got.Revoked())
	assertUserRevoked(t, st, "u", true)
	assertUserRevoked(t, st, "other", false)

	toks, err := st.ListTokens(ctx, "u")
	require.NoError(t, err)
	for _, tok := range toks {
		assert.Equal(t, at, tok.RevokedAt, "the first revocation time is kept")
	}
}

func TestDeleteExpiredInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	for i := range 7 {
		require.NoError(t, st.CreateToken(ctx, store.Token{ID: fmt.Sprint("t", i), Hash: secretHash(), Kind: store.KindAPI, UserID: "u", ExpiresAt: t0.Add(time.Duration(i) * time.Minute)}))
		require.NoError(t, st.SaveCode(ctx, store.Code{Hash: secretHash(), FamilyID: "f", ExpiresAt: t0.Add(time.Duration(i) * time.Minute)}))
	}
	require.NoError(t, st.CreateFamily(ctx, store.Family{ID: "f", Current: secretHash(), ExpiresAt: t0}))
	// Before t0+5m: 5 tokens, 5 codes and the family expired.
	var total, rounds int
	for {
		n, err := st.DeleteExpired(ctx, t0.Add(5*time.Minute), 4)
		require.NoError(t, err)
		require.LessOrEqual(t, n, 4)
		total += n
		rounds++
		if n < 4 {
			break
		}
	}
	assert.Equal(t, 11, total)
	assert.Equal(t, 3, rounds)
	toks, err := st.ListTokens(ctx, "u")
	require.NoError(t, err)
	assert.Len(t, toks, 2)
	n, err := st.DeleteExpired(ctx, t0.Add(time.Hour), 0)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// seedUser gives the user an API token, a refresh family with its refresh
// and access tokens, and an unredeemed code.
func seedUser(t *testing.T, st *pgstore.Store, user string) {
	t.Helper()
	ctx := context.Background()
	r := secretHash()
	exp := t0.Add(time.Hour)
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: user + "-api", Hash: secretHash(), Kind: store.KindAPI, UserID: user, ExpiresAt: exp}))
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: user + "-refresh", Hash: r, Kind: store.KindRefresh, UserID: user, FamilyID: user + "-fam", ExpiresAt: exp}))
	require.NoError(t, st.CreateToken(ctx, store.Token{ID: user + "-access", Hash: secretHash(), Kind: store.KindAccess, UserID: user, FamilyID: user + "-fam", ExpiresAt: exp}))
	require.NoError(t, st.CreateFamily(ctx, store.Family{ID: user + "-fam", UserID: user, Current: r, ExpiresAt: exp}))
	require.NoError(t, st.SaveCode(ctx, store.Code{Hash: codeHash(user), UserID: user, FamilyID: user + "-fam2", ExpiresAt: exp}))
}

// codeHash is a fixed code hash per user, so tests can redeem it.
func codeHash(user string) store.Hash {
	var h store.Hash
	copy(h[:], "code-of-"+user)
	return h
}

func assertUserRevoked(t *testing.T, st *pgstore.Store, user string, revoked bool) {
	t.Helper()
	ctx := context.Background()
	toks, err := st.ListTokens(ctx, user)
	require.NoError(t, err)
	require.Len(t, toks, 3)
	for _, tok := range toks {
		assert.Equal(t, revoked, tok.Revoked(), "token %s", tok.ID)
	}
	_, err = st.RotateFamily(ctx, user+"-fam", toks[1].Hash, secretHash(), t0)
	if revoked {
		assert.ErrorIs(t, err, store.ErrRevoked)
	} else {
		assert.NoError(t, err)
	}
	_, err = st.ConsumeCode(ctx, codeHash(user), t0)
	if revoked {
		assert.ErrorIs(t, err, store.ErrNotFound)
	} else {
		assert.NoError(t, err)
	}
}

// requireSystemError checks that err is an error that matches no sentinel
// of package store: the library fails closed on it.
func requireSystemError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	for _, sentinel := range []error{store.ErrNotFound, store.ErrExists, store.ErrCodeUsed, store.ErrReused, store.ErrRevoked} {
		require.NotErrorIs(t, err, sentinel)
	}
}
