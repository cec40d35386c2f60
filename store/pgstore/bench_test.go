package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/token"
)

// benchNow is the benchmarks' fixed clock. Seeded tokens were last used at
// benchNow, so verification never records a use: the benchmarks measure
// the read path (a write happens at most once a minute per token).
var benchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const benchUsers = 1000

// benchSecrets returns the n API token secrets of a benchmark table, the
// same on every run: they come from a manager with a seeded random source.
func benchSecrets(b *testing.B, n int) []string {
	b.Helper()
	m, err := token.NewManager(token.Config{
		Store: nopStore{}, Rand: rand.NewChaCha8([32]byte{'t', 'a', 'p', 'i', 'o', 'c', 'a'}),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		s, err := m.NewSecret(store.KindAPI)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = s.Reveal()
	}
	return out
}

// nopStore is never called: benchSecrets only draws secrets.
type nopStore struct{ store.Store }

// benchStore returns a store on the schema tapioca_bench_<n>, which holds n
// API tokens of benchUsers users. The schema is kept between runs and
// seeded (with COPY) only when it does not hold exactly these tokens yet.
func benchStore(b *testing.B, n int, secrets []string) *pgstore.Store {
	b.Helper()
	ctx := context.Background()
	schema := fmt.Sprintf("tapioca_bench_%d", n)
	admin, err := pgx.Connect(ctx, testURL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		b.Fatal(err)
	}
	pool := newPool(b, schema, func(c *pgxpool.Config) { c.MaxConns = 8 })
	st, err := pgstore.New(pool)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var count int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM tapioca_tokens").Scan(&count); err != nil {
		b.Fatal(err)
	}
	last := token.Hash(secrets[n-1])
	if _, err := st.TokenByHash(ctx, last); count == n && err == nil {
		return st // seeded by an earlier run
	}
	b.Logf("seeding %s with %d tokens", schema, n)
	start := time.Now()
	if _, err := pool.Exec(ctx, "TRUNCATE tapioca_tokens, tapioca_users"); err != nil {
		b.Fatal(err)
	}
	perms := scope.MustParse("admin:org")
	for u := range benchUsers {
		if err := st.PutUser(ctx, store.User{ID: fmt.Sprint("bench-user-", u), OrgID: "bench-org", Active: true, Permissions: perms}); err != nil {
			b.Fatal(err)
		}
	}
	scopes := scope.MustParse("read:tasks write:time").String()
	i := 0
	copied, err := pool.CopyFrom(ctx, pgx.Identifier{"tapioca_tokens"},
		[]string{"id", "hash", "kind", "user_id", "org_id", "name", "scopes", "created_at", "expires_at", "last_used_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			h := token.Hash(secrets[i])
			row := []any{fmt.Sprintf("tok_bench_%07d", i), h[:], int16(store.KindAPI), fmt.Sprint("bench-user-", i%benchUsers),
				"bench-org", "bench", scopes, benchNow.Add(-time.Hour), benchNow.Add(24 * time.Hour), benchNow}
			i++
			return row, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d tokens in %v", copied, time.Since(start).Round(time.Millisecond))
	return st
}

// reportLatency reports the median and 99th percentile of the recorded
// per-operation latencies.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkVerify verifies random API tokens through token.Manager on
// pgstore, with 10,000 and 1,000,000 tokens in the table: one indexed read
// of the token by hash and one of its user, per verification. Sequential
// sub-benchmarks report p50 and p99 latency; parallel ones throughput.
//
//	TAPIOCA_PG_URL=… go test -run '^$' -bench BenchmarkVerify -benchtime 20000x
//
// The 1M table is seeded once (about a minute) and kept in the schema
// tapioca_bench_1000000 for later runs.
func BenchmarkVerify(b *testing.B) {
	testURL(b)
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			secrets := benchSecrets(b, n)
			st := benchStore(b, n, secrets)
			m, err := token.NewManager(token.Config{
				Store: st, Now: func() time.Time { return benchNow }, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.Run("seq", func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				lat := make([]time.Duration, 0, min(b.N, 1<<20))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					sec := secrets[r.IntN(n)]
					t := time.Now()
					if _, err := m.Verify(ctx, sec); err != nil {
						b.Fatal(err)
					}
					if len(lat) < cap(lat) {
						lat = append(lat, time.Since(t))
					}
				}
				b.StopTimer()
				reportLatency(b, lat)
			})
			b.Run("parallel", func(b *testing.B) {
				var seed atomic.Uint64
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					r := rand.New(rand.NewPCG(seed.Add(1), 3))
					for pb.Next() {
						if _, err := m.Verify(ctx, secrets[r.IntN(n)]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// BenchmarkTokenByHash is the store's share of a verification: one lookup
// by hash, with 10,000 and 1,000,000 tokens in the table.
func BenchmarkTokenByHash(b *testing.B) {
	testURL(b)
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			secrets := benchSecrets(b, n)
			st := benchStore(b, n, secrets)
			hashes := make([]store.Hash, n)
			for i, s := range secrets {
				hashes[i] = token.Hash(s)
			}
			ctx := context.Background()
			r := rand.New(rand.NewPCG(4, 5))
			lat := make([]time.Duration, 0, min(b.N, 1<<20))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t := time.Now()
				if _, err := st.TokenByHash(ctx, hashes[r.IntN(n)]); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t))
				}
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

// BenchmarkClientCredentials is the token endpoint's client_credentials
// grant through oauth.Server on pgstore: a client lookup, the secret hash
// check and one token insert per request.
//
//	TAPIOCA_PG_URL=… go test -run '^$' -bench BenchmarkClientCredentials -benchtime 5000x
func BenchmarkClientCredentials(b *testing.B) {
	testURL(b)
	a, _, _, svc := oauthPair(b, func() time.Time { return benchNow })
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}.Encode()
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(svc.id, svc.secret)
		w := httptest.NewRecorder()
		t := time.Now()
		a.srv.ServeHTTP(w, r)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t))
		}
		if w.Code != http.StatusOK {
			b.Fatalf("client_credentials: %d %s", w.Code, w.Body.String())
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
}
