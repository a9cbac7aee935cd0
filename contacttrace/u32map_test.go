package contacttrace

import (
	"math"
	"math/rand/v2"
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
