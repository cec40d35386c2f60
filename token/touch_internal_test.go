package token

import (
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTouchThrottle(t *testing.T) {
	var th touchThrottle
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	every := time.Minute
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{time.Second, false},
		{every - 1, false},
		{every, true},
		{every + time.Second, false},
		{-time.Hour, false}, // the clock went back: no touch
		{2 * every, true},
	}
	for _, s := range steps {
		if got := th.claim("tok_a", t0.Add(s.at), every); got != s.want {
			t.Fatalf("claim at +%v = %v, want %v", s.at, got, s.want)
		}
	}
	if !th.claim("tok_b", t0, every) {
		t.Fatal("another token has its own interval")
	}

	// Concurrent claims of one token at one instant: exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if th.claim("tok_c", t0, every) {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent claims won, want 1", wins.Load())
	}
}

// TestTouchThrottleBounded: the throttle forgets everything when it has
// seen too many tokens, so its memory stays bounded.
func TestTouchThrottleBounded(t *testing.T) {
	var th touchThrottle
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range maxThrottled + 10 {
		th.claim("tok_"+strconv.Itoa(i), now, time.Minute)
	}
	n := 0
	th.m.Range(func(any, any) bool { n++; return true })
	if n > maxThrottled {
		t.Fatalf("%d entries, want at most %d", n, maxThrottled)
	}
	if th.claim("tok_1", now, time.Minute) != true {
		t.Fatal("a forgotten token may be touched again")
	}
}

func TestCRC22(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, RandomLen)
	for range 10000 {
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		crc := r.Uint32()
		if got, want := crc22(crc, string(p)), crc32.Update(crc, crc32.IEEETable, p); got != want {
			t.Fatalf("crc22 = %08x, crc32.Update = %08x", got, want)
		}
	}
}
