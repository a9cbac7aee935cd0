package contacttrace

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2022, 1, 5, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return t0.Add(d).Unix() }

func TestVenueScansInclusiveEdges(t *testing.T) {
	scans := []Scan{
		{Person: 1, Venue: 0, Time: at(-time.Second)},
		{Person: 2, Venue: 0, Time: at(0)},
		{Person: 3, Venue: 0, Time: at(time.Hour)},
		{Person: 4, Venue: 0, Time: at(time.Hour + time.Second)},
		{Person: 5, Venue: 1, Time: at(30 * time.Minute)},
	}
	ix, err := Build(context.Background(), scans, Config{})
	require.NoError(t, err)
	persons := func(ss []Scan) []uint32 {
		var out []uint32
		for _, s := range ss {
			out = append(out, s.Person)
		}
		return out
	}
	tests := []struct {
		name     string
		venue    uint32
		from, to time.Time
		want     []uint32
	}{
		{"exact edges included", 0, t0, t0.Add(time.Hour), []uint32{2, 3}},
		{"one second wider", 0, t0.Add(-time.Second), t0.Add(time.Hour + time.Second), []uint32{1, 2, 3, 4}},
		{"fractional from rounds up", 0, t0.Add(-time.Millisecond), t0.Add(time.Hour), []uint32{2, 3}},
		{"fractional to rounds down", 0, t0, t0.Add(time.Hour + 999*time.Millisecond), []uint32{2, 3}},
		{"single instant", 0, t0, t0, []uint32{2}},
		{"empty window", 0, t0.Add(time.Second), t0.Add(time.Hour - time.Second), nil},
		{"other venue", 1, t0, t0.Add(time.Hour), []uint32{5}},
		{"unknown venue", 7, t0, t0.Add(time.Hour), nil},
		{"unbounded", 0, time.Time{}, time.Time{}, []uint32{1, 2, 3, 4}},
		{"before all data", 0, t0.Add(-48 * time.Hour), t0.Add(-47 * time.Hour), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, persons(ix.VenueScans(nil, tc.venue, tc.from, tc.to)))
		})
	}
}

func TestTraceWindowEdges(t *testing.T) {
	// Index case 0 at venue 9 at t0; windows of 30 min either side.
	scans := []Scan{
		{Person: 0, Venue: 9, Time: at(0)},
		{Person: 1, Venue: 9, Time: at(-30 * time.Minute)},             // at the before edge
		{Person: 2, Venue: 9, Time: at(-30*time.Minute - time.Second)}, // one second early
		{Person: 3, Venue: 9, Time: at(30 * time.Minute)},              // at the after edge
		{Person: 4, Venue: 9, Time: at(30*time.Minute + time.Second)},  // one second late
		{Person: 5, Venue: 8, Time: at(0)},                             // other venue
		{Person: 6, Venue: 9, Time: at(10 * time.Minute)},              // inside, excluded
		{Person: 3, Venue: 9, Time: at(-10 * time.Minute)},             // person 3 earlier: exposure is the earliest
		{Person: 7, Venue: 8, Time: at(time.Hour)},                     // reached via 3 at hop 2
		{Person: 1, Venue: 8, Time: at(-time.Hour)},                    // before 1's exposure: not followed
		{Person: 3, Venue: 8, Time: at(time.Hour + 20*time.Minute)},    // after 3's exposure: followed
		{Person: 8, Venue: 8, Time: at(time.Hour + 50*time.Minute)},    // within 30 min of 3's visit
	}
	ix, err := Build(context.Background(), scans, Config{})
	require.NoError(t, err)
	tr, err := NewTracer(ix, nil, Config{})
	require.NoError(t, err)
	res, err := tr.Trace(context.Background(), Query{
		Cases: []uint32{0}, Before: 30 * time.Minute, After: 30 * time.Minute,
		Depth: 2, Exclude: NewPersonSet(6),
	})
	require.NoError(t, err)
	var got [][3]int64
	for _, c := range res.Contacts {
		got = append(got, [3]int64{int64(c.Person), int64(c.Hop), c.Time - t0.Unix()})
	}
	require.Equal(t, [][3]int64{
		{1, 1, -1800},
		{3, 1, -600},
		// Hop 2 follows 1 from -30 min and 3 from -10 min: 1's venue-9
		// scan at -30 min reaches 2 (one second before it); 3's scans at
		// +30 min (venue 9) and +80 min (venue 8) reach 4, 7 and 8, the
		// last exactly at the after edge.
		{2, 2, -1801},
		{4, 2, 1801},
		{7, 2, 3600},
		{8, 2, 6600},
	}, got)
	require.Equal(t, uint32(1), res.Contacts[2].Via, "2 is reached via 1 and via 3 at the same time: lowest via wins")
	require.Equal(t, uint32(3), res.Contacts[5].Via)
	require.Equal(t, uint32(8), res.Contacts[5].Venue)
}

func TestBuildAppendMatchesBuild(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var days [][]Scan
		var all []Scan
		for d := range 3 {
			day := make([]Scan, rng.IntN(500))
			for i := range day {
				day[i] = Scan{Person: uint32(rng.IntN(100)), Venue: uint32(rng.IntN(30 + 10*d)),
					Time: at(time.Duration(d)*24*time.Hour + time.Duration(rng.IntN(86400))*time.Second)}
			}
			days = append(days, day)
			all = append(all, day...)
		}
		want, err := Build(ctx, all, Config{Workers: 1})
		require.NoError(t, err)
		// Append days in reverse so the base moves backwards too.
		got, err := Build(ctx, days[2], Config{Workers: 2})
		require.NoError(t, err)
		for _, d := range [][]Scan{days[1], days[0]} {
			got, err = got.Append(ctx, d, Config{Workers: 3})
			require.NoError(t, err)
		}
		require.Equal(t, want.Len(), got.Len())
		for v := range uint32(want.NumVenues()) {
			require.Equal(t, want.VenueScans(nil, v, time.Time{}, time.Time{}), got.VenueScans(nil, v, time.Time{}, time.Time{}))
		}
		for p := range uint32(want.NumPersons()) {
			w := want.PersonScans(nil, p, time.Time{}, time.Time{})
			require.Equal(t, w, got.PersonScans(nil, p, time.Time{}, time.Time{}))
			var brute []Scan
			for _, s := range all {
				if s.Person == p {
					brute = append(brute, s)
				}
			}
			slices.SortFunc(brute, compareScan)
			require.Equal(t, brute, w)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		scans []Scan
		cfg   Config
		want  error
	}{
		{"venue over max", []Scan{{Venue: 10}}, Config{MaxVenues: 10}, ErrTooLarge},
		{"person over max", []Scan{{Person: 10}}, Config{MaxPersons: 10}, ErrTooLarge},
		{"span too long", []Scan{{Time: 0}, {Time: 1 << 32}}, Config{}, ErrTooLarge},
		{"negative workers", nil, Config{Workers: -1}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(ctx, tc.scans, tc.cfg)
			require.ErrorIs(t, err, tc.want)
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := Build(cancelled, []Scan{{Time: 1}}, Config{})
	require.True(t, errors.Is(err, context.Canceled))
}

func TestQueryValidate(t *testing.T) {
	tests := []struct {
		q     Query
		field string
	}{
		{Query{Before: -1}, "Query.Before"},
		{Query{After: -1}, "Query.After"},
		{Query{Depth: MaxDepth + 1}, "Query.Depth"},
		{Query{MaxPerWindow: -1}, "Query.MaxPerWindow"},
		{Query{MaxPerHop: -1}, "Query.MaxPerHop"},
		{Query{Since: t0, Until: t0.Add(-1)}, "Query.Until"},
		{Query{Visits: []Visit{{From: t0, To: t0}, {From: t0, To: t0.Add(-time.Second)}}}, "Query.Visits[1].To"},
		{Query{Visits: []Visit{{To: t0}}}, "Query.Visits[0].From"},
		{Query{Trips: []TripRef{{Date: t0}}}, "Query.Trips[0].Number"},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			err := tc.q.Validate()
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
	tr, err := NewTracer(nil, nil, Config{})
	require.NoError(t, err)
	_, err = tr.Trace(context.Background(), Query{Trips: []TripRef{{Number: "G1", Date: t0}}})
	require.ErrorIs(t, err, ErrUnknownTrip)
}

func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct {
		name  string
		times int // distinct seconds
		n     int
	}{
		{"time order with ties", 50, 400},
		{"one long second", 1, 3000},
		{"all distinct", 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg := make([]uint64, tc.n)
			for i := range seg {
				seg[i] = uint64(i*tc.times/tc.n)<<32 | uint64(rng.IntN(1000))
			}
			if tc.name == "all distinct" {
				rng.Shuffle(len(seg), func(i, j int) { seg[i], seg[j] = seg[j], seg[i] })
			}
			want := slices.Sorted(slices.Values(seg))
			sortKeys(seg)
			require.Equal(t, want, seg)
		})
	}
}

func TestNewTripsErrors(t *testing.T) {
	day := t0
	tests := []struct {
		name  string
		trips []Trip
		want  error
		field string
	}{
		{"empty number", []Trip{{Date: day}}, ErrInvalid, "Trips[0].Number"},
		{"zero date", []Trip{{Number: "G1"}}, ErrInvalid, "Trips[0].Date"},
		{"duplicate", []Trip{{Number: "G1", Date: day}, {Number: "G1", Date: day}}, ErrInvalid, "Trips[1]"},
		{"passenger id too large", []Trip{{Number: "G1", Date: day, Passengers: []Seat{{Person: NoPerson}}}}, ErrTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTrips(tc.trips, Config{})
			require.ErrorIs(t, err, tc.want)
			if tc.field != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tc.field, fe.Field)
			}
		})
	}
	// The same number on another day or mode is another trip.
	_, err := NewTrips([]Trip{{Number: "G1", Date: day}, {Number: "G1", Date: day.AddDate(0, 0, 1)}, {Mode: ModeBus, Number: "G1", Date: day}}, Config{})
	require.NoError(t, err)
}

func TestTripsSeat(t *testing.T) {
	trips, err := NewTrips([]Trip{{Number: "G1", Date: t0, Passengers: []Seat{{Person: 4, Car: 2, Row: 3, Seat: 'F'}}}}, Config{})
	require.NoError(t, err)
	s, ok := trips.Seat(Contact{Kind: KindTrip, Trip: 0, Passenger: 0})
	require.True(t, ok)
	require.Equal(t, Seat{Person: 4, Car: 2, Row: 3, Seat: 'F'}, s)
	for _, c := range []Contact{{Kind: KindVenue, Trip: -1, Passenger: -1}, {Kind: KindTrip, Trip: 1}, {Kind: KindTrip, Passenger: 1}} {
		_, ok := trips.Seat(c)
		require.False(t, ok, "%+v", c)
	}
	var none *Trips
	_, ok = none.Seat(Contact{Kind: KindTrip})
	require.False(t, ok)
}

func TestAppendEdgeCases(t *testing.T) {
	ctx := context.Background()
	empty, err := Build(ctx, nil, Config{})
	require.NoError(t, err)
	day := []Scan{{Person: 7, Venue: 2, Time: at(0)}, {Person: 1, Venue: 2, Time: at(time.Minute)}}
	// Appending to an empty index, and appending nothing.
	ix, err := empty.Append(ctx, day, Config{})
	require.NoError(t, err)
	require.Equal(t, 2, ix.Len())
	require.Equal(t, 8, ix.NumPersons())
	require.Len(t, ix.PersonScans(nil, 7, time.Time{}, time.Time{}), 1)
	same, err := ix.Append(ctx, nil, Config{})
	require.NoError(t, err)
	require.Equal(t, ix.columns(), same.columns())
	// A day with a new, higher person id widens the person CSR.
	more, err := ix.Append(ctx, []Scan{{Person: 20, Venue: 0, Time: at(-time.Hour)}}, Config{})
	require.NoError(t, err)
	require.Equal(t, 21, more.NumPersons())
	require.Equal(t, []Scan{{Person: 20, Venue: 0, Time: at(-time.Hour)}}, more.PersonScans(nil, 20, time.Time{}, time.Time{}))
	require.Len(t, more.PersonScans(nil, 1, time.Time{}, time.Time{}), 1)
	// Merging with an empty index changes nothing.
	m, err := Merge(ctx, Config{}, more, empty)
	require.NoError(t, err)
	require.Equal(t, more.columns(), m.columns())
}

// Person ids spanning several 65,536-wide buckets, some empty.
func TestPersonIndexManyBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	scans := make([]Scan, 20000)
	for i := range scans {
		p := uint32(rng.IntN(300_000))
		if i%3 == 0 {
			p = uint32(rng.IntN(50)) // a few heavy scanners
		}
		if p >= 70_000 && p < 140_000 {
			p += 70_000 // leave a whole bucket empty
		}
		scans[i] = Scan{Person: p, Venue: uint32(rng.IntN(100)), Time: at(time.Duration(rng.IntN(86400)) * time.Second)}
	}
	for _, w := range []int{1, 2, 5} {
		ix, err := Build(context.Background(), scans, Config{Workers: w})
		require.NoError(t, err)
		require.Nil(t, ix.check())
		byPerson := map[uint32][]Scan{}
		for _, s := range scans {
			byPerson[s.Person] = append(byPerson[s.Person], s)
		}
		for _, p := range []uint32{0, 7, 49, 65535, 65536, 69_999, 100_000, 150_000, 299_999, uint32(ix.NumPersons() - 1)} {
			want := byPerson[p]
			slices.SortFunc(want, compareScan)
			require.Equal(t, want, ix.PersonScans(nil, p, time.Time{}, time.Time{}), "person %d workers %d", p, w)
		}
	}
}

// Venue ids spanning several 65,536-wide buckets, some empty, with ties.
func TestVenueIndexManyBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	scans := make([]Scan, 30000)
	for i := range scans {
		v := uint32(rng.IntN(250_000))
		if i%4 == 0 {
			v = uint32(65_530 + rng.IntN(12)) // straddle a bucket edge
		}
		if v >= 131_072 && v < 196_608 {
			v -= 65_536 // leave a whole bucket empty
		}
		scans[i] = Scan{Person: uint32(rng.IntN(500)), Venue: v, Time: at(time.Duration(rng.IntN(3600)) * time.Second)}
	}
	if rng.IntN(2) == 0 {
		slices.SortFunc(scans, func(a, b Scan) int { return cmpInt(a.Time, b.Time) }) // as ingested
	}
	for _, w := range []int{1, 3} {
		ix, err := Build(context.Background(), scans, Config{Workers: w})
		require.NoError(t, err)
		require.Nil(t, ix.check())
		byVenue := map[uint32][]Scan{}
		for _, s := range scans {
			byVenue[s.Venue] = append(byVenue[s.Venue], s)
		}
		for _, v := range []uint32{0, 65_529, 65_530, 65_535, 65_536, 65_541, 131_072, 200_000, uint32(ix.NumVenues() - 1)} {
			want := byVenue[v]
			slices.SortFunc(want, compareScan)
			require.Equal(t, want, ix.VenueScans(nil, v, time.Time{}, time.Time{}), "venue %d workers %d", v, w)
		}
	}
}
