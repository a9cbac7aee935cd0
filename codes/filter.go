package codes

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"

	"github.com/bits-and-blooms/bloom/v3"
)

// filter is a blocked Bloom filter over Keys, safe for concurrent use
// without locks: words are read and set atomically, and bits are only ever
// set, so a reader that sees a key's bits cleared is one that raced with the
// add of that key, which the registry orders before the store write it
// protects.
//
// Keys are HMAC outputs, uniformly distributed, so the filter takes its
// positions straight from the key bytes instead of hashing again: the first 8
// bytes pick a 512-bit block (one cache line), and the last 8 bytes give k
// 9-bit positions inside it. One cache miss per lookup, whatever k is.
// Sizing follows bloom.EstimateParameters for the target rate, with bits
// rounded up to whole blocks; blocking costs a little precision, which the
// extra bits pay for.
type filter struct {
	words  []atomic.Uint64
	blocks uint64
	k      uint
	target uint // the number of keys it was sized for
	added  atomic.Uint64
}

const blockWords = 8 // 512 bits, one 64-byte cache line

func newFilter(n uint, fp float64) *filter {
	if n < 1024 {
		n = 1024
	}
	m, k := bloom.EstimateParameters(n, fp/2)
	if k > 7 {
		k = 7 // 7 positions of 9 bits use 63 of the 64 key bits available
	}
	if k < 1 {
		k = 1
	}
	blocks := (uint64(m) + 511) / 512
	return &filter{words: make([]atomic.Uint64, blocks*blockWords), blocks: blocks, k: k, target: n}
}

func (f *filter) base(key *Key) (block uint64, pos uint64) {
	h1 := binary.LittleEndian.Uint64(key[0:8])
	hi, _ := bits.Mul64(h1, f.blocks) // fast range reduction, no modulo
	return hi * blockWords, binary.LittleEndian.Uint64(key[8:16])
}

func (f *filter) add(key *Key) {
	b, pos := f.base(key)
	for i := uint(0); i < f.k; i++ {
		bit := pos & 511
		pos >>= 9
		w := &f.words[b+bit>>6]
		m := uint64(1) << (bit & 63)
		if w.Load()&m == 0 {
			w.Or(m)
		}
	}
	f.added.Add(1)
}

func (f *filter) has(key *Key) bool {
	b, pos := f.base(key)
	for i := uint(0); i < f.k; i++ {
		bit := pos & 511
		pos >>= 9
		if f.words[b+bit>>6].Load()&(uint64(1)<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// bits returns the filter size in bits.
func (f *filter) bits() uint64 { return f.blocks * 512 }
