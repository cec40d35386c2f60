package scope

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// MaxScopes is the largest number of scopes a [Registry] holds: one bit each
// in a [Set].
const MaxScopes = 64

// Errors returned when building a [Registry].
var (
	ErrDuplicate = errors.New("scope: duplicate scope name")
	ErrBadName   = errors.New("scope: name outside the RFC 6749 §3.3 grammar")
	ErrTooMany   = errors.New("scope: too many scopes for the bit set")
	ErrCycle     = errors.New("scope: implication cycle")
)

// Implication declares that holding From grants To as well.
type Implication struct {
	// From is the scope held; a name of the registry.
	From string
	// To is the scope that holding From grants as well; a name of the
	// registry.
	To string
}

// Registry is a fixed list of scope names and the implications between them.
// It is immutable once built and safe for concurrent use.
type Registry struct {
	names   []string          // bit i is names[i]; the canonical order
	index   map[string]uint8  // name → bit
	closure [MaxScopes]uint64 // closure[i]: every bit that bit i grants, i included
	implied [MaxScopes]uint64 // closure[i] without bit i: what i grants besides itself
	all     uint64
}

// NewRegistry builds a registry from scope names, in the canonical order
// that [Set.String] uses, and implications between them. It refuses
// duplicate names, names outside the RFC 6749 §3.3 scope-token grammar,
// more than [MaxScopes] names, implications naming unknown scopes and
// implication cycles, each with an error that names the culprit.
func NewRegistry(names []string, implications []Implication) (*Registry, error) {
	if len(names) > MaxScopes {
		return nil, fmt.Errorf("%w: %d names, at most %d", ErrTooMany, len(names), MaxScopes)
	}
	r := &Registry{names: slices.Clone(names), index: make(map[string]uint8, len(names))}
	for i, n := range names {
		if !validName(n) {
			return nil, fmt.Errorf("%w: %q", ErrBadName, n)
		}
		if _, dup := r.index[n]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicate, n)
		}
		r.index[n] = uint8(i)
		r.closure[i] = 1 << i
		r.all |= 1 << i
	}
	var direct [MaxScopes]uint64
	for _, imp := range implications {
		from, ok := r.index[imp.From]
		if !ok {
			return nil, fmt.Errorf("%w: %q in implication %q ⇒ %q", ErrUnknownScope, imp.From, imp.From, imp.To)
		}
		to, ok := r.index[imp.To]
		if !ok {
			return nil, fmt.Errorf("%w: %q in implication %q ⇒ %q", ErrUnknownScope, imp.To, imp.From, imp.To)
		}
		if from == to {
			return nil, fmt.Errorf("%w: %q implies itself", ErrCycle, imp.From)
		}
		direct[from] |= 1 << to
	}
	// Transitive closure by iterating to a fixed point; a scope that reaches
	// itself through other scopes closes a cycle.
	for changed := true; changed; {
		changed = false
		for i := range r.names {
			c := r.closure[i] | direct[i]
			for b := direct[i]; b != 0; b &= b - 1 {
				c |= r.closure[bits.TrailingZeros64(b)]
			}
			if c != r.closure[i] {
				r.closure[i], changed = c, true
			}
		}
	}
	for i, n := range r.names {
		for b := direct[i]; b != 0; b &= b - 1 {
			j := bits.TrailingZeros64(b)
			if r.closure[j]&(1<<i) != 0 {
				return nil, fmt.Errorf("%w: %q ⇒ %q leads back to %q", ErrCycle, n, r.names[j], n)
			}
		}
		r.implied[i] = r.closure[i] &^ (1 << i)
	}
	return r, nil
}

// MustNewRegistry is like [NewRegistry] but panics on error. It is meant for
// package-level variables built from constant input.
func MustNewRegistry(names []string, implications []Implication) *Registry {
	r, err := NewRegistry(names, implications)
	if err != nil {
		panic(err)
	}
	return r
}

// Names returns the registry's scope names in canonical order.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Has reports whether name is a scope of the registry.
func (r *Registry) Has(name string) bool {
	_, ok := r.index[name]
	return ok
}

// All returns the set of every scope in the registry.
func (r *Registry) All() Set { return r.set(r.all) }

// Empty returns the empty set of the registry.
func (r *Registry) Empty() Set { return r.set(0) }

// set returns the Set of r with the given bits. Sets of [Default] keep a nil
// registry pointer, so that the zero Set and every other empty set of
// Default are the same value, and == agrees with [Set.Equal].
func (r *Registry) set(b uint64) Set {
	s := Set{r: r, bits: b, grants: r.closureOf(b)}
	if r == Default {
		s.r = nil
	}
	return s
}

// Implies reports whether holding scope a grants scope b, directly, through a
// chain of declared implications, or because a == b. Unknown names imply
// nothing and are implied by nothing.
func (r *Registry) Implies(a, b string) bool {
	i, ok := r.index[a]
	if !ok {
		return false
	}
	j, ok := r.index[b]
	return ok && r.closure[i]&(1<<j) != 0
}

// New returns the set of the given scope names. An unknown name gives an
// error that matches [ErrUnknownScope] and names it.
func (r *Registry) New(names ...string) (Set, error) {
	var b uint64
	for _, n := range names {
		i, ok := r.index[n]
		if !ok {
			return Set{}, unknown(n)
		}
		b |= 1 << i
	}
	return r.set(b), nil
}

// MustParse is like [Registry.Parse] but panics on error. It is meant for
// constant input in tests and package-level variables.
func (r *Registry) MustParse(s string) Set {
	set, err := r.Parse(s)
	if err != nil {
		panic(err)
	}
	return set
}

// closureOf returns every bit granted by the bits in b.
func (r *Registry) closureOf(b uint64) uint64 {
	c := b
	for rest := b; rest != 0; rest &= rest - 1 {
		c |= r.implied[bits.TrailingZeros64(rest)&(MaxScopes-1)]
	}
	return c
}

// minimalOf returns the smallest subset of b whose closure equals b's: the
// members that no other member implies. Because implications are acyclic,
// every member implied by another is implied by one of those, so dropping
// them all keeps the closure.
func (r *Registry) minimalOf(b uint64) uint64 {
	var implied uint64
	for rest := b; rest != 0; rest &= rest - 1 {
		implied |= r.implied[bits.TrailingZeros64(rest)&(MaxScopes-1)]
	}
	return b &^ implied
}

// validName reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !validByte(s[i]) {
			return false
		}
	}
	return true
}

func validByte(c byte) bool {
	return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
}
