package scope_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
		len      int
	}{
		{"", "", 0},
		{"read:tasks", "read:tasks", 1},
		{"read:tasks write:time", "read:tasks write:time", 2},
		{"write:time read:tasks", "read:tasks write:time", 2},
		{"read:tasks read:tasks", "read:tasks", 1},
		{"admin:billing admin:org read:users write:finance read:finance write:time read:time write:tasks read:tasks",
			strings.Join(defaultOrder, " "), 9},
		{"admin:org read:tasks", "read:tasks admin:org", 2}, // as written: no implied member dropped
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := scope.Parse(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.String())
			assert.Equal(t, tt.len, s.Len())
			assert.Equal(t, tt.len == 0, s.IsEmpty())
			assert.Same(t, scope.Default, s.Registry())
		})
	}
}

// TestParseErrors covers S40: the RFC 6749 §3.3 grammar, case sensitivity,
// and unknown scopes.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    error
		unknown string // for ErrUnknownScope: the name the error carries
	}{
		{"double space", "read:tasks  write:time", scope.ErrSyntax, ""},
		{"leading space", " read:tasks", scope.ErrSyntax, ""},
		{"trailing space", "read:tasks ", scope.ErrSyntax, ""},
		{"only a space", " ", scope.ErrSyntax, ""},
		{"two spaces", "  ", scope.ErrSyntax, ""},
		{"tab separator", "read:tasks\twrite:time", scope.ErrSyntax, ""},
		{"newline separator", "read:tasks\nwrite:time", scope.ErrSyntax, ""},
		{"CRLF", "read:tasks\r\n", scope.ErrSyntax, ""},
		{"quote", `"read:tasks"`, scope.ErrSyntax, ""},
		{"backslash", `read:tasks\`, scope.ErrSyntax, ""},
		{"non-ASCII", "read:tâsks", scope.ErrSyntax, ""},
		{"non-breaking space", "read:tasks\u00a0write:time", scope.ErrSyntax, ""},
		{"NUL", "read:tasks\x00", scope.ErrSyntax, ""},
		{"unknown", "read:tasks frobnicate", scope.ErrUnknownScope, "frobnicate"},
		{"capitalised", "Read:tasks", scope.ErrUnknownScope, "Read:tasks"},
		{"upper case", "READ:TASKS", scope.ErrUnknownScope, "READ:TASKS"},
		{"prefix", "read:task", scope.ErrUnknownScope, "read:task"},
		{"longer", "read:tasks:all", scope.ErrUnknownScope, "read:tasks:all"},
		{"glob", "read:*", scope.ErrUnknownScope, "read:*"},
		{"bare verb", "admin", scope.ErrUnknownScope, "admin"},
		{"comma list", "read:tasks,write:time", scope.ErrUnknownScope, "read:tasks,write:time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := scope.Parse(tt.in)
			require.ErrorIs(t, err, tt.want)
			assert.True(t, s.IsEmpty())
			if tt.want == scope.ErrSyntax {
				assert.NotErrorIs(t, err, scope.ErrUnknownScope)
				return
			}
			assert.NotErrorIs(t, err, scope.ErrSyntax)
			var ue *scope.UnknownError
			require.True(t, errors.As(err, &ue))
			assert.Equal(t, tt.unknown, ue.Name)
			assert.Contains(t, err.Error(), tt.unknown, "the error names the scope")
			assert.Panics(t, func() { scope.MustParse(tt.in) })
		})
	}
}

func TestParseUnknownNameBounded(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	_, err := scope.Parse("read:tasks " + long)
	require.ErrorIs(t, err, scope.ErrUnknownScope)
	var ue *scope.UnknownError
	require.True(t, errors.As(err, &ue))
	assert.Less(t, len(ue.Name), 100)
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(ue.Name, "…")))
	assert.Less(t, len(err.Error()), 200)
}

// TestUnknownNameCutOnRune: a long unknown name is cut before a character
// that straddles the cut, so the name in the error stays valid UTF-8.
func TestUnknownNameCutOnRune(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		wantAt int // bytes of in kept before "…"
	}{
		{"ASCII", strings.Repeat("x", 100), 64},
		{"two-byte character across the cut", strings.Repeat("x", 63) + "é" + "tail", 63},
		{"three-byte character across the cut", strings.Repeat("x", 62) + "€" + "tail", 62},
		{"four-byte character across the cut", strings.Repeat("x", 61) + "🍵" + "tail", 61},
		{"four-byte character ending at the cut", strings.Repeat("x", 60) + "🍵" + "tail", 64},
		{"all multi-byte", strings.Repeat("é", 50), 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scope.Default.New(tt.in)
			require.ErrorIs(t, err, scope.ErrUnknownScope)
			var ue *scope.UnknownError
			require.True(t, errors.As(err, &ue))
			assert.Equal(t, tt.in[:tt.wantAt]+"…", ue.Name)
			assert.True(t, utf8.ValidString(ue.Name), "name %q is not valid UTF-8", ue.Name)
			assert.True(t, utf8.ValidString(err.Error()))
		})
	}
}

// TestImplicationsOnlyDeclared covers S41: no prefix, glob or hierarchy
// matching; admin:org and admin:billing never imply each other.
func TestImplicationsOnlyDeclared(t *testing.T) {
	org, billing := scope.MustParse("admin:org"), scope.MustParse("admin:billing")
	assert.False(t, org.Satisfies(billing))
	assert.False(t, billing.Satisfies(org))
	assert.False(t, org.Contains(scope.AdminBilling))
	assert.False(t, billing.Contains(scope.AdminOrg))
	for _, n := range defaultOrder[:7] {
		assert.False(t, billing.Contains(n), "admin:billing grants %s", n)
	}
	assert.False(t, scope.Default.All().Difference(billing).Contains(scope.AdminBilling))

	all := scope.Default.All()
	for _, n := range []string{"read:task", "read:*", "*", "read", "admin", "read:tasks:x", "READ:TASKS", ""} {
		assert.False(t, all.Contains(n), "%q", n)
	}
	assert.False(t, scope.MustParse("write:tasks").Contains(scope.ReadTime))
	assert.False(t, scope.MustParse("read:tasks").Satisfies(scope.MustParse("write:tasks")))

	// A custom registry where one name is a prefix of another, without an
	// implication between them.
	r := scope.MustNewRegistry([]string{"read", "read:tasks", "read:*"}, nil)
	assert.False(t, r.MustParse("read").Satisfies(r.MustParse("read:tasks")))
	assert.False(t, r.MustParse("read:*").Satisfies(r.MustParse("read:tasks")))
	assert.False(t, r.MustParse("read:tasks").Satisfies(r.MustParse("read")))
}

// TestNarrowGrants covers S42: granted = requested ∩ client-allowed ∩ the
// user's current permissions, on closures.
func TestNarrowGrants(t *testing.T) {
	tests := []struct {
		name                   string
		requested, client, usr string
		want                   string
	}{
		{"write narrowed by read", "write:tasks", "write:tasks", "read:tasks", "read:tasks"},
		{"read narrowed by write", "read:tasks", "write:tasks", "admin:org", "read:tasks"},
		{"all three agree", "read:tasks write:time", "read:tasks write:time", "read:tasks write:time", "read:tasks write:time"},
		{"client limits", "admin:org", "write:tasks read:time", "admin:org", "write:tasks read:time"},
		{"user limits", "admin:org", "admin:org", "read:finance read:users", "read:finance read:users"},
		{"billing is apart", "admin:billing", "admin:org", "admin:org admin:billing", ""},
		{"mixed", "write:tasks read:finance admin:billing", "admin:org", "read:tasks read:finance", "read:tasks read:finance"},
		{"nothing requested", "", "admin:org admin:billing", "admin:org admin:billing", ""},
		{"client allows nothing", "read:tasks", "", "admin:org", ""},
		{"user has nothing", "read:tasks", "admin:org", "", ""},
		{"minimal form", "write:tasks read:tasks", "admin:org", "admin:org", "write:tasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, cl, us := scope.MustParse(tt.requested), scope.MustParse(tt.client), scope.MustParse(tt.usr)
			got := req.Narrow(cl, us)
			assert.Equal(t, tt.want, got.String())
			for _, in := range []scope.Set{req, cl, us} {
				assert.True(t, in.Satisfies(got), "%s grants more than %s", got, in)
			}
			// Order of the three does not matter.
			assert.Equal(t, got, us.Narrow(req, cl))
			assert.Equal(t, got, cl.Narrow(us).Narrow(req))
		})
	}
	w := scope.MustParse("write:tasks")
	assert.Equal(t, w, w.Narrow(), "no others: the set itself in minimal form")
	assert.Equal(t, "admin:org", scope.MustParse("admin:org read:tasks").Narrow().String())
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		have, need string
		want       bool
	}{
		{"", "", true},
		{"read:tasks", "", true},
		{"", "read:tasks", false},
		{"read:tasks", "read:tasks", true},
		{"write:tasks", "read:tasks", true},
		{"read:tasks", "write:tasks", false},
		{"write:tasks", "read:tasks write:tasks", true},
		{"write:tasks", "read:tasks read:time", false},
		{"write:tasks write:time", "read:tasks read:time", true},
		{"admin:org", "read:tasks write:finance read:users", true},
		{"admin:org", "read:tasks admin:billing", false},
		{"admin:org admin:billing", "read:tasks admin:billing", true},
		{"read:users", "read:tasks", false},
	}
	for _, tt := range tests {
		t.Run(tt.have+"/"+tt.need, func(t *testing.T) {
			assert.Equal(t, tt.want, scope.MustParse(tt.have).Satisfies(scope.MustParse(tt.need)))
		})
	}
}

func TestSatisfiesAny(t *testing.T) {
	tests := []struct {
		have, any string
		want      bool
	}{
		{"admin:org", "", false},
		{"", "read:tasks", false},
		{"read:tasks", "read:tasks admin:billing", true},
		{"write:tasks", "read:tasks admin:billing", true},
		{"read:time", "read:tasks admin:billing", false},
		{"admin:org", "admin:billing read:users", true},
	}
	for _, tt := range tests {
		t.Run(tt.have+"/"+tt.any, func(t *testing.T) {
			assert.Equal(t, tt.want, scope.MustParse(tt.have).SatisfiesAny(scope.MustParse(tt.any)))
		})
	}
}

func TestClosureMinimalEquivalent(t *testing.T) {
	tests := []struct {
		in, closure, minimal string
	}{
		{"", "", ""},
		{"read:tasks", "read:tasks", "read:tasks"},
		{"write:tasks", "read:tasks write:tasks", "write:tasks"},
		{"write:tasks read:tasks", "read:tasks write:tasks", "write:tasks"},
		{"admin:org read:tasks", "read:tasks write:tasks read:time write:time read:finance write:finance read:users admin:org", "admin:org"},
		{"admin:billing admin:org read:users", "read:tasks write:tasks read:time write:time read:finance write:finance read:users admin:org admin:billing", "admin:org admin:billing"},
		{"read:tasks write:time read:time", "read:tasks read:time write:time", "read:tasks write:time"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := scope.MustParse(tt.in)
			assert.Equal(t, tt.closure, s.Closure().String())
			assert.Equal(t, tt.minimal, s.Minimal().String())
			assert.True(t, s.Equivalent(s.Closure()))
			assert.True(t, s.Equivalent(s.Minimal()))
			assert.True(t, s.Minimal().Equivalent(s.Closure()))
		})
	}
	assert.False(t, scope.MustParse("write:tasks").Equivalent(scope.MustParse("read:tasks")))
	assert.True(t, scope.MustParse("write:tasks").Equivalent(scope.MustParse("read:tasks write:tasks")))
}

func TestPlainSetOperations(t *testing.T) {
	a := scope.MustParse("read:tasks write:tasks admin:billing")
	b := scope.MustParse("write:tasks read:time")
	assert.Equal(t, "read:tasks write:tasks read:time admin:billing", a.Union(b).String())
	assert.Equal(t, "write:tasks", a.Intersect(b).String())
	assert.Equal(t, "read:tasks admin:billing", a.Difference(b).String())
	assert.Equal(t, "read:time", b.Difference(a).String())
	// Intersect works on members as written, not on what they grant.
	assert.True(t, scope.MustParse("write:tasks").Intersect(scope.MustParse("read:tasks")).IsEmpty())
	assert.Equal(t, []string{"read:tasks", "write:tasks", "admin:billing"}, a.Names())
	assert.Empty(t, scope.Set{}.Names())
}

func TestZeroSet(t *testing.T) {
	var z scope.Set
	assert.True(t, z.IsEmpty())
	assert.Equal(t, "", z.String())
	assert.Same(t, scope.Default, z.Registry())
	assert.True(t, z.Equal(scope.Default.Empty()))
	assert.True(t, z == scope.Default.Empty(), "== agrees with Equal")
	assert.True(t, z == scope.MustParse(""))
	assert.True(t, z.Satisfies(z))
	assert.False(t, z.Satisfies(scope.MustParse("read:tasks")))

	// A zero Set combined with parsed sets behaves as a set of Default.
	u := z.Union(scope.MustParse("write:tasks"))
	assert.True(t, u.Satisfies(scope.MustParse("read:tasks")))
	assert.True(t, u.Contains(scope.ReadTasks))
	assert.True(t, u.SatisfiesAny(scope.MustParse("read:tasks")))
	assert.Equal(t, "read:tasks write:tasks", u.Closure().String())
	assert.True(t, u == scope.MustParse("write:tasks"))
}

func TestEqual(t *testing.T) {
	a := scope.MustParse("read:tasks write:time")
	b := scope.MustParse("write:time read:tasks")
	assert.True(t, a.Equal(b))
	assert.True(t, a == b)
	assert.False(t, a.Equal(scope.MustParse("read:tasks")))
	assert.False(t, scope.MustParse("write:tasks").Equal(scope.MustParse("read:tasks write:tasks")), "Equal is not Equivalent")
}

func TestDifferentRegistries(t *testing.T) {
	other := scope.MustNewRegistry(defaultOrder, nil) // same names, no implications
	o := other.MustParse("write:tasks read:tasks")
	d := scope.MustParse("write:tasks read:tasks")
	assert.Equal(t, o.String(), d.String())
	assert.False(t, o.Equal(d))
	assert.False(t, o == d)
	assert.False(t, o.Equivalent(d))
	assert.False(t, d.Satisfies(o))
	assert.False(t, o.Satisfies(d))
	assert.False(t, d.SatisfiesAny(o))
	assert.True(t, d.Satisfies(other.Empty()), "an empty requirement is always met")
	assert.True(t, d.Narrow(o).IsEmpty())
	assert.Same(t, scope.Default, d.Narrow(o).Registry(), "the result belongs to the receiver's registry")
	assert.Panics(t, func() { d.Union(o) })
	assert.Panics(t, func() { d.Intersect(o) })
	assert.Panics(t, func() { d.Difference(o) })
	// In the other registry write:tasks does not imply read:tasks.
	assert.False(t, other.MustParse("write:tasks").Satisfies(other.MustParse("read:tasks")))
	assert.False(t, other.Implies("write:tasks", "read:tasks"))
}

type record struct {
	ID     string    `json:"id"`
	Scopes scope.Set `json:"scopes"`
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"canonical", "read:tasks write:time", "read:tasks write:time"},
		{"reordered", "write:time read:tasks", "read:tasks write:time"},
		{"empty", "", ""},
		{"everything", strings.Join(defaultOrder, " "), strings.Join(defaultOrder, " ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := record{ID: "x", Scopes: scope.MustParse(tt.in)}
			data, err := json.Marshal(in)
			require.NoError(t, err)
			want, err := json.Marshal(map[string]string{"id": "x", "scopes": tt.want})
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(data))

			var out record
			require.NoError(t, json.Unmarshal(data, &out))
			assert.Equal(t, in, out)
			assert.True(t, in.Scopes.Equal(out.Scopes))
		})
	}
}

func TestJSONErrors(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{`{"scopes":"read:tasks nope"}`, scope.ErrUnknownScope},
		{`{"scopes":"read:tasks  write:time"}`, scope.ErrSyntax},
		{`{"scopes":"Read:tasks"}`, scope.ErrUnknownScope},
	} {
		out := record{Scopes: scope.MustParse("admin:billing")}
		err := json.Unmarshal([]byte(tt.in), &out)
		require.ErrorIs(t, err, tt.want, tt.in)
		assert.Equal(t, "admin:billing", out.Scopes.String(), "unchanged on error")
	}
}

func TestUnmarshalTextUsesTheSetsRegistry(t *testing.T) {
	r := scope.MustNewRegistry([]string{"x:a", "x:b"}, []scope.Implication{{"x:b", "x:a"}})
	s := r.Empty()
	require.NoError(t, s.UnmarshalText([]byte("x:b")))
	assert.Same(t, r, s.Registry())
	assert.True(t, s.Contains("x:a"))
	require.ErrorIs(t, s.UnmarshalText([]byte("read:tasks")), scope.ErrUnknownScope)

	text, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "x:b", string(text))
}
