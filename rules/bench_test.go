package rules

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// population returns n synthetic people at now and a risk-area snapshot.
func population(tb testing.TB, seed uint64, n int, now time.Time) ([]Facts, *RiskAreas) {
	tb.Helper()
	g := synth.New(seed)
	var areas []RiskArea
	for _, a := range g.RiskAreas(300, now) {
		areas = append(areas, RiskArea{Region: a.Region, Level: a.Level})
	}
	ra, err := NewRiskAreas("synth", areas)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Facts, n)
	for i := range out {
		out[i] = factsFromSynth(g.Health(now), now)
	}
	return out, ra
}

func factsFromSynth(h synth.HealthFacts, now time.Time) Facts {
	f := Facts{Now: now, VaccineDoses: h.VaccineDoses, EntryStatus: h.EntryStatus, ManualFlags: h.ManualFlags,
		Contact: Contact{Kind: h.Contact.Kind, LastExposure: h.Contact.LastExposure, Identified: h.Contact.Identified}}
	for _, t := range h.Tests {
		f.Tests = append(f.Tests, Test{Kind: t.Kind, Positive: t.Positive, Sampled: t.Sampled, Reported: t.Reported})
	}
	for _, v := range h.Travel {
		f.Travel = append(f.Travel, Visit{Region: v.Region, Time: v.Time})
	}
	return f
}

func defaultCompiled(tb testing.TB) *Compiled {
	tb.Helper()
	env, err := NewEnv()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := env.CompileYAML("default.yaml", defaultYAML)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var benchNow = time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC)

func BenchmarkEvaluate(b *testing.B) {
	c := defaultCompiled(b)
	pop, areas := population(b, 1, 4096, benchNow)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Evaluate(ctx, &pop[i%len(pop)], areas); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEvaluateParallel(b *testing.B) {
	c := defaultCompiled(b)
	pop, areas := population(b, 1, 4096, benchNow)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Evaluate(ctx, &pop[i%len(pop)], areas); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkEvaluateInterpreted(b *testing.B) {
	env, err := NewEnv(NativePlan(false))
	if err != nil {
		b.Fatal(err)
	}
	c, err := env.CompileYAML("default.yaml", defaultYAML)
	if err != nil {
		b.Fatal(err)
	}
	pop, areas := population(b, 1, 4096, benchNow)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Evaluate(ctx, &pop[i%len(pop)], areas); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkExplain(b *testing.B) {
	c := defaultCompiled(b)
	pop, areas := population(b, 1, 1024, benchNow)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Explain(context.Background(), &pop[i%len(pop)], areas); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkBatch(b *testing.B) {
	c := defaultCompiled(b)
	for _, n := range []int{1_000, 10_000} {
		pop, areas := population(b, 1, n, benchNow)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := c.Batch(context.Background(), slices.Values(pop), areas, BatchConfig{}, func(i int, d Decision, err error) {
					if err != nil {
						b.Fatal(err)
					}
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "person/s")
		})
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	env, err := NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.CompileYAML("default.yaml", defaultYAML); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSwapParallel(b *testing.B) {
	c := defaultCompiled(b)
	e, err := NewEngine(EngineConfig{})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Swap(c, benchNow); err != nil {
		b.Fatal(err)
	}
	pop, areas := population(b, 1, 1024, benchNow)
	e.SetRiskAreas(areas)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if i%64 == 0 { // one swap per 64 evaluations
				if err := e.Swap(c, benchNow); err != nil {
					b.Fatal(err)
				}
			} else if _, err := e.Evaluate(context.Background(), &pop[i%len(pop)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
