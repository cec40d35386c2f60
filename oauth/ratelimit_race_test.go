package oauth_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/store"
)

// gatedClients holds every Client lookup of one client ID at a gate, so a
// test can have many authentications in flight at once.
type gatedClients struct {
	store.Store
	id     string
	mu     sync.Mutex
	armed  bool
	events chan<- string
	gate   <-chan struct{}
}

func (g *gatedClients) Client(ctx context.Context, id string) (store.Client, error) {
	g.mu.Lock()
	armed := g.armed && id == g.id
	g.mu.Unlock()
	if armed {
		g.events <- "arrived"
		<-g.gate
	}
	return g.Store.Client(ctx, id)
}

// S26: concurrent failed authentications cannot outrun the limit. Once a
// client is being limited, the attempts let through at one time are at
// most the failures its bucket still allows, however many arrive together:
// checking the bucket and recording the failure must not be separable by
// the (slow) client lookup.
func TestS26ConcurrentFailuresCannotOutrunTheLimit(t *testing.T) {
	const n = 20
	events := make(chan string, 2*n)
	gate := make(chan struct{})
	g := &gatedClients{id: "svc", events: events, gate: gate}
	f := newFxWrapped(t, func(s store.Store) store.Store { g.Store = s; return g })
	send := func(addr string) int {
		r := formRequest(http.MethodPost, "/oauth/token", "grant_type=client_credentials&scope=read:tasks")
		r.Header.Set("Authorization", basicHeader("svc", "wrong"))
		r.RemoteAddr = addr
		return f.serve(r).Code
	}
	// Drain the client's bucket, then let exactly one more failure in.
	for i := range oauth.DefaultFailedAuthBurst {
		require.Equal(t, http.StatusUnauthorized, send("192.0.2."+strconv.Itoa(i)+":1"))
	}
	f.clock.Advance(oauth.DefaultFailedAuthInterval)

	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i] = send("198.51.100." + strconv.Itoa(i) + ":1")
			events <- "done"
		})
	}
	// Open the gate once every request is either at the gate or answered.
	for arrived, done := 0, 0; arrived+done < n; {
		if <-events == "arrived" {
			arrived++
		} else {
			done++
		}
	}
	close(gate)
	wg.Wait()

	counts := map[int]int{}
	for _, c := range codes {
		counts[c]++
	}
	assert.Equal(t, 1, counts[http.StatusUnauthorized], "attempts judged: %v", counts)
	assert.Equal(t, n-1, counts[http.StatusTooManyRequests], "%v", counts)
}

// S26: per remote address, an IPv6 client is limited by its /64, the block
// one subscriber usually holds: rotating addresses inside it does not
// escape the limit (nor flush the limiter's table); another /64 is not
// affected.
func TestS26PerAddressIPv6Prefix(t *testing.T) {
	f := newFx(t)
	send := func(id, secret, addr string) int {
		r := formRequest(http.MethodPost, "/oauth/token", "grant_type=client_credentials&scope=read:tasks")
		r.Header.Set("Authorization", basicHeader(id, secret))
		r.RemoteAddr = addr
		return f.serve(r).Code
	}
	for i := range oauth.DefaultFailedAuthBurst {
		require.Equal(t, http.StatusUnauthorized, send("guess-"+strconv.Itoa(i), "wrong", "[2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16)+"]:4000"))
	}
	assert.Equal(t, http.StatusTooManyRequests, send("guess-x", "wrong", "[2001:db8:1:2:ffff::1]:4000"))
	assert.Equal(t, http.StatusTooManyRequests, send("svc", f.svc.secret, "[2001:db8:1:2:abcd:1:2:3]:4000"))
	assert.Equal(t, http.StatusOK, send("svc", f.svc.secret, "[2001:db8:1:3::1]:4000"))
	// IPv4 addresses stay one key each, also written as IPv4-mapped IPv6.
	for i := range oauth.DefaultFailedAuthBurst {
		send("guess-"+strconv.Itoa(i), "wrong", "192.0.2.7:1")
	}
	assert.Equal(t, http.StatusTooManyRequests, send("svc", f.svc.secret, "[::ffff:192.0.2.7]:1"))
	assert.Equal(t, http.StatusOK, send("svc", f.svc.secret, "192.0.2.8:1"))
}
