package middleware

// parseBearer parses an Authorization header value of the form
// RFC 6750 §2.1 gives:
//
//	credentials = "Bearer" 1*SP b64token
//	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// with the scheme compared case-insensitively and optional whitespace
// (SP, HTAB) around the value, which RFC 9110 §5.5 excludes from it. It
// returns the token, a substring of v, and whether v is well formed. A
// value longer than [MaxAuthorizationLen] is refused. It does not allocate.
func parseBearer(v string) (string, bool) {
	if len(v) > MaxAuthorizationLen {
		return "", false
	}
	v = trimOWS(v)
	const scheme = "bearer"
	if len(v) < len(scheme)+2 || !equalFoldASCII(v[:len(scheme)], scheme) || v[len(scheme)] != ' ' {
		return "", false
	}
	tok := v[len(scheme)+1:]
	for len(tok) > 0 && tok[0] == ' ' {
		tok = tok[1:]
	}
	// 1*b64char, then *"=".
	i := 0
	for i < len(tok) && isB64Char(tok[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	for i < len(tok) && tok[i] == '=' {
		i++
	}
	if i != len(tok) {
		return "", false
	}
	return tok, true
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// equalFoldASCII reports whether s equals the lower-case ASCII word lower,
// ignoring ASCII case.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isB64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// otherScheme reports whether v, an Authorization value that is not a
// well-formed Bearer one, holds credentials of another scheme: an RFC 9110
// §11.4 auth-scheme other than "Bearer", one or more spaces, and something
// after them ("Basic Zm9vOmJhcg=="). A value longer than
// [MaxAuthorizationLen] is not.
func otherScheme(v string) bool {
	if len(v) > MaxAuthorizationLen {
		return false
	}
	v = trimOWS(v)
	i := 0
	for i < len(v) && isTChar(v[i]) {
		i++
	}
	if i == 0 || i == len(v) || v[i] != ' ' || equalFoldASCII(v[:i], "bearer") {
		return false
	}
	for i < len(v) && v[i] == ' ' {
		i++
	}
	return i < len(v)
}

// isTChar reports whether c is an RFC 9110 §5.6.2 tchar.
func isTChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
		c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~'
}
