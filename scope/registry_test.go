package scope_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
)

// defaultOrder is Default's canonical order, written out.
var defaultOrder = []string{
	"read:tasks", "write:tasks", "read:time", "write:time",
	"read:finance", "write:finance", "read:users", "admin:org", "admin:billing",
}

func TestDefaultNames(t *testing.T) {
	assert.Equal(t, defaultOrder, scope.Default.Names())
	assert.Equal(t, []string{
		scope.ReadTasks, scope.WriteTasks, scope.ReadTime, scope.WriteTime,
		scope.ReadFinance, scope.WriteFinance, scope.ReadUsers, scope.AdminOrg, scope.AdminBilling,
	}, defaultOrder, "the name constants")
	for _, n := range defaultOrder {
		assert.True(t, scope.Default.Has(n), n)
	}
	assert.Equal(t, strings.Join(defaultOrder, " "), scope.Default.All().String())
	assert.True(t, scope.Default.Empty().IsEmpty())
}

// TestDefaultImpliesTable checks Implies for every ordered pair of Default's
// scopes against a table written out by hand: row a, column b, 'x' when
// holding a grants b.
func TestDefaultImpliesTable(t *testing.T) {
	table := []struct {
		from string
		row  string // columns in defaultOrder
	}{
		//                        rt wt rT wT rf wf ru ao ab
		{"read:tasks" /*    */, "x  .  .  .  .  .  .  .  ."},
		{"write:tasks" /*   */, "x  x  .  .  .  .  .  .  ."},
		{"read:time" /*     */, ".  .  x  .  .  .  .  .  ."},
		{"write:time" /*    */, ".  .  x  x  .  .  .  .  ."},
		{"read:finance" /*  */, ".  .  .  .  x  .  .  .  ."},
		{"write:finance" /* */, ".  .  .  .  x  x  .  .  ."},
		{"read:users" /*    */, ".  .  .  .  .  .  x  .  ."},
		{"admin:org" /*     */, "x  x  x  x  x  x  x  x  ."},
		{"admin:billing" /* */, ".  .  .  .  .  .  .  .  x"},
	}
	require.Len(t, table, 9)
	for i, tt := range table {
		require.Equal(t, defaultOrder[i], tt.from, "row order")
		cols := strings.Fields(tt.row)
		require.Len(t, cols, 9, tt.from)
		for j, c := range cols {
			to := defaultOrder[j]
			want := c == "x"
			assert.Equal(t, want, scope.Default.Implies(tt.from, to), "%s ⇒ %s", tt.from, to)
			// Implies, Contains and Satisfies tell the same story.
			assert.Equal(t, want, scope.MustParse(tt.from).Contains(to), "%s contains %s", tt.from, to)
			assert.Equal(t, want, scope.MustParse(tt.from).Satisfies(scope.MustParse(to)), "%s satisfies %s", tt.from, to)
		}
	}
}

func TestImpliesUnknown(t *testing.T) {
	r := scope.Default
	for _, pair := range [][2]string{
		{"read:tasks", "read:task"}, {"read:task", "read:tasks"}, {"nope", "nope"},
		{"", ""}, {"admin:org", "admin:*"}, {"admin:org", "admin"}, {"Admin:org", "read:tasks"},
	} {
		assert.False(t, r.Implies(pair[0], pair[1]), "%q ⇒ %q", pair[0], pair[1])
	}
	assert.False(t, r.Has("read:task"))
	assert.False(t, r.Has("Read:tasks"))
	assert.False(t, r.Has(""))
}

func TestNewRegistryErrors(t *testing.T) {
	many := make([]string, scope.MaxScopes+1)
	for i := range many {
		many[i] = "s" + strings.Repeat("x", i)
	}
	tests := []struct {
		name    string
		names   []string
		imps    []scope.Implication
		want    error
		culprit string // must appear in the message
	}{
		{"duplicate", []string{"a", "b", "a"}, nil, scope.ErrDuplicate, `"a"`},
		{"empty name", []string{"a", ""}, nil, scope.ErrBadName, `""`},
		{"space", []string{"read tasks"}, nil, scope.ErrBadName, `"read tasks"`},
		{"quote", []string{`say"hi`}, nil, scope.ErrBadName, `say\"hi`},
		{"backslash", []string{`a\b`}, nil, scope.ErrBadName, `a\\b`},
		{"non-ASCII", []string{"café"}, nil, scope.ErrBadName, "caf"},
		{"tab", []string{"a\tb"}, nil, scope.ErrBadName, `a\tb`},
		{"newline", []string{"a\n"}, nil, scope.ErrBadName, `a\n`},
		{"DEL", []string{"a\x7f"}, nil, scope.ErrBadName, `a\x7f`},
		{"NUL", []string{"a\x00"}, nil, scope.ErrBadName, `a\x00`},
		{"65 scopes", many, nil, scope.ErrTooMany, "65"},
		{"unknown from", []string{"a", "b"}, []scope.Implication{{"c", "a"}}, scope.ErrUnknownScope, `"c"`},
		{"unknown to", []string{"a", "b"}, []scope.Implication{{"a", "c"}}, scope.ErrUnknownScope, `"c"`},
		{"self-implication", []string{"a", "b"}, []scope.Implication{{"b", "b"}}, scope.ErrCycle, `"b"`},
		{"2-cycle", []string{"a", "b"}, []scope.Implication{{"a", "b"}, {"b", "a"}}, scope.ErrCycle, `"a"`},
		{"3-cycle", []string{"a", "b", "c", "d"}, []scope.Implication{{"a", "b"}, {"b", "c"}, {"c", "a"}}, scope.ErrCycle, `"a"`},
		{"cycle off a chain", []string{"a", "b", "c", "d"}, []scope.Implication{{"a", "b"}, {"b", "c"}, {"c", "d"}, {"d", "b"}}, scope.ErrCycle, `"b"`},
	}
	sentinels := []error{scope.ErrDuplicate, scope.ErrBadName, scope.ErrTooMany, scope.ErrCycle, scope.ErrUnknownScope}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := scope.NewRegistry(tt.names, tt.imps)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), tt.culprit, "the error names the culprit")
			for _, other := range sentinels {
				if other != tt.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.Panics(t, func() { scope.MustNewRegistry(tt.names, tt.imps) })
		})
	}
}

func TestNewRegistryAccepts(t *testing.T) {
	// Every byte the RFC 6749 §3.3 grammar allows: %x21 / %x23-5B / %x5D-7E.
	var all []byte
	for c := byte(0x21); c <= 0x7e; c++ {
		if c != '"' && c != '\\' {
			all = append(all, c)
		}
	}
	sixtyFour := make([]string, scope.MaxScopes)
	for i := range sixtyFour {
		sixtyFour[i] = "s" + strings.Repeat("x", i)
	}
	tests := []struct {
		name  string
		names []string
		imps  []scope.Implication
	}{
		{"no scopes", nil, nil},
		{"every allowed byte", []string{string(all), "!", "~", "[]", "#{}"}, nil},
		{"64 scopes", sixtyFour, []scope.Implication{{sixtyFour[63], sixtyFour[0]}}},
		{"diamond", []string{"a", "b", "c", "d"}, []scope.Implication{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}}},
		{"repeated implication", []string{"a", "b"}, []scope.Implication{{"a", "b"}, {"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := scope.NewRegistry(tt.names, tt.imps)
			require.NoError(t, err)
			for _, n := range tt.names {
				assert.True(t, r.Has(n), n)
				got, err := r.Parse(n)
				require.NoError(t, err, n)
				assert.Equal(t, n, got.String())
			}
			assert.Equal(t, len(tt.names), r.All().Len())
		})
	}
}

func TestRegistryTransitive(t *testing.T) {
	// Declared out of order on purpose: the closure must not depend on it.
	r := scope.MustNewRegistry([]string{"d", "c", "b", "a", "e"},
		[]scope.Implication{{"c", "d"}, {"b", "c"}, {"a", "b"}})
	assert.True(t, r.Implies("a", "d"))
	assert.True(t, r.Implies("a", "c"))
	assert.True(t, r.Implies("b", "d"))
	assert.False(t, r.Implies("d", "a"))
	assert.False(t, r.Implies("a", "e"))
	assert.False(t, r.Implies("e", "a"))
	assert.Equal(t, "d c b a", r.MustParse("a").Closure().String())
	assert.Equal(t, "a e", r.MustParse("e d a c").Minimal().String())
}

func TestRegistryCopiesInput(t *testing.T) {
	names := []string{"a", "b"}
	r := scope.MustNewRegistry(names, nil)
	names[0] = "z"
	assert.True(t, r.Has("a"))
	assert.False(t, r.Has("z"))
	got := r.Names()
	got[1] = "y"
	assert.Equal(t, []string{"a", "b"}, r.Names())
}

func TestRegistryNew(t *testing.T) {
	s, err := scope.Default.New(scope.WriteTime, scope.ReadTasks, scope.ReadTasks)
	require.NoError(t, err)
	assert.Equal(t, "read:tasks write:time", s.String())
	assert.True(t, s.Equal(scope.MustParse("read:tasks write:time")))

	empty, err := scope.Default.New()
	require.NoError(t, err)
	assert.True(t, empty.IsEmpty())

	_, err = scope.Default.New(scope.ReadTasks, "read:task")
	require.ErrorIs(t, err, scope.ErrUnknownScope)
	var ue *scope.UnknownError
	require.True(t, errors.As(err, &ue))
	assert.Equal(t, "read:task", ue.Name)
}
