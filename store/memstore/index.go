package memstore

import (
	"encoding/binary"
	"math/bits"

	"tapioca.dev/auth/store"
)

// index maps a 32-bit tag of a key to token slots: an open-addressing hash
// table with linear probing, 8 bytes per entry, a load between 3/8 and 3/4,
// so 11 to 22 bytes per indexed token. An entry is tag<<32 | slot+1; 0 is empty. The home position of an
// entry is a function of its tag alone, so the table grows without looking
// at the records; a probe compares tags and only touches a record (through
// the caller's match function) when the tags agree.
//
// Keys are SHA-256 hashes (tag: a fold of the hash) or IDs (tag: a seeded
// maphash), so tags are uniform and chains short whatever the caller
// presents.
type index struct {
	entries []uint64
	n       int // entries in use
	shift   uint8
}

const fib = 0x9E3779B97F4A7C15 // 2^64 / φ: Fibonacci hashing

// hashTag folds a hash into a tag.
func hashTag(h *store.Hash) uint32 {
	x := binary.LittleEndian.Uint64(h[0:]) ^ binary.LittleEndian.Uint64(h[8:]) ^
		binary.LittleEndian.Uint64(h[16:]) ^ binary.LittleEndian.Uint64(h[24:])
	return uint32(x ^ x>>32)
}

func (x *index) home(tag uint32) uint64 { return (uint64(tag) * fib) >> x.shift }

// lookup returns the slot of the entry with the given tag for which match
// reports true, or -1.
func (x *index) lookup(tag uint32, match func(slot int32) bool) int32 {
	if x.n == 0 {
		return -1
	}
	mask := uint64(len(x.entries) - 1)
	for p := x.home(tag); ; p = (p + 1) & mask {
		e := x.entries[p]
		if e == 0 {
			return -1
		}
		if uint32(e>>32) == tag && match(int32(uint32(e))-1) {
			return int32(uint32(e)) - 1
		}
	}
}

// insert adds slot under tag; the caller made sure the key is absent.
func (x *index) insert(tag uint32, slot int32) {
	// Grow past a load of 3/4, and start at 16 entries.
	if (x.n+1)*4 > len(x.entries)*3 {
		x.grow()
	}
	x.place(uint64(tag)<<32 | uint64(uint32(slot+1)))
	x.n++
}

func (x *index) place(e uint64) {
	mask := uint64(len(x.entries) - 1)
	p := x.home(uint32(e >> 32))
	for x.entries[p] != 0 {
		p = (p + 1) & mask
	}
	x.entries[p] = e
}

func (x *index) grow() {
	size := 2 * len(x.entries)
	if size == 0 {
		size = 16
	}
	old := x.entries
	x.entries = make([]uint64, size)
	x.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	for _, e := range old {
		if e != 0 {
			x.place(e)
		}
	}
}

// remove deletes the entry (tag, slot), if present, with backward-shift
// deletion, so no tombstones accumulate.
func (x *index) remove(tag uint32, slot int32) {
	if x.n == 0 {
		return
	}
	mask := uint64(len(x.entries) - 1)
	want := uint64(tag)<<32 | uint64(uint32(slot+1))
	p := x.home(tag)
	for x.entries[p] != want {
		if x.entries[p] == 0 {
			return
		}
		p = (p + 1) & mask
	}
	// Shift later entries of the cluster back over the hole when their
	// home position allows it.
	for j := (p + 1) & mask; x.entries[j] != 0; j = (j + 1) & mask {
		k := x.home(uint32(x.entries[j] >> 32))
		// The entry at j may move to p unless its home k lies cyclically
		// in (p, j].
		if (p <= j && (k <= p || k > j)) || (p > j && k <= p && k > j) {
			x.entries[p] = x.entries[j]
			p = j
		}
	}
	x.entries[p] = 0
	x.n--
}
