package memstore

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestIndexModel drives an index with random inserts and removes, with
// deliberately colliding tags, and checks it against a map after every
// step.
func TestIndexModel(t *testing.T) {
	// Tags whose home, in a 16-entry table, is one of its last two or first
	// two positions: clusters that wrap around the end.
	var edge []uint32
	small := index{shift: 60}
	for tag := uint32(0); len(edge) < 64; tag++ {
		if h := small.home(tag); h >= 14 || h <= 1 {
			edge = append(edge, tag)
		}
	}
	cases := []struct {
		name string
		tag  func(rng *rand.Rand) uint32
		max  int // most entries at once
	}{
		{"4-bit tags", func(rng *rand.Rand) uint32 { return rng.Uint32() >> 28 }, 1 << 30},
		{"12-bit tags", func(rng *rand.Rand) uint32 { return rng.Uint32() >> 20 }, 1 << 30},
		{"32-bit tags", func(rng *rand.Rand) uint32 { return rng.Uint32() }, 1 << 30},
		{"wrapping clusters", func(rng *rand.Rand) uint32 { return edge[rng.IntN(len(edge))] }, 12},
	}
	for ci, tc := range cases {
		rng := rand.New(rand.NewPCG(uint64(ci), 7))
		var x index
		model := map[int32]uint32{} // slot → tag
		next := int32(0)
		find := func(tag uint32, slot int32) int32 {
			return x.lookup(tag, func(i int32) bool { return i == slot })
		}
		for step := range 6000 {
			if len(model) == 0 || (len(model) < tc.max && rng.IntN(3) > 0) {
				tag := tc.tag(rng)
				x.insert(tag, next)
				model[next] = tag
				next++
			} else {
				// remove a random present slot
				var slot int32
				k := rng.IntN(len(model))
				for s := range model {
					if k == 0 {
						slot = s
						break
					}
					k--
				}
				tag := model[slot]
				x.remove(tag, slot)
				delete(model, slot)
				if find(tag, slot) != -1 {
					t.Fatalf("%s, step %d: removed slot %d still found", tc.name, step, slot)
				}
			}
			require.Equal(t, len(model), x.n, "step %d", step)
			if step%300 == 0 || tc.max < 100 {
				for slot, tag := range model {
					if find(tag, slot) != slot {
						t.Fatalf("%s, step %d: slot %d lost", tc.name, step, slot)
					}
				}
			}
		}
		for slot, tag := range model {
			require.Equal(t, slot, find(tag, slot))
		}
		require.LessOrEqual(t, x.n*4, len(x.entries)*3, "load factor above 3/4")
	}
}

func TestIndexEmpty(t *testing.T) {
	var x index
	require.Equal(t, int32(-1), x.lookup(7, func(int32) bool { return true }))
	x.remove(7, 1) // no panic on an empty index
	x.insert(7, 1)
	x.remove(7, 2) // absent slot with a present tag
	require.Equal(t, int32(1), x.lookup(7, func(int32) bool { return true }))
}

func TestRecordSize(t *testing.T) {
	// Two cache lines exactly; see tokenRec.
	require.Equal(t, uintptr(96), unsafe.Sizeof(tokenRec{}))
}
