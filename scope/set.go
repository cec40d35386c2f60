package scope

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// ErrUnknownScope is matched by every error about a scope name the registry
// does not know.
var ErrUnknownScope = errors.New("scope: unknown scope")

// ErrSyntax is matched by errors about a scope string outside the RFC 6749
// §3.3 grammar: empty tokens, leading, trailing or double spaces, or bytes
// outside the scope-token alphabet.
var ErrSyntax = errors.New("scope: malformed scope string")

// UnknownError reports a scope name that the registry does not know. It
// matches [ErrUnknownScope] with [errors.Is].
type UnknownError struct {
	// Name is the unknown name as given, cut after 64 bytes (on a UTF-8
	// character boundary) and marked "…" when longer.
	Name string
}

// Error returns the message, with the name quoted.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("scope: unknown scope %q", e.Name)
}

// Is reports whether target is [ErrUnknownScope].
func (e *UnknownError) Is(target error) bool { return target == ErrUnknownScope }

func unknown(name string) error {
	// Quote at most a bounded prefix: the name is attacker input. Cut
	// before a UTF-8 character that straddles byte 64, not inside it.
	if len(name) > 64 {
		n := 64
		for k := 1; k < utf8.UTFMax && !utf8.RuneStart(name[n]); k++ {
			n--
		}
		name = name[:n] + "…"
	}
	return &UnknownError{Name: name}
}

// Set is a set of scopes of one [Registry], held as a bit set together with
// its closure, so that the questions about what it grants are a mask and a
// compare. It is a small comparable value: copy it freely. Two sets are == exactly when they are
// [Set.Equal]. The zero Set is the empty set of [Default].
//
// The plain set operations [Set.Union], [Set.Intersect] and [Set.Difference]
// work on the members as written. The questions about what a set grants —
// [Set.Contains], [Set.Satisfies], [Set.SatisfiesAny], [Set.Narrow],
// [Set.Equivalent] — honour the registry's implications.
type Set struct {
	r      *Registry // nil for Default; see Registry.set
	bits   uint64    // the members as written
	grants uint64    // the closure of bits: the members and all they imply
}

func (s Set) reg() *Registry {
	if s.r == nil {
		return Default
	}
	return s.r
}

// with returns a set of s's registry with the given bits.
func (s Set) with(b uint64) Set { return Set{r: s.r, bits: b, grants: s.reg().closureOf(b)} }

// Registry returns the registry the set belongs to.
func (s Set) Registry() *Registry { return s.reg() }

// Parse parses a space-separated scope string (RFC 6749 §3.3) against the
// registry: case-sensitive, order-independent, tokens separated by single
// spaces. The empty string is the empty set. A repeated scope is allowed
// and counted once. A malformed string gives an error matching [ErrSyntax];
// a well-formed token the registry does not know gives an [*UnknownError]
// matching [ErrUnknownScope] that names it.
func (r *Registry) Parse(s string) (Set, error) {
	var b uint64
	for len(s) > 0 {
		n := strings.IndexByte(s, ' ')
		var tok string
		if n < 0 {
			tok, s = s, ""
		} else {
			tok, s = s[:n], s[n+1:]
			if s == "" {
				return Set{}, fmt.Errorf("%w: trailing space", ErrSyntax)
			}
		}
		if tok == "" {
			return Set{}, fmt.Errorf("%w: empty scope token", ErrSyntax)
		}
		i, ok := r.index[tok]
		if !ok {
			if !validName(tok) {
				return Set{}, fmt.Errorf("%w: invalid character in scope token", ErrSyntax)
			}
			return Set{}, unknown(tok)
		}
		b |= 1 << i
	}
	return r.set(b), nil
}

// Parse parses a scope string against [Default]; see [Registry.Parse].
func Parse(s string) (Set, error) { return Default.Parse(s) }

// MustParse parses a scope string against [Default] and panics on error.
func MustParse(s string) Set { return Default.MustParse(s) }

// String returns the scopes as a space-separated string in the registry's
// canonical order, the form RFC 6749 §3.3 sends on the wire. The empty set
// is the empty string.
func (s Set) String() string {
	if s.bits == 0 {
		return ""
	}
	r := s.reg()
	n := 0
	for b := s.bits; b != 0; b &= b - 1 {
		n += len(r.names[bits.TrailingZeros64(b)]) + 1
	}
	var sb strings.Builder
	sb.Grow(n - 1)
	for b := s.bits; b != 0; b &= b - 1 {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(r.names[bits.TrailingZeros64(b)])
	}
	return sb.String()
}

// Names returns the members in canonical order.
func (s Set) Names() []string {
	r := s.reg()
	out := make([]string, 0, bits.OnesCount64(s.bits))
	for b := s.bits; b != 0; b &= b - 1 {
		out = append(out, r.names[bits.TrailingZeros64(b)])
	}
	return out
}

// MarshalText encodes the set as its canonical string, so a Set is a JSON
// string and fits a text database column.
func (s Set) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a scope string into the set, against the set's
// registry ([Default] for a zero Set). On error the set is unchanged.
func (s *Set) UnmarshalText(text []byte) error {
	set, err := s.reg().Parse(string(text))
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// Len returns the number of members as written (not of the closure).
func (s Set) Len() int { return bits.OnesCount64(s.bits) }

// IsEmpty reports whether the set has no members.
func (s Set) IsEmpty() bool { return s.bits == 0 }

// Equal reports whether both sets have exactly the same members and
// registry; it is the same as ==. Use [Set.Equivalent] to compare what they
// grant.
func (s Set) Equal(t Set) bool { return s == t }

// Equivalent reports whether both sets grant the same scopes: their
// closures are equal. Sets of different registries are never equivalent.
func (s Set) Equivalent(t Set) bool { return s.r == t.r && s.grants == t.grants }

// Union returns the members of either set. It panics if the sets belong to
// different registries.
func (s Set) Union(t Set) Set {
	s.mustMatch(t)
	return Set{r: s.r, bits: s.bits | t.bits, grants: s.grants | t.grants}
}

// Intersect returns the members written in both sets. It does not honour
// implications: use [Set.Narrow] to compute what both sets grant. It panics
// if the sets belong to different registries.
func (s Set) Intersect(t Set) Set {
	s.mustMatch(t)
	return s.with(s.bits & t.bits)
}

// Difference returns the members of s not written in t. It panics if the
// sets belong to different registries.
func (s Set) Difference(t Set) Set {
	s.mustMatch(t)
	return s.with(s.bits &^ t.bits)
}

// Contains reports whether the set grants the named scope, directly or
// through an implication. An unknown name is never contained.
func (s Set) Contains(name string) bool {
	i, ok := s.reg().index[name]
	return ok && s.grants&(1<<i) != 0
}

// Satisfies reports whether the set grants every scope of required,
// honouring implications: "write:tasks" satisfies "read:tasks". The empty
// requirement is satisfied by every set. Sets of different registries never
// satisfy each other, except an empty requirement.
func (s Set) Satisfies(required Set) bool {
	return required.bits&^s.grants == 0 && (s.r == required.r || required.bits == 0)
}

// SatisfiesAny reports whether the set grants at least one of the scopes of
// candidates, honouring implications. Empty candidates are never satisfied.
func (s Set) SatisfiesAny(candidates Set) bool {
	return candidates.bits&s.grants != 0 && s.r == candidates.r
}

// Closure returns every scope the set grants: its members and all they
// imply.
func (s Set) Closure() Set { return Set{r: s.r, bits: s.grants, grants: s.grants} }

// Minimal returns the smallest set that grants exactly what s grants: the
// members no other member implies. "admin:org read:tasks" becomes
// "admin:org".
func (s Set) Minimal() Set {
	return Set{r: s.r, bits: s.reg().minimalOf(s.bits), grants: s.grants}
}

// Narrow returns what s and every one of others all grant, in minimal form.
// It is the intersection of the closures, so "write:tasks" narrowed by
// "read:tasks" is "read:tasks". Granted scope for OAuth is
// requested.Narrow(clientAllowed, userPermissions). The result never grants
// anything s (or any of others) does not. Sets of another registry narrow to
// the empty set.
func (s Set) Narrow(others ...Set) Set {
	c := s.grants
	for _, o := range others {
		if o.r != s.r {
			return Set{r: s.r}
		}
		c &= o.grants
	}
	// An intersection of closures is closed: c is what the result grants.
	return Set{r: s.r, bits: s.reg().minimalOf(c), grants: c}
}

func (s Set) mustMatch(t Set) {
	if s.r != t.r {
		panic("scope: sets of different registries")
	}
}
