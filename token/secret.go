package token

import (
	"fmt"
	"io"
	"log/slog"
	"unsafe"
)

// Mask is what a [Secret] prints instead of its value, and what [Redact]
// puts in place of a secret found in text. It is not itself a secret and
// [Scan] never matches it.
const Mask = "tap_[REDACTED]"

// maxSecretLen is the length of the longest secret, a refresh or session
// secret: "tap_refresh_" + 28.
const maxSecretLen = len(PrefixRefresh) + BodyLen

// Secret holds a tap_ secret in plaintext. It redacts itself everywhere it
// could leak — every fmt verb (%v %+v %#v %s %q %x …), [slog.LogValuer],
// JSON and text encoding — and reveals its value only through
// [Secret.Reveal]. Even printed by reflection as an unexported field of
// another struct, it shows only a pointer. The zero Secret is empty.
//
// Secrets are comparable: two copies of one secret are equal, and every
// non-zero secret differs from the zero Secret.
type Secret struct {
	v *secretValue
}

// secretValue is the plaintext, behind a pointer so that reflection-based
// printers (fmt on an unexported field) print an address, not the value.
// One allocation holds everything.
type secretValue struct {
	kind Kind
	n    uint8
	buf  [maxSecretLen]byte
}

// newSecret copies s (at most maxSecretLen bytes) into a new Secret.
func newSecret(s string, k Kind) Secret {
	v := &secretValue{kind: k}
	v.n = uint8(copy(v.buf[:], s))
	return Secret{v: v}
}

// Reveal returns the plaintext secret. Call it only to hand the secret to
// its owner, once, or to put it on the wire.
func (s Secret) Reveal() string {
	if s.v == nil || s.v.n == 0 {
		return ""
	}
	return unsafe.String(&s.v.buf[0], int(s.v.n))
}

// Kind returns the kind the secret was generated as ([KindAPI] for a "tap_"
// secret found by [Scan]); 0 for the zero Secret.
func (s Secret) Kind() Kind {
	if s.v == nil {
		return 0
	}
	return s.v.kind
}

// IsZero reports whether s holds no secret.
func (s Secret) IsZero() bool { return s.v == nil || s.v.n == 0 }

// String returns [Mask].
func (s Secret) String() string { return Mask }

// GoString returns [Mask], for %#v.
func (s Secret) GoString() string { return Mask }

// Format writes [Mask] for every verb and flag.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Mask) }

// LogValue returns [Mask] as a string value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Mask) }

// MarshalText returns [Mask].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Mask), nil }

// MarshalJSON returns [Mask] as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Mask + `"`), nil }
