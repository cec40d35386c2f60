package oauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
)

// FuzzAuthorizeQuery: whatever the query, the authorization endpoint never
// redirects to a URI that is not registered; its only other redirect is
// the host's login page.
func FuzzAuthorizeQuery(f *testing.F) {
	fx := newFx(f)
	for _, c := range []string{"web-app", "spa", "other"} {
		if err := fx.consents.RememberConsent(f.Context(), alice, c, scope.Default.All()); err != nil {
			f.Fatal(err)
		}
	}
	var registered []string
	for _, c := range []string{"web-app", "spa", "other", "svc"} {
		cl, err := fx.mem.Client(f.Context(), c)
		if err != nil {
			f.Fatal(err)
		}
		registered = append(registered, cl.RedirectURIs...)
	}
	f.Add(authorizeQuery(fx.web, webRedirect, "write:tasks").Encode(), true)
	f.Add(authorizeQuery(fx.spa, "http://127.0.0.1:8080/cb", "read:tasks").Encode(), true)
	f.Add(authorizeQuery(fx.spa, "http://127.0.0.1:8080/cb", "read:tasks").Encode(), false)
	f.Add(authorizeQuery(fx.web, "https://evil.example/cb", "write:tasks").Encode(), true)
	f.Add("response_type=token&client_id=web-app&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&state=x", true)
	f.Add("client_id=spa&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%40evil.example%2Fcb", true)
	f.Add("client_id=web-app&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&redirect_uri=https%3A%2F%2Fevil.example", true)
	f.Fuzz(func(t *testing.T, rawQuery string, signedIn bool) {
		if strings.ContainsAny(rawQuery, " #\x00\r\n") {
			return // not a request line net/http would accept
		}
		user := ""
		if signedIn {
			user = alice
		}
		r := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)
		r.URL.RawQuery = rawQuery
		if user != "" {
			r.Header.Set(sessionHd, user)
		}
		w := httptest.NewRecorder()
		fx.srv.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		if w.Code < 300 || w.Code >= 400 {
			if loc != "" {
				t.Fatalf("status %d with Location %q", w.Code, loc)
			}
			return
		}
		if strings.HasPrefix(loc, "https://login.tapioca.test/signin?") && !signedIn {
			return
		}
		base := loc
		for _, p := range []string{"?code=", "&code=", "?error=", "&error="} {
			if i := strings.Index(loc, p); i >= 0 && i < len(base) {
				base = loc[:i]
			}
		}
		for _, reg := range registered {
			if oauth.MatchRedirectURI(reg, base) {
				return
			}
		}
		t.Fatalf("redirect to an unregistered URI: %q (query %q)", loc, rawQuery)
	})
}

var tokenErrorCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "server_error": true, "temporarily_unavailable": true,
}

// FuzzTokenForm: whatever the body and Authorization header, the token
// endpoint answers 200 only for a valid grant — here only client
// credentials with the right secret can be one — and every error is valid
// JSON with an RFC 6749 §5.2 code.
func FuzzTokenForm(f *testing.F) {
	fx := newFx(f, func(c *oauth.Config) { c.FailedAuthBurst = 1 << 30 })
	good := basicHeader(fx.svc.id, fx.svc.secret)
	f.Add("grant_type=client_credentials&scope=read%3Atasks", good)
	f.Add("grant_type=client_credentials&scope=read%3Atasks&client_id=svc&client_secret="+url.QueryEscape(fx.svc.secret), "")
	f.Add("grant_type=authorization_code&code=tap_code_x&redirect_uri=x&code_verifier="+verifier, good)
	f.Add("grant_type=refresh_token&refresh_token=tap_refresh_0000000000000000000000000000", good)
	f.Add("grant_type=password&username=a&password=b", good)
	f.Add("grant_type=client_credentials&grant_type=client_credentials", good)
	f.Add("%zz=1", "Basic !!")
	f.Add("grant_type=client_credentials&scope=read%3Atasks", "Basic "+strings.Repeat("A", 3000))
	f.Fuzz(func(t *testing.T, body, auth string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			if strings.ContainsAny(auth, "\r\n\x00") {
				return // not a header net/http would deliver
			}
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		fx.srv.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			v, err := url.ParseQuery(body)
			if err != nil || v.Get("grant_type") != "client_credentials" {
				t.Fatalf("200 for %q", body)
			}
			viaPost := v.Get("client_id") == "svc" && v.Get("client_secret") == fx.svc.secret
			if !viaPost && !isBasic(auth, "svc", fx.svc.secret) {
				t.Fatalf("200 without the client's credentials: %q %q", body, auth)
			}
			return
		}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("status %d, invalid JSON %q", w.Code, w.Body.String())
		}
		if !tokenErrorCodes[e.Error] {
			t.Fatalf("unknown error code %q", e.Error)
		}
		if strings.ContainsAny(e.Description, "\"\r\n\\") {
			t.Fatalf("bad description %q", e.Description)
		}
	})
}

// isBasic decodes client_secret_basic credentials independently of the
// server's parser.
func isBasic(h, id, secret string) bool {
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimLeft(h[6:], " "))
	if err != nil {
		return false
	}
	i := strings.IndexByte(string(raw), ':')
	if i < 0 {
		return false
	}
	gotID, err1 := url.QueryUnescape(string(raw[:i]))
	gotSecret, err2 := url.QueryUnescape(string(raw[i+1:]))
	return err1 == nil && err2 == nil && gotID == id && gotSecret == secret
}

var loopbackRE = regexp.MustCompile(`^(http://(?:127\.0\.0\.1|\[::1\]))(?::[0-9]{1,5})?([/?].*)?$`)

// FuzzMatchRedirectURI: a match means byte-equal, or both loopback
// IP-literal URIs differing only in the port.
func FuzzMatchRedirectURI(f *testing.F) {
	f.Add("https://app.example/cb", "https://app.example/cb")
	f.Add("https://app.example/cb", "https://APP.example/cb")
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb")
	f.Add("http://[::1]:1/cb?x=1", "http://[::1]:65535/cb?x=1")
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:80@evil/cb")
	f.Add("http://localhost/cb", "http://localhost:1/cb")
	f.Add("http://127.0.0.1", "http://127.0.0.1:99999")
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !oauth.MatchRedirectURI(registered, requested) {
			return
		}
		if strings.Contains(requested, "#") || registered == "" {
			t.Fatalf("matched %q with %q", registered, requested)
		}
		if registered == requested {
			return
		}
		a, b := loopbackRE.FindStringSubmatch(registered), loopbackRE.FindStringSubmatch(requested)
		if a == nil || b == nil || a[1] != b[1] || a[2] != b[2] {
			t.Fatalf("matched %q with %q", registered, requested)
		}
	})
}
