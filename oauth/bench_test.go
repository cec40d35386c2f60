package oauth_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/storetest"
)

// benchRequest builds a server-side request the way net/http hands one to
// a handler.
func benchRequest(method, target, auth, body string) *http.Request {
	u, _ := url.ParseRequestURI(target)
	r := &http.Request{
		Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 3), Host: "auth.tapioca.test", RemoteAddr: "192.0.2.1:51234",
		RequestURI: target, Body: http.NoBody,
	}
	if auth != "" {
		r.Header["Authorization"] = []string{auth}
	}
	if body != "" {
		r.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	return r
}

// newBenchFx is a fixture on memstore directly, without the fault-injecting
// wrapper.
func newBenchFx(b *testing.B) *fx {
	return newFxWrapped(b, func(s store.Store) store.Store { return s.(*storetest.Faulty).Inner() })
}

// reportCPU adds cpu-ns/op: process CPU time per operation, GC included.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTokenEndpoint measures full rounds through the handler, a fresh
// request per iteration, with memstore.
func BenchmarkTokenEndpoint(b *testing.B) {
	b.Run("client_credentials", func(b *testing.B) {
		f := newBenchFx(b)
		auth := basicHeader(f.svc.id, f.svc.secret)
		body := "grant_type=client_credentials&scope=read%3Atasks"
		b.ReportAllocs()
		start := cpuTime()
		defer reportCPU(b, start)
		for b.Loop() {
			w := httptest.NewRecorder()
			f.srv.ServeHTTP(w, benchRequest(http.MethodPost, "/oauth/token", auth, body))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
	b.Run("authorization_code", func(b *testing.B) {
		f := newBenchFx(b)
		if err := f.consents.RememberConsent(b.Context(), alice, f.web.id, scope.MustParse("write:tasks")); err != nil {
			b.Fatal(err)
		}
		auth := basicHeader(f.web.id, f.web.secret)
		query := "/oauth/authorize?" + authorizeQuery(f.web, webRedirect, "write:tasks").Encode()
		tail := "&redirect_uri=" + url.QueryEscape(webRedirect) + "&code_verifier=" + verifier
		b.ReportAllocs()
		start := cpuTime()
		defer reportCPU(b, start)
		for b.Loop() {
			w := httptest.NewRecorder()
			r := benchRequest(http.MethodGet, query, "", "")
			r.Header[sessionHd] = []string{alice}
			f.srv.ServeHTTP(w, r)
			loc := w.Header().Get("Location")
			i := strings.Index(loc, "code=")
			if w.Code != http.StatusFound || i < 0 {
				b.Fatal(w.Code, w.Body.String())
			}
			code := loc[i+5 : i+5+len("tap_code_")+28]
			w = httptest.NewRecorder()
			f.srv.ServeHTTP(w, benchRequest(http.MethodPost, "/oauth/token", auth,
				"grant_type=authorization_code&code="+code+tail))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		f := newBenchFx(b)
		rt := f.grant(f.web, webRedirect, "write:tasks", alice).RefreshToken
		auth := basicHeader(f.web.id, f.web.secret)
		b.ReportAllocs()
		start := cpuTime()
		defer reportCPU(b, start)
		for b.Loop() {
			w := httptest.NewRecorder()
			f.srv.ServeHTTP(w, benchRequest(http.MethodPost, "/oauth/token", auth, "grant_type=refresh_token&refresh_token="+rt))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
			body := w.Body.Bytes()
			i := bytes.Index(body, []byte(`"refresh_token":"`))
			if i < 0 {
				var e any
				_ = json.Unmarshal(body, &e)
				b.Fatal(e)
			}
			rt = string(body[i+17 : i+17+len("tap_refresh_")+28])
		}
	})
}
