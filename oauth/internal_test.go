package oauth

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header, id, secret string
		ok                       bool
	}{
		{"plain", enc("svc:tap_secret_x"), "svc", "tap_secret_x", true},
		{"form-urlencoded", enc("a%3Ab+c:s%25+t"), "a:b c", "s% t", true},
		{"colon in secret", enc("svc:a:b"), "svc", "a:b", true},
		{"empty secret", enc("spa:"), "spa", "", true},
		{"lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "a", "b", true},
		{"no colon", enc("svc"), "", "", false},
		{"empty id", enc(":secret"), "", "", false},
		{"bad base64", "Basic !!!", "", "", false},
		{"bad escape", enc("a%zz:b"), "", "", false},
		{"NUL", enc("a%00:b"), "", "", false},
		{"other scheme", "Bearer abc", "", "", false},
		{"scheme only", "Basic", "", "", false},
		{"oversized", enc("a:" + strings.Repeat("b", 600)), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, ok := parseBasic(tt.header)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.id, id)
			assert.Equal(t, tt.secret, secret)
		})
	}
}

// FuzzParseBasic: never panics; what it accepts round-trips through the
// RFC 6749 §2.3.1 encoding.
func FuzzParseBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("svc:tap_secret_x")))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab+c:s%25+t")))
	f.Add("basic Og==")
	f.Add("Basic !!!")
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, ok := parseBasic(h)
		if !ok {
			if id != "" || secret != "" {
				t.Fatal("values with !ok")
			}
			return
		}
		if id == "" || !cleanValue(id) || !cleanValue(secret) {
			t.Fatalf("accepted %q %q", id, secret)
		}
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		id2, secret2, ok2 := parseBasic(again)
		if !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q %q gave %q %q %v", id, secret, id2, secret2, ok2)
		}
	})
}

func TestLimiterBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(rate.Every(time.Second), 2, 10)
	for i := range 1000 {
		l.fail(strings.Repeat("k", i%50)+"x", now)
		assert.LessOrEqual(t, l.size(), 20)
	}
	// A key keeps its bucket when it moves from the old generation.
	l = newLimiter(rate.Every(time.Second), 2, 3)
	l.fail("a", now)
	l.fail("a", now)
	assert.Positive(t, l.wait("a", now))
	for _, k := range []string{"b", "c", "d"} { // "a" moves to the old generation
		l.fail(k, now)
	}
	assert.Positive(t, l.wait("a", now))
	l.fail("a", now) // back to the current generation, still limited
	assert.Positive(t, l.wait("a", now))
	assert.Zero(t, l.wait("a", now.Add(3*time.Second)))
	assert.Zero(t, l.wait("unknown", now))
}

func TestRetryAfter(t *testing.T) {
	assert.Equal(t, 1, retryAfter(time.Millisecond))
	assert.Equal(t, 6, retryAfter(6*time.Second))
	assert.Equal(t, 7, retryAfter(6*time.Second+1))
	assert.Equal(t, 86400, retryAfter(100*time.Hour))
}

// FuzzUnescape: unescape agrees with url.QueryUnescape.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"", "abc", "a+b", "%41%2f", "%", "%4", "%zz", "a%2", "https%3A%2F%2Fapp.example%2Fcb", "%E2%9C%93+x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := unescape(s)
		want, werr := url.QueryUnescape(s)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("unescape(%q) = %q, %v; url.QueryUnescape: %q, %v", s, got, err, want, werr)
		}
	})
}

// A key that failed goes back to the fast path once its bucket is full
// again and an attempt succeeds; meanwhile its attempts in flight count.
func TestLimiterInFlight(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(rate.Every(time.Second), 2, 10)
	l.fail("a", now)
	w, b1 := l.begin("a", now) // one token left
	require.Zero(t, w)
	require.NotNil(t, b1)
	w, b2 := l.begin("a", now) // it is taken by the attempt in flight
	assert.Positive(t, w)
	assert.Nil(t, b2)
	l.end("a", b1, now, false)
	assert.Equal(t, 1, l.size(), "not full yet: kept")
	w, b1 = l.begin("a", now.Add(time.Second))
	require.Zero(t, w)
	l.end("a", b1, now.Add(time.Second), false)
	assert.Zero(t, l.size(), "full again after a success: dropped")
	w, b1 = l.begin("a", now.Add(time.Second))
	assert.Zero(t, w)
	assert.Nil(t, b1)
}

// The limiter's maps outlive the request, so they hold copies of their
// keys: a client ID parsed without copying from a request body (or from a
// Basic header) must not pin the whole body.
func TestLimiterKeysDoNotPinInput(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	within := func(k, in string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(k))), uintptr(unsafe.Pointer(unsafe.StringData(in)))
		return p >= lo && p < lo+uintptr(len(in))
	}
	body := "grant_type=client_credentials&client_id=ghost&client_secret=wrong&pad=" + strings.Repeat("x", 8<<10)
	f, err := parseForm(body)
	require.NoError(t, err)
	require.True(t, within(f.clientID, body), "parseForm no longer shares memory with the body; this test needs another input")
	header := "Basic " + base64.StdEncoding.EncodeToString([]byte("basic-ghost:wrong"))
	id, _, ok := parseBasic(header)
	require.True(t, ok)

	l := newLimiter(rate.Every(time.Second), 2, 2)
	l.fail(f.clientID, now)
	l.fail(id, now)
	l.fail("filler", now)   // the generation is full: the two above move to old
	l.fail(f.clientID, now) // and back from old into the current generation
	require.Equal(t, 3, l.size())
	for _, m := range []map[string]*bucket{l.cur, l.old} {
		for k := range m {
			assert.False(t, within(k, body), "key %q points into the request body", k)
			assert.NotSame(t, unsafe.StringData(id), unsafe.StringData(k), "key %q is the parsed Basic id", k)
		}
	}
	assert.Positive(t, l.wait(f.clientID, now), "the copy still finds the bucket")
}
