package contacttrace

import "math/bits"

// u32map is an open-addressing hash map from person ids to int32, for the
// per-hop candidate table: several times faster than a Go map on this
// insert-heavy, delete-free load. Not safe for concurrent use.
type u32map struct {
	keys []uint32 // key+1; 0 marks an empty slot
	vals []int32
	n    int
	mask uint32
}

func (m *u32map) reset() {
	if m.n == 0 {
		return
	}
	if len(m.keys) > 1<<20 && m.n < len(m.keys)/64 {
		// Far too big for what the last use held: shrink to fit it.
		m.alloc(4 * m.n)
		return
	}
	clear(m.keys)
	m.n = 0
}

// alloc replaces the table with an empty one of at least size slots.
func (m *u32map) alloc(size int) {
	size = 1 << bits.Len(uint(max(size, 64)-1))
	m.keys, m.vals, m.mask, m.n = make([]uint32, size), make([]int32, size), uint32(size-1), 0
}

// reserve makes room for n more keys without regrowing on the way.
func (m *u32map) reserve(n int) {
	if 2*(m.n+n) <= len(m.keys) {
		return
	}
	old, oldVals := m.keys, m.vals
	m.alloc(2 * (m.n + n))
	for i, k := range old {
		if k != 0 {
			m.put(k-1, oldVals[i])
		}
	}
}

func hash32(k uint32) uint32 {
	k ^= k >> 16
	k *= 0x7feb352d
	k ^= k >> 15
	k *= 0x846ca68b
	k ^= k >> 16
	return k
}

// get returns the value of k.
func (m *u32map) get(k uint32) (int32, bool) {
	if m.n == 0 {
		return 0, false
	}
	for i := hash32(k) & m.mask; ; i = (i + 1) & m.mask {
		switch m.keys[i] {
		case k + 1:
			return m.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// put sets k to v.
func (m *u32map) put(k uint32, v int32) {
	if 2*(m.n+1) > len(m.keys) {
		m.grow()
	}
	for i := hash32(k) & m.mask; ; i = (i + 1) & m.mask {
		switch m.keys[i] {
		case k + 1:
			m.vals[i] = v
			return
		case 0:
			m.keys[i], m.vals[i] = k+1, v
			m.n++
			return
		}
	}
}

func (m *u32map) grow() { m.reserve(max(m.n, 32)) }
