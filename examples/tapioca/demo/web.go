package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// The web side: sign-in, sign-out and the API token settings page. Every
// HTML page denies framing, sets a strict CSP with a per-response nonce for
// its one script, and is not cached. Unsafe requests pass Go's
// cross-origin protection (Sec-Fetch-Site / Origin), and the settings forms
// also carry a CSRF token bound to the session.

// securePage sets the headers of every HTML page and returns the nonce of
// its script.
func securePage(w http.ResponseWriter) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := base64.RawStdEncoding.EncodeToString(b)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+nonce+
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	return nonce
}

// csrfToken is HMAC-SHA256(key, session token ID): bound to the session, so
// a token from another session, or none, is refused.
func (s *server) csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *server) csrfOK(r *http.Request, sessionID string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.csrfToken(sessionID)))
}

// session returns the signed-in principal of a browser request.
func (s *server) session(r *http.Request) (token.Principal, bool) {
	cs := r.CookiesNamed(sessionCookie)
	if len(cs) != 1 {
		return token.Principal{}, false
	}
	p, err := s.tokens.VerifySession(r.Context(), cs[0].Value)
	if err != nil {
		return token.Principal{}, false
	}
	return p, true
}

func (s *server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure || r.TLS != nil,
	})
}

// safeReturn accepts only a local path (no scheme, no host, no "//" or
// "/\" that browsers read as another host) as the place to go after sign-in.
func safeReturn(v string) string {
	if v == "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") ||
		strings.ContainsAny(v, "\r\n\x00") {
		return "/settings/tokens"
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/settings/tokens"
	}
	return v
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Tapioca</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;font-size:.9rem}
.error{color:#a00;background:#fee;padding:.5rem} .secret{background:#efe;padding:.8rem;border:1px solid #9c9}
input[type=text],input[type=password],input[type=number]{padding:.3rem;width:18rem} code{font-size:.95rem}
form.inline{display:inline} nav{margin-bottom:1rem}
</style></head><body>
{{end}}

{{define "login"}}{{template "head" .}}
<h1>Sign in to Tapioca</h1>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="return_to" value="{{.ReturnTo}}">
<p><label>Username<br><input type="text" name="username" id="username" autocomplete="username" required autofocus></label></p>
<p><label>Password<br><input type="password" name="password" id="password" autocomplete="current-password" required></label></p>
<p><button type="submit" id="signin">Sign in</button></p>
</form></body></html>
{{end}}

{{define "home"}}{{template "head" .}}
<h1>Tapioca demo</h1>
{{if .User}}<p>Signed in as <b>{{.User}}</b>.</p>
<ul><li><a href="/settings/tokens">API tokens</a></li></ul>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>
{{else}}<p><a href="/login">Sign in</a></p>{{end}}
<p>The API is under <code>/api/v1</code>; the OAuth 2.0 authorization server's metadata is at
<a href="/.well-known/oauth-authorization-server">/.well-known/oauth-authorization-server</a>.</p>
</body></html>
{{end}}

{{define "tokens"}}{{template "head" .}}
<nav>Signed in as <b id="user">{{.User}}</b> ({{.Org}}) ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" id="logout">Sign out</button></form></nav>
<h1>API tokens</h1>
{{if .Error}}<p class="error" id="error">{{.Error}}</p>{{end}}
{{if .NewSecret}}<div class="secret"><p><b>{{.NewName}}</b>: copy this token now. It will not be shown again.</p>
<p><input type="text" id="new-token" readonly value="{{.NewSecret}}" size="44"> <button type="button" id="copy">Copy</button></p>
<p><code>curl {{.APIURL}} -H "Authorization: Bearer …"</code></p></div>
<script nonce="{{.Nonce}}">
document.getElementById("copy").addEventListener("click", function () {
  var f = document.getElementById("new-token"); f.select();
  if (navigator.clipboard) { navigator.clipboard.writeText(f.value); } else { document.execCommand("copy"); }
  this.textContent = "Copied";
});
</script>{{end}}
<h2>New token</h2>
<form method="post" action="/settings/tokens" id="create">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<p><label>Name<br><input type="text" name="name" id="name" maxlength="100" required></label></p>
<fieldset><legend>Scopes (only those you have)</legend>
{{range .Choices}}<label><input type="checkbox" name="scope" value="{{.}}" id="scope-{{.}}"> {{.}}</label><br>{{end}}
</fieldset>
<p><label>Expires in (days)<br><input type="number" name="days" id="days" min="1" max="365" value="90" required></label></p>
<p><button type="submit" id="create-token">Create token</button></p>
</form>
<h2>Your tokens</h2>
<table id="tokens"><tr><th>Name</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr>
{{range .Tokens}}<tr data-id="{{.ID}}"><td>{{.Name}}</td><td>{{range .Scopes}}{{.}} {{end}}</td>
<td>{{.CreatedAt.Format "2006-01-02 15:04"}}</td><td>{{if .LastUsedAt}}{{.LastUsedAt.Format "2006-01-02 15:04"}}{{else}}never{{end}}</td>
<td>{{.ExpiresAt.Format "2006-01-02"}}</td>
<td><form class="inline" method="post" action="/settings/tokens/{{.ID}}/rotate"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" class="rotate">Rotate</button></form>
<form class="inline" method="post" action="/settings/tokens/{{.ID}}/revoke"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" class="revoke">Revoke</button></form></td></tr>
{{else}}<tr><td colspan="6">No tokens yet.</td></tr>{{end}}
</table>
</body></html>
{{end}}
`))

type pageData struct {
	Title, Error, ReturnTo, User, Org, CSRF, Nonce string
	NewSecret, NewName, APIURL                     string
	Choices                                        []string
	Tokens                                         []tokenView
}

func (s *server) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.Nonce = securePage(w)
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("template failed", "page", name, "error", err)
	}
}

// mountWeb registers the HTML pages.
func (s *server) mountWeb() {
	cop := http.NewCrossOriginProtection()
	web := func(pattern string, h http.HandlerFunc) { s.handle(pattern, "", cop.Handler(h)) }

	web("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		d := pageData{Title: "Home"}
		if p, ok := s.session(r); ok {
			u, _ := s.dir.get(p.UserID)
			d.User, d.CSRF = u.Name, s.csrfToken(p.TokenID)
		}
		s.render(w, http.StatusOK, "home", d)
	})
	web("GET /login", func(w http.ResponseWriter, r *http.Request) {
		ret := safeReturn(r.URL.Query().Get("return_to"))
		if _, ok := s.session(r); ok {
			http.Redirect(w, r, ret, http.StatusSeeOther)
			return
		}
		s.render(w, http.StatusOK, "login", pageData{Title: "Sign in", ReturnTo: ret})
	})
	web("POST /login", s.login)
	web("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.session(r); ok {
			if !s.csrfOK(r, p.TokenID) {
				s.render(w, http.StatusForbidden, "login", pageData{Title: "Sign in", Error: "The form expired; sign in again."})
				return
			}
			if err := s.tokens.Revoke(r.Context(), p.TokenID); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.log.ErrorContext(r.Context(), "sign-out failed", "error", err)
				http.Error(w, "sign-out failed; try again", http.StatusServiceUnavailable)
				return
			}
		}
		s.setSessionCookie(w, r, "", -1)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	web("GET /settings/tokens", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.session(r)
		if !ok {
			http.Redirect(w, r, "/login?return_to=%2Fsettings%2Ftokens", http.StatusSeeOther)
			return
		}
		s.tokensPage(w, r, p, http.StatusOK, pageData{})
	})
	web("POST /settings/tokens", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.formSession(w, r)
		if !ok {
			return
		}
		days, err := strconv.Atoi(r.PostFormValue("days"))
		if err != nil {
			s.tokensPage(w, r, p, http.StatusBadRequest, pageData{Error: "Expiry must be a number of days."})
			return
		}
		sec, rec, err := s.createToken(r.Context(), p, r.PostFormValue("name"), r.PostForm["scope"], days)
		if err != nil {
			s.tokensPage(w, r, p, http.StatusBadRequest, pageData{Error: webTokenError(err)})
			return
		}
		s.tokensPage(w, r, p, http.StatusOK, pageData{NewSecret: sec.Reveal(), NewName: rec.Name})
	})
	web("POST /settings/tokens/{id}/revoke", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.formSession(w, r)
		if !ok {
			return
		}
		if err := s.revokeToken(r.Context(), p, r.PathValue("id")); err != nil {
			s.tokensPage(w, r, p, http.StatusBadRequest, pageData{Error: webTokenError(err)})
			return
		}
		http.Redirect(w, r, "/settings/tokens", http.StatusSeeOther)
	})
	web("POST /settings/tokens/{id}/rotate", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.formSession(w, r)
		if !ok {
			return
		}
		sec, rec, err := s.rotateToken(r.Context(), p, r.PathValue("id"))
		if err != nil {
			s.tokensPage(w, r, p, http.StatusBadRequest, pageData{Error: webTokenError(err)})
			return
		}
		s.tokensPage(w, r, p, http.StatusOK, pageData{NewSecret: sec.Reveal(), NewName: rec.Name + " (rotated)"})
	})
}

// login checks the form and starts a session: a tap_session_ secret from
// the token manager in an HTTP-only, SameSite=Lax cookie.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ret := safeReturn(r.PostFormValue("return_to"))
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	keys := []string{"user:" + username, "addr:" + remoteHost(r)}
	if d := s.logins.wait(keys...); d > 0 {
		secs := int(d.Seconds()) + 1
		s.log.WarnContext(r.Context(), "sign-in throttled", "addr", remoteHost(r))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, http.StatusTooManyRequests, "login", pageData{Title: "Sign in", ReturnTo: ret,
			Error: "Too many failed sign-ins; try again in " + strconv.Itoa(secs) + " seconds."})
		return
	}
	unavailable := func() {
		s.render(w, http.StatusServiceUnavailable, "login", pageData{Title: "Sign in", ReturnTo: ret, Error: "Sign-in is unavailable; try again."})
	}
	refuse := func() {
		s.logins.fail(keys...)
		s.log.InfoContext(r.Context(), "sign-in failed", "addr", remoteHost(r))
		s.render(w, http.StatusUnauthorized, "login", pageData{Title: "Sign in", ReturnTo: ret, Error: "Wrong username or password."})
	}
	p, ok := s.dir.authenticate(username, r.PostFormValue("password"))
	if !ok {
		refuse()
		return
	}
	// Whether the user may still sign in is the store's answer, not this
	// instance's memory: a deprovisioning through another instance counts.
	// A deprovisioned user is told the same as a wrong password.
	u, err := s.user(r.Context(), p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && !u.Active:
		refuse()
		return
	case err != nil:
		unavailable()
		return
	}
	sec, rec, err := s.tokens.CreateSession(r.Context(), u.ID)
	if errors.Is(err, token.ErrUser) { // deprovisioned since
		refuse()
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "session failed", "user", u.ID, "error", err)
		unavailable()
		return
	}
	s.log.InfoContext(r.Context(), "signed in", "user", u.ID, "session", rec.ID)
	s.setSessionCookie(w, r, sec.Reveal(), int(time.Until(rec.ExpiresAt).Seconds()))
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// formSession checks a settings form: a session and its CSRF token.
func (s *server) formSession(w http.ResponseWriter, r *http.Request) (token.Principal, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, ok := s.session(r)
	if !ok {
		http.Redirect(w, r, "/login?return_to=%2Fsettings%2Ftokens", http.StatusSeeOther)
		return token.Principal{}, false
	}
	if !s.csrfOK(r, p.TokenID) {
		s.tokensPage(w, r, p, http.StatusForbidden, pageData{Error: "The form expired (CSRF check failed); try again."})
		return token.Principal{}, false
	}
	return p, true
}

func (s *server) tokensPage(w http.ResponseWriter, r *http.Request, p token.Principal, status int, d pageData) {
	u, _ := s.dir.get(p.UserID)
	ts, err := s.listTokens(r.Context(), p.UserID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "listing tokens failed", "error", err)
		d.Error = "Your tokens cannot be listed right now."
		status = http.StatusServiceUnavailable
	}
	for _, t := range ts {
		d.Tokens = append(d.Tokens, viewToken(t))
	}
	d.Title, d.User, d.Org = "API tokens", u.Name, u.OrgID
	d.CSRF = s.csrfToken(p.TokenID)
	d.Choices = scopeChoices(p.Scopes) // a session's scopes: the user's permissions now
	d.APIURL = s.url("/api/v1/tasks")
	s.render(w, status, "tokens", d)
}

func webTokenError(err error) string {
	var ve *validationError
	switch {
	case errors.As(err, &ve):
		return ve.Error()
	case errors.Is(err, errTokenNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, token.ErrInvalid):
		return "No such token."
	case errors.Is(err, token.ErrScopeExceeds):
		return "Those scopes exceed your permissions."
	case errors.Is(err, token.ErrLifetime):
		return "That expiry is not allowed."
	}
	return "Something failed; try again."
}

// remoteHost is the client's address without the port. Behind a proxy, the
// host would take it from the proxy's header instead.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
