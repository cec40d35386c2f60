package memstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
)

var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

func tok(i int, user string, exp time.Time) store.Token {
	return store.Token{
		ID: fmt.Sprintf("tok_%04d", i), Hash: store.Hash{byte(i), byte(i >> 8), 1}, Kind: store.KindAPI,
		UserID: user, OrgID: "org", Name: "n", Scopes: scope.MustParse("read:tasks"),
		CreatedAt: t0, ExpiresAt: exp,
	}
}

func TestTokenByHashAllocatesNothing(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	tk := tok(1, "u1", t0.Add(time.Hour))
	tk.FamilyID, tk.ClientID = "fam_1", "client_1"
	require.NoError(t, s.CreateToken(ctx, tk))
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.TokenByHash(ctx, tk.Hash); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(100, func() { _, _ = s.User(ctx, "u1") })
	assert.Zero(t, allocs)
}

func TestTimes(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	tests := []struct {
		name     string
		in, want time.Time
	}{
		{"zero stays zero", time.Time{}, time.Time{}},
		{"nanoseconds kept", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
		{"other zones read back as the same instant", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)), time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)},
		{"the epoch round-trips", time.Unix(0, 0), time.Unix(0, 0)},
		{"a nanosecond after the epoch reads back as the epoch", time.Unix(0, 1), time.Unix(0, 0)},
		{"year 9999 clamps to 2262", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Unix(0, 1<<63-1)},
		{"year 1000 clamps to 1677", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, -1<<63+1)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tok(i, "u", tt.in)
			tk.LastUsedAt = tt.in
			require.NoError(t, s.CreateToken(ctx, tk))
			got, err := s.TokenByHash(ctx, tk.Hash)
			require.NoError(t, err)
			assert.True(t, got.ExpiresAt.Equal(tt.want), "got %v, want %v", got.ExpiresAt, tt.want)
			assert.True(t, got.LastUsedAt.Equal(tt.want), "got %v, want %v", got.LastUsedAt, tt.want)
			assert.Equal(t, tt.want.IsZero(), got.ExpiresAt.IsZero())
		})
	}
}

func TestCreateTokenStoresInvalidRecordsFaithfully(t *testing.T) {
	// The library treats a zero hash, an empty ID or a zero expiry as not
	// found (S47); the store keeps them as given so tests can present them.
	s := memstore.New()
	ctx := context.Background()
	require.NoError(t, s.CreateToken(ctx, store.Token{}))
	got, err := s.TokenByHash(ctx, store.Hash{})
	require.NoError(t, err)
	assert.Equal(t, store.Token{}, got)
	require.ErrorIs(t, s.CreateToken(ctx, store.Token{Hash: store.Hash{1}}), store.ErrExists, "same (empty) ID")
}

func TestCreateTokenTooLong(t *testing.T) {
	s := memstore.New()
	tk := tok(1, "u", t0)
	tk.Name = strings.Repeat("x", 70000)
	require.ErrorIs(t, s.CreateToken(context.Background(), tk), memstore.ErrInvalid)
}

func TestCanceledContext(t *testing.T) {
	s := memstore.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.TokenByHash(ctx, store.Hash{1})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.CreateToken(ctx, tok(1, "u", t0)), context.Canceled)
	_, err = s.DeleteExpired(ctx, t0, 10)
	require.ErrorIs(t, err, context.Canceled)
}

func TestHostHelpers(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	require.ErrorIs(t, s.PutUser(store.User{}), memstore.ErrInvalid)
	require.ErrorIs(t, s.PutClient(store.Client{}), memstore.ErrInvalid)
	require.ErrorIs(t, s.SetUserActive("nobody", true), store.ErrNotFound)
	require.ErrorIs(t, s.SetUserPermissions("nobody", scope.Set{}), store.ErrNotFound)

	require.NoError(t, s.PutUser(store.User{ID: "u1", OrgID: "o", Active: true, Permissions: scope.MustParse("admin:org")}))
	require.NoError(t, s.SetUserPermissions("u1", scope.MustParse("read:tasks")))
	require.NoError(t, s.SetUserActive("u1", false))
	u, err := s.User(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, store.User{ID: "u1", OrgID: "o", Permissions: scope.MustParse("read:tasks")}, u)
	s.DeleteUser("u1")
	_, err = s.User(ctx, "u1")
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.PutClient(store.Client{ID: "b"}))
	require.NoError(t, s.PutClient(store.Client{ID: "a"}))
	s.DeleteClient("b")
	s.DeleteClient("nope")
	_, err = s.Client(ctx, "b")
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err := s.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "a", list[0].ID)
}

// TestSweepAndReuse sweeps expired tokens in batches, then fills the freed
// slots and checks every index.
func TestSweepAndReuse(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	const n = 300
	for i := range n {
		exp := t0.Add(time.Hour)
		if i%3 == 0 {
			exp = t0.Add(-time.Hour)
		}
		tk := tok(i, fmt.Sprintf("u%d", i%7), exp)
		tk.FamilyID = fmt.Sprintf("fam%d", i%5)
		require.NoError(t, s.CreateToken(ctx, tk))
	}
	total := 0
	for {
		k, err := s.DeleteExpired(ctx, t0, 17)
		require.NoError(t, err)
		require.LessOrEqual(t, k, 17)
		total += k
		if k < 17 {
			break
		}
	}
	require.Equal(t, n/3, total)

	for i := n; i < n+n/3; i++ { // reuse the freed slots
		tk := tok(i, fmt.Sprintf("u%d", i%7), t0.Add(time.Hour))
		tk.FamilyID = fmt.Sprintf("fam%d", i%5)
		require.NoError(t, s.CreateToken(ctx, tk))
	}
	perUser := map[string][]string{}
	for i := range n + n/3 {
		tk := tok(i, fmt.Sprintf("u%d", i%7), t0)
		got, err := s.TokenByHash(ctx, tk.Hash)
		if i < n && i%3 == 0 {
			require.ErrorIs(t, err, store.ErrNotFound, "swept token %d", i)
			require.ErrorIs(t, s.TouchToken(ctx, tk.ID, t0), store.ErrNotFound)
			continue
		}
		require.NoError(t, err, "token %d", i)
		require.Equal(t, tk.ID, got.ID)
		require.Equal(t, fmt.Sprintf("fam%d", i%5), got.FamilyID)
		require.NoError(t, s.TouchToken(ctx, tk.ID, t0), "token %d by ID", i)
		perUser[tk.UserID] = append(perUser[tk.UserID], tk.ID)
	}
	for user, want := range perUser {
		list, err := s.ListTokens(ctx, user)
		require.NoError(t, err)
		var ids []string
		for _, tk := range list {
			ids = append(ids, tk.ID)
		}
		require.Equal(t, want, ids, "tokens of %s in creation order", user)
	}
	// RevokeFamily reaches the tokens in reused slots, and only its own.
	require.NoError(t, s.RevokeFamily(ctx, "fam1", t0))
	for i := n; i < n+n/3; i++ {
		got, err := s.TokenByHash(ctx, tok(i, "", t0).Hash)
		require.NoError(t, err)
		require.Equal(t, i%5 == 1, got.Revoked(), "token %d", i)
	}
}

// TestConcurrentUse runs writers, readers and the sweeper at once; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				id := w*1000 + i
				tk := tok(id, fmt.Sprintf("u%d", w), t0.Add(time.Duration(i%2)*time.Hour))
				if err := s.CreateToken(ctx, tk); err != nil {
					t.Error(err)
					return
				}
				_, _ = s.TokenByHash(ctx, tk.Hash)
				_ = s.TouchToken(ctx, tk.ID, t0)
				_, _ = s.ListTokens(ctx, tk.UserID)
				if i%50 == 0 {
					_, _ = s.DeleteExpired(ctx, t0.Add(time.Minute), 10)
					_ = s.RevokeUser(ctx, tk.UserID, t0)
				}
			}
		})
	}
	wg.Wait()
}

// Example shows a store set up for a test: a user, a client, a token.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	_ = st.PutUser(store.User{ID: "u1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")})
	_ = st.PutClient(store.Client{ID: "cli", RedirectURIs: []string{"https://app.example/cb"}, Public: true})

	h := store.Hash{0x2a} // SHA-256 of the secret, in real use
	_ = st.CreateToken(ctx, store.Token{
		ID: "tok_1", Hash: h, Kind: store.KindAPI, UserID: "u1", OrgID: "acme",
		Scopes: scope.MustParse("read:tasks"), CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
	})

	_ = st.SetUserActive("u1", false) // the directory deactivates the user
	_ = st.RevokeUser(ctx, "u1", t0)  // and the library revokes everything

	tk, _ := st.TokenByHash(ctx, h)
	u, _ := st.User(ctx, "u1")
	fmt.Println(tk.ID, tk.Revoked(), u.Active)
	// Output: tok_1 true false
}
