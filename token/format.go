package token

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unsafe"

	"tapioca.dev/auth/store"
)

// Kind is the kind of a tap_ secret; see [store.Kind].
type Kind = store.Kind

// The kinds of tap_ secrets.
const (
	KindAPI          = store.KindAPI
	KindAccess       = store.KindAccess
	KindRefresh      = store.KindRefresh
	KindSession      = store.KindSession
	KindCode         = store.KindCode
	KindClientSecret = store.KindClientSecret
)

// Format constants; see the package documentation.
const (
	// RandomLen is the number of random base62 characters in a secret.
	RandomLen = 22
	// ChecksumLen is the number of base62 characters of the CRC32 checksum.
	ChecksumLen = 6
	// BodyLen is the length of a secret after its prefix.
	BodyLen = RandomLen + ChecksumLen

	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Prefixes of the secret kinds. API tokens and OAuth access tokens share
// "tap_": both are bearer tokens, and the stored record tells them apart.
const (
	PrefixBearer       = "tap_"
	PrefixRefresh      = "tap_refresh_"
	PrefixSession      = "tap_session_"
	PrefixCode         = "tap_code_"
	PrefixClientSecret = "tap_secret_"
)

// Prefix returns the prefix of secrets of kind k, or "" for an invalid kind.
func Prefix(k Kind) string {
	switch k {
	case KindAPI, KindAccess:
		return PrefixBearer
	case KindRefresh:
		return PrefixRefresh
	case KindSession:
		return PrefixSession
	case KindCode:
		return PrefixCode
	case KindClientSecret:
		return PrefixClientSecret
	}
	return ""
}

// ErrMalformed is matched by errors of [Parse]: the text is not a
// well-formed tap_ secret with a valid checksum. It also matches
// [ErrInvalid].
var ErrMalformed error = &malformedError{}

type malformedError struct{}

func (*malformedError) Error() string { return "token: malformed" }

func (*malformedError) Is(target error) bool { return target == ErrInvalid }

// Parse checks that s is a well-formed tap_ secret — a known prefix, 28
// base62 characters, a checksum that holds — and returns its kind as the
// prefix tells it: [KindAPI] for "tap_" (an API or OAuth access token),
// [KindRefresh], [KindSession], [KindCode] or [KindClientSecret]. It does no
// I/O and does not allocate. A valid checksum proves only that s is not a
// typo or a look-alike; it authenticates nothing.
func Parse(s string) (Kind, error) {
	k := prefixKind(s)
	if k == 0 || !checksumOK(s) {
		return 0, ErrMalformed
	}
	return k, nil
}

// prefixKind returns the kind by prefix when s has a known prefix followed
// by exactly BodyLen base62 characters.
func prefixKind(s string) Kind {
	if !strings.HasPrefix(s, PrefixBearer) {
		return 0
	}
	var k Kind
	switch len(s) {
	case len(PrefixBearer) + BodyLen:
		k = KindAPI
	case len(PrefixRefresh) + BodyLen:
		if s[:len(PrefixRefresh)] == PrefixRefresh {
			k = KindRefresh
		} else if s[:len(PrefixSession)] == PrefixSession {
			k = KindSession
		}
	case len(PrefixCode) + BodyLen:
		if s[:len(PrefixCode)] == PrefixCode {
			k = KindCode
		}
	case len(PrefixClientSecret) + BodyLen:
		if s[:len(PrefixClientSecret)] == PrefixClientSecret {
			k = KindClientSecret
		}
	}
	if k == 0 {
		return 0
	}
	for i := len(s) - BodyLen; i < len(s); i++ {
		if decode[s[i]] < 0 {
			return 0
		}
	}
	return k
}

// checksumOK reports whether the last ChecksumLen characters of s are the
// base62 CRC32 of the rest. s's body is known to be base62.
func checksumOK(s string) bool {
	n := len(s) - ChecksumLen
	var want uint64
	for i := n; i < len(s); i++ {
		want = want*62 + uint64(decode[s[i]])
	}
	return want == uint64(crc32.ChecksumIEEE(bytesOf(s[:n])))
}

// bytesOf returns a read-only view of s's bytes without copying. The result
// must never be written to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

var decode = func() (d [256]int8) {
	for i := range d {
		d[i] = -1
	}
	for i := 0; i < len(alphabet); i++ {
		d[alphabet[i]] = int8(i)
	}
	return d
}()

// ErrRandom is matched by errors of [Generate] when the random source
// fails; nothing is issued then.
var ErrRandom = errors.New("token: random source failed")

// Generate returns a new secret of kind k drawn from crypto/rand.
func Generate(k Kind) (Secret, error) { return generate(rand.Reader, k) }

func generate(r io.Reader, k Kind) (Secret, error) {
	prefix := Prefix(k)
	if prefix == "" {
		return Secret{}, fmt.Errorf("token: cannot generate a secret of kind %d", k)
	}
	buf := make([]byte, len(prefix)+BodyLen)
	copy(buf, prefix)
	if err := randomBase62(r, buf[len(prefix):len(prefix)+RandomLen]); err != nil {
		return Secret{}, err
	}
	sum := crc32.ChecksumIEEE(buf[:len(prefix)+RandomLen])
	for i := len(buf) - 1; i >= len(buf)-ChecksumLen; i-- {
		buf[i] = alphabet[sum%62]
		sum /= 62
	}
	return Secret{s: string(buf), kind: k}, nil
}

// randomBase62 fills dst with characters drawn uniformly from the base62
// alphabet. It rejects bytes ≥ 248 (= 4·62) so that every character is
// equally likely: no modulo bias.
func randomBase62(r io.Reader, dst []byte) error {
	var pool [48]byte
	filled := 0
	for filled < len(dst) {
		if _, err := io.ReadFull(r, pool[:]); err != nil {
			return fmt.Errorf("%w: %v", ErrRandom, err)
		}
		for _, b := range pool {
			if b >= 248 {
				continue
			}
			dst[filled] = alphabet[b%62]
			filled++
			if filled == len(dst) {
				break
			}
		}
	}
	return nil
}

// newID returns a public identifier: prefix + 16 random base62 characters.
// IDs are not secrets and share nothing with one.
func newID(r io.Reader, prefix string) (string, error) {
	buf := make([]byte, len(prefix)+16)
	copy(buf, prefix)
	if err := randomBase62(r, buf[len(prefix):]); err != nil {
		return "", err
	}
	return string(buf), nil
}

// Hash returns the SHA-256 of a secret: what a store keeps instead of it.
func Hash(secret string) store.Hash { return sha256.Sum256(bytesOf(secret)) }
