package middleware_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"tapioca.dev/auth/middleware"
)

// FuzzAuthenticate sends arbitrary Authorization values, query strings and
// cookies through Authenticate + Require. Whatever comes in: no panic; the
// handler runs only for a valid credential (the fake's "good" or "admin"
// bearer token, whose admin:org implies read:tasks, or its session),
// presented alone; every refusal is a JSON error with one of the documented
// statuses.
func FuzzAuthenticate(f *testing.F) {
	f.Add("Bearer good", "", "", false)
	f.Add("bearer good", "x=1", "", true)
	f.Add("", "access_token=good", "tap_session_good", false)
	f.Add("", "", "tap_session_good", true)
	f.Add("Bearer good good", "", "", false)
	f.Add("Basic Z29vZA==", "", "", false)
	f.Fuzz(func(t *testing.T, auth, rawQuery, cookie string, post bool) {
		fv := newFake()
		a, err := middleware.New(middleware.Config{Verifier: fv, SessionCookie: "sid"})
		if err != nil {
			t.Fatal(err)
		}
		h := &spy{}
		method := "GET"
		if post {
			method = "POST"
		}
		r := httptest.NewRequest(method, "http://api.example/", nil)
		r.URL.RawQuery = rawQuery
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			r.Header.Set("Cookie", "sid="+cookie)
		}
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		rec := httptest.NewRecorder()
		a.Authenticate(middleware.Require("read:tasks")(h)).ServeHTTP(rec, r)

		if h.called.Load() {
			if rec.Code != 200 {
				t.Fatalf("handler called and status %d", rec.Code)
			}
			if !h.ok || (h.p.TokenID != "tok_good" && h.p.TokenID != "tok_admin" && h.p.TokenID != "tok_sess") {
				t.Fatalf("handler called with principal %+v", h.p)
			}
			q, _ := url.ParseQuery(rawQuery)
			if q.Has("access_token") {
				t.Fatalf("authenticated with an access_token query parameter %q", rawQuery)
			}
			if h.p.TokenID == "tok_sess" && post {
				t.Fatal("cross-site POST authenticated by the cookie")
			}
			return
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
			t.Fatalf("error body %q: %v", rec.Body.String(), err)
		}
	})
}
