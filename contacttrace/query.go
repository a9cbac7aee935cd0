package contacttrace

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// MaxDepth is the deepest search a [Query] may ask for.
const MaxDepth = 8

// NoPerson is the Via of a contact found from a report entry
// ([Query.Visits], [Query.Trips]) rather than from a person's scans.
const NoPerson = math.MaxUint32

// Visit is a stay at a venue from an epidemiological report: the index
// case was at Venue from From to To (inclusive).
type Visit struct {
	Venue    uint32
	From, To time.Time
}

// Query asks for the contacts of one index case.
//
// Hop 1 searches the windows of the index case: each scan of a person in
// Cases with Since <= time <= Until (a point, widened to [t-Before,
// t+After]), each report Visit (widened to [From-Before, To+After]), each
// trip of a case departing on a day that meets [Since, Until], and each
// report Trip. Every window is inclusive at both ends, to the second. Hop
// k+1 searches the same way from each hop-k contact, using only that
// contact's scans at or after its exposure time and its trips whose day
// has not ended by then.
//
// A person is a contact at most once, at the lowest hop that reaches it;
// cases, Exclude and earlier hops' contacts are never contacts again.
type Query struct {
	Cases        []uint32  // index-case persons (dense ids)
	Since, Until time.Time // which of the cases' scans and trips count; zero means unbounded
	Visits       []Visit   // venue stays from the report
	Trips        []TripRef // trips and seats from the report
	// Before and After widen every window: someone who scanned in up to
	// Before ahead of the index case's visit or up to After after it is a
	// contact. Zero means exactly the visit.
	Before, After time.Duration
	// Depth is the number of hops: 1 finds direct contacts, 2 also their
	// contacts, and so on up to MaxDepth. Zero means 1.
	Depth int
	// Exclude holds people identified earlier (see [Task]); they are
	// neither reported nor followed.
	Exclude *PersonSet
	// Proximity decides co-travel; nil means [NationalPlan]. TraceBatch
	// may call it from several goroutines.
	Proximity ProximityPolicy
	// MaxPerWindow caps the contacts taken from one venue window or trip:
	// the earliest (by scan time, then person id) are kept. Zero means no
	// cap.
	MaxPerWindow int
	// CutsBound makes a window capped by MaxPerWindow stop at the cap: the
	// same contacts are kept, but HopStats.CutByWindow then counts the
	// window's scans past the cap, an upper bound on the people it cut (a
	// person who scanned twice, or one excluded, counts a scan each),
	// rather than deduplicating every scan of a busy venue to count them
	// exactly. At a province's scale the exact count is most of a depth-2
	// query's time.
	CutsBound bool
	// MaxPerHop caps the new contacts of one hop: the earliest exposed (by
	// time, then person id) are kept. Zero means no cap.
	MaxPerHop int
}

// Validate reports the first bad field of q. It does not check that the
// report's trips exist; [Tracer.Trace] does.
func (q *Query) Validate() error {
	switch {
	case q.Before < 0:
		return fieldErr("Query.Before", "negative (%v)", q.Before)
	case q.After < 0:
		return fieldErr("Query.After", "negative (%v)", q.After)
	case q.Depth < 0 || q.Depth > MaxDepth:
		return fieldErr("Query.Depth", "must be in [0, %d], got %d", MaxDepth, q.Depth)
	case q.MaxPerWindow < 0:
		return fieldErr("Query.MaxPerWindow", "negative (%d)", q.MaxPerWindow)
	case q.MaxPerHop < 0:
		return fieldErr("Query.MaxPerHop", "negative (%d)", q.MaxPerHop)
	case !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since):
		return fieldErr("Query.Until", "before Since")
	}
	for i, v := range q.Visits {
		switch {
		case v.From.IsZero():
			return fieldErr(fmt.Sprintf("Query.Visits[%d].From", i), "zero")
		case v.To.IsZero():
			return fieldErr(fmt.Sprintf("Query.Visits[%d].To", i), "zero")
		case v.To.Before(v.From):
			return fieldErr(fmt.Sprintf("Query.Visits[%d].To", i), "before From")
		}
	}
	for i, t := range q.Trips {
		if t.Number == "" {
			return fieldErr(fmt.Sprintf("Query.Trips[%d].Number", i), "empty")
		}
	}
	return nil
}

func (q *Query) depth() int { return max(q.Depth, 1) }

// Kind says how a contact was exposed.
type Kind uint8

// Contact kinds.
const (
	KindVenue Kind = iota // scanned at the same venue within the window
	KindTrip              // travelled near on the same trip
)

func (k Kind) String() string {
	if k == KindTrip {
		return "trip"
	}
	return "venue"
}

// Contact is one person found, with the provenance of the exposure that
// reached it first. When several exposures reach a person at the same hop,
// the earliest (Time) wins, then the lowest Via, Kind, Venue, Trip,
// ViaTime and Source, so results are deterministic.
//
// A provincial search returns hundreds of thousands of contacts, so a
// Contact is kept to 48 bytes: times are unix seconds, like [Scan.Time],
// and a trip contact's seat is the index of its passenger entry ([Trips.Seat]
// returns it).
type Contact struct {
	Time int64 // exposure (unix seconds): the contact's scan, or the trip's Date
	// ViaTime is Via's scan time, the report visit's From, or the trip's
	// Date (unix seconds).
	ViaTime int64
	Person  uint32
	// Via is the person whose visit or trip exposed this one (a case, or
	// a contact of the previous hop), or NoPerson for a report entry.
	Via   uint32
	Venue uint32 // the venue (KindVenue)
	Trip  int32  // the trip's index in [Trips] (KindTrip), else -1
	// Passenger is the index of the contact's seat in the trip's
	// Passengers (KindTrip), else -1.
	Passenger int32
	// Source is the index in Query.Visits or Query.Trips of the report
	// entry that exposed a hop-1 contact with Via NoPerson, else -1.
	Source int32
	Hop    uint8 // 1 for direct contacts
	Kind   Kind  // venue scan or trip
}

// HopStats reports one hop of a search, including what the caps cut.
type HopStats struct {
	Hop           int
	Windows       int // venue windows and trips searched
	Contacts      int // new contacts kept
	CappedWindows int // windows that hit MaxPerWindow
	CutByWindow   int // people left out by MaxPerWindow, counted once per window
	CutByHop      int // people left out by MaxPerHop
}

// Result is the outcome of a query: contacts ordered by hop, exposure time
// and person, and per-hop statistics.
type Result struct {
	Contacts []Contact
	Hops     []HopStats
}

// Persons returns the set of contacts' persons.
func (r *Result) Persons() *PersonSet {
	s := &PersonSet{}
	for _, c := range r.Contacts {
		s.Add(c.Person)
	}
	return s
}

// Cut is the number of people the caps left out, over all hops (a person
// cut from two windows counts twice).
func (r *Result) Cut() int {
	n := 0
	for _, h := range r.Hops {
		n += h.CutByWindow + h.CutByHop
	}
	return n
}

// Tracer answers queries over a scan index and a trips index.
//
// A Tracer is safe for concurrent use.
type Tracer struct {
	scans *Index
	segs  []segment // the days of a Segments index (two or more); nil: scans alone
	trips *Trips
	cfg   Config
	mu    sync.Mutex
	free  []*run // scratch of finished queries, at most groupSize
}

// NewTracer returns a tracer over scans and trips; either may be nil
// (no scans, no trips). Only cfg.Workers and cfg.Logger are used.
func NewTracer(scans *Index, trips *Trips, cfg Config) (*Tracer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if scans == nil {
		scans = &Index{venueOff: []uint32{0}, personOff: []uint32{0}}
	}
	return &Tracer{scans: scans, trips: trips, cfg: cfg.withDefaults()}, nil
}

// Trace runs q. It returns ctx.Err() if ctx is cancelled.
func (t *Tracer) Trace(ctx context.Context, q Query) (Result, error) {
	var res Result
	err := t.TraceInto(ctx, q, &res)
	return res, err
}

// TraceInto is Trace writing into res, whose slices' capacity it reuses:
// a server answering query after query allocates nothing per contact. On
// error res is left empty.
func (t *Tracer) TraceInto(ctx context.Context, q Query, res *Result) error {
	r, err := t.newRun(&q)
	if err != nil {
		*res = Result{Contacts: res.Contacts[:0], Hops: res.Hops[:0]}
		return err
	}
	defer t.release(r)
	r.res = Result{Contacts: res.Contacts[:0], Hops: res.Hops[:0]}
	for hop := 1; ; hop++ {
		if err := ctx.Err(); err != nil {
			*res = Result{Contacts: r.res.Contacts[:0], Hops: r.res.Hops[:0]}
			return err
		}
		r.resolve(t)
		if !r.step(t, hop) {
			*res = r.res
			return nil
		}
	}
}

// groupSize is how many queries TraceEach keeps in flight, and how many
// queries' scratch the tracer keeps for reuse (a sync.Pool would drop it
// at every GC, and a big query's scratch is megabytes).
func (t *Tracer) groupSize() int { return 4 * t.cfg.Workers }

// release keeps a run's scratch for the next query; its result must have
// been taken already.
func (t *Tracer) release(r *run) {
	r.q, r.pol, r.res = nil, nil, Result{}
	t.mu.Lock()
	if len(t.free) < t.groupSize() {
		t.free = append(t.free, r)
	}
	t.mu.Unlock()
}

// window is one search: a venue over [lo, hi], or a trip near a seat.
type window struct {
	kind    Kind
	via     uint32
	source  int32
	viaTime int64
	venue   uint32
	lo, hi  int64
	trip    int32
	seat    Seat
	a, b    uint32 // resolved positions of a venue window (one index)
	r0, r1  int32  // its resolved ranges in run.ranges (segments)
}

// segRange is the positions [a, b) of one segment's scans in a window.
type segRange struct {
	ix   *Index
	a, b uint32
}

// cand is a candidate contact inside one hop: the person, its exposure
// time, and the window (and passenger entry, for a trip) that exposed it.
type cand struct {
	time   int64
	person uint32
	win    int32
	seat   int32
}

// windowKey orders windows by the provenance fields a contact reports, so
// that ties between exposures at the same time resolve deterministically.
func windowKey(a, b *window) int {
	trip := func(w *window) int32 {
		if w.kind == KindTrip {
			return w.trip
		}
		return -1
	}
	venue := func(w *window) uint32 {
		if w.kind == KindVenue {
			return w.venue
		}
		return 0
	}
	return cmp.Or(
		cmp.Compare(a.via, b.via),
		cmp.Compare(a.kind, b.kind),
		cmp.Compare(venue(a), venue(b)),
		cmp.Compare(trip(a), trip(b)),
		cmp.Compare(a.viaTime, b.viaTime),
		cmp.Compare(a.source, b.source),
	)
}

// run is the state of one query across hops.
type run struct {
	q       *Query
	pol     ProximityPolicy
	found   u32map   // cases and contacts so far
	windows []window // windows of the next hop
	res     Result
	spare   Result // a result whose memory TraceEach may reuse
	// scratch
	rank   []int32 // per window: position in windowKey order
	order  []int32
	keys   []uint64
	keyTmp []uint64
	sorted []cand
	best   u32map
	cands  []cand
	inWin  u32map
	elig   []cand
	pscans []Scan
	ranges []segRange // the venue windows' ranges over segments
	one    [1]segRange
}

// resolve finds the scans of each venue window: positions in the index,
// or ranges in each day's segment the window meets.
func (r *run) resolve(t *Tracer) {
	if t.segs == nil {
		for i := range r.windows {
			if w := &r.windows[i]; w.kind == KindVenue {
				w.a, w.b = t.scans.venueRange(w.venue, w.lo, w.hi)
			}
		}
		return
	}
	r.ranges = r.ranges[:0]
	for i := range r.windows {
		if w := &r.windows[i]; w.kind == KindVenue {
			r.resolveSegments(t, w)
		}
	}
}

func (r *run) resolveSegments(t *Tracer, w *window) {
	w.r0 = int32(len(r.ranges))
	for k := range t.segs {
		sg := &t.segs[k]
		if sg.last < w.lo || sg.first > w.hi {
			continue
		}
		if a, b := sg.ix.venueRange(w.venue, w.lo, w.hi); a < b {
			r.ranges = append(r.ranges, segRange{sg.ix, a, b})
		}
	}
	w.r1 = int32(len(r.ranges))
}

// scanCount is the number of scans in a resolved venue window.
func (r *run) scanCount(t *Tracer, w *window) int {
	if t.segs == nil {
		return int(w.b - w.a)
	}
	n := 0
	for _, g := range r.ranges[w.r0:w.r1] {
		n += int(g.b - g.a)
	}
	return n
}

// spans returns a resolved venue window's ranges: one for an index, one
// per day met for segments.
func (r *run) spans(t *Tracer, w *window) []segRange {
	if t.segs == nil {
		r.one[0] = segRange{t.scans, w.a, w.b}
		return r.one[:]
	}
	return r.ranges[w.r0:w.r1]
}

func (t *Tracer) newRun(q *Query) (*run, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var r *run
	t.mu.Lock()
	if n := len(t.free); n > 0 {
		r, t.free = t.free[n-1], t.free[:n-1]
	}
	t.mu.Unlock()
	if r == nil {
		r = &run{}
	}
	r.q, r.pol = q, q.Proximity
	r.found.reset()
	r.windows = r.windows[:0]
	if r.pol == nil {
		r.pol = NationalPlan()
	}
	since, until := inclusiveSeconds(q.Since, q.Until)
	for _, p := range q.Cases {
		r.found.put(p, 0)
	}
	for _, p := range q.Cases {
		r.addPersonWindows(t, p, since, until)
	}
	for i, v := range q.Visits {
		lo, hi := inclusiveSeconds(v.From.Add(-q.Before), v.To.Add(q.After))
		r.windows = append(r.windows, window{kind: KindVenue, via: NoPerson, source: int32(i),
			viaTime: v.From.Unix(), venue: v.Venue, lo: lo, hi: hi})
	}
	for i, ref := range q.Trips {
		ti, ok := t.trips.Find(ref)
		if !ok {
			t.release(r)
			return nil, fmt.Errorf("%w: Query.Trips[%d] (%s %s on %s)", ErrUnknownTrip, i, ref.Mode, ref.Number, ref.Date.Format(time.DateOnly))
		}
		r.windows = append(r.windows, window{kind: KindTrip, via: NoPerson, source: int32(i),
			viaTime: ref.Date.Unix(), trip: int32(ti), seat: Seat{Person: NoPerson, Car: ref.Car, Row: ref.Row, Seat: ref.Seat}})
	}
	return r, nil
}

// addPersonWindows adds the windows of person p's scans with time in
// [from, to] and of p's trips meeting that period.
func (r *run) addPersonWindows(t *Tracer, p uint32, from, to int64) {
	r.pscans = r.pscans[:0]
	if t.segs == nil {
		r.pscans = t.scans.appendPersonScans(r.pscans, p, from, to)
	}
	for k := range t.segs {
		if sg := &t.segs[k]; sg.last >= from && sg.first <= to {
			r.pscans = sg.ix.appendPersonScans(r.pscans, p, from, to)
		}
	}
	for _, s := range r.pscans {
		lo, hi := pointWindow(s.Time, r.q.Before, r.q.After)
		r.windows = append(r.windows, window{kind: KindVenue, via: p, source: -1,
			viaTime: s.Time, venue: s.Venue, lo: lo, hi: hi})
	}
	t.trips.personTrips(p, from, to, func(trip int, seat Seat) {
		r.windows = append(r.windows, window{kind: KindTrip, via: p, source: -1,
			viaTime: t.trips.trips[trip].Date.Unix(), trip: int32(trip), seat: seat})
	})
}

// pointWindow widens the instant t (unix seconds) to [t-before, t+after],
// rounded inward to whole seconds.
func pointWindow(t int64, before, after time.Duration) (int64, int64) {
	at := time.Unix(t, 0)
	return inclusiveSeconds(at.Add(-before), at.Add(after))
}

func (r *run) excluded(p uint32) bool {
	if _, ok := r.found.get(p); ok {
		return true
	}
	return r.q.Exclude.Has(p)
}

// step searches the resolved windows of hop, records its contacts, and
// prepares the next hop's windows. It reports whether another hop follows.
func (r *run) step(t *Tracer, hop int) bool {
	q := r.q
	st := HopStats{Hop: hop, Windows: len(r.windows)}
	r.rankWindows()
	// Room for every scan and passenger in the windows, so the table never
	// regrows inside the hop.
	room := 0
	for i := range r.windows {
		if w := &r.windows[i]; w.kind == KindVenue {
			room += r.scanCount(t, w)
		} else {
			room += len(t.trips.trips[w.trip].Passengers)
		}
	}
	// Emptied and sized for the hop, clearing only that size: beyond 4 M,
	// amortised doubling is cheap enough.
	r.best.resetFor(min(room, 1<<22))
	r.cands = slices.Grow(r.cands[:0], min(room, 1<<22))
	for i := range r.windows {
		w := &r.windows[i]
		r.elig = r.elig[:0]
		if w.kind == KindVenue && q.MaxPerWindow == 0 {
			r.venueAll(t, int32(i))
			continue
		}
		if w.kind == KindVenue && q.CutsBound && q.MaxPerWindow > 0 {
			if cut := r.venueEligibleUpTo(t, int32(i), q.MaxPerWindow); cut > 0 {
				st.CappedWindows++
				st.CutByWindow += cut
			}
			for _, c := range r.elig {
				r.offer(c)
			}
			continue
		}
		if w.kind == KindVenue {
			r.venueEligible(t, int32(i))
		} else {
			r.tripEligible(t.trips, int32(i))
		}
		if q.MaxPerWindow > 0 && len(r.elig) > q.MaxPerWindow {
			st.CappedWindows++
			st.CutByWindow += len(r.elig) - q.MaxPerWindow
			r.elig = r.elig[:q.MaxPerWindow]
		}
		for _, c := range r.elig {
			r.offer(c)
		}
	}
	r.sortCands()
	kept := r.cands
	if q.MaxPerHop > 0 && len(kept) > q.MaxPerHop {
		st.CutByHop = len(kept) - q.MaxPerHop
		kept = kept[:q.MaxPerHop]
	}
	st.Contacts = len(kept)
	first := len(r.res.Contacts)
	r.res.Contacts = slices.Grow(r.res.Contacts, len(kept))
	last := hop >= q.depth() || len(kept) == 0
	if !last {
		r.found.reserve(len(kept)) // only the next hop asks who was found
	}
	for _, c := range kept {
		if !last {
			r.found.put(c.person, 0)
		}
		w := &r.windows[c.win]
		ct := Contact{Person: c.person, Hop: uint8(hop), Kind: w.kind, Time: c.time,
			Trip: -1, Passenger: -1, Via: w.via, ViaTime: w.viaTime, Source: w.source}
		if w.kind == KindTrip {
			ct.Trip, ct.Passenger = w.trip, c.seat
		} else {
			ct.Venue = w.venue
		}
		r.res.Contacts = append(r.res.Contacts, ct)
	}
	r.res.Hops = append(r.res.Hops, st)
	r.windows = r.windows[:0]
	if last {
		return false
	}
	for _, c := range r.res.Contacts[first:] {
		r.addPersonWindows(t, c.Person, c.Time, math.MaxInt64)
	}
	return true
}

// sortCands orders the candidates by (time, person): as packed integer
// keys when the times span under 2^32 seconds (always, for scans), else
// with a comparison sort.
func (r *run) sortCands() {
	if len(r.cands) < 2 {
		return
	}
	lo, hi := r.cands[0].time, r.cands[0].time
	for _, c := range r.cands {
		lo, hi = min(lo, c.time), max(hi, c.time)
	}
	if uint64(hi-lo) > math.MaxUint32 {
		slices.SortFunc(r.cands, func(a, b cand) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.person, b.person))
		})
		return
	}
	// Sort (time-lo, index) packed keys with an LSD radix sort (linear,
	// where a comparison sort of a 40 k-contact hop costs milliseconds),
	// then order each run of equal times by person: the person's bits
	// stay out of the keys, which saves a third of the passes.
	tbits := bits.Len64(uint64(hi - lo))
	ibits := bits.Len(uint(len(r.cands) - 1))
	r.sorted = slices.Grow(r.sorted[:0], len(r.cands))
	r.keys = slices.Grow(r.keys[:0], len(r.cands))
	for i, c := range r.cands {
		r.keys = append(r.keys, uint64(c.time-lo)<<ibits|uint64(i))
	}
	r.keys, r.keyTmp = radixSort(r.keys, r.keyTmp, tbits+ibits)
	mask := uint64(1)<<ibits - 1
	for _, k := range r.keys {
		r.sorted = append(r.sorted, r.cands[k&mask])
	}
	byPerson := func(a, b cand) int { return cmp.Compare(a.person, b.person) }
	for i := 0; i < len(r.sorted); {
		j := i + 1
		for j < len(r.sorted) && r.sorted[j].time == r.sorted[i].time {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(r.sorted[i:j], byPerson)
		}
		i = j
	}
	r.cands, r.sorted = r.sorted, r.cands
}

// radixSort sorts keys whose values fit in width bits, using tmp as the
// second buffer, and returns the sorted slice and the other buffer. Small
// inputs use the standard sort.
func radixSort(keys, tmp []uint64, width int) (sorted, other []uint64) {
	if len(keys) < 256 {
		slices.Sort(keys)
		return keys, tmp
	}
	const digit = 11
	var count [1 << digit]int
	tmp = slices.Grow(tmp[:0], len(keys))[:len(keys)]
	for shift := 0; shift < width; shift += digit {
		clear(count[:])
		for _, k := range keys {
			count[k>>shift&(1<<digit-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := k >> shift & (1<<digit - 1)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys, tmp
}

// rankWindows numbers the windows in windowKey order.
func (r *run) rankWindows() {
	n := len(r.windows)
	r.order = r.order[:0]
	for i := range n {
		r.order = append(r.order, int32(i))
	}
	slices.SortStableFunc(r.order, func(a, b int32) int { return windowKey(&r.windows[a], &r.windows[b]) })
	r.rank = slices.Grow(r.rank[:0], n)[:n]
	for k, i := range r.order {
		r.rank[i] = int32(k)
	}
}

// offer makes c the person's candidate unless an earlier (or equally
// early, lower-ranked) exposure is already there.
func (r *run) offer(c cand) {
	j, ok := r.best.upsert(c.person)
	if ok {
		b := &r.cands[*j]
		if c.time < b.time || c.time == b.time && r.rank[c.win] < r.rank[b.win] {
			*b = c
		}
		return
	}
	*j = int32(len(r.cands))
	r.cands = append(r.cands, c)
}

// venueAll offers every eligible scan of an uncapped venue window.
func (r *run) venueAll(t *Tracer, wi int32) {
	for _, g := range r.spans(t, &r.windows[wi]) {
		ix := g.ix
		for p := g.a; p < g.b; p++ {
			person := ix.persons[p]
			if r.excluded(person) {
				continue
			}
			r.offer(cand{time: ix.base + int64(ix.times[p]), person: person, win: wi})
		}
	}
}

// venueEligible appends to r.elig the people of a resolved venue window
// who may become contacts, each once with its earliest scan in the window,
// in (time, person) order. A segment's scans of a venue are in that order
// and days are disjoint and ascending, so the first scan of a person met
// is its earliest.
func (r *run) venueEligible(t *Tracer, wi int32) {
	w := &r.windows[wi]
	r.inWin.resetFor(r.scanCount(t, w))
	for _, g := range r.spans(t, w) {
		ix := g.ix
		for p := g.a; p < g.b; p++ {
			person := ix.persons[p]
			if _, dup := r.inWin.upsert(person); dup || r.excluded(person) {
				continue
			}
			r.elig = append(r.elig, cand{time: ix.base + int64(ix.times[p]), person: person, win: wi})
		}
	}
}

// venueEligibleUpTo is venueEligible stopping at limit people: it returns
// 0 if the window holds no more, else the number of its scans from the
// first eligible person past the limit to its end.
func (r *run) venueEligibleUpTo(t *Tracer, wi int32, limit int) int {
	w := &r.windows[wi]
	r.inWin.resetFor(min(r.scanCount(t, w), 2*limit))
	spans := r.spans(t, w)
	for k, g := range spans {
		ix := g.ix
		for p := g.a; p < g.b; p++ {
			person := ix.persons[p]
			if _, dup := r.inWin.upsert(person); dup || r.excluded(person) {
				continue
			}
			if len(r.elig) == limit {
				cut := int(g.b - p)
				for _, h := range spans[k+1:] {
					cut += int(h.b - h.a)
				}
				return cut
			}
			r.elig = append(r.elig, cand{time: ix.base + int64(ix.times[p]), person: person, win: wi})
		}
	}
	return 0
}

// tripEligible appends to r.elig the passengers of a trip window near its
// seat who may become contacts, each once (its first seat), by person id.
func (r *run) tripEligible(ts *Trips, wi int32) {
	w := &r.windows[wi]
	tr := &ts.trips[w.trip]
	d := tr.Date.Unix()
	for j, s := range tr.Passengers {
		if s.Person == w.via || r.excluded(s.Person) || !r.pol.Near(tr.Mode, w.seat, s) {
			continue
		}
		r.elig = append(r.elig, cand{time: d, person: s.Person, win: wi, seat: int32(j)})
	}
	slices.SortStableFunc(r.elig, func(a, b cand) int { return cmp.Compare(a.person, b.person) })
	r.elig = slices.CompactFunc(r.elig, func(a, b cand) bool { return a.person == b.person })
}
