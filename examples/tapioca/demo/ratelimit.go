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

// get returns the limiter of key, adding one when key has none. A full
// table first forgets the keys that have recovered (a full burst holds no
// state); only when none has does it start over (bounded memory: a reset
// only forgives).
func (l *loginLimiter) get(key string, now time.Time) *rate.Limiter {
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= loginKeys {
			for k, v := range l.m {
				if v.TokensAt(now) >= loginBurst {
					delete(l.m, k)
				}
			}
		}
		if len(l.m) >= loginKeys {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Every(loginInterval), loginBurst)
		l.m[key] = lim
	}
	return lim
}

// wait returns how long the keys must wait before another attempt; 0 means
// an attempt is allowed now. It records nothing: a key that never failed
// has its full burst, so a throttled client trying new usernames cannot
// fill the table and make it forget the client.
func (l *loginLimiter) wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var longest time.Duration
	for _, k := range keys {
		lim, ok := l.m[k]
		if !ok {
			continue
		}
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
		l.get(k, now).AllowN(now, 1)
	}
}
