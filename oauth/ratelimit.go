package oauth

import (
	"math"
	"strings"
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
// failures of keys nobody touched for a whole generation. Stored keys are
// copies: a key passed in may share memory with a whole request body.
//
// A key that has a bucket (it failed before) also counts its attempts in
// flight — let through by [limiter.begin], not yet judged by
// [limiter.end] — against the bucket, so concurrent attempts cannot each
// pass the check before any of their failures is recorded.
type limiter struct {
	limit rate.Limit
	burst int
	max   int

	mu       sync.Mutex
	cur, old map[string]*bucket
}

// bucket is the token bucket of one key and its attempts in flight.
type bucket struct {
	lim      *rate.Limiter
	inflight int
}

func newLimiter(limit rate.Limit, burst, max int) *limiter {
	return &limiter{limit: limit, burst: burst, max: max, cur: map[string]*bucket{}}
}

// find returns the bucket of key, or nil. l.mu is held.
func (l *limiter) find(key string) *bucket {
	if b := l.cur[key]; b != nil {
		return b
	}
	return l.old[key]
}

// waitFor returns how long b must wait before its next attempt, with
// extra attempts in flight; 0 means it may try now. l.mu is held.
func (l *limiter) waitFor(b *bucket, now time.Time, extra int) time.Duration {
	if b == nil {
		return 0
	}
	tokens := b.lim.TokensAt(now) - float64(extra)
	if tokens >= 1 {
		return 0
	}
	if l.limit <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// wait returns how long key must wait before its next attempt; 0 means it
// may try now.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waitFor(l.find(key), now, 0)
}

// begin starts an attempt of key: a positive result is how long key must
// wait (the attempt is refused and needs no end); 0 lets it through, and
// the caller must then call end with the returned bucket (nil for a key
// that has none yet).
func (l *limiter) begin(key string, now time.Time) (time.Duration, *bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.find(key)
	if b == nil {
		return 0, nil
	}
	if wait := l.waitFor(b, now, b.inflight); wait > 0 {
		return wait, nil
	}
	b.inflight++
	return 0, b
}

// end finishes an attempt that begin let through, recording a failure
// when failed. A bucket that is full again after a success, with nothing
// in flight, is dropped (a full bucket and none behave alike), so a key
// that once failed goes back to the fast path and is not limited in
// concurrency.
func (l *limiter) end(key string, b *bucket, now time.Time, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b != nil {
		b.inflight--
	}
	if failed {
		l.failLocked(key, now)
		return
	}
	if b != nil && b.inflight == 0 && b.lim.TokensAt(now) >= float64(l.burst) {
		if l.cur[key] == b {
			delete(l.cur, key)
		}
		if l.old[key] == b {
			delete(l.old, key)
		}
	}
}

// fail records a failure of key.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failLocked(key, now)
}

func (l *limiter) failLocked(key string, now time.Time) {
	b := l.cur[key]
	if b == nil {
		if b = l.old[key]; b != nil {
			delete(l.old, key)
		} else {
			b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		}
		if len(l.cur) >= l.max {
			l.old, l.cur = l.cur, make(map[string]*bucket, len(l.cur))
		}
		// The map outlives the request: keep a copy of the key, which
		// may point into a request body parsed without copying (readForm)
		// and would pin all of it.
		l.cur[strings.Clone(key)] = b
	}
	b.lim.AllowN(now, 1)
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
