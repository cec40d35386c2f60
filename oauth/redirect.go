package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"tapioca.dev/auth/store"
)

// loopbackHosts are the only hosts whose redirect URIs match in any port
// (RFC 8252 §7.3). "localhost" is not one of them (RFC 8252 §8.3).
var loopbackHosts = [...]string{"http://127.0.0.1", "http://[::1]"}

// MatchRedirectURI reports whether requested is allowed by the registered
// redirect URI: it is byte-for-byte equal (no normalization of case,
// escapes, trailing slashes, ports or query order; RFC 9700 §2.1), or both
// are loopback IP-literal http URIs (http://127.0.0.1, http://[::1]) that
// differ only in the port, which a native app picks at run time (RFC 8252
// §7.3). A requested URI with a fragment never matches.
func MatchRedirectURI(registered, requested string) bool {
	if registered == "" || strings.IndexByte(requested, '#') >= 0 {
		return false
	}
	if registered == requested {
		return true
	}
	rh, rrest, ok := splitLoopback(registered)
	if !ok {
		return false
	}
	qh, qrest, ok := splitLoopback(requested)
	return ok && rh == qh && rrest == qrest
}

// splitLoopback splits a loopback redirect URI into its scheme and host,
// and what follows the port; ok is false for anything else.
func splitLoopback(u string) (host, rest string, ok bool) {
	for _, h := range loopbackHosts {
		if !strings.HasPrefix(u, h) {
			continue
		}
		rest = u[len(h):]
		if strings.HasPrefix(rest, ":") {
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			if !validPort(rest[1:i]) {
				return "", "", false
			}
			rest = rest[i:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return "", "", false
		}
		return h, rest, true
	}
	return "", "", false
}

// validPort accepts 1–65535 written without leading zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// ValidateRedirectURI checks a redirect URI before a host registers it
// (SECURITY.md S9): an absolute https URI; an http URI only on a loopback
// IP literal (127.0.0.1 or [::1], any port at use); or a private-use scheme
// of a native app, named by a reversed domain (com.example.app:/cb, RFC
// 8252 §7.1). It refuses fragments, wildcards, user info, backslashes, dot
// segments, control characters and anything longer than 2 KiB.
func ValidateRedirectURI(uri string) error {
	switch {
	case uri == "":
		return errors.New("oauth: empty redirect URI")
	case len(uri) > maxRedirectURI:
		return errors.New("oauth: redirect URI longer than 2048 bytes")
	case strings.ContainsAny(uri, "#"):
		return errors.New("oauth: redirect URI with a fragment")
	case strings.ContainsAny(uri, "*"):
		return errors.New("oauth: redirect URI with a wildcard")
	case strings.ContainsAny(uri, "\\ \t\"<>{}|^`"):
		return errors.New("oauth: redirect URI with a forbidden character")
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] < 0x21 || uri[i] > 0x7e {
			return errors.New("oauth: redirect URI with a control or non-ASCII character")
		}
	}
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("oauth: redirect URI does not parse")
	}
	if u.User != nil || strings.Contains(authority(uri), "@") {
		return errors.New("oauth: redirect URI with user info")
	}
	path := u.EscapedPath()
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." || strings.EqualFold(seg, "%2e") || strings.EqualFold(seg, "%2e%2e") ||
			strings.EqualFold(seg, ".%2e") || strings.EqualFold(seg, "%2e.") {
			return errors.New("oauth: redirect URI with a dot segment")
		}
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" || u.Opaque != "" || u.Hostname() == "" {
			return errors.New("oauth: https redirect URI without a host")
		}
	case "http":
		if _, _, ok := splitLoopback(uri); !ok || u.Opaque != "" {
			return errors.New("oauth: http redirect URIs are allowed only on 127.0.0.1 or [::1]")
		}
	case "":
		return errors.New("oauth: redirect URI is not absolute")
	default:
		if !strings.Contains(u.Scheme, ".") {
			return errors.New("oauth: a native app's redirect URI scheme must be a reversed domain name")
		}
		if u.Host != "" {
			return errors.New("oauth: a private-use scheme redirect URI takes no host")
		}
	}
	return nil
}

// authority returns the authority part of an absolute URI ("" if none).
func authority(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[:i]
	}
	return rest
}

// ValidateClient checks a client before a host registers it: a known,
// consistent set of grant types; one or two secret hashes for a
// confidential client and none for a public one, which may not use
// client_credentials; and valid, distinct redirect URIs when it uses the
// authorization code grant.
func ValidateClient(c store.Client) error {
	if c.ID == "" || len(c.ID) > maxClientID || !cleanValue(c.ID) {
		return errors.New("oauth: client ID must be 1 to 255 printable bytes")
	}
	if len(c.GrantTypes) == 0 {
		return errors.New("oauth: client has no grant type")
	}
	for _, gt := range c.GrantTypes {
		switch gt {
		case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
		default:
			return fmt.Errorf("oauth: unsupported grant type %q", gt)
		}
	}
	code := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !code {
		return errors.New("oauth: refresh_token needs authorization_code")
	}
	if c.Public {
		if len(c.SecretHashes) != 0 {
			return errors.New("oauth: a public client has no secret")
		}
		if slices.Contains(c.GrantTypes, GrantClientCredentials) {
			return errors.New("oauth: a public client cannot use client_credentials")
		}
	} else {
		if len(c.SecretHashes) < 1 || len(c.SecretHashes) > 2 {
			return errors.New("oauth: a confidential client has one or two secret hashes")
		}
		for _, h := range c.SecretHashes {
			if h.IsZero() {
				return errors.New("oauth: zero secret hash")
			}
		}
	}
	if code && len(c.RedirectURIs) == 0 {
		return errors.New("oauth: the authorization code grant needs a redirect URI")
	}
	for i, u := range c.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			return err
		}
		if slices.Contains(c.RedirectURIs[:i], u) {
			return errors.New("oauth: duplicate redirect URI")
		}
	}
	if c.Scopes.IsEmpty() {
		return errors.New("oauth: client has no scope")
	}
	return nil
}
