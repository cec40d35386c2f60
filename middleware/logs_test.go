package middleware_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/store/storetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInLogsOrResponses: S50 for the middleware. Every failure path
// logs at debug level into a buffer; neither the logs nor any response
// carries the presented secret or a 12-character piece of it.
func TestNoSecretInLogsOrResponses(t *testing.T) {
	w := newWorld(t)
	var logs syncBuffer
	a := newAuth(t, middleware.Config{
		Verifier: w.tokens, SessionCookie: "tap_session", Timeout: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	h := a.Authenticate(middleware.Require("admin:org")(&spy{}))
	var out strings.Builder
	serve := func(r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		out.WriteString(rec.Body.String())
		for k, v := range rec.Header() {
			out.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
	}
	secret := w.alice
	faults := []func(){
		func() {},
		func() { w.faulty.Fail(storetest.AllMethods, nil) },
		func() { w.faulty.Panic("TokenByHash") },
		func() { w.faulty.Hang("User") },
		func() { w.faulty.Zero("TokenByHash") },
	}
	for _, fault := range faults {
		w.faulty.Heal(storetest.AllMethods)
		fault()
		serve(request("GET", "/", "Bearer "+secret))                   // valid but lacks admin:org
		serve(request("GET", "/", "Bearer "+secret+"x"))               // malformed token
		serve(request("GET", "/", "Bearer "+secret+" "+secret))        // two tokens
		serve(request("GET", "/?access_token="+secret))                // query
		serve(request("GET", "/", "Bearer "+secret, "Bearer "+secret)) // two headers
		r := request("POST", "/")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.AddCookie(&http.Cookie{Name: "tap_session", Value: secret})
		serve(r)
		r = request("GET", "/")
		r.AddCookie(&http.Cookie{Name: "tap_session", Value: secret})
		serve(r)
	}
	require.NotEmpty(t, logs.String(), "the test must see the logs")
	for _, text := range []string{logs.String(), out.String()} {
		for i := 0; i+12 <= len(secret); i++ {
			if piece := secret[i : i+12]; strings.Contains(text, piece) {
				assert.Failf(t, "secret leaked", "%q found in %q", piece, text)
				break
			}
		}
	}
}
