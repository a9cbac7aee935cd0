package sla

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

var benchIncidents = flag.Int("sla.incidents", 10_000, "incidents in BenchmarkEvaluateAll (1000000 for the issue's figure)")

// benchPolicy has targets on a 5x8 working-hours calendar with the
// mainland holidays, so every clock crosses nights, weekends and holidays.
func benchPolicy(tb testing.TB) *Policy {
	cal := office(tb)
	p, err := NewPolicy([]Level{
		{Name: "L1", Targets: []Target{{Kind: TargetResponse, Within: Duration{D: 30 * time.Minute}, Calendar: cal}, {Kind: TargetResolution, Within: Duration{D: 4 * time.Hour}, Calendar: cal}}},
		{Name: "L2", Targets: []Target{{Kind: TargetResponse, Within: Duration{D: time.Hour}, Calendar: cal}, {Kind: TargetResolution, Within: Duration{D: 8 * time.Hour}, Calendar: cal}}},
		{Name: "L3", Targets: []Target{{Kind: TargetResponse, Within: Duration{D: 4 * time.Hour}, Calendar: cal}, {Kind: TargetResolution, Within: Duration{D: 16 * time.Hour}, Calendar: cal}}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func synthIncidents(n int, seed uint64) []Incident {
	g := synth.New(seed)
	src := g.Incidents(synth.IncidentConfig{N: n, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, cst), Days: 730})
	out := make([]Incident, len(src))
	for i, s := range src {
		evs := make([]Event, len(s.Events))
		for j, e := range s.Events {
			evs[j] = Event{Kind: EventKind(e.Kind), At: e.At}
		}
		out[i] = Incident{ID: s.ID, Level: s.Level, Events: evs}
	}
	return out
}

func BenchmarkEvaluate(b *testing.B) {
	p := benchPolicy(b)
	incs := synthIncidents(4096, 1)
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, cst)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Evaluate(incs[i%len(incs)], asOf); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEvaluateAll(b *testing.B) {
	p := benchPolicy(b)
	incs := synthIncidents(*benchIncidents, 1)
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, cst)
	b.Run(fmt.Sprintf("n=%d", len(incs)), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.EvaluateAll(context.Background(), incs, asOf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(incs)), "ns/incident")
	})
}

func BenchmarkCalendar(b *testing.B) {
	c := office(b)
	a := at(2024, 2, 8, 10, 17)
	for _, span := range []time.Duration{time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour} {
		b.Run("Between/"+fmtDur(span), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Between(a, a.Add(span)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Add/"+fmtDur(span/4), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Add(a, span/4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("MinuteWalk/Between/30d", func(b *testing.B) {
		for b.Loop() {
			minuteWalkBetween(c, a, a.Add(30*24*time.Hour))
		}
	})
}

func BenchmarkNewWorkingCalendar(b *testing.B) {
	h := ChinaMainland()
	for b.Loop() {
		if _, err := NewWorkingCalendar(WorkingConfig{Holidays: h}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluateTo(b *testing.B) {
	p := benchPolicy(b)
	incs := synthIncidents(4096, 1)
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, cst)
	b.ReportAllocs()
	var res IncidentResult
	i := 0
	for b.Loop() {
		if err := p.EvaluateTo(&res, incs[i%len(incs)], asOf); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
