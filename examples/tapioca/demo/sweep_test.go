package demo

import (
	"context"
	"crypto/sha256"
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
	"tapioca.dev/auth/token"
)

// countingSweeper records the DeleteExpired calls made on a store.
type countingSweeper struct {
	Store
	mu    sync.Mutex
	calls []int // what each call deleted
	after bool  // a call came after stopped was set
	stop  bool
}

func (c *countingSweeper) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := c.Store.(store.Sweeper).DeleteExpired(ctx, before, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, n)
	c.after = c.after || c.stop
	return n, err
}

func (c *countingSweeper) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// expiredTokens stores n API tokens of alice that expired a retention
// period and an hour ago.
func expiredTokens(t *testing.T, st Store, now time.Time, n int) {
	t.Helper()
	expiredAt(t, st, now.Add(-sweepRetention-time.Hour), "tok_expired", n)
}

// expiredAt stores n API tokens of alice that expired at exp.
func expiredAt(t *testing.T, st Store, exp time.Time, prefix string, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		require.NoError(t, st.CreateToken(context.Background(), store.Token{
			ID: id, Hash: sha256.Sum256([]byte(id)), Kind: token.KindAPI, UserID: "user_alice", OrgID: "acme",
			Name: "old", Scopes: scope.Default.MustParse("read:tasks"),
			CreatedAt: exp.Add(-48 * time.Hour), ExpiresAt: exp,
		}))
	}
}

// TestSweep: a sweep deletes every expired row in batches of sweepBatch,
// until a batch comes back short, and keeps what is still live.
func TestSweep(t *testing.T) {
	cs := &countingSweeper{Store: memStore{memstore.New()}}
	d := newDemoWith(t, config{Data: testData(), Store: cs})
	live := d.token("alice", "read:tasks")
	expiredTokens(t, cs, d.s.now(), 2*sweepBatch+10)
	// Expired, but recently: kept for replay detection.
	expiredAt(t, cs, d.s.now().Add(-sweepRetention+time.Minute), "tok_recent", 3)

	n, err := d.s.sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2*sweepBatch+10, n)
	assert.Equal(t, []int{sweepBatch, sweepBatch, 10}, cs.calls)
	all, err := cs.ListTokens(context.Background(), "user_alice")
	require.NoError(t, err)
	recent := 0
	for _, tok := range all {
		assert.True(t, tok.ExpiresAt.After(d.s.now().Add(-sweepRetention)), "a token expired past the retention is left: %s", tok.ID)
		if strings.HasPrefix(tok.ID, "tok_recent") {
			recent++
		}
	}
	assert.Equal(t, 3, recent, "tokens expired within the retention are kept")
	status, _, _ := d.do("GET", "/api/v1/tasks", live, "")
	assert.Equal(t, 200, status, "a live token survives the sweep")

	// Without store.Sweeper there is nothing to do.
	d.s.st = struct{ Store }{cs}
	n, err = d.s.sweep(context.Background())
	assert.NoError(t, err)
	assert.Zero(t, n)
}

// TestRunSweeps: Run sweeps the store periodically while it serves and
// stops sweeping when it shuts down, before it closes the store.
func TestRunSweeps(t *testing.T) {
	cs := &countingSweeper{Store: memStore{memstore.New()}}
	closed := make(chan struct{})
	opts := Options{
		OpenPostgres: func(context.Context, string) (Store, func(), error) {
			return cs, func() {
				cs.mu.Lock()
				cs.stop = true
				cs.mu.Unlock()
				close(closed)
			}, nil
		},
		sweepEvery: 5 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := runPostgres(ctx, opts)
	expiredTokens(t, cs, time.Now(), 3)

	require.Eventually(t, func() bool { return cs.count() >= 3 }, 10*time.Second, time.Millisecond, "sweeps at start and then periodically")
	require.Eventually(t, func() bool {
		all, err := cs.ListTokens(context.Background(), "user_alice")
		require.NoError(t, err)
		for _, tok := range all {
			if strings.HasPrefix(tok.ID, "tok_expired") {
				return false
			}
		}
		return true
	}, 10*time.Second, time.Millisecond, "the expired tokens are swept")
	cancel()
	require.NoError(t, <-done)
	<-closed
	cs.mu.Lock()
	defer cs.mu.Unlock()
	assert.False(t, cs.after, "no sweep after the store was closed")
}
