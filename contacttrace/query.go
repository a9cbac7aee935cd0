package contacttrace

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
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
	// Proximity decides co-travel; nil means [NationalPlan].
	Proximity ProximityPolicy
	// MaxPerWindow caps the contacts taken from one venue window or trip:
	// the earliest (by scan time, then person id) are kept. Zero means no
	// cap.
	MaxPerWindow int
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
type Contact struct {
	Person uint32
	Hop    int       // 1 for direct contacts
	Kind   Kind      // venue scan or trip
	Time   time.Time // exposure: the contact's scan, or the trip's Date
	Venue  uint32    // the venue (KindVenue)
	Trip   int       // the trip's index in [Trips] (KindTrip), else -1
	Seat   Seat      // the contact's seat (KindTrip)
	// Via is the person whose visit or trip exposed this one (a case, or
	// a contact of the previous hop), or NoPerson for a report entry.
	Via uint32
	// ViaTime is Via's scan time, the report visit's From, or the trip's
	// Date.
	ViaTime time.Time
	// Source is the index in Query.Visits or Query.Trips of the report
	// entry that exposed a hop-1 contact with Via NoPerson, else -1.
	Source int
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
	trips *Trips
	cfg   Config
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
	r, err := t.newRun(&q)
	if err != nil {
		return Result{}, err
	}
	for hop := 1; ; hop++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		for i := range r.windows {
			w := &r.windows[i]
			if w.kind == KindVenue {
				w.a, w.b = t.scans.venueRange(w.venue, w.lo, w.hi)
			}
		}
		if !r.step(t, hop) {
			return r.res, nil
		}
	}
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
	a, b    uint32 // resolved positions of a venue window
}

// cand is a candidate contact inside one hop.
type cand struct {
	person  uint32
	kind    Kind
	source  int32
	trip    int32
	venue   uint32
	via     uint32
	time    int64
	viaTime int64
	seat    Seat
}

func compareCand(a, b *cand) int {
	return cmp.Or(
		cmp.Compare(a.time, b.time),
		cmp.Compare(a.via, b.via),
		cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.venue, b.venue),
		cmp.Compare(a.trip, b.trip),
		cmp.Compare(a.viaTime, b.viaTime),
		cmp.Compare(a.source, b.source),
	)
}

// run is the state of one query across hops.
type run struct {
	q       *Query
	pol     ProximityPolicy
	found   map[uint32]struct{} // cases and contacts so far
	windows []window            // windows of the next hop
	res     Result
	// scratch
	best   map[uint32]int32
	cands  []cand
	inWin  map[uint32]struct{}
	elig   []cand
	pscans []Scan
}

func (t *Tracer) newRun(q *Query) (*run, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	r := &run{q: q, pol: q.Proximity, found: make(map[uint32]struct{}, len(q.Cases))}
	if r.pol == nil {
		r.pol = NationalPlan()
	}
	since, until := inclusiveSeconds(q.Since, q.Until)
	for _, p := range q.Cases {
		r.found[p] = struct{}{}
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
	r.pscans = t.scans.appendPersonScans(r.pscans[:0], p, from, to)
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
	if _, ok := r.found[p]; ok {
		return true
	}
	return r.q.Exclude.Has(p)
}

// step searches the resolved windows of hop, records its contacts, and
// prepares the next hop's windows. It reports whether another hop follows.
func (r *run) step(t *Tracer, hop int) bool {
	q := r.q
	st := HopStats{Hop: hop, Windows: len(r.windows)}
	if r.best == nil {
		r.best = make(map[uint32]int32)
	}
	clear(r.best)
	r.cands = r.cands[:0]
	for i := range r.windows {
		w := &r.windows[i]
		r.elig = r.elig[:0]
		if w.kind == KindVenue {
			r.venueEligible(t.scans, w)
		} else {
			r.tripEligible(t.trips, w)
		}
		if q.MaxPerWindow > 0 && len(r.elig) > q.MaxPerWindow {
			st.CappedWindows++
			st.CutByWindow += len(r.elig) - q.MaxPerWindow
			r.elig = r.elig[:q.MaxPerWindow]
		}
		for k := range r.elig {
			c := &r.elig[k]
			if j, ok := r.best[c.person]; ok {
				if compareCand(c, &r.cands[j]) < 0 {
					r.cands[j] = *c
				}
				continue
			}
			r.best[c.person] = int32(len(r.cands))
			r.cands = append(r.cands, *c)
		}
	}
	slices.SortFunc(r.cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.person, b.person))
	})
	kept := r.cands
	if q.MaxPerHop > 0 && len(kept) > q.MaxPerHop {
		st.CutByHop = len(kept) - q.MaxPerHop
		kept = kept[:q.MaxPerHop]
	}
	st.Contacts = len(kept)
	first := len(r.res.Contacts)
	for _, c := range kept {
		r.found[c.person] = struct{}{}
		ct := Contact{Person: c.person, Hop: hop, Kind: c.kind, Time: time.Unix(c.time, 0).UTC(),
			Venue: c.venue, Trip: -1, Via: c.via, ViaTime: time.Unix(c.viaTime, 0).UTC(), Source: int(c.source)}
		if c.kind == KindTrip {
			ct.Trip, ct.Seat, ct.Venue = int(c.trip), c.seat, 0
		}
		r.res.Contacts = append(r.res.Contacts, ct)
	}
	r.res.Hops = append(r.res.Hops, st)
	r.windows = r.windows[:0]
	if hop >= q.depth() || len(kept) == 0 {
		return false
	}
	for _, c := range r.res.Contacts[first:] {
		r.addPersonWindows(t, c.Person, c.Time.Unix(), math.MaxInt64)
	}
	return true
}

// venueEligible appends to r.elig the people of a resolved venue window
// who may become contacts, each once with its earliest scan in the window.
func (r *run) venueEligible(ix *Index, w *window) {
	capped := r.q.MaxPerWindow > 0
	if capped {
		if r.inWin == nil {
			r.inWin = make(map[uint32]struct{})
		}
		clear(r.inWin)
	}
	for p := w.a; p < w.b; p++ {
		person := ix.persons[p]
		if r.excluded(person) {
			continue
		}
		if capped {
			if _, dup := r.inWin[person]; dup {
				continue
			}
			r.inWin[person] = struct{}{}
		}
		r.elig = append(r.elig, cand{person: person, kind: KindVenue, source: w.source, trip: -1,
			venue: w.venue, via: w.via, time: ix.base + int64(ix.times[p]), viaTime: w.viaTime})
	}
}

// tripEligible appends to r.elig the passengers of a trip window near its
// seat who may become contacts, each once (its first seat), by person id.
func (r *run) tripEligible(ts *Trips, w *window) {
	tr := &ts.trips[w.trip]
	d := tr.Date.Unix()
	n := len(r.elig)
	for _, s := range tr.Passengers {
		if s.Person == w.via || r.excluded(s.Person) || !r.pol.Near(tr.Mode, w.seat, s) {
			continue
		}
		r.elig = append(r.elig, cand{person: s.Person, kind: KindTrip, source: w.source, trip: w.trip,
			via: w.via, time: d, viaTime: w.viaTime, seat: s})
	}
	add := r.elig[n:]
	slices.SortStableFunc(add, func(a, b cand) int { return cmp.Compare(a.person, b.person) })
	r.elig = r.elig[:n+len(slices.CompactFunc(add, func(a, b cand) bool { return a.person == b.person }))]
}
