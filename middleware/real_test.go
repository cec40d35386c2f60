package middleware_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injected clock safe to move while servers read it.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// world is a real token.Manager over memstore behind a Faulty wrapper,
// with two users in two organizations and a token for each.
type world struct {
	st     *memstore.Store
	faulty *storetest.Faulty
	tokens *token.Manager
	clock  *clock
	alice  string // alice's API token (orgA; write:tasks read:time)
	bob    string // bob's API token (orgB; read:tasks)
	aliceT store.Token
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{st: memstore.New(), clock: newClock(t0)}
	require.NoError(t, w.st.PutUser(store.User{ID: "alice", OrgID: "orgA", Active: true, Permissions: scope.MustParse("write:tasks read:time")}))
	require.NoError(t, w.st.PutUser(store.User{ID: "bob", OrgID: "orgB", Active: true, Permissions: scope.MustParse("read:tasks")}))
	w.faulty = storetest.NewFaulty(w.st)
	var err error
	w.tokens, err = token.NewManager(token.Config{Store: w.faulty, Now: w.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx := context.Background()
	sec, rec, err := w.tokens.Create(ctx, token.CreateRequest{
		UserID: "alice", Name: "ci", Scopes: scope.MustParse("write:tasks read:time"), ExpiresAt: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	w.alice, w.aliceT = sec.Reveal(), rec
	sec, _, err = w.tokens.Create(ctx, token.CreateRequest{UserID: "bob", Name: "ci", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	w.bob = sec.Reveal()
	return w
}

// TestFailClosedStore proves S46–S48 with a real token.Manager: whatever
// the store does wrong, the request does not get through.
func TestFailClosedStore(t *testing.T) {
	tests := []struct {
		name     string
		fault    func(f *storetest.Faulty)
		timeout  time.Duration // Config.Timeout
		deadline time.Duration // request context deadline
		want     int
	}{
		{"S46 TokenByHash error", func(f *storetest.Faulty) { f.Fail("TokenByHash", nil) }, 0, 0, 503},
		{"S46 User error", func(f *storetest.Faulty) { f.Fail("User", nil) }, 0, 0, 503},
		{"S46 every method errs", func(f *storetest.Faulty) { f.Fail(storetest.AllMethods, nil) }, 0, 0, 503},
		{"S47 TokenByHash zero record", func(f *storetest.Faulty) { f.Zero("TokenByHash") }, 0, 0, 401},
		{"S47 User zero record", func(f *storetest.Faulty) { f.Zero("User") }, 0, 0, 401},
		{"S47 every method zero", func(f *storetest.Faulty) { f.Zero(storetest.AllMethods) }, 0, 0, 401},
		{"S48 TokenByHash panics", func(f *storetest.Faulty) { f.Panic("TokenByHash") }, 0, 0, 500},
		{"S48 User panics", func(f *storetest.Faulty) { f.Panic("User") }, 0, 0, 500},
		{"S48 TokenByHash hangs past the request deadline", func(f *storetest.Faulty) { f.Hang("TokenByHash") }, 0, 20 * time.Millisecond, 503},
		{"S48 User hangs past the request deadline", func(f *storetest.Faulty) { f.Hang("User") }, 0, 20 * time.Millisecond, 503},
		{"S48 TokenByHash hangs past Config.Timeout", func(f *storetest.Faulty) { f.Hang("TokenByHash") }, 20 * time.Millisecond, 0, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.fault(w.faulty)
			a := newAuth(t, middleware.Config{Verifier: w.tokens, Timeout: tt.timeout, Logger: slog.New(slog.DiscardHandler)})
			h := &spy{}
			r := request("GET", "/", "Bearer "+w.alice)
			if tt.deadline > 0 {
				ctx, cancel := context.WithTimeout(r.Context(), tt.deadline)
				defer cancel()
				r = r.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			a.Authenticate(middleware.Require("read:tasks")(h)).ServeHTTP(rec, r)
			assert.False(t, h.called.Load(), "handler called with a faulty store")
			require.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want >= 500 {
				assert.NotContains(t, rec.Body.String(), "invalid_token", "a store failure must not blame the token")
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			// The same request passes once the store heals: the failure
			// was the store's, and the test is not vacuous.
			w.faulty.Heal(storetest.AllMethods)
			h2 := &spy{}
			rec = httptest.NewRecorder()
			a.Authenticate(middleware.Require("read:tasks")(h2)).ServeHTTP(rec, request("GET", "/", "Bearer "+w.alice))
			require.Equal(t, 200, rec.Code)
			assert.True(t, h2.called.Load())
		})
	}
}

// TestMalformedNeverReachesStore: S3 through the middleware.
func TestMalformedNeverReachesStore(t *testing.T) {
	w := newWorld(t)
	before := w.faulty.Calls(storetest.AllMethods)
	last := "A"
	if strings.HasSuffix(w.alice, "A") {
		last = "B"
	}
	tampered := w.alice[:len(w.alice)-1] + last // checksum fails
	for _, auth := range []string{"Bearer " + tampered, "Bearer tap_short", "Bearer abc", "Bearer " + w.alice + "x"} {
		rec := httptest.NewRecorder()
		middleware.Authenticate(w.tokens)(&spy{}).ServeHTTP(rec, request("GET", "/", auth))
		assert.Equal(t, 401, rec.Code)
	}
	assert.Equal(t, before, w.faulty.Calls(storetest.AllMethods))
}

// server is the demo-like API of the end-to-end tests: tasks per
// organization, read with read:tasks, written with write:tasks; finance
// needs read:finance.
func (w *world) server(t *testing.T) *httptest.Server {
	t.Helper()
	a := newAuth(t, middleware.Config{Verifier: w.tokens, SessionCookie: "tap_session", Logger: slog.New(slog.DiscardHandler)})
	ok := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p, found := middleware.FromContext(r.Context())
		if !found {
			http.Error(rw, "no principal", 500)
			return
		}
		_, _ = rw.Write([]byte(p.UserID))
	})
	orgOf := func(r *http.Request) string { return r.PathValue("org") }
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/tasks", middleware.Require("read:tasks")(middleware.RequireOrg(orgOf)(ok)))
	mux.Handle("POST /orgs/{org}/tasks", middleware.Require("write:tasks")(middleware.RequireOrg(orgOf)(ok)))
	mux.Handle("GET /orgs/{org}/finance", middleware.Require("read:finance")(middleware.RequireOrg(orgOf)(ok)))
	srv := httptest.NewServer(a.Authenticate(mux))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, bearer string, mod ...func(*http.Request)) int {
	t.Helper()
	r, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	for _, m := range mod {
		m(r)
	}
	res, err := srv.Client().Do(r)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

// TestTroubleshooting turns the troubleshooting section of
// docs/api-authentication.txt into end-to-end tests.
func TestTroubleshooting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, w *world, srv *httptest.Server)
	}{
		{"valid token", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
			assert.Equal(t, 200, do(t, srv, "POST", "/orgs/orgA/tasks", w.alice))
		}},
		{"401 wrong token", func(t *testing.T, w *world, srv *httptest.Server) {
			wrong, err := token.Generate(token.KindAPI)
			require.NoError(t, err)
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", wrong.Reveal()))
		}},
		{"401 no token", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", ""))
		}},
		{"401 expired", func(t *testing.T, w *world, srv *httptest.Server) {
			w.clock.Advance(time.Hour - time.Second)
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice), "valid at exp-1s")
			w.clock.Advance(time.Second)
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice), "rejected at exp")
		}},
		{"401 revoked", func(t *testing.T, w *world, srv *httptest.Server) {
			require.NoError(t, w.tokens.Revoke(ctx, w.aliceT.ID))
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
		}},
		{"401 header format", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 400, do(t, srv, "GET", "/orgs/orgA/tasks", "", func(r *http.Request) {
				r.Header.Set("Authorization", w.alice)
			}))
			assert.Equal(t, 400, do(t, srv, "GET", "/orgs/orgA/tasks?access_token="+w.alice, ""))
		}},
		{"403 missing scope", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 403, do(t, srv, "GET", "/orgs/orgA/finance", w.alice))
			assert.Equal(t, 403, do(t, srv, "POST", "/orgs/orgB/tasks", w.bob))
		}},
		{"403 org-A token on an org-B resource", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 403, do(t, srv, "GET", "/orgs/orgB/tasks", w.alice))
			assert.Equal(t, 403, do(t, srv, "GET", "/orgs/orgA/tasks", w.bob))
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgB/tasks", w.bob))
		}},
		{"401 user deactivated in the directory", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
			require.NoError(t, w.st.SetUserActive("alice", false))
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
		}},
		{"401 user deprovisioned, not revived", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
			require.NoError(t, w.tokens.Deprovision(ctx, "alice"))
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
			require.NoError(t, w.st.SetUserActive("alice", true))
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice), "re-provisioning revives nothing")
		}},
		{"401 user deleted from the directory", func(t *testing.T, w *world, srv *httptest.Server) {
			w.st.DeleteUser("alice")
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
		}},
		{"403 user demoted", func(t *testing.T, w *world, srv *httptest.Server) {
			assert.Equal(t, 200, do(t, srv, "POST", "/orgs/orgA/tasks", w.alice))
			require.NoError(t, w.st.SetUserPermissions("alice", scope.MustParse("read:tasks read:time")))
			assert.Equal(t, 403, do(t, srv, "POST", "/orgs/orgA/tasks", w.alice), "write:tasks lost")
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice), "read:tasks kept")
		}},
		{"403 user moved to another organization", func(t *testing.T, w *world, srv *httptest.Server) {
			require.NoError(t, w.st.PutUser(store.User{ID: "alice", OrgID: "orgB", Active: true, Permissions: scope.MustParse("write:tasks")}))
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgB/tasks", w.alice), "an org-A token never reaches org-B data")
		}},
		{"OAuth access token 200, S5 refresh token 401", func(t *testing.T, w *world, srv *httptest.Server) {
			access, _, err := w.tokens.Issue(ctx, token.IssueRequest{
				Kind: token.KindAccess, ClientID: "app", UserID: "alice", OrgID: "orgA", FamilyID: "fam_1", Scopes: scope.MustParse("read:tasks"),
			})
			require.NoError(t, err)
			refresh, _, err := w.tokens.Issue(ctx, token.IssueRequest{
				Kind: token.KindRefresh, ClientID: "app", UserID: "alice", OrgID: "orgA", FamilyID: "fam_1", Scopes: scope.MustParse("read:tasks"),
				ExpiresAt: t0.Add(24 * time.Hour),
			})
			require.NoError(t, err)
			assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", access.Reveal()))
			assert.Equal(t, 403, do(t, srv, "POST", "/orgs/orgA/tasks", access.Reveal()), "the grant was read:tasks only")
			assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", refresh.Reveal()))
		}},
		{"503 store down", func(t *testing.T, w *world, srv *httptest.Server) {
			w.faulty.Fail(storetest.AllMethods, nil)
			assert.Equal(t, 503, do(t, srv, "GET", "/orgs/orgA/tasks", w.alice))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.run(t, w, w.server(t))
		})
	}
}

func TestSessionEndToEnd(t *testing.T) {
	w := newWorld(t)
	srv := w.server(t)
	sec, _, err := w.tokens.CreateSession(context.Background(), "alice")
	require.NoError(t, err)
	cookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "tap_session", Value: sec.Reveal()}) }
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }

	assert.Equal(t, 200, do(t, srv, "GET", "/orgs/orgA/tasks", "", cookie), "valid session")
	assert.Equal(t, 403, do(t, srv, "POST", "/orgs/orgA/tasks", "", cookie, header("Sec-Fetch-Site", "cross-site")), "cross-site POST")
	assert.Equal(t, 403, do(t, srv, "POST", "/orgs/orgA/tasks", "", cookie, header("Origin", "https://evil.example")), "cross-origin POST")
	assert.Equal(t, 200, do(t, srv, "POST", "/orgs/orgA/tasks", "", cookie, header("Sec-Fetch-Site", "same-origin")), "same-origin POST")
	assert.Equal(t, 200, do(t, srv, "POST", "/orgs/orgA/tasks", "", cookie, header("Origin", srv.URL)), "same-origin POST by Origin")
	assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", sec.Reveal()), "a session secret is no bearer token")
	assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", "", func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "tap_session", Value: w.alice})
	}), "an API token is no session")
	w.clock.Advance(token.DefaultSessionLifetime)
	assert.Equal(t, 401, do(t, srv, "GET", "/orgs/orgA/tasks", "", cookie), "expired session")
}
