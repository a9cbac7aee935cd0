package tracebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
)

// queryReport runs the scale tests' queries on tr and logs their times:
// three rounds of 50 cases of 30 visits (+-2 h, one hop), drawn from
// sample, then five of them two hops deep with caps, the people the caps
// cut counted exactly and then bounded. venueScans counts
// the scans in a case's windows.
func queryReport(t *testing.T, tr *contacttrace.Tracer, venueScans func([]contacttrace.Scan, uint32, time.Time, time.Time) []contacttrace.Scan,
	sample []contacttrace.Scan, rng *rand.Rand) []contacttrace.Query {
	ctx := context.Background()
	var qs []contacttrace.Query
	for range 50 {
		q := contacttrace.Query{Before: window, After: window}
		for range visitsPerCase {
			s := sample[rng.IntN(len(sample))]
			q.Visits = append(q.Visits, contacttrace.Visit{Venue: s.Venue, From: time.Unix(s.Time, 0), To: time.Unix(s.Time, 0)})
		}
		qs = append(qs, q)
	}
	if path := os.Getenv("TRACEBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	positions := 0
	for _, q := range qs {
		for _, v := range q.Visits {
			positions += len(venueScans(nil, v.Venue, v.From.Add(-q.Before), v.To.Add(q.After)))
		}
	}
	t.Logf("query: %d scans in the windows of a case on average", positions/len(qs))
	var res contacttrace.Result
	for round := range 3 {
		timeRound(t, tr, qs, fmt.Sprintf("query round %d", round))
	}

	// Two hops from a crowded case, capped: what the caps cut is reported,
	// counted exactly (the default) and bounded (Query.CutsBound), the
	// same contacts.
	for _, caps := range [][2]int{{1_000, 100_000}} {
		var exact time.Duration
		for _, bound := range []bool{false, true} {
			w, c := time.Now(), cpuTime()
			contacts, cut := 0, 0
			for _, q := range qs[:5] {
				q.Depth, q.MaxPerWindow, q.MaxPerHop, q.CutsBound = 2, caps[0], caps[1], bound
				if err := tr.TraceInto(ctx, q, &res); err != nil {
					t.Fatal(err)
				}
				contacts += len(res.Contacts)
				cut += res.Cut()
			}
			el := time.Since(w) / 5
			if !bound {
				exact = el
			}
			t.Logf("depth 2 (MaxPerWindow %d, MaxPerHop %d, CutsBound %v): %v wall (%.2fx exact), %v CPU per case; %d contacts/case, %d cut/case", caps[0], caps[1], bound,
				el.Round(time.Microsecond), el.Seconds()/exact.Seconds(), ((cpuTime() - c) / 5).Round(time.Microsecond), contacts/5, cut/5)
		}
	}
	return qs
}

// timeRound runs qs one after another on tr and logs the mean wall and CPU
// time a case, the median, the slowest and the first, and the contacts a
// case.
func timeRound(t *testing.T, tr *contacttrace.Tracer, qs []contacttrace.Query, label string) {
	ctx := context.Background()
	var res contacttrace.Result
	w, c := time.Now(), cpuTime()
	contacts := 0
	per := make([]time.Duration, 0, len(qs))
	for _, q := range qs {
		qw := time.Now()
		if err := tr.TraceInto(ctx, q, &res); err != nil {
			t.Fatal(err)
		}
		per = append(per, time.Since(qw))
		contacts += len(res.Contacts)
	}
	first := per[0]
	slices.Sort(per)
	t.Logf("%s: %v wall, %v CPU per 30-visit case (median %v, slowest %v, first %v); %d contacts/case", label,
		(time.Since(w) / time.Duration(len(qs))).Round(time.Microsecond),
		((cpuTime() - c) / time.Duration(len(qs))).Round(time.Microsecond),
		per[len(per)/2].Round(time.Microsecond), per[len(per)-1].Round(time.Microsecond), first.Round(time.Microsecond), contacts/len(qs))
}
