package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/token"
)

type errBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Scope       string `json:"scope"`
}

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) errBody {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var b errBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
	return b
}

// TestBearer covers S35–S37 and S39 with a fake verifier.
func TestBearer(t *testing.T) {
	const challenge = `Bearer realm="tapioca"`
	invalid := `Bearer realm="tapioca", error="invalid_token", error_description="the access token is invalid, expired or revoked"`
	malformed := `Bearer realm="tapioca", error="invalid_request", error_description="malformed Authorization header; expected: Bearer <token>"`
	tests := []struct {
		name      string
		target    string
		auth      []string
		wantCode  int
		wantError string // JSON error
		wantWWW   string
	}{
		{"S35 no credentials", "/", nil, 401, "unauthorized", challenge},
		{"valid", "/", []string{"Bearer good"}, 200, "", ""},
		{"S36 scheme lower case", "/", []string{"bearer good"}, 200, "", ""},
		{"S36 scheme upper case", "/", []string{"BEARER good"}, 200, "", ""},
		{"S36 scheme mixed case", "/", []string{"bEaReR good"}, 200, "", ""},
		{"several spaces", "/", []string{"Bearer   good"}, 200, "", ""},
		{"surrounding whitespace", "/", []string{" Bearer good\t"}, 200, "", ""},
		{"S36 bare Bearer", "/", []string{"Bearer"}, 400, "invalid_request", malformed},
		{"S36 Bearer and space", "/", []string{"Bearer "}, 400, "invalid_request", malformed},
		{"S36 two tokens", "/", []string{"Bearer good good"}, 400, "invalid_request", malformed},
		{"S36 two tokens comma", "/", []string{"Bearer good, Bearer good"}, 400, "invalid_request", malformed},
		{"S36 junk", "/", []string{"%%%"}, 400, "invalid_request", malformed},
		{"S36 token without scheme", "/", []string{"good"}, 400, "invalid_request", malformed},
		// RFC 6750 §3.1: a request that "attempted using an unsupported
		// authentication method" lacks authentication information: 401
		// with the bare challenge, no error code.
		{"other scheme", "/", []string{"Basic Z29vZDpnb29k"}, 401, "unauthorized", challenge},
		{"other scheme with params", "/", []string{`Digest username="a", realm="b"`}, 401, "unauthorized", challenge},
		{"other scheme oversized", "/", []string{"Basic " + strings.Repeat("a", middleware.MaxAuthorizationLen)}, 400, "invalid_request", malformed},
		{"S36 junk scheme", "/", []string{"B@sic abc"}, 400, "invalid_request", malformed},
		{"S36 scheme glued", "/", []string{"Bearergood"}, 400, "invalid_request", malformed},
		{"S36 tab separator", "/", []string{"Bearer\tgood"}, 400, "invalid_request", malformed},
		{"S36 bad token char", "/", []string{"Bearer go\"od"}, 400, "invalid_request", malformed},
		{"S36 empty header", "/", []string{""}, 400, "invalid_request", malformed},
		{"S36 several headers", "/", []string{"Bearer good", "Bearer good"}, 400, "invalid_request", malformed},
		{"S36 oversized", "/", []string{"Bearer " + strings.Repeat("a", middleware.MaxAuthorizationLen)}, 400, "invalid_request", malformed},
		{"S37 unknown", "/", []string{"Bearer nope"}, 401, "invalid_token", invalid},
		{"S37 token-looking", "/", []string{"Bearer tap_0000000000000000000000000000"}, 401, "invalid_token", invalid},
		{"S39 query token only", "/?access_token=good", nil, 400, "invalid_request", ""},
		{"S39 query token and header", "/?access_token=good", []string{"Bearer good"}, 400, "invalid_request", ""},
		{"S39 query token escaped", "/?x=1&%61ccess_token=good", nil, 400, "invalid_request", ""},
		{"other query", "/?access=1&token=2", []string{"Bearer good"}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &spy{}
			rec := httptest.NewRecorder()
			middleware.Authenticate(newFake())(h).ServeHTTP(rec, request("GET", tt.target, tt.auth...))
			require.Equal(t, tt.wantCode, rec.Code, rec.Body.String())
			if tt.wantCode == 200 {
				require.True(t, h.called.Load())
				require.True(t, h.ok)
				assert.Equal(t, "tok_good", h.p.TokenID)
				return
			}
			assert.False(t, h.called.Load(), "handler called on failure")
			b := decodeErr(t, rec)
			assert.Equal(t, tt.wantError, b.Error)
			if tt.wantWWW != "" {
				assert.Equal(t, tt.wantWWW, rec.Header().Get("WWW-Authenticate"))
			} else {
				www := rec.Header().Get("WWW-Authenticate")
				assert.True(t, strings.HasPrefix(www, challenge), www)
			}
			if tt.wantCode == 401 && tt.wantError == "unauthorized" {
				_, has := challengeAttr(rec.Header().Get("WWW-Authenticate"), "error")
				assert.False(t, has, "S35: no error attribute without credentials")
			}
		})
	}
}

// TestInvalidTokenOneText: every kind of invalid token gets the same
// response (S37).
func TestInvalidTokenOneText(t *testing.T) {
	causes := []error{token.ErrInvalid, token.ErrMalformed, errors.Join(token.ErrInvalid, errors.New("expired")), errors.Join(token.ErrInvalid, errors.New("revoked"))}
	var first *httptest.ResponseRecorder
	for _, cause := range causes {
		f := newFake()
		f.verify = func(context.Context, string) (token.Principal, error) { return token.Principal{}, cause }
		rec := httptest.NewRecorder()
		middleware.Authenticate(f)(&spy{}).ServeHTTP(rec, request("GET", "/", "Bearer x"))
		require.Equal(t, 401, rec.Code)
		if first == nil {
			first = rec
			continue
		}
		assert.Equal(t, first.Body.String(), rec.Body.String())
		assert.Equal(t, first.Header(), rec.Header())
	}
}

// TestFailClosedFake: verifier failures never let a request through and
// never blame the token for a store failure (S46–S48).
func TestFailClosedFake(t *testing.T) {
	tests := []struct {
		name     string
		verify   func(ctx context.Context, secret string) (token.Principal, error)
		timeout  time.Duration
		wantCode int
		wantErr  *middleware.Error
	}{
		{"store error", func(context.Context, string) (token.Principal, error) {
			return token.Principal{}, errors.Join(token.ErrUnavailable, errors.New("db down"))
		}, 0, 503, middleware.ErrUnavailable},
		{"unclassified error", func(context.Context, string) (token.Principal, error) {
			return token.Principal{}, errors.New("boom")
		}, 0, 500, middleware.ErrServerError},
		{"empty principal, nil error", func(context.Context, string) (token.Principal, error) {
			return token.Principal{}, nil
		}, 0, 401, middleware.ErrInvalidToken},
		{"panic", func(context.Context, string) (token.Principal, error) {
			panic("store exploded")
		}, 0, 500, middleware.ErrServerError},
		{"panic with nil error value", func(context.Context, string) (token.Principal, error) {
			var err error
			panic(err)
		}, 0, 500, middleware.ErrServerError},
		{"hang past Timeout", func(ctx context.Context, _ string) (token.Principal, error) {
			<-ctx.Done()
			return token.Principal{}, ctx.Err()
		}, 10 * time.Millisecond, 503, middleware.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.verify = tt.verify
			var got *middleware.Error
			a := newAuth(t, middleware.Config{
				Verifier: f, Timeout: tt.timeout, Logger: slog.New(slog.DiscardHandler),
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, e *middleware.Error) {
					got = e
					middleware.WriteError(w, r, e)
				},
			})
			h := &spy{}
			rec := httptest.NewRecorder()
			a.Authenticate(h).ServeHTTP(rec, request("GET", "/", "Bearer good"))
			assert.False(t, h.called.Load(), "handler called on failure")
			require.Equal(t, tt.wantCode, rec.Code)
			require.ErrorIs(t, got, tt.wantErr)
			b := decodeErr(t, rec)
			assert.Equal(t, tt.wantErr.Code, b.Error)
			if tt.wantCode >= 500 {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "a server failure does not challenge the token")
				assert.NotContains(t, rec.Body.String(), "invalid_token")
			}
		})
	}
}

// TestRequestDeadline: a verifier that waits on the request's context
// answers 503 when the request's own deadline passes.
func TestRequestDeadline(t *testing.T) {
	f := newFake()
	f.verify = func(ctx context.Context, _ string) (token.Principal, error) {
		<-ctx.Done()
		return token.Principal{}, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	h := &spy{}
	rec := httptest.NewRecorder()
	a := newAuth(t, middleware.Config{Verifier: f, Logger: slog.New(slog.DiscardHandler)})
	a.Authenticate(h).ServeHTTP(rec, request("GET", "/", "Bearer good").WithContext(ctx))
	assert.Equal(t, 503, rec.Code)
	assert.False(t, h.called.Load())
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name      string
		mw        func(http.Handler) http.Handler
		token     string
		wantCode  int
		wantScope string
	}{
		{"exact scope", middleware.Require("read:tasks"), "good", 200, ""},
		{"S38 missing scope", middleware.Require("write:tasks"), "good", 403, "write:tasks"},
		{"S38 all of, one missing", middleware.Require("read:tasks", "read:time"), "good", 403, "read:tasks read:time"},
		{"implication admin:org ⇒ read:tasks, read:time", middleware.Require("read:tasks", "read:time"), "admin", 200, ""},
		{"admin:org does not imply admin:billing", middleware.Require("admin:billing"), "admin", 403, "admin:billing"},
		{"any of, one held", middleware.RequireAny("write:time", "read:tasks"), "good", 200, ""},
		{"any of, none held", middleware.RequireAny("write:time", "read:finance"), "good", 403, "write:time read:finance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &spy{}
			rec := httptest.NewRecorder()
			middleware.Authenticate(newFake())(tt.mw(h)).ServeHTTP(rec, request("GET", "/", "Bearer "+tt.token))
			require.Equal(t, tt.wantCode, rec.Code)
			if tt.wantCode == 200 {
				assert.True(t, h.called.Load())
				return
			}
			assert.False(t, h.called.Load())
			b := decodeErr(t, rec)
			assert.Equal(t, "insufficient_scope", b.Error)
			assert.Equal(t, tt.wantScope, b.Scope)
			www := rec.Header().Get("WWW-Authenticate")
			errAttr, _ := challengeAttr(www, "error")
			assert.Equal(t, "insufficient_scope", errAttr)
			scopeAttr, _ := challengeAttr(www, "scope")
			assert.Equal(t, tt.wantScope, scopeAttr)
		})
	}
}

func TestRequirePanicsAtWiring(t *testing.T) {
	assert.Panics(t, func() { middleware.Require() })
	assert.Panics(t, func() { middleware.Require("read:task") }, "no prefix matching")
	assert.Panics(t, func() { middleware.RequireAny("read:tasks", "bogus") })
	assert.Panics(t, func() { middleware.RequireOrg(nil) })
	assert.Panics(t, func() { middleware.Require("read:tasks")(nil) })
	assert.Panics(t, func() { middleware.Authenticate(nil) })
}

func TestRequireWithoutAuthenticate(t *testing.T) {
	h := &spy{}
	rec := httptest.NewRecorder()
	middleware.Require("read:tasks")(h).ServeHTTP(rec, request("GET", "/", "Bearer good"))
	assert.Equal(t, 500, rec.Code)
	assert.False(t, h.called.Load())
}

func TestOrg(t *testing.T) {
	orgOf := func(r *http.Request) string { return r.PathValue("org") }
	mux := http.NewServeMux()
	h := &spy{}
	mux.Handle("/orgs/{org}/tasks", middleware.RequireOrg(orgOf)(h))
	mux.HandleFunc("/tasks/{org}", func(w http.ResponseWriter, r *http.Request) {
		if !middleware.CheckOrg(w, r, r.PathValue("org")) {
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := middleware.Authenticate(newFake())(mux)
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/orgs/orgA/tasks", 200},
		{"/orgs/orgB/tasks", 403},
		{"/tasks/orgA", 200},
		{"/tasks/orgB", 403},
	} {
		t.Run(tt.path, func(t *testing.T) {
			h.called.Store(false)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, request("GET", tt.path, "Bearer good"))
			require.Equal(t, tt.want, rec.Code)
			assert.Equal(t, tt.want == 200, h.called.Load())
			if tt.want == 403 {
				assert.Equal(t, "access_denied", decodeErr(t, rec).Error)
			}
		})
	}
	t.Run("empty org never matches", func(t *testing.T) {
		rec := httptest.NewRecorder()
		r := request("GET", "/")
		r = r.WithContext(middleware.NewContext(r.Context(), token.Principal{TokenID: "t"}))
		assert.False(t, middleware.CheckOrg(rec, r, ""))
		assert.Equal(t, 403, rec.Code)
	})
}

func TestSessionCookie(t *testing.T) {
	const name = "tap_session"
	tests := []struct {
		name        string
		method      string
		cookies     []string
		auth        string
		headers     map[string]string
		wantCode    int
		wantCalls   int64
		wantTokenID string
	}{
		{"valid GET", "GET", []string{"tap_session_good"}, "", nil, 200, 1, "tok_sess"},
		{"valid same-origin POST", "POST", []string{"tap_session_good"}, "", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200, 1, "tok_sess"},
		{"cross-site POST", "POST", []string{"tap_session_good"}, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, 0, ""},
		{"cross-origin DELETE by Origin", "DELETE", []string{"tap_session_good"}, "", map[string]string{"Origin": "https://evil.example"}, 403, 0, ""},
		{"same-site but cross-origin PATCH", "PATCH", []string{"tap_session_good"}, "", map[string]string{"Sec-Fetch-Site": "same-site"}, 403, 0, ""},
		{"cross-site GET is safe", "GET", []string{"tap_session_good"}, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200, 1, "tok_sess"},
		{"bearer cross-site POST is not checked", "POST", nil, "Bearer good", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200, 1, "tok_good"},
		{"header wins over cookie", "GET", []string{"tap_session_good"}, "Bearer good", nil, 200, 1, "tok_good"},
		{"invalid header, valid cookie", "GET", []string{"tap_session_good"}, "Bearer nope", nil, 401, 1, ""},
		{"invalid cookie", "GET", []string{"tap_session_nope"}, "", nil, 401, 1, ""},
		{"two cookies", "GET", []string{"tap_session_good", "tap_session_good"}, "", nil, 400, 0, ""},
		{"no cookie", "GET", nil, "", nil, 401, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a := newAuth(t, middleware.Config{Verifier: f, SessionCookie: name})
			r := request(tt.method, "http://api.example/tasks")
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			for _, c := range tt.cookies {
				r.AddCookie(&http.Cookie{Name: name, Value: c})
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			h := &spy{}
			rec := httptest.NewRecorder()
			a.Authenticate(h).ServeHTTP(rec, r)
			require.Equal(t, tt.wantCode, rec.Code, rec.Body.String())
			assert.Equal(t, tt.wantCalls, f.calls.Load())
			assert.Equal(t, tt.wantCode == 200, h.called.Load())
			if tt.wantCode == 200 {
				assert.Equal(t, tt.wantTokenID, h.p.TokenID)
			}
		})
	}
	t.Run("cookie ignored when not configured", func(t *testing.T) {
		f := newFake()
		r := request("GET", "/")
		r.AddCookie(&http.Cookie{Name: name, Value: "tap_session_good"})
		rec := httptest.NewRecorder()
		middleware.Authenticate(f)(&spy{}).ServeHTTP(rec, r)
		assert.Equal(t, 401, rec.Code)
		assert.Zero(t, f.calls.Load())
	})
}

func TestConfig(t *testing.T) {
	for _, cfg := range []middleware.Config{
		{},
		{Verifier: newFake(), Realm: "a\nb"},
		{Verifier: newFake(), SessionCookie: "a b"},
		{Verifier: newFake(), SessionCookie: "a;b"},
		{Verifier: newFake(), Timeout: -1},
	} {
		_, err := middleware.New(cfg)
		assert.Error(t, err)
	}
}

func TestRealmQuoted(t *testing.T) {
	a := newAuth(t, middleware.Config{Verifier: newFake(), Realm: `my "api" \ realm`})
	rec := httptest.NewRecorder()
	a.Authenticate(&spy{}).ServeHTTP(rec, request("GET", "/"))
	assert.Equal(t, `Bearer realm="my \"api\" \\ realm"`, rec.Header().Get("WWW-Authenticate"))
}

func TestErrorHandler(t *testing.T) {
	a := newAuth(t, middleware.Config{
		Verifier: newFake(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, e *middleware.Error) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(e.StatusCode())
			_, _ = w.Write([]byte("<p>please sign in</p>"))
		},
	})
	for _, auth := range [][]string{nil, {"Bearer nope"}, {"Bearer"}} {
		h := &spy{}
		rec := httptest.NewRecorder()
		a.Authenticate(h).ServeHTTP(rec, request("GET", "/", auth...))
		assert.Equal(t, "<p>please sign in</p>", rec.Body.String())
		assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
		assert.False(t, h.called.Load())
	}
	// Scope failures go through the same handler.
	h := &spy{}
	rec := httptest.NewRecorder()
	a.Authenticate(middleware.Require("admin:org")(h)).ServeHTTP(rec, request("GET", "/", "Bearer good"))
	assert.Equal(t, 403, rec.Code)
	assert.Equal(t, "<p>please sign in</p>", rec.Body.String())
	assert.False(t, h.called.Load())
}

// TestErrorHandlerSeesRefusedPrincipal: a scope or organization refusal
// hands the hook the authenticated request.
func TestErrorHandlerSeesRefusedPrincipal(t *testing.T) {
	var seen []string
	a := newAuth(t, middleware.Config{
		Verifier: newFake(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, e *middleware.Error) {
			p, ok := middleware.FromContext(r.Context())
			if ok {
				seen = append(seen, e.Code+" "+p.TokenID)
			} else {
				seen = append(seen, e.Code)
			}
			middleware.WriteError(w, r, e)
		},
	})
	orgB := middleware.RequireOrg(func(*http.Request) string { return "orgB" })
	for _, h := range []http.Handler{
		a.Authenticate(middleware.Require("admin:org")(&spy{})),
		a.Authenticate(orgB(&spy{})),
	} {
		h.ServeHTTP(httptest.NewRecorder(), request("GET", "/", "Bearer good"))
	}
	a.Authenticate(&spy{}).ServeHTTP(httptest.NewRecorder(), request("GET", "/", "Bearer nope"))
	assert.Equal(t, []string{"insufficient_scope tok_good", "access_denied tok_good", "invalid_token"}, seen)
}

func TestFromContextEmpty(t *testing.T) {
	_, ok := middleware.FromContext(context.Background())
	assert.False(t, ok)
}

// TestContextCancellation: the context the handler sees is cancelled with
// the request's.
func TestContextCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var inner context.Context
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner = r.Context() })
	middleware.Authenticate(newFake())(h).ServeHTTP(httptest.NewRecorder(), request("GET", "/", "Bearer good").WithContext(ctx))
	require.NotNil(t, inner)
	child, cancelChild := context.WithCancel(inner)
	defer cancelChild()
	cancel()
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.Canceled)
}

// TestFormBodyTokenIgnored: RFC 6750 §2.2 is not supported; a token in a
// form body is not read, so the request has no credentials (S39).
func TestFormBodyTokenIgnored(t *testing.T) {
	f := newFake()
	h := &spy{}
	r := httptest.NewRequest("POST", "/", strings.NewReader("access_token=good"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	middleware.Authenticate(f)(h).ServeHTTP(rec, r)
	assert.Equal(t, 401, rec.Code)
	assert.False(t, h.called.Load())
	assert.Zero(t, f.calls.Load())
}
