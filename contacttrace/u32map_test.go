package contacttrace

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestU32MapMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var m u32map
	for round := range 5 {
		want := map[uint32]int32{}
		for range rng.IntN(100_000) {
			k := uint32(rng.IntN(50_000))
			if rng.IntN(100) == 0 {
				k = math.MaxUint32 - 1 - uint32(rng.IntN(3)) // the largest keys still fit
			}
			v := rng.Int32()
			want[k] = v
			m.put(k, v)
		}
		require.Equal(t, len(want), m.n, "round %d", round)
		for k, v := range want {
			got, ok := m.get(k)
			require.True(t, ok)
			require.Equal(t, v, got)
		}
		for range 1000 {
			k := uint32(50_000 + rng.IntN(1000))
			_, ok := m.get(k)
			require.False(t, ok)
		}
		m.reset()
		_, ok := m.get(1)
		require.False(t, ok)
	}
}

func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct{ n, width int }{{0, 1}, {10, 64}, {300, 1}, {1000, 12}, {5000, 33}, {5000, 64}} {
		keys := make([]uint64, tc.n)
		for i := range keys {
			keys[i] = rng.Uint64()
			if tc.width < 64 {
				keys[i] &= 1<<tc.width - 1
			}
		}
		want := slices.Sorted(slices.Values(keys))
		got, _ := radixSort(keys, nil, tc.width)
		require.True(t, slices.Equal(want, got), "n=%d width=%d", tc.n, tc.width)
	}
}

// TestU32MapResetFor reuses one map for sizes up and down and checks that
// nothing of an earlier use leaks into the next.
func TestU32MapResetFor(t *testing.T) {
	var m u32map
	for round, n := range []int{10, 5000, 3, 70_000, 0, 200} {
		m.resetFor(n)
		require.Equal(t, 0, m.n)
		for k := range uint32(n) {
			_, had := m.upsert(k*7 + uint32(round))
			require.False(t, had, "round %d key %d", round, k)
		}
		for k := range uint32(n) {
			_, had := m.upsert(k*7 + uint32(round))
			require.True(t, had)
		}
		require.Equal(t, n, m.n)
	}
}
