package scope

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
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
	Name string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("scope: unknown scope %q", e.Name)
}

// Is reports whether target is [ErrUnknownScope].
func (e *UnknownError) Is(target error) bool { return target == ErrUnknownScope }

func unknown(name string) error {
	// Quote at most a bounded prefix: the name is attacker input.
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	return &UnknownError{Name: name}
}

// Set is a set of scopes of one [Registry], held as a bit set. It is a small
// value: copy it freely and compare it with [Set.Equal]. The zero Set is
// the empty set of [Default].
//
// The plain set operations [Set.Union], [Set.Intersect] and [Set.Difference]
// work on the members as written. The questions about what a set grants —
// [Set.Contains], [Set.Satisfies], [Set.Narrow], [Set.Equivalent] — honour
// the registry's implications.
type Set struct {
	r    *Registry
	bits uint64
}

func (s Set) reg() *Registry {
	if s.r == nil {
		return Default
	}
	return s.r
}

// Registry returns the registry the set belongs to.
func (s Set) Registry() *Registry { return s.reg() }

// Parse parses a space-separated scope string (RFC 6749 §3.3) against the
// registry: case-sensitive, order-independent, tokens separated by single
// spaces. The empty string is the empty set. A repeated scope is allowed
// and counted once.
func (r *Registry) Parse(s string) (Set, error) {
	set := Set{r: r}
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
		set.bits |= 1 << i
	}
	return set, nil
}

// Parse parses a scope string against [Default]; see [Registry.Parse].
func Parse(s string) (Set, error) { return Default.Parse(s) }

// MustParse parses a scope string against [Default] and panics on error.
func MustParse(s string) Set { return Default.MustParse(s) }

// String returns the scopes as a space-separated string in the registry's
// canonical order, the form RFC 6749 §3.3 sends on the wire.
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

// MarshalText encodes the set as its canonical string.
func (s Set) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a scope string into the set, against the set's
// registry ([Default] for a zero Set).
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
// registry. Use [Set.Equivalent] to compare what they grant.
func (s Set) Equal(t Set) bool { return s.bits == t.bits && s.reg() == t.reg() }

// Equivalent reports whether both sets grant the same scopes.
func (s Set) Equivalent(t Set) bool {
	if s.reg() != t.reg() {
		return false
	}
	r := s.reg()
	return r.closureOf(s.bits) == r.closureOf(t.bits)
}

// Union returns the members of either set.
func (s Set) Union(t Set) Set {
	s.mustMatch(t)
	return Set{r: s.r, bits: s.bits | t.bits}
}

// Intersect returns the members written in both sets. It does not honour
// implications: use [Set.Narrow] to compute what both sets grant.
func (s Set) Intersect(t Set) Set {
	s.mustMatch(t)
	return Set{r: s.r, bits: s.bits & t.bits}
}

// Difference returns the members of s not written in t.
func (s Set) Difference(t Set) Set {
	s.mustMatch(t)
	return Set{r: s.r, bits: s.bits &^ t.bits}
}

// Contains reports whether the set grants the named scope, directly or
// through an implication. An unknown name is never contained.
func (s Set) Contains(name string) bool {
	r := s.reg()
	i, ok := r.index[name]
	if !ok {
		return false
	}
	if s.bits&(1<<i) != 0 {
		return true
	}
	return r.closureOf(s.bits)&(1<<i) != 0
}

// Satisfies reports whether the set grants every scope of required,
// honouring implications: "write:tasks" satisfies "read:tasks". The empty
// requirement is satisfied by every set. Sets of different registries never
// satisfy each other, except an empty requirement.
func (s Set) Satisfies(required Set) bool {
	need := required.bits &^ s.bits
	if need == 0 {
		return required.bits == 0 || s.reg() == required.reg()
	}
	if s.reg() != required.reg() {
		return false
	}
	return need&^s.r.closureOf(s.bits) == 0
}

// SatisfiesAny reports whether the set grants at least one of the scopes of
// any, honouring implications. An empty any is never satisfied.
func (s Set) SatisfiesAny(any Set) bool {
	if any.bits == 0 || s.reg() != any.reg() {
		return false
	}
	return any.bits&s.reg().closureOf(s.bits) != 0
}

// Closure returns every scope the set grants: its members and all they
// imply.
func (s Set) Closure() Set { return Set{r: s.r, bits: s.reg().closureOf(s.bits)} }

// Minimal returns the smallest set that grants exactly what s grants:
// "admin:org read:tasks" becomes "admin:org".
func (s Set) Minimal() Set { return Set{r: s.r, bits: s.reg().minimalOf(s.bits)} }

// Narrow returns what s and every one of others all grant, in minimal form.
// It is the intersection of the closures, so "write:tasks" narrowed by
// "read:tasks" is "read:tasks". Granted scope for OAuth is
// requested.Narrow(clientAllowed, userPermissions). The result never grants
// anything s does not. Sets of another registry narrow to the empty set.
func (s Set) Narrow(others ...Set) Set {
	r := s.reg()
	c := r.closureOf(s.bits)
	for _, o := range others {
		if o.reg() != r {
			return Set{r: s.r}
		}
		c &= r.closureOf(o.bits)
	}
	return Set{r: s.r, bits: r.minimalOf(c)}
}

func (s Set) mustMatch(t Set) {
	if s.reg() != t.reg() {
		panic("scope: sets of different registries")
	}
}
