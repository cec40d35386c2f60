package scope_test

import (
	"errors"
	"strings"
	"testing"

	"tapioca.dev/auth/scope"
)

// FuzzParse checks that Parse never panics, that whatever it accepts is made
// of registry names only and formats to a string that parses back to the
// same set, and that whatever it refuses is refused with ErrSyntax or
// ErrUnknownScope.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"read:tasks",
		"read:tasks write:time",
		"write:time read:tasks read:tasks",
		"admin:billing admin:org read:users write:finance read:finance write:time read:time write:tasks read:tasks",
		" read:tasks",
		"read:tasks ",
		"read:tasks  write:time",
		" ",
		"Read:tasks",
		"read:task",
		"read:*",
		"read:tasks\twrite:time",
		`"read:tasks"`,
		"read:t\u00e2sks",
		"\x00",
		"read:tasks\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := scope.Parse(in)
		if err != nil {
			if !errors.Is(err, scope.ErrSyntax) && !errors.Is(err, scope.ErrUnknownScope) {
				t.Fatalf("Parse(%q): error %v is neither ErrSyntax nor ErrUnknownScope", in, err)
			}
			if !s.IsEmpty() {
				t.Fatalf("Parse(%q) failed but returned %q", in, s)
			}
			var ue *scope.UnknownError
			if errors.As(err, &ue) && !strings.Contains(in, strings.TrimSuffix(ue.Name, "…")) {
				t.Fatalf("Parse(%q): unknown scope %q is not from the input", in, ue.Name)
			}
			return
		}
		if in != "" {
			for _, tok := range strings.Split(in, " ") {
				if !scope.Default.Has(tok) {
					t.Fatalf("Parse(%q) accepted token %q, not a registry name", in, tok)
				}
			}
		}
		out := s.String()
		back, err := scope.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not re-parse: %v", in, out, err)
		}
		if !back.Equal(s) {
			t.Fatalf("Parse(%q) = %q, re-parsed %q", in, out, back)
		}
		if back.String() != out {
			t.Fatalf("String not canonical: %q then %q", out, back.String())
		}
	})
}

// FuzzNewRegistry builds registries from fuzzed names (comma-separated) and
// implications (byte pairs indexing the names) and checks that NewRegistry
// never panics, refuses only with its sentinel errors, and that what it
// accepts is a partial order containing every declared implication.
func FuzzNewRegistry(f *testing.F) {
	f.Add("read:tasks,write:tasks,admin:org", []byte{1, 0, 2, 1})
	f.Add("a,b,c", []byte{0, 1, 1, 2, 2, 0})
	f.Add("a,b,a", []byte{})
	f.Add("a,,b", []byte{0, 1})
	f.Add("a b,c", []byte{})
	f.Add("x", []byte{0, 0})
	f.Add("a,b,c,d", []byte{0, 1, 0, 2, 1, 3, 2, 3})
	f.Fuzz(func(t *testing.T, list string, edges []byte) {
		names := strings.Split(list, ",")
		var imps []scope.Implication
		for i := 0; i+1 < len(edges); i += 2 {
			imps = append(imps, scope.Implication{
				From: names[int(edges[i])%len(names)],
				To:   names[int(edges[i+1])%len(names)],
			})
		}
		r, err := scope.NewRegistry(names, imps)
		if err != nil {
			for _, want := range []error{scope.ErrDuplicate, scope.ErrBadName, scope.ErrTooMany, scope.ErrCycle} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("NewRegistry: unexpected error %v", err)
		}
		for _, imp := range imps {
			if !r.Implies(imp.From, imp.To) {
				t.Fatalf("declared %q ⇒ %q does not hold", imp.From, imp.To)
			}
		}
		for _, a := range names {
			if !r.Implies(a, a) {
				t.Fatalf("%q does not imply itself", a)
			}
			for _, b := range names {
				if a != b && r.Implies(a, b) && r.Implies(b, a) {
					t.Fatalf("cycle %q ⇔ %q accepted", a, b)
				}
				for _, c := range names {
					if r.Implies(a, b) && r.Implies(b, c) && !r.Implies(a, c) {
						t.Fatalf("not transitive: %q ⇒ %q ⇒ %q", a, b, c)
					}
				}
			}
		}
		all := r.All()
		back, err := r.Parse(all.String())
		if err != nil || !back.Equal(all) {
			t.Fatalf("All() = %q does not round-trip: %v", all, err)
		}
		if !all.Minimal().Equivalent(all) {
			t.Fatalf("Minimal of All is not equivalent")
		}
	})
}
