package oauth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// NewClientSecret returns a new client secret (tap_secret_…) and the hash
// to keep in [store.Client.SecretHashes]. Show the secret to the client's
// owner once; store only the hash. During a rotation a client has two live
// hashes: add the new one, let the client switch, then drop the old one.
func NewClientSecret() (token.Secret, store.Hash, error) {
	sec, err := token.Generate(token.KindClientSecret)
	if err != nil {
		return token.Secret{}, store.Hash{}, err
	}
	return sec, token.Hash(sec.Reveal()), nil
}

// Limits on request input (SECURITY.md S17, S49).
const (
	maxBody        = 16 << 10
	maxClientID    = 255
	maxSecret      = 512
	maxRedirectURI = 2048
	maxState       = 512
	maxScopeLen    = 2048
	maxScopes      = 32
	maxTokenParam  = 512
)

// form holds the parameters of a token, revocation or introspection
// request, read from the body only.
type form struct {
	grantType    string
	code         string
	redirectURI  string
	verifier     string
	refreshToken string
	scope        string
	clientID     string
	clientSecret string
	token        string
	hint         string
}

var errBadForm = oerr(ErrInvalidRequest, "malformed request")

// readForm checks that r is a POST with a form body and no query, and
// parses the body. Duplicated known parameters, bad escapes, control
// characters and invalid UTF-8 → invalid_request; empty parameters count as
// absent; unknown ones are ignored (RFC 6749 §3.1, §3.2).
//
// The form's strings share memory with the body buffer: anything kept
// after the request (a map key, a stored record) must be a copy
// ([strings.Clone]), or it pins the whole body.
func readForm(w http.ResponseWriter, r *http.Request) (form, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return form{}, oerr(ErrInvalidRequest, "the request must use POST")
	}
	if r.URL.RawQuery != "" {
		return form{}, oerr(ErrInvalidRequest, "parameters must be sent in the request body")
	}
	ct := r.Header.Get("Content-Type")
	if ct != "application/x-www-form-urlencoded" {
		mt, _, _ := strings.Cut(ct, ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
			return form{}, oerr(ErrInvalidRequest, "the body must be application/x-www-form-urlencoded")
		}
	}
	if r.ContentLength > maxBody {
		return form{}, oerr(ErrInvalidRequest, "request body too large")
	}
	n := r.ContentLength
	if n < 0 {
		n = 512
	}
	buf := make([]byte, 0, n+1)
	body := http.MaxBytesReader(w, r.Body, maxBody)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return form{}, oerr(ErrInvalidRequest, "request body too large")
			}
			return form{}, oerr(ErrInvalidRequest, "unreadable request body")
		}
	}
	// buf is never written again: its bytes can back the parameter strings.
	return parseForm(unsafe.String(unsafe.SliceData(buf), len(buf)))
}

// parseForm parses an application/x-www-form-urlencoded body into a form.
func parseForm(body string) (form, error) {
	var f form
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			uk, err := unescape(k)
			if err != nil {
				return form{}, errBadForm
			}
			k = uk
		}
		var dst *string
		limit := maxTokenParam
		switch k {
		case "grant_type":
			dst = &f.grantType
		case "code":
			dst = &f.code
		case "redirect_uri":
			dst, limit = &f.redirectURI, maxRedirectURI
		case "code_verifier":
			dst = &f.verifier
		case "refresh_token":
			dst = &f.refreshToken
		case "scope":
			dst, limit = &f.scope, maxScopeLen
		case "client_id":
			dst, limit = &f.clientID, maxClientID
		case "client_secret":
			dst, limit = &f.clientSecret, maxSecret
		case "token":
			dst = &f.token
		case "token_type_hint":
			dst = &f.hint
		default:
			continue
		}
		val, err := unescape(v)
		if err != nil {
			return form{}, errBadForm
		}
		if val == "" {
			continue
		}
		if *dst != "" {
			return form{}, oerr(ErrInvalidRequest, "a parameter was sent more than once")
		}
		if len(val) > limit {
			return form{}, oerr(ErrInvalidRequest, "a parameter is too long")
		}
		if !cleanValue(val) {
			return form{}, oerr(ErrInvalidRequest, "a parameter holds forbidden characters")
		}
		*dst = val
	}
	return f, nil
}

// errEscape is a malformed percent-escape.
var errEscape = errors.New("oauth: malformed escape")

// unescape decodes an application/x-www-form-urlencoded value as
// [url.QueryUnescape] does ('+' is a space, %XX a byte), in one pass and
// one allocation, and without any for a value that needs no decoding.
func unescape(s string) (string, error) {
	n, plus := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return "", errEscape
			}
			n++
			i += 2
		case '+':
			plus = true
		}
	}
	if n == 0 && !plus {
		return s, nil
	}
	b := make([]byte, len(s)-2*n)
	j := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b[j] = byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case '+':
			b[j] = ' '
		default:
			b[j] = c
		}
		j++
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// cleanValue reports whether v is valid UTF-8 without NUL, CR or LF
// (SECURITY.md S49).
func cleanValue(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= utf8.RuneSelf:
			return utf8.ValidString(v[i:]) && !strings.ContainsAny(v[i:], "\x00\r\n")
		}
	}
	return true
}

// parseBasic decodes client_secret_basic credentials (RFC 6749 §2.3.1):
// "Basic " + base64(urlencode(id) ":" urlencode(secret)). The scheme is
// case-insensitive. Like readForm's, the strings share memory with the
// decoded header: copy what outlives the request.
func parseBasic(h string) (id, secret string, ok bool) {
	const prefix = "basic "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimLeft(h[len(prefix):], " ")
	if len(enc) > 4*(maxClientID+maxSecret+3)/3+4 {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	// raw is never written again: its bytes can back the strings.
	eid, esec, found := strings.Cut(unsafe.String(unsafe.SliceData(raw), len(raw)), ":")
	if !found {
		return "", "", false
	}
	if id, err = unescape(eid); err != nil {
		return "", "", false
	}
	if secret, err = unescape(esec); err != nil {
		return "", "", false
	}
	if id == "" || len(id) > maxClientID || len(secret) > maxSecret || !cleanValue(id) || !cleanValue(secret) {
		return "", "", false
	}
	return id, secret, true
}

var errClientAuth = oerr(ErrInvalidClient, "client authentication failed")

// authenticateClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 §2.3.1): client_secret_basic,
// client_secret_post, or none for public clients. basic reports whether
// the client tried HTTP Basic, for the WWW-Authenticate challenge.
//
// An unknown client and a wrong secret take the same path and produce the
// same error (SECURITY.md S19). Failures count against the remote address
// and, when a secret was presented, against the client ID; over either
// limit an attempt is refused with 429 before any secret is compared
// (S26). A request without a secret guesses nothing, so it is never
// refused by, nor counted against, the client ID's bucket: client IDs of
// public clients ship in their apps, and anyone could otherwise lock a
// public client out. A secret presented for a public client is a failure
// that counts against the remote address only, for the same reason.
func (s *Server) authenticateClient(r *http.Request, f *form) (c store.Client, basic bool, err error) {
	var id, secret string
	hdr := r.Header["Authorization"]
	switch {
	case len(hdr) > 1:
		return store.Client{}, false, oerr(ErrInvalidRequest, "more than one Authorization header")
	case len(hdr) == 1:
		basic = true
		if f.clientSecret != "" {
			return store.Client{}, true, oerr(ErrInvalidRequest, "more than one client authentication method")
		}
		var ok bool
		id, secret, ok = parseBasic(hdr[0])
		if !ok {
			addr := remoteHost(r)
			now := s.now()
			if wait := s.addrLimit.wait(addrKey(addr), now); wait > 0 {
				return store.Client{}, true, &rateLimitedError{retryAfter(wait)}
			}
			s.addrLimit.fail(addrKey(addr), now)
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "oauth: client authentication failed",
				slog.String("reason", "malformed Basic credentials"), slog.String("remote", addr))
			return store.Client{}, true, errClientAuth
		}
		if f.clientID != "" && f.clientID != id {
			return store.Client{}, true, oerr(ErrInvalidRequest, "client_id does not match the Authorization header")
		}
	case f.clientSecret != "":
		if f.clientID == "" {
			return store.Client{}, false, oerr(ErrInvalidRequest, "client_secret without client_id")
		}
		id, secret = f.clientID, f.clientSecret
	case f.clientID != "":
		id = f.clientID
	default:
		return store.Client{}, false, oerr(ErrInvalidClient, "client authentication required")
	}

	addr := remoteHost(r)
	now := s.now()
	// The check and the record of a failure bracket the lookup and the
	// comparison, so attempts in flight at once count against the limit.
	// Only an attempt with a secret takes part in the client ID's bucket;
	// whether the client is public is known after the lookup, and then the
	// attempt leaves the bucket without counting (clientFailed stays
	// false), so an unknown client and a wrong secret still take one path.
	var cwait time.Duration
	var cb *bucket
	limitClient := secret != ""
	if limitClient {
		cwait, cb = s.clientLimit.begin(id, now)
	}
	akey := addrKey(addr)
	await, ab := s.addrLimit.begin(akey, now)
	failed, clientFailed := false, false
	defer func() {
		if limitClient && cwait == 0 {
			s.clientLimit.end(id, cb, now, clientFailed)
		}
		if await == 0 {
			s.addrLimit.end(akey, ab, now, failed)
		}
	}()
	if wait := max(cwait, await); wait > 0 {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "oauth: client authentication rate limited",
			slog.String("remote", addr))
		return store.Client{}, basic, &rateLimitedError{retryAfter(wait)}
	}

	c, err = s.st.Client(r.Context(), id)
	known := err == nil && c.ID == id
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, basic, unavailable(err)
	}
	ok := 0
	if secret != "" {
		h := token.Hash(secret)
		hashes := c.SecretHashes
		if !known || c.Public || len(hashes) == 0 {
			hashes = []store.Hash{s.dummyHash}
		}
		for i := range hashes {
			if !hashes[i].IsZero() {
				ok |= subtle.ConstantTimeCompare(h[:], hashes[i][:])
			}
		}
		if !known || c.Public || len(c.SecretHashes) == 0 {
			ok = 0
		}
	} else if known && c.Public {
		ok = 1
	}
	if ok != 1 {
		failed = true
		clientFailed = !(known && c.Public)
		client := "unknown"
		if known {
			client = c.ID
		}
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "oauth: client authentication failed",
			slog.String("client", client), slog.String("remote", addr))
		return store.Client{}, basic, errClientAuth
	}
	return c, basic, nil
}

// addrKey is the rate limiter's key for a remote host: an IPv4 address as
// is, an IPv6 address by its /64 prefix — the smallest block one
// subscriber is usually given, so rotating addresses inside it does not
// escape the limit.
func addrKey(host string) string {
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() {
		return host
	}
	if a.Is4In6() {
		return a.Unmap().String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return host
	}
	return p.String()
}

// remoteHost returns the host part of r.RemoteAddr.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
