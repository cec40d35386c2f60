package token

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
)

// Match is a tap_ secret that [Scan] found in a text. Printing a Match
// never shows the secret: its Secret field redacts itself.
type Match struct {
	// Kind is the kind as the prefix tells it: [KindAPI] for "tap_" (an
	// API or OAuth access token), [KindRefresh], [KindSession], [KindCode]
	// or [KindClientSecret].
	Kind Kind
	// Offset is the byte offset of the secret in the text.
	Offset int
	// Length is the secret's length in bytes.
	Length int
	// Secret is the secret found; [Secret.Reveal] returns it.
	Secret Secret
}

// scanPrefixes are the prefixes to try after "tap_", most specific first.
var scanPrefixes = [...]struct {
	prefix string
	kind   Kind
}{
	{PrefixRefresh, KindRefresh},
	{PrefixSession, KindSession},
	{PrefixClientSecret, KindClientSecret},
	{PrefixCode, KindCode},
	{PrefixBearer, KindAPI},
}

// Scan finds the tap_ secrets of every kind in text and reports those whose
// checksum holds, in order and without overlap. It is what a pre-commit hook
// or a CI secret scanner needs: look-alikes ("tap_xxxx…" in documentation,
// typos) fail the checksum and are not reported. A secret glued to letters
// or digits is reported too, as in URL-encoded "%3Dtap_…", an escaped
// "\ntap_…", "xtap_…", or two secrets printed without a space between them:
// the 32-bit checksum, not the neighbouring characters, keeps false
// positives negligible (a random secret-shaped string passes it with
// probability below 2^-32). Scan does no I/O.
func Scan(text string) []Match {
	var out []Match
	for from := 0; ; {
		start, end, k := next(text, from)
		if start < 0 {
			return out
		}
		out = append(out, Match{
			Kind: k, Offset: start, Length: end - start,
			Secret: newSecret(text[start:end], k),
		})
		from = end
	}
}

// Redact returns text with every secret that [Scan] finds replaced by
// [Mask], glued to letters or digits or not. Its result holds no substring
// that [Parse] accepts. Text without a secret is returned unchanged, without
// allocating.
func Redact(text string) string {
	var b strings.Builder
	last := 0          // text[:last] is written or masked
	curS, curE := 0, 0 // the pending masked range; empty when curE == 0
	for from := 0; ; {
		s, e, _ := next(text, from)
		if s < 0 {
			break
		}
		if curE > 0 && s < curE {
			curE = max(curE, e) // overlapping candidates are masked as one
		} else {
			if curE > 0 {
				b.WriteString(text[last:curS])
				b.WriteString(Mask)
				last = curE
			} else {
				b.Grow(len(text))
			}
			curS, curE = s, e
		}
		from = s + len(PrefixBearer) // "tap_" cannot overlap itself
	}
	if curE == 0 {
		return text
	}
	b.WriteString(text[last:curS])
	b.WriteString(Mask)
	b.WriteString(text[curE:])
	return b.String()
}

// next returns the bounds and kind of the first secret in text that starts
// at or after from, or start = -1. What surrounds the secret does not matter.
func next(text string, from int) (start, end int, k Kind) {
	for from < len(text) {
		i := strings.Index(text[from:], PrefixBearer)
		if i < 0 {
			break
		}
		i += from
		if k, n := secretAt(text[i:]); k != 0 {
			return i, i + n, k
		}
		from = i + len(PrefixBearer) // "tap_" cannot overlap itself
	}
	return -1, -1, 0
}

// secretAt reports the kind and length of the secret at the start of s, which
// begins with "tap_": a known prefix and a body whose checksum holds.
func secretAt(s string) (Kind, int) {
	for _, p := range scanPrefixes {
		if !strings.HasPrefix(s, p.prefix) {
			continue
		}
		n := len(p.prefix) + BodyLen
		if len(s) < n {
			return 0, 0
		}
		k, err := Parse(s[:n])
		if err != nil {
			return 0, 0
		}
		return k, n
	}
	return 0, 0
}

// ReplaceAttr is a [slog.HandlerOptions] ReplaceAttr function that redacts
// secrets from log attributes: a [Secret] becomes [Mask], and every secret
// that [Redact] finds in a string value, the message, an error's text, a
// []byte or the %+v form of any other value is masked (such a value is then
// logged as its redacted string). Use it as a safety net around code you do
// not control; this library's own logs carry no secrets.
//
//	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{ReplaceAttr: token.ReplaceAttr})
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, PrefixBearer) {
			if r := Redact(s); r != s {
				a.Value = slog.StringValue(r)
			}
		}
	case slog.KindLogValuer:
		a.Value = a.Value.Resolve()
		if a.Value.Kind() != slog.KindLogValuer && a.Value.Kind() != slog.KindGroup {
			return ReplaceAttr(nil, a)
		}
	case slog.KindAny:
		var s string
		switch v := a.Value.Any().(type) {
		case Secret, *Secret:
			a.Value = slog.StringValue(Mask)
			return a
		case []byte:
			if !bytes.Contains(v, []byte(PrefixBearer)) {
				return a
			}
			s = string(v)
		default:
			// fmt, not v.Error() or v.String(): it survives nil receivers
			// and panicking methods.
			s = fmt.Sprintf("%+v", v)
		}
		if strings.Contains(s, PrefixBearer) {
			if r := Redact(s); r != s {
				a.Value = slog.StringValue(r)
			}
		}
	}
	return a
}
