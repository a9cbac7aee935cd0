package contacttrace

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// Scan is one venue-code scan: person Person entered venue Venue at Time
// (unix seconds). Persons and venues are dense integers the caller maps
// to its own identifiers; the package never sees raw IDs.
type Scan struct {
	Person uint32
	Venue  uint32
	Time   int64
}

// MaxScans is the most scans one [Index] holds (positions are 32-bit).
const MaxScans = math.MaxUint32 - 1

// Config controls [Build] and [Index.Append]. The zero value is usable:
// a zero field means its default.
type Config struct {
	// Workers is the number of goroutines a build uses; default
	// runtime.GOMAXPROCS(0).
	Workers int
	// MaxVenues bounds venue ids (ids must be < MaxVenues): offsets are
	// dense over ids, so a stray huge id would otherwise allocate
	// gigabytes. Default 1<<26 (67 M).
	MaxVenues int
	// MaxPersons bounds person ids the same way; default 1<<28 (268 M).
	MaxPersons int
	// Logger receives build phase timings at debug level; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{Workers: runtime.GOMAXPROCS(0), MaxVenues: 1 << 26, MaxPersons: 1 << 28}
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Workers < 0:
		return fieldErr("Config.Workers", "must not be negative, got %d", c.Workers)
	case c.MaxVenues < 0 || c.MaxVenues > math.MaxUint32:
		return fieldErr("Config.MaxVenues", "must be in [0, 2^32), got %d", c.MaxVenues)
	case c.MaxPersons < 0 || c.MaxPersons > math.MaxUint32:
		return fieldErr("Config.MaxPersons", "must be in [0, 2^32), got %d", c.MaxPersons)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.MaxVenues == 0 {
		c.MaxVenues = d.MaxVenues
	}
	if c.MaxPersons == 0 {
		c.MaxPersons = d.MaxPersons
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Index is an immutable, compact index of scans: venue-partitioned and
// time-sorted (a CSR layout: per-venue offsets, then a time column and a
// person column), plus a person-to-scans CSR for following a person's own
// visits. It costs 12 bytes per scan plus 4 bytes per venue id and per
// person id.
//
// An Index is safe for concurrent use: nothing mutates it after Build.
type Index struct {
	base      int64    // unix seconds; times are seconds since base
	venueOff  []uint32 // len numVenues+1
	times     []uint32 // per venue, ascending (ties by person)
	persons   []uint32
	np        uint32   // person ids covered: one more than the largest
	personOff []uint32 // start in personPos of each block of personBlock ids; len ceil(np/personBlock)+1
	personPos []uint32 // positions into times/persons, by person, ascending within each
}

// Person ids are grouped into blocks of personBlock for the person CSR: an
// offset per block instead of per id. A day of a province holds 43 M scans
// among 114 M ids, and an offset per id cost 456 MB a day (more than the
// scans' own persons column); per block it is 7 MB, and finding one
// person's entries in its block of about 24 is a short binary search.
const (
	personShift = 6
	personBlock = 1 << personShift
)

// personBlocks is the number of blocks covering np person ids.
func personBlocks(np int) int { return (np + personBlock - 1) >> personShift }

// Build indexes scans on cfg.Workers cores: a counting sort by venue, a
// sort of each venue's scans by time (skipped when the input is already in
// time order), and a counting sort of positions by person. scans is not
// modified. Build returns ctx.Err() if ctx is cancelled.
func Build(ctx context.Context, scans []Scan, cfg Config) (*Index, error) {
	ix, _, err := build(ctx, scans, cfg, true)
	return ix, err
}

// build indexes scans; without persons it leaves the person CSR out (a
// day about to be merged does not need its own) and returns the number of
// person ids it would have covered.
func build(ctx context.Context, scans []Scan, cfg Config, persons bool) (*Index, int, error) {
	if err := cfg.Validate(); err != nil {
		return nil, 0, err
	}
	cfg = cfg.withDefaults()
	if len(scans) > MaxScans {
		return nil, 0, fmt.Errorf("%w: %d scans (max %d)", ErrTooLarge, len(scans), MaxScans)
	}
	start := time.Now()
	st, err := scanStats(scans, cfg.Workers)
	if err != nil {
		return nil, 0, err
	}
	if len(scans) == 0 {
		return &Index{venueOff: []uint32{0}, personOff: []uint32{0}}, 0, nil
	}
	if st.maxVenue >= uint64(cfg.MaxVenues) {
		return nil, 0, fmt.Errorf("%w: venue id %d at or above Config.MaxVenues %d", ErrTooLarge, st.maxVenue, cfg.MaxVenues)
	}
	if st.maxPerson >= uint64(cfg.MaxPersons) {
		return nil, 0, fmt.Errorf("%w: person id %d at or above Config.MaxPersons %d", ErrTooLarge, st.maxPerson, cfg.MaxPersons)
	}
	if st.maxTime-st.minTime > math.MaxUint32 {
		return nil, 0, fmt.Errorf("%w: scans span %d s (max %d)", ErrTooLarge, st.maxTime-st.minTime, uint64(math.MaxUint32))
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	phase := func(name string) {
		cfg.Logger.Debug("contacttrace: build phase", "phase", name, "elapsed", time.Since(start))
	}
	phase("stats")
	ix := &Index{base: st.minTime}
	nv := int(st.maxVenue) + 1
	w := cfg.Workers

	// Venues as persons in buildPersons: pass 1 scatters (time, person)
	// keys into buckets of 65,536 venue ids, chunks of scans in parallel;
	// pass 2 sorts each bucket by venue in cache, then each venue by time,
	// and splits the keys into the two columns, buckets in parallel.
	const shift = 16
	n := len(scans)
	nb := (nv + 1<<shift - 1) >> shift
	chunks := chunkRanges(n, w)
	hist := make([][]uint32, len(chunks))
	parallelEach(len(chunks), func(c int) {
		h := make([]uint32, nb)
		for i := chunks[c][0]; i < chunks[c][1]; i++ {
			h[scans[i].Venue>>shift]++
		}
		hist[c] = h
	})
	bucketOff := make([]uint32, nb+1)
	var sum uint32
	for b := range nb {
		bucketOff[b] = sum
		for c := range chunks {
			cnt := hist[c][b]
			hist[c][b] = sum
			sum += cnt
		}
	}
	bucketOff[nb] = sum
	// The scatter writes straight into the columns: a column of packed
	// (time, person) keys for the whole day would cost 8 bytes a scan
	// more at the append's peak; each bucket packs its own keys in pass 2.
	ix.times = make([]uint32, n)
	ix.persons = make([]uint32, n)
	low := make([]uint16, n)
	parallelEach(len(chunks), func(c int) {
		next := hist[c]
		for i := chunks[c][0]; i < chunks[c][1]; i++ {
			s := &scans[i]
			b := s.Venue >> shift
			ix.times[next[b]] = uint32(s.Time - ix.base)
			ix.persons[next[b]] = s.Person
			low[next[b]] = uint16(s.Venue)
			next[b]++
		}
	})
	phase("venue-partition")
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	ix.venueOff = make([]uint32, nv+1)
	var wg sync.WaitGroup
	for _, r := range balancedRanges(bucketOff, w) {
		wg.Go(func() {
			counts := make([]uint32, 1<<shift)
			var buf []uint64
			for b := r[0]; b < r[1]; b++ {
				s, e := bucketOff[b], bucketOff[b+1]
				clear(counts)
				for _, l := range low[s:e] {
					counts[l]++
				}
				base := b << shift
				width := min(1<<shift, nv-base)
				acc := uint32(0)
				for j := range width {
					ix.venueOff[base+j] = s + acc
					c := counts[j]
					counts[j] = acc
					acc += c
				}
				buf = slices.Grow(buf[:0], int(e-s))[:e-s]
				for k, l := range low[s:e] {
					at := s + uint32(k)
					buf[counts[l]] = uint64(ix.times[at])<<32 | uint64(ix.persons[at])
					counts[l]++
				}
				for j := range width {
					lo := ix.venueOff[base+j] - s
					hi := e - s
					if j+1 < width {
						hi = counts[j]
					}
					sortKeys(buf[lo:hi])
				}
				for k, key := range buf {
					ix.times[s+uint32(k)] = uint32(key >> 32)
					ix.persons[s+uint32(k)] = uint32(key)
				}
			}
		})
	}
	wg.Wait()
	ix.venueOff[nv] = uint32(n)
	phase("venue-scatter-sort")
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	np := int(st.maxPerson) + 1
	if persons {
		ix.buildPersons(np, w, low) // the venues' low bits are done with
	}
	cfg.Logger.Debug("contacttrace: built index", "scans", n, "venues", nv,
		"persons", np, "elapsed", time.Since(start))
	return ix, np, nil
}

// sortKeys sorts a venue's (time<<32 | person) keys. Input in time order
// (as scans usually arrive) keeps its order through the stable scatter, so
// only runs of equal seconds need sorting by person: an insertion sort,
// linear on such input. Anything else gets a full sort.
func sortKeys(seg []uint64) {
	for i := 1; i < len(seg); i++ {
		if seg[i]>>32 < seg[i-1]>>32 {
			slices.Sort(seg)
			return
		}
	}
	budget := 8*len(seg) + 64 // moves, so long runs of one second stay O(n log n)
	for i := 1; i < len(seg); i++ {
		k := seg[i]
		j := i
		for j > 0 && seg[j-1] > k {
			seg[j] = seg[j-1]
			j--
		}
		seg[j] = k
		if budget -= i - j; budget < 0 {
			slices.Sort(seg)
			return
		}
	}
}

type stats struct {
	minTime, maxTime    int64
	maxVenue, maxPerson uint64
}

func scanStats(scans []Scan, w int) (stats, error) {
	parts := make([]stats, w)
	chunks := chunkRanges(len(scans), w)
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Go(func() {
			s := stats{minTime: math.MaxInt64, maxTime: math.MinInt64}
			for _, sc := range scans[c[0]:c[1]] {
				s.minTime = min(s.minTime, sc.Time)
				s.maxTime = max(s.maxTime, sc.Time)
				s.maxVenue = max(s.maxVenue, uint64(sc.Venue))
				s.maxPerson = max(s.maxPerson, uint64(sc.Person))
			}
			parts[i] = s
		})
	}
	wg.Wait()
	out := stats{minTime: math.MaxInt64, maxTime: math.MinInt64}
	for _, p := range parts[:len(chunks)] {
		out.minTime = min(out.minTime, p.minTime)
		out.maxTime = max(out.maxTime, p.maxTime)
		out.maxVenue = max(out.maxVenue, p.maxVenue)
		out.maxPerson = max(out.maxPerson, p.maxPerson)
	}
	return out, nil
}

// buildPersons builds the person CSR from the persons column: a stable
// counting sort of positions by person in two cache-friendly passes.
// Person ids are split into buckets of 65,536: pass 1 scatters positions
// (and each person's low 16 bits) into bucket order, chunks of positions
// in parallel; pass 2 sorts each bucket by person with a counting array
// that fits in cache, buckets in parallel. A one-pass counting sort over
// tens of millions of persons misses the cache on every scan instead.
//
// low, if len(persons) long, is reused as scratch instead of allocated.
func (ix *Index) buildPersons(np, w int, low []uint16) {
	const shift = 16
	persons := ix.persons
	n := len(persons)
	nb := (np + 1<<shift - 1) >> shift
	ix.np = uint32(np)
	ix.personOff = make([]uint32, personBlocks(np)+1)
	ix.personPos = make([]uint32, n)
	if n == 0 || np == 0 {
		ix.personOff[len(ix.personOff)-1] = uint32(n)
		return
	}
	if len(low) != n {
		low = make([]uint16, n)
	}

	// Pass 1: per-chunk bucket histograms, then a stable scatter.
	chunks := chunkRanges(n, w)
	hist := make([][]uint32, len(chunks))
	parallelEach(len(chunks), func(c int) {
		h := make([]uint32, nb)
		for _, p := range persons[chunks[c][0]:chunks[c][1]] {
			h[p>>shift]++
		}
		hist[c] = h
	})
	bucketOff := make([]uint32, nb+1)
	var sum uint32
	for b := range nb {
		bucketOff[b] = sum
		for c := range chunks {
			cnt := hist[c][b]
			hist[c][b] = sum // this chunk's start in bucket b
			sum += cnt
		}
	}
	bucketOff[nb] = sum
	parallelEach(len(chunks), func(c int) {
		next := hist[c]
		for pos := chunks[c][0]; pos < chunks[c][1]; pos++ {
			p := persons[pos]
			b := p >> shift
			ix.personPos[next[b]] = uint32(pos)
			low[next[b]] = uint16(p)
			next[b]++
		}
	})

	// Pass 2: each bucket sorted by its persons' low bits, stably.
	var wg sync.WaitGroup
	for _, r := range balancedRanges(bucketOff, w) {
		wg.Go(func() {
			counts := make([]uint32, 1<<shift+1)
			var buf []uint32
			for b := r[0]; b < r[1]; b++ {
				s, e := bucketOff[b], bucketOff[b+1]
				clear(counts)
				for _, l := range low[s:e] {
					counts[l]++
				}
				base := b << shift
				width := min(1<<shift, np-base)
				acc := s
				for j := range width {
					if (base+j)&(personBlock-1) == 0 {
						ix.personOff[(base+j)>>personShift] = acc
					}
					c := counts[j]
					counts[j] = acc - s
					acc += c
				}
				buf = slices.Grow(buf[:0], int(e-s))[:e-s]
				for k, l := range low[s:e] {
					buf[counts[l]] = ix.personPos[s+uint32(k)]
					counts[l]++
				}
				copy(ix.personPos[s:e], buf)
			}
		})
	}
	wg.Wait()
	ix.personOff[len(ix.personOff)-1] = uint32(n)
}

// parallelEach runs f(0..k-1) concurrently.
func parallelEach(k int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// prefixSums turns counts (len k+1, last unused) into offsets in place.
func prefixSums(counts []uint32) []uint32 {
	var sum uint32
	for i, c := range counts {
		counts[i] = sum
		sum += c
	}
	return counts
}

// chunkRanges splits [0, n) into at most w contiguous non-empty ranges.
func chunkRanges(n, w int) [][2]int {
	w = max(1, min(w, n))
	out := make([][2]int, 0, w)
	for i := range w {
		lo, hi := n*i/w, n*(i+1)/w
		if hi > lo {
			out = append(out, [2]int{lo, hi})
		}
	}
	return out
}

// balancedRanges splits the ids of a CSR offset array (len k+1) into at
// most w ranges holding about the same number of entries.
func balancedRanges(off []uint32, w int) [][2]int {
	k := len(off) - 1
	total := uint64(off[k])
	w = max(1, min(w, k))
	out := make([][2]int, 0, w)
	lo := 0
	for i := 1; i <= w; i++ {
		hi := k
		if i < w {
			target := total * uint64(i) / uint64(w)
			hi = sort.Search(k, func(j int) bool { return uint64(off[j]) >= target })
			hi = max(hi, lo)
		}
		if hi > lo {
			out = append(out, [2]int{lo, hi})
		}
		lo = hi
	}
	return out
}

// Len is the number of scans indexed.
func (ix *Index) Len() int { return len(ix.times) }

// NumVenues is one more than the largest venue id indexed.
func (ix *Index) NumVenues() int { return len(ix.venueOff) - 1 }

// NumPersons is one more than the largest person id indexed.
func (ix *Index) NumPersons() int { return int(ix.np) }

// Bytes is the memory held by the index's columns.
func (ix *Index) Bytes() int64 {
	return 4 * int64(len(ix.venueOff)+len(ix.times)+len(ix.persons)+len(ix.personOff)+len(ix.personPos))
}

// Span returns the earliest and latest scan times; ok is false when the
// index is empty.
func (ix *Index) Span() (first, last time.Time, ok bool) {
	if len(ix.times) == 0 {
		return time.Time{}, time.Time{}, false
	}
	var lo, hi uint32 = math.MaxUint32, 0
	for v := 0; v < ix.NumVenues(); v++ {
		a, b := ix.venueOff[v], ix.venueOff[v+1]
		if a < b {
			lo = min(lo, ix.times[a])
			hi = max(hi, ix.times[b-1])
		}
	}
	return ix.unix(lo), ix.unix(hi), true
}

func (ix *Index) unix(t uint32) time.Time { return time.Unix(ix.base+int64(t), 0).UTC() }

// secondsRange converts an inclusive window [from, to] to inclusive whole
// seconds relative to the index base; ok is false when no second of the
// index's range lies in it.
func (ix *Index) secondsRange(lo, hi int64) (a, b uint32, ok bool) {
	if lo > hi || hi < ix.base {
		return 0, 0, false
	}
	var tl uint64
	if lo > ix.base {
		tl = uint64(lo) - uint64(ix.base) // no overflow: lo > base
	}
	if tl > math.MaxUint32 {
		return 0, 0, false
	}
	th := min(uint64(hi)-uint64(ix.base), math.MaxUint32)
	return uint32(tl), uint32(th), true
}

// venueRange returns the positions [a, b) of venue v's scans with time in
// [lo, hi] (inclusive unix seconds), by binary search.
func (ix *Index) venueRange(v uint32, lo, hi int64) (uint32, uint32) {
	if int(v) >= ix.NumVenues() {
		return 0, 0
	}
	tl, th, ok := ix.secondsRange(lo, hi)
	if !ok {
		return 0, 0
	}
	s, e := ix.venueOff[v], ix.venueOff[v+1]
	col := ix.times[s:e]
	a, _ := slices.BinarySearch(col, tl)
	b := a + sort.Search(len(col)-a, func(i int) bool { return col[a+i] > th })
	return s + uint32(a), s + uint32(b)
}

// VenueScans appends to dst the scans at venue v with from <= Time <= to
// (both ends inclusive, whole seconds: a bound with a fraction of a second
// is rounded inward), in time order, ties by person.
func (ix *Index) VenueScans(dst []Scan, v uint32, from, to time.Time) []Scan {
	lo, hi := inclusiveSeconds(from, to)
	a, b := ix.venueRange(v, lo, hi)
	for p := a; p < b; p++ {
		dst = append(dst, Scan{Person: ix.persons[p], Venue: v, Time: ix.base + int64(ix.times[p])})
	}
	return dst
}

// PersonScans appends to dst person p's scans with from <= Time <= to
// (inclusive, as in VenueScans), in time order, ties by venue.
func (ix *Index) PersonScans(dst []Scan, p uint32, from, to time.Time) []Scan {
	lo, hi := inclusiveSeconds(from, to)
	n := len(dst)
	dst = ix.appendPersonScans(dst, p, lo, hi)
	slices.SortFunc(dst[n:], compareScan)
	return dst
}

// appendPersonScans appends p's scans with time in [lo, hi], unsorted.
func (ix *Index) appendPersonScans(dst []Scan, p uint32, lo, hi int64) []Scan {
	if int(p) >= ix.NumPersons() {
		return dst
	}
	tl, th, ok := ix.secondsRange(lo, hi)
	if !ok {
		return dst
	}
	for _, pos := range ix.personEntries(p) {
		t := ix.times[pos]
		if t < tl || t > th {
			continue
		}
		dst = append(dst, Scan{Person: p, Venue: ix.venueOf(pos), Time: ix.base + int64(t)})
	}
	return dst
}

// personEntries returns person p's positions (p < NumPersons): its run
// in its block, found by binary search on the persons column.
func (ix *Index) personEntries(p uint32) []uint32 {
	b := p >> personShift
	blk := ix.personPos[ix.personOff[b]:ix.personOff[b+1]]
	i := sort.Search(len(blk), func(k int) bool { return ix.persons[blk[k]] >= p })
	j := i
	for j < len(blk) && ix.persons[blk[j]] == p {
		j++
	}
	return blk[i:j]
}

// venueOf finds the venue whose range holds position pos.
func (ix *Index) venueOf(pos uint32) uint32 {
	// The largest v with venueOff[v] <= pos.
	v := sort.Search(len(ix.venueOff), func(i int) bool { return ix.venueOff[i] > pos }) - 1
	return uint32(v)
}

func compareScan(a, b Scan) int {
	switch {
	case a.Time != b.Time:
		return cmpInt(a.Time, b.Time)
	case a.Venue != b.Venue:
		return cmpInt(a.Venue, b.Venue)
	}
	return cmpInt(a.Person, b.Person)
}

func cmpInt[T int | int64 | uint32](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inclusiveSeconds converts [from, to] to whole unix seconds, rounding a
// fractional lower bound up and a fractional upper bound down. A zero from
// means no lower bound; a zero to means no upper bound.
func inclusiveSeconds(from, to time.Time) (int64, int64) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.Unix()
		if from.Nanosecond() > 0 {
			lo++
		}
	}
	if !to.IsZero() {
		hi = to.Unix()
	}
	return lo, hi
}

// Append returns a new index holding ix's scans and scans (typically a new
// day): it builds scans on their own and merges the two per venue. ix is
// not changed and stays usable.
//
// The merge copies the whole index, so an append costs time and memory in
// proportion to everything held, not to the day: on 2 cores the 14th day
// of 43 M scans took 61 s, with a peak of 16.6 GiB while both indexes
// lived (benchmarks/tracebench TestScale). A server adding days keeps
// [Segments] instead, whose append costs the day alone.
func (ix *Index) Append(ctx context.Context, scans []Scan, cfg Config) (*Index, error) {
	day, np, err := build(ctx, scans, cfg, false)
	if err != nil {
		return nil, err
	}
	return merge(ctx, cfg, ix, day, max(ix.NumPersons(), np))
}

// Merge returns a new index holding the scans of a and b, merged venue by
// venue on cfg.Workers cores. Neither input is changed.
func Merge(ctx context.Context, cfg Config, a, b *Index) (*Index, error) {
	return merge(ctx, cfg, a, b, max(a.NumPersons(), b.NumPersons()))
}

// merge merges a and b, whose person CSRs may be missing, into an index
// with a person CSR over np person ids.
func merge(ctx context.Context, cfg Config, a, b *Index, np int) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	switch {
	case a.Len() == 0 && b.personOff != nil && b.NumPersons() == np:
		return b, nil
	case a.Len() == 0:
		out := &Index{base: b.base, venueOff: b.venueOff, times: b.times, persons: b.persons}
		out.buildPersons(np, cfg.Workers, nil)
		return out, nil
	case b.Len() == 0 && a.personOff != nil && a.NumPersons() == np:
		return a, nil
	case b.Len() == 0:
		out := &Index{base: a.base, venueOff: a.venueOff, times: a.times, persons: a.persons}
		out.buildPersons(np, cfg.Workers, nil)
		return out, nil
	case uint64(a.Len())+uint64(b.Len()) > MaxScans:
		return nil, fmt.Errorf("%w: %d scans (max %d)", ErrTooLarge, a.Len()+b.Len(), MaxScans)
	}
	_, lastA, _ := a.Span()
	_, lastB, _ := b.Span()
	base := min(a.base, b.base)
	if last := max(lastA.Unix(), lastB.Unix()); last-base > math.MaxUint32 {
		return nil, fmt.Errorf("%w: scans span %d s (max %d)", ErrTooLarge, last-base, uint64(math.MaxUint32))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nv := max(a.NumVenues(), b.NumVenues())
	out := &Index{base: base}
	counts := make([]uint32, nv+1)
	for v := range nv {
		counts[v] = a.venueCount(v) + b.venueCount(v)
	}
	out.venueOff = prefixSums(counts)
	n := a.Len() + b.Len()
	out.times = make([]uint32, n)
	out.persons = make([]uint32, n)
	shiftA, shiftB := uint32(a.base-base), uint32(b.base-base)
	var wg sync.WaitGroup
	for _, r := range balancedRanges(out.venueOff, cfg.Workers) {
		wg.Go(func() {
			for v := r[0]; v < r[1]; v++ {
				mergeVenue(out, v, a, b, shiftA, shiftB)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out.buildPersons(np, cfg.Workers, nil)
	return out, nil
}

func (ix *Index) venueCount(v int) uint32 {
	if v >= ix.NumVenues() {
		return 0
	}
	return ix.venueOff[v+1] - ix.venueOff[v]
}

func (ix *Index) venueSpan(v int) (uint32, uint32) {
	if v >= ix.NumVenues() {
		return 0, 0
	}
	return ix.venueOff[v], ix.venueOff[v+1]
}

// mergeVenue merges venue v of a and b (times shifted to out's base) into
// out's columns, by (time, person).
func mergeVenue(out *Index, v int, a, b *Index, shiftA, shiftB uint32) {
	i, ie := a.venueSpan(v)
	j, je := b.venueSpan(v)
	o := out.venueOff[v]
	for i < ie || j < je {
		takeA := j >= je
		if i < ie && j < je {
			ta, tb := a.times[i]+shiftA, b.times[j]+shiftB
			takeA = ta < tb || ta == tb && a.persons[i] <= b.persons[j]
		}
		if takeA {
			out.times[o], out.persons[o] = a.times[i]+shiftA, a.persons[i]
			i++
		} else {
			out.times[o], out.persons[o] = b.times[j]+shiftB, b.persons[j]
			j++
		}
		o++
	}
}
