package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/token"
)

func secret(t *testing.T, k token.Kind) string {
	t.Helper()
	s, err := token.Generate(k)
	require.NoError(t, err)
	return s.Reveal()
}

func TestRun(t *testing.T) {
	api := secret(t, token.KindAPI)
	refresh := secret(t, token.KindRefresh)
	bad := api[:len(api)-1] + map[bool]string{true: "1", false: "0"}[api[len(api)-1] == '0']

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	envFile := write("ci.env", "# CI\nNAME=x\nTAPIOCA_TOKEN="+api+"\n")
	jsonFile := write("sub/tokens.json", `{"refresh_token": "`+refresh+`", "access_token": "`+api+`"}`)
	urlFile := write("urls/callback.log", "GET /cb?next=%3D"+api+"%26x=1\n")
	escFile := write("urls/escaped.json", `{"msg":"line\n`+refresh+api+`"}`)
	clean := write("README.md", "Tokens look like tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx.\nA typo: "+bad+"\n")
	write(".git/objects/leak", api)

	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    []string
		wantErr bool
		code    int
	}{
		{name: "clean file", args: []string{clean}, code: 0},
		{name: "env file", args: []string{envFile}, code: 1,
			want: []string{envFile + ":3:15: tap_… secret (kind api)"}},
		{name: "several on a line", args: []string{jsonFile}, code: 1, want: []string{
			jsonFile + ":1:20: tap_… secret (kind refresh)",
			jsonFile + ":1:" + strconv.Itoa(20+len(refresh)+20) + ": tap_… secret (kind api)",
		}},
		{name: "url-encoded", args: []string{urlFile}, code: 1,
			want: []string{urlFile + ":1:17: tap_… secret (kind api)"}},
		{name: "escaped and glued", args: []string{escFile}, code: 1, want: []string{
			escFile + ":1:15: tap_… secret (kind refresh)",
			escFile + ":1:" + strconv.Itoa(15+len(refresh)) + ": tap_… secret (kind api)",
		}},
		{name: "directory skips .git", args: []string{dir}, code: 1, want: []string{
			envFile + ":3:15: tap_… secret (kind api)",
			jsonFile + ":1:20: tap_… secret (kind refresh)",
			jsonFile + ":1:" + strconv.Itoa(20+len(refresh)+20) + ": tap_… secret (kind api)",
			urlFile + ":1:17: tap_… secret (kind api)",
			escFile + ":1:15: tap_… secret (kind refresh)",
			escFile + ":1:" + strconv.Itoa(15+len(refresh)) + ": tap_… secret (kind api)",
		}},
		{name: "stdin", stdin: "line one\n  " + api, code: 1,
			want: []string{"<stdin>:2:3: tap_… secret (kind api)"}},
		{name: "stdin dash", args: []string{"-"}, stdin: "nothing", code: 0},
		{name: "missing file", args: []string{filepath.Join(dir, "nope"), envFile}, code: 2, wantErr: true,
			want: []string{envFile + ":3:15: tap_… secret (kind api)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errs)
			assert.Equal(t, tt.code, code)
			var lines []string
			if s := strings.TrimSpace(out.String()); s != "" {
				lines = strings.Split(s, "\n")
			}
			assert.Equal(t, tt.want, lines)
			if tt.wantErr {
				assert.Contains(t, errs.String(), "tapscan: ")
			} else {
				assert.Empty(t, errs.String())
			}
			for _, s := range []string{api, refresh} {
				body := s[len(s)-token.BodyLen:]
				for i := 0; i+8 <= len(body); i++ {
					assert.NotContains(t, out.String()+errs.String(), body[i:i+8], "no piece of a secret is printed")
				}
			}
		})
	}
}

func TestRunSymlink(t *testing.T) {
	api := secret(t, token.KindAPI)
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.MkdirAll(filepath.Join(target, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(target, "sub", "ci.env"), []byte("TOKEN="+api+"\n"), 0o600))
	dirLink := filepath.Join(dir, "dirlink")
	if err := os.Symlink(target, dirLink); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	fileLink := filepath.Join(dir, "filelink")
	require.NoError(t, os.Symlink(filepath.Join(target, "sub", "ci.env"), fileLink))
	// A link inside the tree, back to its root, is skipped, not followed.
	require.NoError(t, os.Symlink(target, filepath.Join(target, "sub", "loop")))
	broken := filepath.Join(dir, "broken")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nope"), broken))

	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr bool
		code    int
	}{
		{name: "link to a directory", args: []string{dirLink}, code: 1,
			want: []string{filepath.Join(dirLink, "sub", "ci.env") + ":1:7: tap_… secret (kind api)"}},
		{name: "link to a directory, trailing slash", args: []string{dirLink + string(filepath.Separator)}, code: 1,
			want: []string{filepath.Join(dirLink, "sub", "ci.env") + ":1:7: tap_… secret (kind api)"}},
		{name: "link to a file", args: []string{fileLink}, code: 1,
			want: []string{fileLink + ":1:7: tap_… secret (kind api)"}},
		{name: "broken link", args: []string{broken}, code: 2, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &out, &errs)
			assert.Equal(t, tt.code, code)
			var lines []string
			if s := strings.TrimSpace(out.String()); s != "" {
				lines = strings.Split(s, "\n")
			}
			assert.Equal(t, tt.want, lines)
			if tt.wantErr {
				assert.Contains(t, errs.String(), "tapscan: "+tt.args[0])
			} else {
				assert.Empty(t, errs.String())
			}
		})
	}
}
