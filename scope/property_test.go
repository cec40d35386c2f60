package scope_test

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
)

// The property tests (S43) check the algebra laws on random sets drawn with a
// fixed seed, over Default and over random registries whose implications form
// a random DAG. What a set grants is computed here independently, by a graph
// search over the declared implications, and compared with the package.

const iterations = 2000

type world struct {
	name  string
	reg   *scope.Registry
	names []string
	idx   map[string]int // position in names
	reach []uint64       // reach[i] bit j: holding names[i] grants names[j] (the oracle)
}

func newWorld(t testing.TB, name string, names []string, imps []scope.Implication) world {
	t.Helper()
	reg, err := scope.NewRegistry(names, imps)
	require.NoError(t, err)
	next := map[string][]string{}
	for _, imp := range imps {
		next[imp.From] = append(next[imp.From], imp.To)
	}
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	reach := make([]uint64, len(names))
	for i, n := range names {
		seen := map[string]bool{n: true}
		stack := []string{n}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, m := range next[cur] {
				if !seen[m] {
					seen[m] = true
					stack = append(stack, m)
				}
			}
		}
		for m := range seen {
			reach[i] |= 1 << idx[m]
		}
	}
	return world{name: name, reg: reg, names: names, idx: idx, reach: reach}
}

// randomWorld builds a registry of n scopes with random implications that
// respect a random hidden order, so they are acyclic.
func randomWorld(t testing.TB, rng *rand.Rand, n int, density float64) world {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%02d:%c", i, 'a'+rng.IntN(26))
	}
	order := rng.Perm(n) // implications go from higher to lower rank
	var imps []scope.Implication
	for i := range n {
		for j := range n {
			if order[i] > order[j] && rng.Float64() < density {
				imps = append(imps, scope.Implication{From: names[i], To: names[j]})
			}
		}
	}
	return newWorld(t, fmt.Sprintf("random%d", n), names, imps)
}

func worlds(t testing.TB) []world {
	rng := rand.New(rand.NewPCG(2026, 12))
	return []world{
		newWorld(t, "default", defaultOrder, []scope.Implication{
			{From: "write:tasks", To: "read:tasks"},
			{From: "write:time", To: "read:time"},
			{From: "write:finance", To: "read:finance"},
			{From: "admin:org", To: "write:tasks"},
			{From: "admin:org", To: "write:time"},
			{From: "admin:org", To: "write:finance"},
			{From: "admin:org", To: "read:users"},
		}),
		randomWorld(t, rng, 12, 0.25),
		randomWorld(t, rng, 40, 0.08),
		randomWorld(t, rng, scope.MaxScopes, 0.05),
	}
}

// randSet draws a random subset of the world's scopes, sometimes empty,
// sometimes everything, usually a few.
func (w world) randSet(rng *rand.Rand) scope.Set {
	var picked []string
	switch rng.IntN(10) {
	case 0: // empty
	case 1:
		picked = w.names
	default:
		p := rng.Float64() * 0.5
		for _, n := range w.names {
			if rng.Float64() < p {
				picked = append(picked, n)
			}
		}
	}
	s, err := w.reg.New(picked...)
	if err != nil {
		panic(err)
	}
	return s
}

// members returns the members of s as a mask over w.names, bit i for
// names[i].
func (w world) members(s scope.Set) uint64 {
	var m uint64
	for _, n := range s.Names() {
		m |= 1 << w.idx[n]
	}
	return m
}

// grants is the oracle: every scope the members of s grant, as a mask.
func (w world) grants(s scope.Set) uint64 {
	var g uint64
	for _, n := range s.Names() {
		g |= w.reach[w.idx[n]]
	}
	return g
}

func has(mask uint64, i int) bool { return mask&(1<<i) != 0 }

func subset(a, b uint64) bool { return a&^b == 0 }

func forAll(t *testing.T, law func(t *testing.T, w world, rng *rand.Rand)) {
	t.Parallel()
	for _, w := range worlds(t) {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			for range iterations {
				law(t, w, rng)
				if t.Failed() {
					return
				}
			}
		})
	}
}

func TestClosureMatchesOracle(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a := w.randSet(rng)
		want := w.grants(a)
		assert.Equal(t, want, w.members(a.Closure()), "closure of %s", a)
		for i, n := range w.names {
			if has(want, i) != a.Contains(n) {
				t.Errorf("%s contains %s: got %v", a, n, !has(want, i))
			}
		}
		// Closure is extensive and idempotent.
		assert.True(t, subset(w.members(a), w.members(a.Closure())))
		assert.Equal(t, a.Closure(), a.Closure().Closure())
	})
}

func TestLawsUnionIntersect(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a, b, c := w.randSet(rng), w.randSet(rng), w.randSet(rng)
		// Commutative.
		assert.Equal(t, a.Union(b), b.Union(a))
		assert.Equal(t, a.Intersect(b), b.Intersect(a))
		// Associative.
		assert.Equal(t, a.Union(b).Union(c), a.Union(b.Union(c)))
		assert.Equal(t, a.Intersect(b).Intersect(c), a.Intersect(b.Intersect(c)))
		// Idempotent.
		assert.Equal(t, a, a.Union(a))
		assert.Equal(t, a, a.Intersect(a))
		// Absorption.
		assert.Equal(t, a, a.Union(a.Intersect(b)))
		assert.Equal(t, a, a.Intersect(a.Union(b)))
		// Distributive.
		assert.Equal(t, a.Intersect(b.Union(c)), a.Intersect(b).Union(a.Intersect(c)))
		// Difference partitions a.
		assert.Equal(t, a, a.Difference(b).Union(a.Intersect(b)))
		assert.True(t, a.Difference(b).Intersect(b).IsEmpty())
		// Against the plain member sets.
		ma, mb := w.members(a), w.members(b)
		assert.Equal(t, ma|mb, w.members(a.Union(b)))
		assert.Equal(t, ma&mb, w.members(a.Intersect(b)))
		assert.Equal(t, ma&^mb, w.members(a.Difference(b)))
		assert.Equal(t, bits.OnesCount64(ma), a.Len())
		assert.Equal(t, ma == 0, a.IsEmpty())
		assert.Equal(t, ma == mb, a.Equal(b))
		assert.Equal(t, a.Equal(b), a == b)
	})
}

func TestLawsNarrow(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a, b, c := w.randSet(rng), w.randSet(rng), w.randSet(rng)
		ab := a.Narrow(b)
		// Commutative, associative and idempotent up to equivalence; the
		// minimal form is unique, so the results are even equal.
		assert.True(t, ab.Equivalent(b.Narrow(a)))
		assert.Equal(t, ab, b.Narrow(a))
		assert.True(t, ab.Narrow(c).Equivalent(a.Narrow(b.Narrow(c))))
		assert.Equal(t, a.Narrow(b, c), ab.Narrow(c))
		assert.True(t, a.Narrow(a).Equivalent(a))
		assert.Equal(t, a.Minimal(), a.Narrow(a))
		// Never widens: the result grants nothing an input does not.
		ga, gb, gab := w.grants(a), w.grants(b), w.grants(ab)
		assert.True(t, subset(gab, ga), "%s ∧ %s = %s widens %s", a, b, ab, a)
		assert.True(t, subset(gab, gb), "%s ∧ %s = %s widens %s", a, b, ab, b)
		assert.True(t, a.Satisfies(ab))
		assert.True(t, b.Satisfies(ab))
		// And it is the intersection of what they grant: nothing is lost.
		assert.Equal(t, ga&gb, gab, "%s ∧ %s = %s", a, b, ab)
		if a.Satisfies(c) && b.Satisfies(c) {
			assert.True(t, ab.Satisfies(c))
		}
		// Narrowing with more sets never grants more.
		assert.True(t, ab.Satisfies(a.Narrow(b, c)))
		assert.Equal(t, ab, ab.Minimal(), "Narrow returns minimal form")
	})
}

func TestLawsSatisfies(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a, b := w.randSet(rng), w.randSet(rng)
		if rng.IntN(3) == 0 { // make satisfied cases common
			b = b.Intersect(a.Closure())
		}
		ga, gb := w.grants(a), w.grants(b)
		want := subset(gb, ga)
		assert.Equal(t, want, a.Satisfies(b), "%s satisfies %s", a, b)
		assert.Equal(t, want, a.Closure().Satisfies(b.Closure()))
		// Satisfies agrees with Contains, name by name.
		all := true
		anyOf := false
		for _, n := range b.Names() {
			all = all && a.Contains(n)
			anyOf = anyOf || a.Contains(n)
		}
		assert.Equal(t, all, a.Satisfies(b))
		assert.Equal(t, anyOf, a.SatisfiesAny(b))
		assert.Equal(t, ga == gb, a.Equivalent(b))
		assert.Equal(t, a.Satisfies(b) && b.Satisfies(a), a.Equivalent(b))
		assert.True(t, a.Satisfies(a))
		assert.True(t, a.Union(b).Satisfies(a))
		assert.True(t, a.Satisfies(a.Intersect(b)))
	})
}

func TestLawsMinimal(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a := w.randSet(rng)
		m := a.Minimal()
		assert.True(t, m.Equivalent(a), "%s minimal %s", a, m)
		assert.Equal(t, w.grants(a), w.grants(m))
		assert.True(t, subset(w.members(m), w.members(a)), "Minimal only drops members")
		assert.Equal(t, m, m.Minimal())
		assert.Equal(t, m, a.Closure().Minimal())
		// Minimal: dropping any member loses something, because no member
		// is granted by another.
		for _, x := range m.Names() {
			rest := m.Difference(w.reg.MustParse(x))
			if rest.Equivalent(a) {
				t.Errorf("%s without %s is still equivalent", m, x)
			}
			for _, y := range m.Names() {
				if x != y && has(w.reach[w.idx[y]], w.idx[x]) {
					t.Errorf("%s implies %s, both in %s", y, x, m)
				}
			}
		}
	})
}

func TestLawsParseFormat(t *testing.T) {
	forAll(t, func(t *testing.T, w world, rng *rand.Rand) {
		a := w.randSet(rng)
		s := a.String()
		// Canonical: registry order, single spaces.
		assert.Equal(t, strings.Join(a.Names(), " "), s)
		idx := func(n string) int { return slices.Index(w.names, n) }
		assert.True(t, slices.IsSortedFunc(a.Names(), func(x, y string) int { return idx(x) - idx(y) }))
		// parse ∘ format is the identity.
		p, err := w.reg.Parse(s)
		require.NoError(t, err)
		assert.Equal(t, a, p)
		// Any order, with repeats, formats back to the canonical string.
		toks := append(a.Names(), a.Names()...)
		rng.Shuffle(len(toks), func(i, j int) { toks[i], toks[j] = toks[j], toks[i] })
		q, err := w.reg.Parse(strings.Join(toks, " "))
		require.NoError(t, err)
		assert.Equal(t, s, q.String())
		// And through MarshalText / UnmarshalText.
		text, err := a.MarshalText()
		require.NoError(t, err)
		back := w.reg.Empty()
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, a, back)
	})
}
