package tour_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// regions returns the README regions of tour_test.go by name, dedented.
func regions(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("tour_test.go")
	require.NoError(t, err)
	out := map[string]string{}
	re := regexp.MustCompile(`(?ms)^[\t ]*// README: ([^\n]+)\n(.*?)\n[\t ]*// README end$`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = dedent(m[2])
	}
	return out
}

func dedent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if min < 0 || n < min {
			min = n
		}
	}
	for i, l := range lines {
		if len(l) >= min && min > 0 {
			lines[i] = l[min:]
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// TestREADMESnippets: every Go snippet of the README's tour is a region of
// tour_test.go, so the README shows only code that compiles and runs.
func TestREADMESnippets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(readme)
	start := strings.Index(text, "\n## A short tour")
	require.GreaterOrEqual(t, start, 0, "README has no tour section")
	tour := text[start+1:]
	if end := strings.Index(tour, "\n## "); end >= 0 {
		tour = tour[:end]
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(tour, -1)
	rs := regions(t)
	require.Len(t, blocks, len(rs), "one README snippet per region")
	for _, b := range blocks {
		got := strings.TrimSpace(b[1])
		found := false
		for _, r := range rs {
			if r == got {
				found = true
			}
		}
		assert.True(t, found, "README snippet is not a region of tour_test.go:\n%s", got)
	}
}
