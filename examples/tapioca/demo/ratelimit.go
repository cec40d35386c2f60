package demo

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in throttling (NIST SP 800-63B §5.2.2): human passwords are
// guessable, so failed sign-ins are limited per username and per remote
// address. A key may fail loginBurst times, then once per loginInterval;
// successful sign-ins cost nothing.
const (
	loginBurst    = 5
	loginInterval = 12 * time.Second
	loginKeys     = 10000 // tracked keys before the table is reset
)

type loginLimiter struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*rate.Limiter
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, m: map[string]*rate.Limiter{}}
}

func (l *loginLimiter) get(key string) *rate.Limiter {
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= loginKeys {
			l.m = map[string]*rate.Limiter{} // bounded memory; a reset only forgives
		}
		lim = rate.NewLimiter(rate.Every(loginInterval), loginBurst)
		l.m[key] = lim
	}
	return lim
}

// wait returns how long the keys must wait before another attempt; 0 means
// an attempt is allowed now.
func (l *loginLimiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, k := range keys {
		lim := l.get(k)
		if tokens := lim.TokensAt(now); tokens < 1 {
			d := time.Duration((1 - tokens) * float64(loginInterval))
			longest = max(longest, d)
		}
	}
	return longest
}

// fail records a failed attempt against every key.
func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.get(k).AllowN(now, 1)
	}
}
