package token

import "io"

// GenerateFrom is generate with an explicit random source, for tests.
func GenerateFrom(r io.Reader, k Kind) (Secret, error) { return generate(r, k) }

// Checksum returns the base62 checksum of prefix+random, for tests.
func Checksum(prefixAndRandom string) string {
	buf := []byte(prefixAndRandom + "000000")
	putChecksum(buf)
	return string(buf[len(prefixAndRandom):])
}

// Alphabet is the base62 alphabet, for tests.
const Alphabet = alphabet
