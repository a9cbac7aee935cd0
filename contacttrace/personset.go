package contacttrace

import (
	"iter"
	"math/bits"
)

// PersonSet is a set of dense person ids (a bitset), used to exclude people
// already identified by earlier tasks. The zero value is an empty set.
//
// A PersonSet is not safe for concurrent use while it is being modified;
// concurrent Has calls on a set nobody modifies are safe.
type PersonSet struct {
	words []uint64
	n     int
}

// NewPersonSet returns a set holding ids.
func NewPersonSet(ids ...uint32) *PersonSet {
	s := &PersonSet{}
	for _, id := range ids {
		s.Add(id)
	}
	return s
}

// Add inserts id.
func (s *PersonSet) Add(id uint32) {
	w := int(id >> 6)
	if w >= len(s.words) {
		grown := make([]uint64, max(w+1, 2*len(s.words)))
		copy(grown, s.words)
		s.words = grown
	}
	m := uint64(1) << (id & 63)
	if s.words[w]&m == 0 {
		s.words[w] |= m
		s.n++
	}
}

// Has reports whether id is in the set. A nil set is empty.
func (s *PersonSet) Has(id uint32) bool {
	if s == nil {
		return false
	}
	w := int(id >> 6)
	return w < len(s.words) && s.words[w]&(1<<(id&63)) != 0
}

// Len is the number of ids in the set. A nil set is empty.
func (s *PersonSet) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Union adds every id of o to s.
func (s *PersonSet) Union(o *PersonSet) {
	if o == nil {
		return
	}
	if len(o.words) > len(s.words) {
		grown := make([]uint64, len(o.words))
		copy(grown, s.words)
		s.words = grown
	}
	s.n = 0
	for i := range s.words {
		if i < len(o.words) {
			s.words[i] |= o.words[i]
		}
		s.n += bits.OnesCount64(s.words[i])
	}
}

// All yields the ids in ascending order.
func (s *PersonSet) All() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		if s == nil {
			return
		}
		for i, w := range s.words {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				if !yield(uint32(i<<6 | b)) {
					return
				}
				w &= w - 1
			}
		}
	}
}
