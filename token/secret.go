package token

import (
	"fmt"
	"log/slog"
)

// Mask is what a [Secret] prints instead of its value, and what [Redact]
// puts in place of a secret found in text.
const Mask = "tap_[REDACTED]"

// Secret holds a tap_ secret in plaintext. It redacts itself everywhere it
// could leak — every fmt verb, [slog.LogValuer], JSON and text encoding —
// and reveals its value only through [Secret.Reveal]. The zero Secret is
// empty.
type Secret struct {
	s    string
	kind Kind
}

// Reveal returns the plaintext secret. Call it only to hand the secret to
// its owner, once.
func (s Secret) Reveal() string { return s.s }

// Kind returns the kind the secret was generated as.
func (s Secret) Kind() Kind { return s.kind }

// IsZero reports whether s holds no secret.
func (s Secret) IsZero() bool { return s.s == "" }

// String returns [Mask].
func (s Secret) String() string { return Mask }

// GoString returns [Mask], for %#v.
func (s Secret) GoString() string { return Mask }

// Format writes [Mask] for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Mask)) }

// LogValue returns [Mask] as a string value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Mask) }

// MarshalText returns [Mask].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Mask), nil }

// MarshalJSON returns [Mask] as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Mask + `"`), nil }
