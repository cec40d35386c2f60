package token_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// directly with CreateToken to save time; secrets[i] is the plaintext of
// the i-th token.
type benchStore struct {
	st      *memstore.Store
	m       *token.Manager
	secrets []string
}

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
	bs := &benchStore{st: st, m: m, secrets: make([]string, n)}
	ctx := b.Context()
	for i := range n {
		sec, err := token.Generate(token.KindAPI)
		if err != nil {
			b.Fatal(err)
		}
		bs.secrets[i] = sec.Reveal()
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
		s := bs.secrets[0]
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
		order := rand.Perm(len(bs.secrets))
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := bs.m.Verify(ctx, bs.secrets[order[i]]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(order) {
				i = 0
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		bench1MOnce.Do(func() { bench1M = newBenchStore(b, 1_000_000) })
		bs := bench1M
		ctx := b.Context()
		var seed atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(seed.Add(1), 42))
			n := len(bs.secrets)
			for pb.Next() {
				if _, err := bs.m.Verify(ctx, bs.secrets[r.IntN(n)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("invalid", func(b *testing.B) {
		bs := newBenchStore(b, 1)
		s := bs.secrets[0][:20] + "xxxxxxxxxxxx"
		ctx := b.Context()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bs.m.Verify(ctx, s); err == nil {
				b.Fatal("verified garbage")
			}
		}
	})
}
