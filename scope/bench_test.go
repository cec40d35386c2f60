package scope_test

import (
	"testing"

	"tapioca.dev/auth/scope"
)

var (
	sinkSet    scope.Set
	sinkBool   bool
	sinkString string
)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s, err := scope.Parse("read:tasks write:time")
		if err != nil {
			b.Fatal(err)
		}
		sinkSet = s
	}
}

func BenchmarkSatisfies(b *testing.B) {
	cases := []struct {
		name           string
		have, required string
		want           bool
	}{
		// A token checked by a handler that needs one scope it holds.
		{"direct", "read:tasks write:time read:users", "read:tasks", true},
		// The implication path: write:tasks grants read:tasks.
		{"implied", "write:tasks read:time", "read:tasks", true},
		// An org admin calling an endpoint that needs two scopes.
		{"admin", "admin:org", "read:finance write:time", true},
		// Denied: the token lacks the scope.
		{"denied", "write:tasks read:time", "read:finance", false},
	}
	for _, c := range cases {
		have, required := scope.MustParse(c.have), scope.MustParse(c.required)
		if have.Satisfies(required) != c.want {
			b.Fatalf("%s satisfies %s: want %v", c.have, c.required, c.want)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = have.Satisfies(required)
			}
		})
	}
}

// BenchmarkNarrow computes an OAuth grant: requested ∩ client-allowed ∩ the
// user's permissions.
func BenchmarkNarrow(b *testing.B) {
	requested := scope.MustParse("write:tasks read:finance admin:billing")
	client := scope.MustParse("admin:org")
	user := scope.MustParse("read:tasks read:finance")
	if got := requested.Narrow(client, user).String(); got != "read:tasks read:finance" {
		b.Fatalf("Narrow = %q", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		sinkSet = requested.Narrow(client, user)
	}
}

func BenchmarkString(b *testing.B) {
	s := scope.MustParse("read:tasks write:time")
	b.ReportAllocs()
	for b.Loop() {
		sinkString = s.String()
	}
}
