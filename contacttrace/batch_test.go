package contacttrace

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// synthWorld converts synth scans and trips into the package's types.
func synthWorld(t testing.TB, seed uint64, persons, venues, perDay int) ([]Scan, []Trip) {
	g := synth.New(seed)
	start := synth.DefaultStart()
	raw := g.Scans(synth.ScanConfig{Persons: persons, Venues: venues, Days: 2, PerDay: perDay, Start: start})
	scans := make([]Scan, len(raw))
	for i, s := range raw {
		scans[i] = Scan(s)
	}
	var trips []Trip
	for _, tr := range g.Trips(synth.TripConfig{Trips: 40, Persons: persons, Days: 2, Start: start}) {
		out := Trip{Mode: Mode(tr.Mode), Number: tr.Number, Date: tr.Date}
		for _, s := range tr.Passengers {
			out.Passengers = append(out.Passengers, Seat{Person: s.Person, Car: s.Car, Row: s.Row, Seat: s.Seat})
		}
		trips = append(trips, out)
	}
	// synth may draw the same number twice on a day; keep the first.
	seen := map[tripKey]bool{}
	uniq := trips[:0]
	for _, tr := range trips {
		k := tripKey{tr.Mode, tr.Number, tr.Date.Unix()}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, tr)
		}
	}
	return scans, uniq
}

func TestTraceBatchMatchesOneByOneOnSynthData(t *testing.T) {
	ctx := context.Background()
	scans, trips := synthWorld(t, 11, 2000, 200, 6000)
	ix, err := Build(ctx, scans, Config{})
	require.NoError(t, err)
	tix, err := NewTrips(trips, Config{})
	require.NoError(t, err)
	tr, err := NewTracer(ix, tix, Config{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 11))
	var qs []Query
	for range 100 { // many groups
		q := Query{Before: time.Duration(rng.IntN(120)) * time.Minute, After: time.Duration(rng.IntN(120)) * time.Minute,
			Depth: 1 + rng.IntN(2), MaxPerWindow: rng.IntN(3) * 20, MaxPerHop: rng.IntN(2) * 200}
		s := scans[rng.IntN(len(scans))]
		if rng.IntN(2) == 0 {
			q.Cases = []uint32{s.Person}
		} else {
			at := time.Unix(s.Time, 0)
			q.Visits = []Visit{{Venue: s.Venue, From: at, To: at.Add(30 * time.Minute)}}
		}
		qs = append(qs, q)
	}
	got, err := tr.TraceBatch(ctx, qs)
	require.NoError(t, err)
	total := 0
	for i, q := range qs {
		want, err := tr.Trace(ctx, q)
		require.NoError(t, err)
		require.Equal(t, want, got[i], "query %d", i)
		total += len(want.Contacts)
	}
	require.Greater(t, total, 1000, "the queries must find people")
	var order []int
	require.NoError(t, tr.TraceEach(ctx, qs, func(i int, r Result) error {
		order = append(order, i)
		require.Equal(t, got[i], r)
		return nil
	}))
	require.Len(t, order, len(qs))
	require.IsIncreasing(t, order)
	// The first query checked against the brute-force oracle too.
	require.Equal(t, oracle(scans, trips, qs[0]), got[0])
}

func TestTraceCancelled(t *testing.T) {
	scans, _ := synthWorld(t, 12, 500, 50, 2000)
	ix, err := Build(context.Background(), scans, Config{})
	require.NoError(t, err)
	tr, err := NewTracer(ix, nil, Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := Query{Cases: []uint32{scans[0].Person}, Before: time.Hour}
	_, err = tr.Trace(ctx, q)
	require.ErrorIs(t, err, context.Canceled)
	_, err = tr.TraceBatch(ctx, []Query{q, q})
	require.ErrorIs(t, err, context.Canceled)
	_, err = NewVenueNames(ctx, synthVenueNames(1, 10000), Config{})
	require.ErrorIs(t, err, context.Canceled)
	// A bad query in a batch names itself.
	_, err = tr.TraceBatch(context.Background(), []Query{q, {Depth: -1}})
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "batch query 1: contacttrace: Query.Depth")
}

func TestTraceIntoReusesResult(t *testing.T) {
	ctx := context.Background()
	scans, _ := synthWorld(t, 13, 500, 50, 3000)
	ix, err := Build(ctx, scans, Config{})
	require.NoError(t, err)
	tr, err := NewTracer(ix, nil, Config{})
	require.NoError(t, err)
	var res Result
	for i := range 5 {
		q := Query{Cases: []uint32{scans[i*100].Person}, Before: time.Hour, After: time.Hour, Depth: 2}
		want, err := tr.Trace(ctx, q)
		require.NoError(t, err)
		require.NoError(t, tr.TraceInto(ctx, q, &res))
		require.Equal(t, len(want.Contacts), len(res.Contacts))
		if len(want.Contacts) > 0 {
			require.Equal(t, want, res)
		}
	}
	require.Error(t, tr.TraceInto(ctx, Query{Depth: -1}, &res))
	require.Empty(t, res.Contacts)
}
