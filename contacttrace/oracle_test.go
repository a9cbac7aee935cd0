package contacttrace

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The oracle answers a Query by brute force, straight from the documented
// semantics: every lookup is a loop over all scans or all trips.

type oracleWindow struct {
	kind    Kind
	via     uint32
	source  int
	viaTime int64
	venue   uint32
	lo, hi  int64
	trip    int
	seat    Seat
}

type oracleCand struct {
	person    uint32
	kind      Kind
	time      int64
	venue     uint32
	trip      int
	seat      Seat
	passenger int
	via       uint32
	viaTime   int64
	source    int
}

func (c oracleCand) key() []int64 {
	return []int64{c.time, int64(c.via), int64(c.kind), int64(c.venue), int64(c.trip), c.viaTime, int64(c.source)}
}

func oracle(scans []Scan, trips []Trip, q Query) Result {
	pol := q.Proximity
	if pol == nil {
		pol = NationalPlan()
	}
	floorDiv := func(d time.Duration) int64 { return int64(d / time.Second) }
	// A point t widened to [t-Before, t+After], inward to whole seconds.
	point := func(t int64) (int64, int64) { return t - floorDiv(q.Before), t + floorDiv(q.After) }
	found := map[uint32]bool{}
	for _, p := range q.Cases {
		found[p] = true
	}
	since, until := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		since = q.Since.Unix()
		if q.Since.Nanosecond() > 0 {
			since++
		}
	}
	if !q.Until.IsZero() {
		until = q.Until.Unix()
	}
	personWindows := func(p uint32, from, to int64) []oracleWindow {
		var ws []oracleWindow
		for _, s := range scans {
			if s.Person == p && s.Time >= from && s.Time <= to {
				lo, hi := point(s.Time)
				ws = append(ws, oracleWindow{kind: KindVenue, via: p, source: -1, viaTime: s.Time, venue: s.Venue, lo: lo, hi: hi})
			}
		}
		for ti, tr := range trips {
			d := tr.Date.Unix()
			if d+86400 <= from || d > to {
				continue
			}
			for _, s := range tr.Passengers {
				if s.Person == p {
					ws = append(ws, oracleWindow{kind: KindTrip, via: p, source: -1, viaTime: d, trip: ti, seat: s})
				}
			}
		}
		return ws
	}
	var ws []oracleWindow
	for _, p := range q.Cases {
		ws = append(ws, personWindows(p, since, until)...)
	}
	for i, v := range q.Visits {
		start := v.From.Add(-q.Before)
		lo := start.Unix()
		if start.Nanosecond() > 0 {
			lo++
		}
		hi := v.To.Add(q.After).Unix()
		ws = append(ws, oracleWindow{kind: KindVenue, via: NoPerson, source: i, viaTime: v.From.Unix(), venue: v.Venue, lo: lo, hi: hi})
	}
	for i, ref := range q.Trips {
		for ti, tr := range trips {
			if tr.Mode == ref.Mode && tr.Number == ref.Number && tr.Date.Equal(ref.Date) {
				ws = append(ws, oracleWindow{kind: KindTrip, via: NoPerson, source: i, viaTime: tr.Date.Unix(), trip: ti,
					seat: Seat{Person: NoPerson, Car: ref.Car, Row: ref.Row, Seat: ref.Seat}})
			}
		}
	}
	var res Result
	for hop := 1; hop <= max(q.Depth, 1); hop++ {
		st := HopStats{Hop: hop, Windows: len(ws)}
		best := map[uint32]oracleCand{}
		for _, w := range ws {
			var elig []oracleCand
			if w.kind == KindVenue {
				for _, s := range scans {
					if s.Venue == w.venue && s.Time >= w.lo && s.Time <= w.hi && !found[s.Person] && !q.Exclude.Has(s.Person) {
						elig = append(elig, oracleCand{person: s.Person, kind: KindVenue, time: s.Time, venue: w.venue,
							trip: -1, passenger: -1, via: w.via, viaTime: w.viaTime, source: w.source})
					}
				}
			} else {
				tr := trips[w.trip]
				for j, s := range tr.Passengers {
					if s.Person != w.via && !found[s.Person] && !q.Exclude.Has(s.Person) && pol.Near(tr.Mode, w.seat, s) {
						elig = append(elig, oracleCand{person: s.Person, kind: KindTrip, time: tr.Date.Unix(), trip: w.trip,
							seat: s, passenger: j, via: w.via, viaTime: w.viaTime, source: w.source})
					}
				}
			}
			slices.SortStableFunc(elig, func(a, b oracleCand) int {
				return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.person, b.person))
			})
			var uniq []oracleCand
			seen := map[uint32]bool{}
			for _, c := range elig {
				if !seen[c.person] {
					seen[c.person] = true
					uniq = append(uniq, c)
				}
			}
			if q.MaxPerWindow > 0 && len(uniq) > q.MaxPerWindow {
				st.CappedWindows++
				st.CutByWindow += len(uniq) - q.MaxPerWindow
				uniq = uniq[:q.MaxPerWindow]
			}
			for _, c := range uniq {
				if b, ok := best[c.person]; !ok || slices.Compare(c.key(), b.key()) < 0 {
					best[c.person] = c
				}
			}
		}
		var cs []oracleCand
		for _, c := range best {
			cs = append(cs, c)
		}
		slices.SortFunc(cs, func(a, b oracleCand) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.person, b.person))
		})
		if q.MaxPerHop > 0 && len(cs) > q.MaxPerHop {
			st.CutByHop = len(cs) - q.MaxPerHop
			cs = cs[:q.MaxPerHop]
		}
		st.Contacts = len(cs)
		res.Hops = append(res.Hops, st)
		ws = nil
		for _, c := range cs {
			found[c.person] = true
			ct := Contact{Person: c.person, Hop: uint8(hop), Kind: c.kind, Time: c.time, Venue: c.venue,
				Trip: int32(c.trip), Passenger: int32(c.passenger), Via: c.via, ViaTime: c.viaTime, Source: int32(c.source)}
			res.Contacts = append(res.Contacts, ct)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			ws = append(ws, personWindows(c.person, c.time, math.MaxInt64)...)
		}
	}
	return res
}

// randomWorld makes a small dense world so that windows collide and
// boundary times (multiples of 10 minutes, like the windows) are common.
func randomWorld(rng *rand.Rand) ([]Scan, []Trip) {
	base := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC).Unix()
	persons := 20 + rng.IntN(60)
	venues := 1 + rng.IntN(12)
	scans := make([]Scan, 50+rng.IntN(400))
	for i := range scans {
		t := base + int64(rng.IntN(3*24*6))*600
		if rng.IntN(4) == 0 {
			t += int64(rng.IntN(600))
		}
		scans[i] = Scan{Person: uint32(rng.IntN(persons)), Venue: uint32(rng.IntN(venues)), Time: t}
	}
	var trips []Trip
	for i := range rng.IntN(6) {
		mode := Mode(rng.IntN(4))
		tr := Trip{Mode: mode, Number: fmt.Sprintf("T%d", i), Date: time.Unix(base+int64(rng.IntN(3))*86400, 0).UTC()}
		for range 2 + rng.IntN(12) {
			car := 0
			if mode == ModeTrainSealed || mode == ModeTrainUnsealed {
				car = 1 + rng.IntN(3)
			}
			tr.Passengers = append(tr.Passengers, Seat{Person: uint32(rng.IntN(persons)), Car: car, Row: 1 + rng.IntN(10), Seat: byte('A' + rng.IntN(4))})
		}
		trips = append(trips, tr)
	}
	return scans, trips
}

func randomQuery(rng *rand.Rand, scans []Scan, trips []Trip) Query {
	base := time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC)
	q := Query{
		Before: time.Duration(rng.IntN(4)) * 10 * time.Minute,
		After:  time.Duration(rng.IntN(4)) * 10 * time.Minute,
		Depth:  1 + rng.IntN(3),
	}
	if rng.IntN(3) == 0 {
		q.Before += time.Duration(rng.IntN(2000)) * time.Millisecond
	}
	for range rng.IntN(3) {
		q.Cases = append(q.Cases, scans[rng.IntN(len(scans))].Person)
	}
	if rng.IntN(2) == 0 {
		q.Since = base.Add(time.Duration(rng.IntN(36)) * time.Hour)
		q.Until = q.Since.Add(time.Duration(rng.IntN(48)) * time.Hour)
	}
	for range rng.IntN(3) {
		s := scans[rng.IntN(len(scans))]
		from := time.Unix(s.Time, 0).Add(time.Duration(rng.IntN(3)-1) * 10 * time.Minute)
		if rng.IntN(4) == 0 {
			from = from.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		}
		q.Visits = append(q.Visits, Visit{Venue: s.Venue, From: from, To: from.Add(time.Duration(rng.IntN(4)) * 10 * time.Minute)})
	}
	if len(trips) > 0 && rng.IntN(2) == 0 {
		tr := trips[rng.IntN(len(trips))]
		s := tr.Passengers[rng.IntN(len(tr.Passengers))]
		q.Trips = append(q.Trips, TripRef{Mode: tr.Mode, Number: tr.Number, Date: tr.Date, Car: s.Car, Row: s.Row, Seat: s.Seat})
	}
	if rng.IntN(2) == 0 {
		q.Exclude = NewPersonSet()
		for range rng.IntN(10) {
			q.Exclude.Add(uint32(rng.IntN(80)))
		}
	}
	if rng.IntN(3) == 0 {
		q.MaxPerWindow = 1 + rng.IntN(4)
	}
	if rng.IntN(3) == 0 {
		q.MaxPerHop = 1 + rng.IntN(8)
	}
	if rng.IntN(4) == 0 {
		q.Proximity = NationalPlanBusRows(1 + rng.IntN(3))
	}
	return q
}

func TestTraceMatchesOracle(t *testing.T) {
	ctx := context.Background()
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	var cover struct {
		hops                        [4]int
		trips, edges, cut, excluded int
		capped                      int // windows capped, each also traced with CutsBound
	}
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 7))
		scans, trips := randomWorld(rng)
		ix, err := Build(ctx, scans, Config{Workers: 1 + rng.IntN(3)})
		require.NoError(t, err)
		tix, err := NewTrips(trips, Config{})
		require.NoError(t, err)
		tr, err := NewTracer(ix, tix, Config{})
		require.NoError(t, err)
		qs, results := oracleRound(t, tr, rng, scans, trips, seed)
		for i, q := range qs {
			got := results[i]
			for _, c := range got.Contacts {
				cover.hops[min(c.Hop, 3)]++
				if c.Kind == KindTrip {
					s, ok := tix.Seat(c)
					require.True(t, ok)
					require.Equal(t, c.Person, s.Person)
				}
				if c.Kind == KindTrip {
					cover.trips++
				}
				if c.Kind == KindVenue && c.Via != NoPerson &&
					(c.Time == c.ViaTime-int64(q.Before/time.Second) || c.Time == c.ViaTime+int64(q.After/time.Second)) && (q.Before|q.After) != 0 {
					cover.edges++
				}
			}
			cover.cut += got.Cut()
			for _, h := range got.Hops {
				cover.capped += h.CappedWindows
			}
			cover.excluded += q.Exclude.Len()
		}
	}
	// The random worlds must exercise what the test claims to check.
	t.Logf("coverage: %+v", cover)
	require.Positive(t, cover.hops[1], "hop-1 contacts")
	require.Positive(t, cover.hops[2], "hop-2 contacts")
	require.Positive(t, cover.trips, "trip contacts")
	require.Positive(t, cover.edges, "contacts exactly at a window edge")
	require.Positive(t, cover.cut, "capped searches")
	require.Positive(t, cover.capped, "windows capped by MaxPerWindow")
	require.Positive(t, cover.excluded, "exclusions")
}

// checkCutsBound requires q with Query.CutsBound to keep exact's contacts
// and figures, but for CutByWindow, which may only be larger.
func checkCutsBound(t *testing.T, tr *Tracer, q Query, exact Result, seed uint64) {
	t.Helper()
	q.CutsBound = true
	got, err := tr.Trace(context.Background(), q)
	require.NoError(t, err, "seed %d", seed)
	require.Equal(t, exact.Contacts, got.Contacts, "seed %d: CutsBound changed the contacts", seed)
	require.Len(t, got.Hops, len(exact.Hops))
	for i, h := range got.Hops {
		e := exact.Hops[i]
		require.GreaterOrEqual(t, h.CutByWindow, e.CutByWindow, "seed %d hop %d: the bound is below the count", seed, h.Hop)
		h.CutByWindow = e.CutByWindow
		require.Equal(t, e, h, "seed %d hop %d", seed, h.Hop)
	}
}

// oracleRound runs five random queries on tr one at a time and then as a
// batch, each answer checked against the oracle, and returns the queries
// and their answers.
func oracleRound(t *testing.T, tr *Tracer, rng *rand.Rand, scans []Scan, trips []Trip, seed uint64) ([]Query, []Result) {
	t.Helper()
	ctx := context.Background()
	var qs []Query
	var want []Result
	for range 5 {
		q := randomQuery(rng, scans, trips)
		got, err := tr.Trace(ctx, q)
		require.NoError(t, err, "seed %d", seed)
		w := oracle(scans, trips, q)
		require.Equal(t, w, got, "seed %d query %+v", seed, q)
		if q.MaxPerWindow > 0 {
			checkCutsBound(t, tr, q, got, seed)
		}
		qs, want = append(qs, q), append(want, w)
	}
	got, err := tr.TraceBatch(ctx, qs)
	require.NoError(t, err)
	require.Equal(t, want, got, "seed %d batch", seed)
	return qs, want
}
