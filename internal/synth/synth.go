package synth

import (
	"math/rand/v2"
	"time"
)

// Gen is a deterministic generator of synthetic data. Every method draws from
// one PCG stream seeded by New, so the same seed and the same sequence of
// calls give the same data on every run and platform.
//
// A Gen is not safe for concurrent use; give each goroutine its own Gen
// (for example New(seed+uint64(worker))).
type Gen struct {
	seed uint64
	rng  *rand.Rand

	// ids hands out unique resident ID sequence numbers per (region, birth
	// day, sex) cell, so that no two people from one Gen share an ID.
	ids idAllocator
	// other remembers foreign permanent resident and passport numbers
	// already issued by this Gen.
	other map[string]struct{}
	// people counts persons generated, for Person.Seq.
	people int
}

// New returns a generator seeded with seed.
func New(seed uint64) *Gen {
	return &Gen{
		seed:  seed,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		other: make(map[string]struct{}),
	}
}

// Seed reports the seed g was created with.
func (g *Gen) Seed() uint64 { return g.seed }

// China Standard Time, a fixed UTC+8 zone: generators never depend on the
// host's time zone database.
var cst = time.FixedZone("CST", 8*3600)

// CST returns the fixed UTC+8 zone the generators use for local times
// (China Standard Time, no daylight saving).
func CST() *time.Location { return cst }

// defaultStart is the start of generated time windows when a config leaves
// Start zero: 2022-06-01 00:00 China Standard Time.
var defaultStart = time.Date(2022, 6, 1, 0, 0, 0, 0, cst)

// DefaultStart returns the start used when a config's Start is zero
// (2022-06-01 00:00 UTC+8).
func DefaultStart() time.Time { return defaultStart }

// pick returns a uniformly chosen element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return p > 0 && r.Float64() < p }
