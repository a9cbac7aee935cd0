package synth

import "math"

// aliasTable samples an index in [0, n) with given weights in O(1) using
// Vose's alias method: one 64-bit random number per draw, whose high half
// picks a column and whose low half decides between the column and its
// alias.
type aliasTable struct {
	col []aliasCol
}

type aliasCol struct {
	thr   uint32 // keep the column if the low 32 bits are below thr
	alias uint32
}

// newAlias builds a table for non-negative weights with a positive sum.
func newAlias(w []float64) aliasTable {
	n := len(w)
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	col := make([]aliasCol, n)
	p := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, x := range w {
		p[i] = x / sum * float64(n)
		if p[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s := small[len(small)-1]
		small = small[:len(small)-1]
		l := large[len(large)-1]
		col[s] = aliasCol{thr: scaleThr(p[s]), alias: uint32(l)}
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// Whatever is left has probability 1 up to rounding.
	for _, i := range large {
		col[i] = aliasCol{thr: math.MaxUint32, alias: uint32(i)}
	}
	for _, i := range small {
		col[i] = aliasCol{thr: math.MaxUint32, alias: uint32(i)}
	}
	return aliasTable{col: col}
}

func scaleThr(p float64) uint32 {
	v := p * (1 << 32)
	if v >= math.MaxUint32 {
		return math.MaxUint32
	}
	if v <= 0 {
		return 0
	}
	return uint32(v)
}

// sample maps a uniform 64-bit number to an index.
func (t *aliasTable) sample(u uint64) uint32 {
	i := uint32((u >> 32) * uint64(len(t.col)) >> 32)
	c := t.col[i]
	if uint32(u) < c.thr {
		return i
	}
	return c.alias
}

// zipfWeights returns w[r] = 1/(r+1)^s for ranks r in [0, n).
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	for r := range w {
		if s == 1 { // the default; a division is much cheaper than Pow
			w[r] = 1 / float64(r+1)
		} else {
			w[r] = math.Pow(float64(r+1), -s)
		}
	}
	return w
}

// rankStep returns a multiplier coprime to n (about n times the golden
// ratio's fraction) so that rank r maps to venue r*step mod n: a fixed
// permutation that scatters popular venues over the ID space.
func rankStep(n int) int {
	if n <= 2 {
		return 1
	}
	s := int(float64(n) * 0.6180339887)
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

// rankPerm returns perm[r] = r*rankStep(n) mod n, computed incrementally
// so that it is written sequentially.
func rankPerm(n int) []uint32 {
	perm := make([]uint32, n)
	step, v := rankStep(n), 0
	for r := range perm {
		perm[r] = uint32(v)
		v += step
		if v >= n {
			v -= n
		}
	}
	return perm
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
