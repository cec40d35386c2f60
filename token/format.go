package token

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
	k, crc := prefixOf(s)
	if k == 0 {
		return 0, ErrMalformed
	}
	b := s[len(s)-BodyLen:]
	_ = b[BodyLen-1] // one bounds check for all
	// Validate the body: decode[c] is -1 for a byte outside the alphabet, so
	// bad goes negative. Unrolled, the 28 loads are independent.
	bad := decode[b[0]] | decode[b[1]] | decode[b[2]] | decode[b[3]] |
		decode[b[4]] | decode[b[5]] | decode[b[6]] | decode[b[7]] |
		decode[b[8]] | decode[b[9]] | decode[b[10]] | decode[b[11]] |
		decode[b[12]] | decode[b[13]] | decode[b[14]] | decode[b[15]] |
		decode[b[16]] | decode[b[17]] | decode[b[18]] | decode[b[19]] |
		decode[b[20]] | decode[b[21]] | decode[b[22]] | decode[b[23]] |
		decode[b[24]] | decode[b[25]] | decode[b[26]] | decode[b[27]]
	if bad < 0 {
		return 0, ErrMalformed
	}
	// The checksum's six digits, in two independent halves.
	hi := (uint64(decode[b[22]])*62+uint64(decode[b[23]]))*62 + uint64(decode[b[24]])
	lo := (uint64(decode[b[25]])*62+uint64(decode[b[26]]))*62 + uint64(decode[b[27]])
	if hi*62*62*62+lo != uint64(crc22(crc, b[:RandomLen])) {
		return 0, ErrMalformed
	}
	return k, nil
}

// prefixOf returns the kind of s by its prefix and length, and the CRC32 of
// the prefix; 0 when s is not PREFIX + BodyLen bytes for a known prefix.
func prefixOf(s string) (Kind, uint32) {
	switch len(s) {
	case len(PrefixBearer) + BodyLen:
		if s[:len(PrefixBearer)] == PrefixBearer {
			return KindAPI, crcBearer
		}
	case len(PrefixRefresh) + BodyLen: // = len(PrefixSession) + BodyLen
		if s[:len(PrefixRefresh)] == PrefixRefresh {
			return KindRefresh, crcRefresh
		}
		if s[:len(PrefixSession)] == PrefixSession {
			return KindSession, crcSession
		}
	case len(PrefixCode) + BodyLen:
		if s[:len(PrefixCode)] == PrefixCode {
			return KindCode, crcCode
		}
	case len(PrefixClientSecret) + BodyLen:
		if s[:len(PrefixClientSecret)] == PrefixClientSecret {
			return KindClientSecret, crcClientSecret
		}
	}
	return 0, 0
}

// The CRC32 (IEEE) of each prefix: Parse continues from there over the
// random part, so crc22(crcBearer, R) = crc32.ChecksumIEEE("tap_" + R).
var (
	crcBearer       = crc32.ChecksumIEEE([]byte(PrefixBearer))
	crcRefresh      = crc32.ChecksumIEEE([]byte(PrefixRefresh))
	crcSession      = crc32.ChecksumIEEE([]byte(PrefixSession))
	crcCode         = crc32.ChecksumIEEE([]byte(PrefixCode))
	crcClientSecret = crc32.ChecksumIEEE([]byte(PrefixClientSecret))
)

// crcTable8 holds the slicing-by-8 tables of CRC32 IEEE. hash/crc32 has
// them too but reaches them through a sync.Once and a dispatch that cost
// more than the 22 bytes of a secret; this is the same algorithm inlined.
var crcTable8 = func() (t [8][256]uint32) {
	t[0] = *crc32.IEEETable
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ (crc >> 8)
			t[j][i] = crc
		}
	}
	return t
}()

// crc22 returns the CRC32 (IEEE) of the data whose checksum is crc followed
// by the 22 bytes of p, as crc32.Update(crc, crc32.IEEETable, p) does:
// two slicing-by-8 rounds, one slicing-by-4 round and two single bytes, with
// no loop and no bounds check.
func crc22(crc uint32, p string) uint32 {
	_ = p[RandomLen-1] // one bounds check for all
	t := &crcTable8
	crc = ^crc
	crc ^= uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	crc = t[0][p[7]] ^ t[1][p[6]] ^ t[2][p[5]] ^ t[3][p[4]] ^
		t[4][crc>>24] ^ t[5][(crc>>16)&0xff] ^ t[6][(crc>>8)&0xff] ^ t[7][crc&0xff]
	crc ^= uint32(p[8]) | uint32(p[9])<<8 | uint32(p[10])<<16 | uint32(p[11])<<24
	crc = t[0][p[15]] ^ t[1][p[14]] ^ t[2][p[13]] ^ t[3][p[12]] ^
		t[4][crc>>24] ^ t[5][(crc>>16)&0xff] ^ t[6][(crc>>8)&0xff] ^ t[7][crc&0xff]
	crc ^= uint32(p[16]) | uint32(p[17])<<8 | uint32(p[18])<<16 | uint32(p[19])<<24
	crc = t[0][crc>>24] ^ t[1][(crc>>16)&0xff] ^ t[2][(crc>>8)&0xff] ^ t[3][crc&0xff]
	crc = t[0][byte(crc)^p[20]] ^ (crc >> 8)
	crc = t[0][byte(crc)^p[21]] ^ (crc >> 8)
	return ^crc
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

// Generate returns a new secret of kind k drawn from crypto/rand. A failing
// random source returns an error matching [ErrRandom] and no secret.
func Generate(k Kind) (Secret, error) { return generate(nil, k) }

// generate makes a secret of kind k from r, or from crypto/rand when r is
// nil. It allocates once: the Secret's value.
func generate(r io.Reader, k Kind) (Secret, error) {
	prefix := Prefix(k)
	if prefix == "" {
		return Secret{}, fmt.Errorf("token: cannot generate a secret of kind %d", k)
	}
	v := &secretValue{kind: k, n: uint8(len(prefix) + BodyLen)}
	buf := v.buf[:v.n]
	copy(buf, prefix)
	if err := randomBase62(r, buf[len(prefix):len(prefix)+RandomLen]); err != nil {
		return Secret{}, err
	}
	putChecksum(buf)
	return Secret{v: v}, nil
}

// putChecksum writes the base62 CRC32 of buf[:len(buf)-ChecksumLen] into
// the last ChecksumLen bytes of buf, most significant digit first.
func putChecksum(buf []byte) {
	n := len(buf) - ChecksumLen
	sum := crc32.ChecksumIEEE(buf[:n]) // the reference implementation, not crc22
	for i := len(buf) - 1; i >= n; i-- {
		buf[i] = alphabet[sum%62]
		sum /= 62
	}
}

// randomBase62 fills dst with characters drawn uniformly from the base62
// alphabet, reading random bytes from r, or from crypto/rand when r is nil.
// It rejects bytes ≥ 248 (= 4·62) so that every character is equally
// likely: no modulo bias.
func randomBase62(r io.Reader, dst []byte) error {
	var pool [32]byte
	filled := 0
	for filled < len(dst) {
		var err error
		if r == nil {
			// crypto/rand.Read keeps pool on the stack; an io.Reader
			// interface call would move it to the heap.
			_, err = rand.Read(pool[:])
		} else {
			tmp := make([]byte, len(pool)) // keeps pool off the heap
			_, err = io.ReadFull(r, tmp)
			copy(pool[:], tmp)
		}
		if err != nil {
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

// idLen is the number of random base62 characters of a public ID: 95 bits,
// enough that IDs never collide.
const idLen = 16

// newID returns a public identifier: prefix + 16 random base62 characters
// from r (crypto/rand when nil). IDs are not secrets and share nothing with
// one.
func newID(r io.Reader, prefix string) (string, error) {
	buf := make([]byte, len(prefix)+idLen)
	copy(buf, prefix)
	if err := randomBase62(r, buf[len(prefix):]); err != nil {
		return "", err
	}
	return unsafe.String(&buf[0], len(buf)), nil
}

// Hash returns the SHA-256 of a secret: what a store keeps instead of it.
func Hash(secret string) store.Hash { return sha256.Sum256(bytesOf(secret)) }
