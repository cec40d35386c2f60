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
