package token_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Generate(token.KindAPI); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	s := gen(b, token.KindAPI)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	s := gen(b, token.KindAPI)
	b.ReportAllocs()
	for b.Loop() {
		_ = token.Hash(s)
	}
}

func BenchmarkScan(b *testing.B) {
	text := "a line of log without secrets, 80 bytes or so, tap_ mentioned once, nothing else\n"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = token.Scan(text)
	}
}

// benchStore is a memstore with n API tokens spread over 10,000 users, all
// used "just now" (LastUsedAt = t0, the benchmark clock), so the benchmark
// measures verification, not the once-a-minute touch. Tokens are stored
// directly with CreateToken to save time.
//
// The plaintexts sit in one buffer in a random permutation of the order the
// tokens were stored in: reading the buffer in order presents the tokens in
// random order to the store, while the presented bytes themselves stream
// through the cache as a request's header would (a slice of a million
// separate strings would add a cache miss per lookup that no server pays).
type benchStore struct {
	st        *memstore.Store
	m         *token.Manager
	presented []byte // n secrets of secretLen bytes, in lookup order
}

const secretLen = len(token.PrefixBearer) + token.BodyLen

// secret returns the k-th secret in lookup order.
func (bs *benchStore) secret(k int) string {
	b := bs.presented[k*secretLen : (k+1)*secretLen]
	return unsafe.String(&b[0], len(b))
}

func (bs *benchStore) n() int { return len(bs.presented) / secretLen }

var (
	bench1MOnce sync.Once
	bench1M     *benchStore
)

func newBenchStore(b *testing.B, n int) *benchStore {
	b.Helper()
	st := memstore.New()
	m, err := token.NewManager(token.Config{
		Store: st, Now: func() time.Time { return t0 }, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	const users = 10_000
	for u := range min(users, n) {
		id := fmt.Sprintf("user%05d", u)
		if err := st.PutUser(store.User{ID: id, OrgID: "o1", Active: true, Permissions: adminOrg}); err != nil {
			b.Fatal(err)
		}
	}
	scopes := scope.MustParse("read:tasks write:time")
	bs := &benchStore{st: st, m: m, presented: make([]byte, n*secretLen)}
	pos := rand.Perm(n) // token i is presented k-th, k = pos[i]
	ctx := b.Context()
	for i := range n {
		sec, err := token.Generate(token.KindAPI)
		if err != nil {
			b.Fatal(err)
		}
		copy(bs.presented[pos[i]*secretLen:], sec.Reveal())
		err = st.CreateToken(ctx, store.Token{
			ID: fmt.Sprintf("tok_%016d", i), Hash: token.Hash(sec.Reveal()), Kind: token.KindAPI,
			UserID: fmt.Sprintf("user%05d", i%users), OrgID: "o1", Name: "bench", Scopes: scopes,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastUsedAt: t0,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return bs
}

func BenchmarkVerify(b *testing.B) {
	b.Run("hot", func(b *testing.B) {
		bs := newBenchStore(b, 1)
		s := bs.secret(0)
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bs.m.Verify(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1M", func(b *testing.B) {
		bench1MOnce.Do(func() { bench1M = newBenchStore(b, 1_000_000) })
		bs := bench1M
		ctx := b.Context()
		b.ReportAllocs()
		k, n := 0, bs.n()
		for b.Loop() {
			if _, err := bs.m.Verify(ctx, bs.secret(k)); err != nil {
				b.Fatal(err)
			}
			if k++; k == n {
				k = 0
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		bench1MOnce.Do(func() { bench1M = newBenchStore(b, 1_000_000) })
		bs := bench1M
		ctx := b.Context()
		var worker atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := bs.n()
			k := int(worker.Add(1)*7919) % n // each goroutine starts elsewhere
			for pb.Next() {
				if _, err := bs.m.Verify(ctx, bs.secret(k)); err != nil {
					b.Error(err)
					return
				}
				if k++; k == n {
					k = 0
				}
			}
		})
	})
	b.Run("invalid", func(b *testing.B) {
		bs := newBenchStore(b, 1)
		s := bs.secret(0)[:20] + "xxxxxxxxxxxx"
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bs.m.Verify(ctx, s); err == nil {
				b.Fatal("verified garbage")
			}
		}
	})
}
