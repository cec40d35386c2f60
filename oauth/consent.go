package oauth

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strconv"
	"sync"

	"tapioca.dev/auth/scope"
)

// MemoryConsents is an in-memory [ConsentStore] for tests, examples and
// single-process hosts. The zero value is ready to use; it is safe for
// concurrent use.
type MemoryConsents struct {
	mu sync.RWMutex
	m  map[consentKey]scope.Set
}

type consentKey struct{ user, client string }

var _ ConsentStore = (*MemoryConsents)(nil)

// Consented reports whether the remembered consent of the user to the
// client grants every scope of scopes.
func (c *MemoryConsents) Consented(_ context.Context, userID, clientID string, scopes scope.Set) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	got, ok := c.m[consentKey{userID, clientID}]
	return ok && got.Satisfies(scopes), nil
}

// RememberConsent adds scopes to the remembered consent of the user to the
// client.
func (c *MemoryConsents) RememberConsent(_ context.Context, userID, clientID string, scopes scope.Set) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[consentKey]scope.Set)
	}
	k := consentKey{userID, clientID}
	if old, ok := c.m[k]; ok && old.Registry() == scopes.Registry() {
		scopes = old.Union(scopes)
	}
	c.m[k] = scopes
	return nil
}

// RevokeConsent forgets the consent of the user to the client.
func (c *MemoryConsents) RevokeConsent(_ context.Context, userID, clientID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, consentKey{userID, clientID})
	return nil
}

var consentTmpl = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{.ClientName}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>Authorize {{.ClientName}}</h1>
<p>{{.ClientName}} asks to access your account with these permissions:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main></body></html>
`))

// defaultConsentPage renders the built-in consent page.
func defaultConsentPage(w http.ResponseWriter, _ *http.Request, p *ConsentPrompt) {
	var buf bytes.Buffer
	if err := consentTmpl.Execute(&buf, p); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeHTML(w, http.StatusOK, buf.Bytes())
}

var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization failed</title></head>
<body><main><h1>Authorization failed</h1><p>{{.}}</p></main></body></html>
`))

// errorPage shows an authorization error that must not be redirected: no
// 3xx, no Location (SECURITY.md S10). The messages are fixed texts.
func (s *Server) errorPage(w http.ResponseWriter, e pageError) {
	w.Header().Del("Location")
	var buf bytes.Buffer
	_ = errorTmpl.Execute(&buf, e.msg)
	writeHTML(w, e.status, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
