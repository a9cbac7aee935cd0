package synth

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
	"time"
)

// Scan is one venue-code scan.
type Scan struct {
	Person uint32 // person index, 0..Persons-1
	Venue  uint32 // venue ID, 0..Venues-1
	Time   int64  // unix seconds
}

// ScanConfig configures Scans and ScanSeq. A zero field means its default.
type ScanConfig struct {
	Persons int       // number of distinct people; default 10000
	Venues  int       // number of venues; default 1000
	Days    int       // number of days; default 1
	PerDay  int       // scans per day; default 10000
	Start   time.Time // local midnight of the first day; default DefaultStart()
	ZipfS   float64   // Zipf exponent of venue popularity; default DefaultZipfS
	// PersonSkew, if > 0, is a Zipf exponent for how often each person
	// scans (some people scan much more); 0 means uniform.
	PersonSkew float64
}

// DefaultZipfS is the default Zipf exponent of venue popularity.
const DefaultZipfS = 1.0

func (c ScanConfig) withDefaults() ScanConfig {
	if c.Persons <= 0 {
		c.Persons = 10000
	}
	if c.Venues <= 0 {
		c.Venues = 1000
	}
	if c.Days <= 0 {
		c.Days = 1
	}
	if c.PerDay <= 0 {
		c.PerDay = 10000
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.ZipfS <= 0 {
		c.ZipfS = DefaultZipfS
	}
	return c
}

// Validate reports a configuration the generator cannot honour.
func (c ScanConfig) Validate() error {
	switch {
	case c.Persons > math.MaxUint32:
		return errors.New("synth: ScanConfig.Persons exceeds 2^32-1")
	case c.Venues > math.MaxUint32:
		return errors.New("synth: ScanConfig.Venues exceeds 2^32-1")
	case c.PerDay > math.MaxUint32:
		return errors.New("synth: ScanConfig.PerDay exceeds 2^32-1")
	case !(c.ZipfS >= 0):
		return fmt.Errorf("synth: ScanConfig.ZipfS = %v, want >= 0", c.ZipfS)
	case !(c.PersonSkew >= 0):
		return fmt.Errorf("synth: ScanConfig.PersonSkew = %v, want >= 0", c.PersonSkew)
	}
	return negative("ScanConfig", field{"Persons", c.Persons}, field{"Venues", c.Venues}, field{"Days", c.Days}, field{"PerDay", c.PerDay})
}

// DayRhythm returns the relative scan intensity at a time of day given in
// seconds after local midnight: low at night, with a morning commute peak
// around 08:15, a lunch peak around 12:15 and a broad evening peak around
// 18:30. Scans draws times of day proportionally to it.
func DayRhythm(sec int) float64 {
	h := float64(sec) / 3600
	base := 0.05 // night
	switch {
	case h >= 6 && h < 22:
		base = 0.5
	case h >= 5 && h < 6:
		base = 0.05 + 0.45*(h-5)
	case h >= 22:
		base = 0.5 - 0.45*(h-22)/2
	}
	bump := func(mu, sigma, amp float64) float64 {
		d := (h - mu) / sigma
		return amp * math.Exp(-d*d/2)
	}
	return base + bump(8.25, 0.6, 2.0) + bump(12.25, 0.6, 2.5) + bump(18.5, 1.0, 2.2)
}

// rhythmAlias samples a second of the day proportionally to DayRhythm. It
// is built once and only read afterwards.
var rhythmAlias = sync.OnceValue(func() *aliasTable {
	w := make([]float64, 86400)
	for s := range w {
		w[s] = DayRhythm(s)
	}
	a := newAlias(w)
	return &a
})

// scanState is the precomputed sampling machinery for one configuration.
type scanState struct {
	cfg        ScanConfig
	venue      aliasTable  // by rank
	venuePerm  []uint32    // rank -> venue ID
	person     aliasTable  // by rank, used when PersonSkew > 0
	personPerm []uint32    // rank -> person ID
	second     *aliasTable // second of day, shared
	counts     []uint32    // scans per second of the current day
	persons    uint64
	start      int64
}

func (g *Gen) newScanState(cfg ScanConfig) *scanState {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	st := &scanState{cfg: cfg, persons: uint64(cfg.Persons), start: cfg.Start.Unix()}
	// Alias tables are built in rank order (weights descending, written
	// and read sequentially) and ranks mapped to IDs by rankPerm.
	st.venue = newAlias(zipfWeights(cfg.Venues, cfg.ZipfS))
	st.venuePerm = rankPerm(cfg.Venues)
	if cfg.PersonSkew > 0 {
		// Scatter heavy scanners over the ID space the same way as venues.
		st.person = newAlias(zipfWeights(cfg.Persons, cfg.PersonSkew))
		st.personPerm = rankPerm(cfg.Persons)
	}
	st.second = rhythmAlias()
	st.counts = make([]uint32, 86400)
	return st
}

// fillCounts draws the times of one day's scans as counts per second.
func (st *scanState) fillCounts(g *Gen) {
	clear(st.counts)
	r := g.rng
	for range st.cfg.PerDay {
		st.counts[st.second.sample(r.Uint64())]++
	}
}

// draw returns the person and venue of one scan.
func (st *scanState) draw(g *Gen) (uint32, uint32) {
	r := g.rng
	var p uint32
	if st.cfg.PersonSkew > 0 {
		p = st.personPerm[st.person.sample(r.Uint64())]
	} else {
		p = uint32((r.Uint64() >> 32) * st.persons >> 32)
	}
	return p, st.venuePerm[st.venue.sample(r.Uint64())]
}

// Scans returns Days*PerDay scans in time order. Each day has exactly
// PerDay scans; times of day follow DayRhythm, venues are drawn with Zipf
// popularity (exponent ZipfS, the same venue ranking as Venues) and people
// uniformly or, with PersonSkew, Zipf-like. It allocates the result once.
// It panics if cfg.Validate fails.
func (g *Gen) Scans(cfg ScanConfig) []Scan {
	st := g.newScanState(cfg)
	cfg = st.cfg
	out := make([]Scan, cfg.Days*cfg.PerDay)
	k := 0
	for d := range cfg.Days {
		st.fillCounts(g)
		base := st.start + int64(d)*86400
		for sec, c := range st.counts {
			t := base + int64(sec)
			for range c {
				p, v := st.draw(g)
				out[k] = Scan{Person: p, Venue: v, Time: t}
				k++
			}
		}
	}
	return out
}

// ScanSeq yields the same scans as Scans with the same configuration and
// generator state, without holding them: memory stays constant whatever
// Days and PerDay are.
func (g *Gen) ScanSeq(cfg ScanConfig) iter.Seq[Scan] {
	return func(yield func(Scan) bool) {
		st := g.newScanState(cfg)
		for d := range st.cfg.Days {
			st.fillCounts(g)
			base := st.start + int64(d)*86400
			for sec, c := range st.counts {
				t := base + int64(sec)
				for range c {
					p, v := st.draw(g)
					if !yield(Scan{Person: p, Venue: v, Time: t}) {
						return
					}
				}
			}
		}
	}
}
