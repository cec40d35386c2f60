package token_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/token"
)

var allKinds = []token.Kind{
	token.KindAPI, token.KindAccess, token.KindRefresh, token.KindSession,
	token.KindCode, token.KindClientSecret,
}

// base62Value decodes a base62 string, most significant digit first.
func base62Value(t *testing.T, s string) uint64 {
	t.Helper()
	var v uint64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(token.Alphabet, s[i])
		require.GreaterOrEqual(t, d, 0, "not base62: %q", s[i])
		v = v*62 + uint64(d)
	}
	return v
}

// TestFormat checks the format of every kind against the specification in
// the package documentation, written out independently here (S1, S2).
func TestFormat(t *testing.T) {
	tests := []struct {
		kind   token.Kind
		prefix string
		re     string
	}{
		{token.KindAPI, "tap_", `^tap_[A-Za-z0-9]{28}$`},
		{token.KindAccess, "tap_", `^tap_[A-Za-z0-9]{28}$`},
		{token.KindRefresh, "tap_refresh_", `^tap_refresh_[A-Za-z0-9]{28}$`},
		{token.KindSession, "tap_session_", `^tap_session_[A-Za-z0-9]{28}$`},
		{token.KindCode, "tap_code_", `^tap_code_[A-Za-z0-9]{28}$`},
		{token.KindClientSecret, "tap_secret_", `^tap_secret_[A-Za-z0-9]{28}$`},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			assert.Equal(t, tt.prefix, token.Prefix(tt.kind))
			for range 100 {
				sec, err := token.Generate(tt.kind)
				require.NoError(t, err)
				s := sec.Reveal()
				require.Regexp(t, regexp.MustCompile(tt.re), s)
				assert.Equal(t, tt.kind, sec.Kind())

				body := s[len(tt.prefix):]
				random, sum := body[:token.RandomLen], body[token.RandomLen:]
				want := crc32.ChecksumIEEE([]byte(tt.prefix + random))
				assert.Equal(t, uint64(want), base62Value(t, sum), "checksum of %s", tt.kind)

				k, err := token.Parse(s)
				require.NoError(t, err)
				wantKind := tt.kind
				if wantKind == token.KindAccess {
					wantKind = token.KindAPI // the prefix cannot tell them apart
				}
				assert.Equal(t, wantKind, k)
			}
		})
	}
}

// TestChecksumKnownAnswer pins the checksum encoding with a value computed
// by hand: CRC32 of "tap_" + 22 zeros, in base62, left-padded.
func TestChecksumKnownAnswer(t *testing.T) {
	pr := "tap_" + strings.Repeat("0", token.RandomLen)
	sum := crc32.ChecksumIEEE([]byte(pr))
	var digits []byte
	for v := sum; v > 0; v /= 62 {
		digits = append([]byte{token.Alphabet[v%62]}, digits...)
	}
	want := strings.Repeat("0", token.ChecksumLen-len(digits)) + string(digits)
	assert.Equal(t, want, token.Checksum(pr))
	k, err := token.Parse(pr + want)
	require.NoError(t, err)
	assert.Equal(t, token.KindAPI, k)
}

func TestParseRejects(t *testing.T) {
	good, err := token.Generate(token.KindAPI)
	require.NoError(t, err)
	g := good.Reveal()
	refresh, err := token.Generate(token.KindRefresh)
	require.NoError(t, err)
	r := refresh.Reveal()
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"prefix only", "tap_"},
		{"short", g[:len(g)-1]},
		{"long", g + "0"},
		{"upper prefix", "TAP_" + g[4:]},
		{"other prefix", "tab_" + g[4:]},
		{"unknown kind", "tap_xxxxx_" + g[4:]},
		{"underscore in body", g[:10] + "_" + g[11:]},
		{"dash in body", g[:10] + "-" + g[11:]},
		{"non-ascii", g[:10] + "é" + g[12:]},
		{"NUL", g[:10] + "\x00" + g[11:]},
		{"space", " " + g[1:]},
		{"trailing newline", g[:len(g)-1] + "\n"},
		{"bad checksum", g[:len(g)-1] + string(token.Alphabet[(strings.IndexByte(token.Alphabet, g[len(g)-1])+1)%62])},
		{"refresh body as bearer", "tap_" + r[len("tap_refresh_"):]},
		{"bearer body under refresh prefix", "tap_refresh_" + g[4:]},
		{"session prefix on refresh body", "tap_session_" + r[len("tap_refresh_"):]},
		{"checksum overflow", "tap_" + g[4:4+token.RandomLen] + "zzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := token.Parse(tt.in)
			require.ErrorIs(t, err, token.ErrMalformed)
			require.ErrorIs(t, err, token.ErrInvalid)
			assert.Zero(t, k)
		})
	}
}

// TestOneCharacterChange: any single-character change anywhere in a
// generated secret fails Parse (S2), exhaustively over every position and
// every base62 character, for a few secrets of every kind.
func TestOneCharacterChange(t *testing.T) {
	for _, k := range allKinds {
		for range 3 {
			sec, err := token.Generate(k)
			require.NoError(t, err)
			s := []byte(sec.Reveal())
			for i := range s {
				orig := s[i]
				for c := 0; c < 256; c++ {
					if byte(c) == orig {
						continue
					}
					s[i] = byte(c)
					got, err := token.Parse(string(s))
					if err == nil {
						t.Fatalf("%s: changing position %d from %q to %q still parses as %v", k, i, orig, byte(c), got)
					}
				}
				s[i] = orig
			}
			_, err = token.Parse(string(s))
			require.NoError(t, err)
		}
	}
}

// TestMillionUnique generates 1,000,000 secrets: all distinct, all parse.
// Generation runs on every core; the check is sequential.
func TestMillionUnique(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			part := make([]string, 0, n/workers+1)
			for i := w; i < n; i += workers {
				sec, err := token.Generate(token.KindAPI)
				if err != nil {
					t.Error(err)
					return
				}
				part = append(part, sec.Reveal())
			}
			parts[w] = part
		})
	}
	wg.Wait()
	seen := make(map[string]struct{}, n)
	for _, part := range parts {
		for i, s := range part {
			if _, err := token.Parse(s); err != nil {
				t.Fatalf("secret %d does not parse", i)
			}
			if _, dup := seen[s]; dup {
				t.Fatalf("secret %d repeats an earlier one", i)
			}
			seen[s] = struct{}{}
		}
	}
	assert.Len(t, seen, n)
}

// TestUniformAlphabet checks that every base62 character appears in
// generated secrets at about the same rate: no modulo bias (bytes ≥ 248
// are rejected). With 22·20000 draws each character is expected ~7097
// times; a plain b%62 over all 256 byte values would make '0'–'7' 25% more
// likely (5/256 against 4/256), a χ² in the thousands.
func TestUniformAlphabet(t *testing.T) {
	var counts [62]int
	const n = 20000
	for range n {
		sec, err := token.Generate(token.KindAPI)
		require.NoError(t, err)
		for _, c := range []byte(sec.Reveal()[4 : 4+token.RandomLen]) {
			counts[strings.IndexByte(token.Alphabet, c)]++
		}
	}
	exp := float64(n*token.RandomLen) / 62
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - exp
		chi2 += d * d / exp
	}
	// 61 degrees of freedom: P(χ² > 120) < 1e-5.
	assert.Less(t, chi2, 120.0, "counts %v", counts)
}

// rejectingReader returns bytes ≥ 248 first, which must all be rejected.
func TestRejectionSampling(t *testing.T) {
	// 40 bytes ≥ 248 (all rejected), then 0..: the first 22 accepted bytes
	// are 0, 1, 2, … so the random part is the alphabet's start.
	src := append(bytes.Repeat([]byte{248, 255}, 20), make([]byte, 64)...)
	for i := 40; i < len(src); i++ {
		src[i] = byte(i - 40)
	}
	sec, err := token.GenerateFrom(bytes.NewReader(src), token.KindAPI)
	require.NoError(t, err)
	assert.Equal(t, "tap_"+token.Alphabet[:token.RandomLen], sec.Reveal()[:4+token.RandomLen])

	// b%62 mapping: 62 → '0', 247 → 247-186=61 → 'z'.
	src = append([]byte{62, 247}, make([]byte, 100)...)
	sec, err = token.GenerateFrom(bytes.NewReader(src), token.KindAPI)
	require.NoError(t, err)
	assert.Equal(t, "tap_0z", sec.Reveal()[:6])
}

// TestFailingRandom: a failing random source issues nothing (S1).
func TestFailingRandom(t *testing.T) {
	boom := errors.New("entropy exhausted")
	readers := map[string]io.Reader{
		"error":     iotest.ErrReader(boom),
		"short":     bytes.NewReader(make([]byte, 10)),
		"rejecting": bytes.NewReader(bytes.Repeat([]byte{255}, 100)),
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			sec, err := token.GenerateFrom(r, token.KindAPI)
			require.ErrorIs(t, err, token.ErrRandom)
			assert.True(t, sec.IsZero())
			assert.Empty(t, sec.Reveal())
		})
	}
}

func TestGenerateInvalidKind(t *testing.T) {
	for _, k := range []token.Kind{0, 7, 255} {
		sec, err := token.Generate(k)
		require.Error(t, err)
		assert.True(t, sec.IsZero())
	}
}

func TestHash(t *testing.T) {
	sec, err := token.Generate(token.KindAPI)
	require.NoError(t, err)
	h := token.Hash(sec.Reveal())
	assert.False(t, h.IsZero())
	assert.Equal(t, h, token.Hash(sec.Reveal()))
	other, err := token.Generate(token.KindAPI)
	require.NoError(t, err)
	assert.NotEqual(t, h, token.Hash(other.Reveal()))
}

func TestParseAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	sec, err := token.Generate(token.KindRefresh)
	require.NoError(t, err)
	s := sec.Reveal()
	bad := s[:len(s)-1] + "!"
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = token.Parse(s)
		_, _ = token.Parse(bad)
	})
	assert.Zero(t, allocs)
}
