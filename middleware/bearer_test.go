package middleware

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// bearerRE is the RFC 6750 §2.1 grammar with optional surrounding
// whitespace: the reference parseBearer is checked against.
var bearerRE = regexp.MustCompile(`^[ \t]*(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)[ \t]*$`)

func TestParseBearer(t *testing.T) {
	tests := []struct {
		in, tok string
		ok      bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer  abc", "abc", true},
		{"  Bearer abc \t", "abc", true},
		{"Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g==", true},
		{"Bearer tap_0000000000000000000000000000", "tap_0000000000000000000000000000", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer =", "", false},
		{"Bearer a=b", "", false},
		{"Bearer a b", "", false},
		{"Bearer\tabc", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"Bearer ab\x00c", "", false},
		{"Bearer é", "", false},
		{"", "", false},
		{"Bearer " + strings.Repeat("a", MaxAuthorizationLen-7), strings.Repeat("a", MaxAuthorizationLen-7), true},
		{"Bearer " + strings.Repeat("a", MaxAuthorizationLen-6), "", false},
		{"Bearer\u212a abc", "", false}, // Kelvin sign folds to k in Unicode, not ASCII
	}
	for _, tt := range tests {
		tok, ok := parseBearer(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.tok, tok, "%q", tt.in)
	}
}

func FuzzBearer(f *testing.F) {
	for _, s := range []string{
		"Bearer abc", "bearer tap_0000000000000000000000000000", "Bearer", "Bearer a b",
		"Basic Zm9vOmJhcg==", " Bearer x= ", "Bearer ==", "BEARER\ta", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, ok := parseBearer(v)
		m := bearerRE.FindStringSubmatch(v)
		want := m != nil && len(v) <= MaxAuthorizationLen
		if ok != want {
			t.Fatalf("parseBearer(%q) ok = %v, grammar says %v", v, ok, want)
		}
		if !ok {
			if tok != "" {
				t.Fatalf("parseBearer(%q) failed but returned %q", v, tok)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("parseBearer(%q) = %q: empty or with spaces", v, tok)
		}
		if tok != m[1] {
			t.Fatalf("parseBearer(%q) = %q, grammar says %q", v, tok, m[1])
		}
	})
}

func TestHasQueryToken(t *testing.T) {
	for q, want := range map[string]bool{
		"":                      false,
		"access_token=x":        true,
		"access_token":          true,
		"a=1&access_token=x":    true,
		"%61ccess_token=x":      true,
		"access%5Ftoken=x":      true,
		"%zz=1":                 false,
		"access_tokens=x":       false,
		"x=access_token":        false,
		"my_access_token=1":     false,
		"a=1&b=2":               false,
		"%61ccess_token%zz=bad": false, // undecodable: url.ParseQuery drops it
	} {
		assert.Equal(t, want, hasQueryToken(q), "%q", q)
	}
}
