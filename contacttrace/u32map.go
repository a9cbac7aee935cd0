package contacttrace

import "math/bits"

// u32map is an open-addressing hash map from person ids to int32, for the
// per-hop candidate table: several times faster than a Go map on this
// insert-heavy, delete-free load. Not safe for concurrent use.
type u32map struct {
	slots []u32slot
	n     int
	mask  uint32
}

// u32slot keeps a key beside its value, so that a probe touches one cache
// line rather than one in a key array and one in a value array.
type u32slot struct {
	key uint32 // key+1; 0 marks an empty slot
	val int32
}

func (m *u32map) reset() {
	if m.n == 0 {
		return
	}
	if len(m.slots) > 1<<20 && m.n < len(m.slots)/64 {
		// Far too big for what the last use held: shrink to fit it.
		m.alloc(4 * m.n)
		return
	}
	clear(m.slots)
	m.n = 0
}

// resetFor empties the map and sizes it for about n keys, clearing only
// the slots that size needs: a map reused for windows of very different
// sizes costs each window its own size, not the largest one's.
func (m *u32map) resetFor(n int) {
	size := 1 << bits.Len(uint(max(2*n, 64)-1))
	if size > cap(m.slots) {
		m.alloc(size)
		return
	}
	m.slots = m.slots[:size]
	clear(m.slots)
	m.mask, m.n = uint32(size-1), 0
}

// alloc replaces the table with an empty one of at least size slots.
func (m *u32map) alloc(size int) {
	size = 1 << bits.Len(uint(max(size, 64)-1))
	m.slots, m.mask, m.n = make([]u32slot, size), uint32(size-1), 0
}

// reserve makes room for n more keys without regrowing on the way.
func (m *u32map) reserve(n int) {
	if 2*(m.n+n) <= len(m.slots) {
		return
	}
	old := m.slots
	m.alloc(2 * (m.n + n))
	for _, s := range old {
		if s.key != 0 {
			m.put(s.key-1, s.val)
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
		switch s := &m.slots[i]; s.key {
		case k + 1:
			return s.val, true
		case 0:
			return 0, false
		}
	}
}

// put sets k to v.
func (m *u32map) put(k uint32, v int32) {
	p, _ := m.upsert(k)
	*p = v
}

// upsert returns the value slot of k, inserting k (with value 0) if absent,
// and whether k was there: a get-then-put in one probe. The pointer is
// valid until the next insert.
func (m *u32map) upsert(k uint32) (*int32, bool) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	for i := hash32(k) & m.mask; ; i = (i + 1) & m.mask {
		switch s := &m.slots[i]; s.key {
		case k + 1:
			return &s.val, true
		case 0:
			s.key, s.val = k+1, 0
			m.n++
			return &s.val, false
		}
	}
}

func (m *u32map) grow() { m.reserve(max(m.n, 32)) }
