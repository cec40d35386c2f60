package token_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/token"
)

func gen(t testing.TB, k token.Kind) string {
	t.Helper()
	s, err := token.Generate(k)
	require.NoError(t, err)
	return s.Reveal()
}

func TestScan(t *testing.T) {
	api := gen(t, token.KindAPI)
	refresh := gen(t, token.KindRefresh)
	sess := gen(t, token.KindSession)
	code := gen(t, token.KindCode)
	client := gen(t, token.KindClientSecret)
	bad := api[:len(api)-1] + string(token.Alphabet[(strings.IndexByte(token.Alphabet, api[len(api)-1])+1)%62])

	type m struct {
		kind token.Kind
		off  int
		s    string
	}
	tests := []struct {
		name string
		text string
		want []m
	}{
		{"empty", "", nil},
		{"no tap", "hello world", nil},
		{"alone", api, []m{{token.KindAPI, 0, api}}},
		{"env file", "TAPIOCA_TOKEN=" + api + "\n", []m{{token.KindAPI, 14, api}}},
		{"quoted", `token := "` + refresh + `"`, []m{{token.KindRefresh, 10, refresh}}},
		{"header", "Authorization: Bearer " + api, []m{{token.KindAPI, 22, api}}},
		{"every kind", api + " " + refresh + " " + sess + " " + code + " " + client, []m{
			{token.KindAPI, 0, api},
			{token.KindRefresh, len(api) + 1, refresh},
			{token.KindSession, len(api) + len(refresh) + 2, sess},
			{token.KindCode, len(api) + len(refresh) + len(sess) + 3, code},
			{token.KindClientSecret, len(api) + len(refresh) + len(sess) + len(code) + 4, client},
		}},
		{"json", `{"access_token":"` + api + `","refresh_token":"` + refresh + `"}`, []m{
			{token.KindAPI, 17, api}, {token.KindRefresh, 17 + len(api) + 19, refresh},
		}},
		{"bad checksum", "x " + bad + " y", nil},
		{"documentation placeholder", "tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx tap_your_api_token_here", nil},
		{"longer base62 run after", api + "A", []m{{token.KindAPI, 0, api}}},
		{"longer base62 run before", "A" + api, []m{{token.KindAPI, 1, api}}},
		{"digit before", "9" + api, []m{{token.KindAPI, 1, api}}},
		{"letter before", "x" + refresh, []m{{token.KindRefresh, 1, refresh}}},
		{"url-encoded", "https://example.com/cb?next=%3D" + api + "%26x=1", []m{{token.KindAPI, 31, api}}},
		{"json-escaped newline", `{"log":"line\n` + sess + `"}`, []m{{token.KindSession, 14, sess}}},
		{"underscore before", "MY_" + api, []m{{token.KindAPI, 3, api}}},
		{"punctuation around", "(" + api + ").", []m{{token.KindAPI, 1, api}}},
		{"prefix then secret", "tap_" + api, []m{{token.KindAPI, 4, api}}},
		{"truncated", api[:20], nil},
		{"unicode around", "é" + api + "ü", []m{{token.KindAPI, 2, api}}},
		{"two glued", api + api, []m{{token.KindAPI, 0, api}, {token.KindAPI, len(api), api}}},
		{"glued kinds", code + refresh + "x", []m{{token.KindCode, 0, code}, {token.KindRefresh, len(code), refresh}}},
		{"bad checksum glued to a good one", bad + api, []m{{token.KindAPI, len(bad), api}}},
		{"mask", token.Mask, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := token.Scan(tt.text)
			require.Len(t, got, len(tt.want))
			for i, w := range tt.want {
				assert.Equal(t, w.kind, got[i].Kind)
				assert.Equal(t, w.off, got[i].Offset)
				assert.Equal(t, len(w.s), got[i].Length)
				assert.Equal(t, w.s, got[i].Secret.Reveal())
				assert.Equal(t, w.s, tt.text[got[i].Offset:got[i].Offset+got[i].Length])
				assert.NotContains(t, fmt.Sprintf("%v %+v %#v", got[i], got[i], got), w.s[len(w.s)-token.BodyLen:])
			}
		})
	}
}

func TestRedact(t *testing.T) {
	api := gen(t, token.KindAPI)
	refresh := gen(t, token.KindRefresh)
	tests := []struct{ in, want string }{
		{"", ""},
		{"nothing here", "nothing here"},
		{api, token.Mask},
		{"a " + api + " b " + refresh + " c", "a " + token.Mask + " b " + token.Mask + " c"},
		{"next=%3D" + api, "next=%3D" + token.Mask},
		{`line\n` + api, `line\n` + token.Mask},
		{api + "A", token.Mask + "A"},
		{api + api, token.Mask + token.Mask},
		{"x" + api + refresh + "y", "x" + token.Mask + token.Mask + "y"},
		{"tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
	}
	for _, tt := range tests {
		got := token.Redact(tt.in)
		assert.Equal(t, tt.want, got)
		assert.Empty(t, token.Scan(got))
	}
	if !raceEnabled {
		text := strings.Repeat("no secrets in this line, only tap_ talk\n", 10)
		assert.Zero(t, testing.AllocsPerRun(10, func() { _ = token.Redact(text) }))
	}
}

func TestReplaceAttr(t *testing.T) {
	api := gen(t, token.KindAPI)
	refresh := gen(t, token.KindRefresh)
	sec, err := token.Generate(token.KindCode)
	require.NoError(t, err)
	type creds struct {
		User  string
		Token string
	}
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{ReplaceAttr: token.ReplaceAttr})
		},
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{ReplaceAttr: token.ReplaceAttr})
		},
	} {
		var buf bytes.Buffer
		l := slog.New(newHandler(&buf))
		l.Info("got "+api,
			"header", "Bearer "+api,
			"err", fmt.Errorf("refresh %s failed", refresh),
			"raw", []byte("token="+api),
			"struct", creds{"u1", refresh},
			"secret", sec,
			"ptr", &sec,
			slog.Group("g", slog.String("inner", api)),
			"plain", "hello", "n", 42)
		l.With("bound", api).Info("with")
		out := buf.String()
		assertNoPieces(t, out, []string{api, refresh, sec.Reveal()})
		assert.Contains(t, out, token.Mask)
		assert.Contains(t, out, "hello")
		assert.Contains(t, out, "42")
	}
	// Nil receivers and panicking methods do not crash the handler.
	var nilURL *url.URL
	var nilErr *fs.PathError
	for _, v := range []any{nilURL, nilErr, panicky{}} {
		assert.NotPanics(t, func() { token.ReplaceAttr(nil, slog.Any("v", v)) })
	}

	// Unchanged attributes keep their kind.
	a := token.ReplaceAttr(nil, slog.Int("n", 1))
	assert.Equal(t, slog.KindInt64, a.Value.Kind())
	a = token.ReplaceAttr(nil, slog.Any("err", errors.New("plain")))
	assert.Equal(t, slog.KindAny, a.Value.Kind())
	a = token.ReplaceAttr(nil, slog.Any("s", sec))
	assert.Equal(t, token.Mask, a.Value.String())
}

type panicky struct{}

func (panicky) String() string { panic("boom") }
