package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
)

// fill stores n API tokens shaped like the token package's (a "tok_" ID of
// 20 bytes, a short name, one of 1,000 users in one of 10 organizations)
// and returns their hashes and the heap the store grew by, per token.
func fill(b *testing.B, n int) (*memstore.Store, []store.Hash, float64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	hashes := make([]store.Hash, n)
	for i := range hashes {
		for j := 0; j < len(store.Hash{}); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				hashes[i][j+k] = byte(v >> (8 * k))
			}
		}
	}
	users := make([]store.User, 1000)
	for i := range users {
		users[i] = store.User{ID: fmt.Sprintf("user_%011d", i), OrgID: fmt.Sprintf("org_%012d", i%10)}
	}
	scopes := []scope.Set{scope.MustParse("read:tasks"), scope.MustParse("write:tasks read:time"), scope.MustParse("admin:org")}
	created := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := memstore.New()
	for i, h := range hashes {
		u := users[i%len(users)]
		err := s.CreateToken(ctx, store.Token{
			ID:        fmt.Sprintf("tok_%016x", i),
			Hash:      h,
			Kind:      store.KindAPI,
			UserID:    u.ID,
			OrgID:     u.OrgID,
			Name:      "laptop",
			Scopes:    scopes[i%len(scopes)],
			CreatedAt: created,
			ExpiresAt: created.Add(90 * 24 * time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perToken := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	rng.Shuffle(len(hashes), func(i, j int) { hashes[i], hashes[j] = hashes[j], hashes[i] })
	return s, hashes, perToken
}

// reportCPU reports the CPU time per operation since start, a figure that
// holds better than ns/op when other processes share the machine.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkLookup measures TokenByHash with 1,000 and 1,000,000 stored
// tokens, looked up in random order, sequentially and in parallel. B/token
// is the heap the store holds per stored token, indexes included;
// cpu-ns/op the process's CPU time per lookup (all goroutines), which a
// loaded machine disturbs less than the wall time of ns/op.
//
//	go test -run '^$' -bench Lookup -benchmem ./store/memstore
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		name := strconv.Itoa(n/1000) + "k"
		if n >= 1_000_000 {
			name = strconv.Itoa(n/1_000_000) + "M"
		}
		b.Run(name, func(b *testing.B) {
			s, sample, perToken := fill(b, n)
			ctx := context.Background()
			b.Run("seq", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				cpu := cpuTime()
				for b.Loop() {
					tok, err := s.TokenByHash(ctx, sample[i])
					if err != nil {
						b.Fatal(err)
					}
					// The next key depends on this result (Kind>>7 is 0),
					// so lookups cannot overlap: each pays its full
					// latency, as a request does.
					if i += 1 + int(tok.Kind>>7); i >= len(sample) {
						i = 0
					}
				}
				reportCPU(b, cpu)
				b.ReportMetric(perToken, "B/token")
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					i := rand.IntN(len(sample))
					for pb.Next() {
						tok, err := s.TokenByHash(ctx, sample[i])
						if err != nil {
							b.Error(err)
							return
						}
						if i += 1 + int(tok.Kind>>7); i >= len(sample) {
							i = 0
						}
					}
				})
				reportCPU(b, cpu)
				b.ReportMetric(perToken, "B/token")
			})
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkMapFloor is the floor under BenchmarkLookup: a bare
// map[store.Hash]int32 lookup with the same keys in the same random order,
// without lock, record or copy. Its growth from 1k to 1M is the machine's
// memory latency (cache and TLB misses), which no in-memory store avoids.
func BenchmarkMapFloor(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			_, sample, _ := fill(b, n)
			m := make(map[store.Hash]int32, n)
			for i, h := range sample {
				m[h] = int32(i)
			}
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				v := m[sample[i]]
				// As in BenchmarkLookup, the next key depends on this
				// result (v>>31 is 0), so lookups cannot overlap.
				if i += 1 + int(v>>31); i >= len(sample) {
					i = 0
				}
			}
			reportCPU(b, cpu)
		})
	}
}
