package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the middleware, not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// reportCPU reports the process's CPU time per operation since start
// (cpu-ns/op, all goroutines, GC included): a figure a loaded machine
// disturbs less than the wall time of ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 && b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkMiddleware: bare is the no-op handler alone; bearer is
// Authenticate + Require in front of it, memstore, one token. The cost of
// the middleware, token verification included, is bearer minus bare.
//
//	go test -run '^$' -bench . -benchmem ./middleware
func BenchmarkMiddleware(b *testing.B) {
	ctx := context.Background()
	st := memstore.New()
	if err := st.PutUser(store.User{ID: "alice", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")}); err != nil {
		b.Fatal(err)
	}
	tokens, err := token.NewManager(token.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := tokens.Create(ctx, token.CreateRequest{
		UserID: "alice", Name: "bench", Scopes: scope.MustParse("write:tasks"), ExpiresAt: time.Now().Add(time.Hour),
	})
	if err != nil {
		b.Fatal(err)
	}
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	protected := middleware.Authenticate(tokens)(middleware.Require("read:tasks")(noop))
	newReq := func() *http.Request {
		r, err := http.NewRequest("GET", "http://api.example/tasks", nil)
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+secret.Reveal())
		return r
	}
	// Check once that the benchmark measures a success.
	ok := false
	check := middleware.Authenticate(tokens)(middleware.Require("read:tasks")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ok = true })))
	check.ServeHTTP(&discardWriter{h: http.Header{}}, newReq())
	if !ok {
		b.Fatal("the benchmark token does not authenticate")
	}

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		r, w := newReq(), &discardWriter{h: http.Header{}}
		start := cpuTime()
		for b.Loop() {
			noop.ServeHTTP(w, r)
		}
		reportCPU(b, start)
	})
	b.Run("bearer", func(b *testing.B) {
		b.ReportAllocs()
		r, w := newReq(), &discardWriter{h: http.Header{}}
		start := cpuTime()
		for b.Loop() {
			protected.ServeHTTP(w, r)
		}
		reportCPU(b, start)
	})
	// verify is token.Manager.Verify alone: bearer minus bare minus
	// verify is what the middleware itself costs.
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		s := secret.Reveal()
		start := cpuTime()
		for b.Loop() {
			if _, err := tokens.Verify(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
	b.Run("bearer-parallel", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			r, w := newReq(), &discardWriter{h: http.Header{}}
			for pb.Next() {
				protected.ServeHTTP(w, r)
			}
		})
		reportCPU(b, start)
	})
}
