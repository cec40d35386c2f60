package token

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxThrottled bounds the memory of a touchThrottle: when it has seen more
// token IDs than this, it forgets them all. Forgetting costs at most one
// extra store write per token.
const maxThrottled = 1 << 16

// touchThrottle lets one verification per token and interval record a use,
// however many verify the token at once, and even when the store's
// LastUsedAt lags (a replica, a cache). It is consulted only when the
// record says a touch is due, so the hot path of a recently used token
// never reaches it.
type touchThrottle struct {
	m sync.Map     // token ID → *atomic.Int64, UnixNano of the last claimed touch
	n atomic.Int64 // entries added since the last reset
}

// claim reports whether the caller should touch token id at now: true for
// at most one caller per interval.
func (t *touchThrottle) claim(id string, now time.Time, every time.Duration) bool {
	n := now.UnixNano()
	if v, ok := t.m.Load(id); ok {
		return claimAt(v.(*atomic.Int64), n, every)
	}
	if t.n.Add(1) > maxThrottled {
		t.m.Clear()
		t.n.Store(1)
	}
	last := new(atomic.Int64)
	last.Store(n)
	v, loaded := t.m.LoadOrStore(id, last)
	if !loaded {
		return true
	}
	return claimAt(v.(*atomic.Int64), n, every)
}

func claimAt(last *atomic.Int64, n int64, every time.Duration) bool {
	l := last.Load()
	if n-l < int64(every) {
		return false // touched within the interval, or the clock went back
	}
	return last.CompareAndSwap(l, n)
}

// release forgets the claim on token id, so that the next verification
// tries to record the use again: a failed touch must not let the requests
// after it skip the store.
func (t *touchThrottle) release(id string) { t.m.Delete(id) }
