package synth

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

var large = flag.Bool("synth.large", false, "run the synth benchmarks at full size (10 M scans, 1 M registry records)")

func BenchmarkScans(b *testing.B) {
	sizes := []int{100000}
	if *large {
		sizes = append(sizes, 10000000)
	}
	for _, n := range sizes {
		cfg := ScanConfig{Persons: 1000000, Venues: 100000, Days: 1, PerDay: n}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			g := New(1)
			start := time.Now()
			for b.Loop() {
				if s := g.Scans(cfg); len(s) != n {
					b.Fatalf("got %d scans", len(s))
				}
			}
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "scans/s")
		})
		b.Run(fmt.Sprintf("seq/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			g := New(1)
			start := time.Now()
			for b.Loop() {
				k := 0
				for range g.ScanSeq(cfg) {
					k++
				}
				if k != n {
					b.Fatalf("got %d scans", k)
				}
			}
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "scans/s")
		})
	}
}

func BenchmarkRegistry(b *testing.B) {
	sizes := []int{10000}
	if *large {
		sizes = append(sizes, 1000000)
	}
	for _, n := range sizes {
		cfg := RegistryConfig{Records: n, DupRate: 0.05, SuspiciousRate: 0.02, NoiseRate: 0.1}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			g := New(1)
			start := time.Now()
			for b.Loop() {
				if r, _ := g.Registry(cfg); len(r) != n {
					b.Fatalf("got %d records", len(r))
				}
			}
			b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "records/s")
		})
	}
}

func BenchmarkPeople(b *testing.B) {
	b.ReportAllocs()
	g := New(1)
	for b.Loop() {
		g.Person()
	}
}
