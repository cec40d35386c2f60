package oauth

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter rate limits failures per key (a client ID or a remote address)
// with one token bucket per key. Only failures create and drain buckets, so
// a client that authenticates correctly costs one map lookup.
//
// Memory is bounded: keys live in two generations of at most max entries
// each. When the current generation is full it becomes the old one and the
// previous old one is dropped; a key found in the old generation moves to
// the current one. A dropped bucket starts full again, which only forgives
// failures of keys nobody touched for a whole generation.
type limiter struct {
	limit rate.Limit
	burst int
	max   int

	mu       sync.Mutex
	cur, old map[string]*rate.Limiter
}

func newLimiter(limit rate.Limit, burst, max int) *limiter {
	return &limiter{limit: limit, burst: burst, max: max, cur: map[string]*rate.Limiter{}}
}

// wait returns how long key must wait before its next attempt; 0 means it
// may try now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.cur[key]
	if lim == nil {
		lim = l.old[key]
	}
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	if l.limit <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// fail records a failure of key.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.cur[key]
	if lim == nil {
		if lim = l.old[key]; lim != nil {
			delete(l.old, key)
		} else {
			lim = rate.NewLimiter(l.limit, l.burst)
		}
		if len(l.cur) >= l.max {
			l.old, l.cur = l.cur, make(map[string]*rate.Limiter, len(l.cur))
		}
		l.cur[key] = lim
	}
	lim.AllowN(now, 1)
}

// size returns the number of tracked keys.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.old)
}

// retryAfter converts a wait into whole seconds for Retry-After, at least 1.
func retryAfter(d time.Duration) int {
	if d > 24*time.Hour {
		return 86400
	}
	return max(1, int((d+time.Second-1)/time.Second))
}
