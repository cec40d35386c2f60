package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/token"
)

type exported struct {
	Name   string
	Secret token.Secret
}

type unexported struct {
	name   string
	secret token.Secret
}

// TestS51SecretRedacts: a Secret never prints its value, whatever prints
// it.
func TestS51SecretRedacts(t *testing.T) {
	sec, err := token.Generate(token.KindRefresh)
	require.NoError(t, err)
	plain := sec.Reveal()
	require.True(t, strings.HasPrefix(plain, "tap_refresh_"))

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3s", "%-40v"} {
		for _, v := range []any{sec, &sec, exported{"n", sec}, &exported{"n", sec}, unexported{"n", sec},
			&unexported{"n", sec}, []token.Secret{sec}, map[string]token.Secret{"k": sec}, token.Match{Secret: sec}} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
	}
	outs = append(outs, fmt.Sprint(sec), fmt.Sprintln(sec), sec.String(), sec.GoString())
	outs = append(outs, fmt.Errorf("login failed for %v", sec).Error(),
		fmt.Errorf("wrapped: %w", errors.New(fmt.Sprint(sec))).Error())

	for _, v := range []any{sec, &sec, exported{"n", sec}, map[string]any{"s": sec}} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		outs = append(outs, string(b))
	}
	b, err := json.Marshal(sec)
	require.NoError(t, err)
	assert.JSONEq(t, `"`+token.Mask+`"`, string(b))
	txt, err := sec.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, token.Mask, string(txt))

	var logs bytes.Buffer
	for _, h := range []slog.Handler{
		slog.NewJSONHandler(&logs, nil),
		slog.NewTextHandler(&logs, nil),
	} {
		l := slog.New(h)
		l.Info("issued", "secret", sec, "ptr", &sec, "struct", exported{"n", sec})
		l.Info("issued", slog.Any("s", sec), slog.Group("g", slog.Any("s", sec)))
		l.With("s", sec).Info("with")
	}
	outs = append(outs, logs.String())

	all := strings.Join(outs, "\n")
	assertNoPieces(t, all, []string{plain})
	assert.NotContains(t, all, plain[len("tap_refresh_"):])
	assert.Contains(t, all, token.Mask)
	assert.Equal(t, token.Mask, fmt.Sprintf("%v", sec))
	assert.Equal(t, token.Mask, fmt.Sprintf("%#v", sec))
}

func TestSecretZero(t *testing.T) {
	var z token.Secret
	assert.True(t, z.IsZero())
	assert.Empty(t, z.Reveal())
	assert.Zero(t, z.Kind())
	assert.Equal(t, token.Mask, fmt.Sprint(z))

	sec, err := token.Generate(token.KindSession)
	require.NoError(t, err)
	assert.False(t, sec.IsZero())
	assert.Equal(t, token.KindSession, sec.Kind())
	cp := sec
	assert.Equal(t, sec, cp, "copies are equal")
	assert.Equal(t, sec.Reveal(), cp.Reveal())
	other, err := token.Generate(token.KindSession)
	require.NoError(t, err)
	assert.NotEqual(t, sec, other)
}

func TestGenerateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = token.Generate(token.KindAPI)
	})
	assert.LessOrEqual(t, allocs, 1.0)
}
