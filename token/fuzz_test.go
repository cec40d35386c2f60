package token_test

import (
	"hash/crc32"
	"strings"
	"testing"

	"tapioca.dev/auth/token"
)

// fixedSecret builds a valid secret of prefix with a fixed random part, so
// seed corpora are deterministic.
func fixedSecret(prefix, random string) string {
	return prefix + random + token.Checksum(prefix+random)
}

var prefixes = []string{token.PrefixBearer, token.PrefixRefresh, token.PrefixSession, token.PrefixCode, token.PrefixClientSecret}

func addSeeds(f *testing.F) {
	for _, p := range prefixes {
		s := fixedSecret(p, "0123456789ABCDEFGHIJKL")
		f.Add(s)
		f.Add("token=" + s + "\n")
		f.Add(s[:len(s)-1] + "0")
		f.Add("x" + s + "y")
	}
	f.Add("")
	f.Add("tap_")
	f.Add("tap_tap_tap_")
	f.Add(token.Mask)
	f.Add("tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	f.Add("%3D" + fixedSecret("tap_", "zzzzzzzzzzzzzzzzzzzzzz") + "%26")
	f.Add(fixedSecret("tap_", "0123456789ABCDEFGHIJKL") + fixedSecret("tap_refresh_", "0123456789ABCDEFGHIJKL") + "x")
}

func isBase62(c byte) bool { return strings.IndexByte(token.Alphabet, c) >= 0 }

// FuzzParse: Parse never panics, and whatever it accepts has the canonical
// form: a known prefix, 28 base62 characters, a CRC32 that holds.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := token.Parse(s)
		if err != nil {
			if k != 0 {
				t.Fatalf("error with kind %v", k)
			}
			return
		}
		p := token.Prefix(k)
		if p == "" || !strings.HasPrefix(s, p) || len(s) != len(p)+token.BodyLen {
			t.Fatalf("accepted %q as %v", s, k)
		}
		body := s[len(p):]
		for i := 0; i < len(body); i++ {
			if !isBase62(body[i]) {
				t.Fatalf("accepted a non-base62 body byte %q", body[i])
			}
		}
		var v uint64
		for i := token.RandomLen; i < token.BodyLen; i++ {
			v = v*62 + uint64(strings.IndexByte(token.Alphabet, body[i]))
		}
		if v != uint64(crc32.ChecksumIEEE([]byte(s[:len(s)-token.ChecksumLen]))) {
			t.Fatalf("accepted a wrong checksum")
		}
		if m := token.Scan(s); len(m) != 1 || m[0].Offset != 0 || m[0].Length != len(s) || m[0].Kind != k {
			t.Fatalf("Scan disagrees with Parse: %+v", m)
		}
		if token.Redact(s) != token.Mask {
			t.Fatalf("Redact did not mask a parsed secret")
		}
	})
}

// FuzzScan: every match parses and is where it says; matches come in order
// without overlap and none is missed, glued to its neighbours or not;
// Redact's output holds no secret.
func FuzzScan(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		matches := token.Scan(text)
		last := 0
		for _, m := range matches {
			if m.Offset < last || m.Length <= 0 || m.Offset+m.Length > len(text) {
				t.Fatalf("bad bounds %d+%d in %d bytes", m.Offset, m.Length, len(text))
			}
			last = m.Offset + m.Length
			s := text[m.Offset:last]
			if s != m.Secret.Reveal() {
				t.Fatalf("Secret differs from the text at its offset")
			}
			k, err := token.Parse(s)
			if err != nil || k != m.Kind {
				t.Fatalf("match does not parse as %v: %v", m.Kind, err)
			}
		}
		// Every parseable secret outside the matches is a miss: walk the
		// text left to right with Parse alone.
		j := 0
		for i := 0; i < len(text); i++ {
			for _, p := range prefixes {
				n := len(p) + token.BodyLen
				if i+n > len(text) || !strings.HasPrefix(text[i:], p) {
					continue
				}
				if _, err := token.Parse(text[i : i+n]); err != nil {
					continue
				}
				if j >= len(matches) || matches[j].Offset != i || matches[j].Length != n {
					t.Fatalf("Scan missed the secret at %d", i)
				}
				j++
				i += n - 1
				break
			}
		}
		if j != len(matches) {
			t.Fatalf("Scan reported %d matches, Parse finds %d", len(matches), j)
		}
		out := token.Redact(text)
		if len(token.Scan(out)) != 0 {
			t.Fatalf("Redact left a secret that Scan finds")
		}
		// No substring of the output parses, glued to its neighbours or not.
		for i := strings.Index(out, "tap_"); i >= 0; {
			for _, p := range prefixes {
				if n := len(p) + token.BodyLen; i+n <= len(out) {
					if _, err := token.Parse(out[i : i+n]); err == nil {
						t.Fatalf("Redact left a parseable secret at %d", i)
					}
				}
			}
			j := strings.Index(out[i+1:], "tap_")
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if len(token.Scan(text)) == 0 && !strings.Contains(text, "tap_") && out != text {
			t.Fatalf("Redact changed a text without tap_")
		}
	})
}
