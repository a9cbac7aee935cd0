package contacttrace

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// Micro-benchmarks at CI sizes; the provincial-scale workloads are in
// benchmarks/tracebench.

func BenchmarkBuild(b *testing.B) {
	scans, _ := synthWorld(b, 1, 100_000, 10_000, 250_000)
	b.SetBytes(int64(len(scans)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), scans, Config{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(scans))*float64(b.N)/b.Elapsed().Seconds(), "scans/s")
}

func BenchmarkTrace(b *testing.B) {
	ctx := context.Background()
	scans, _ := synthWorld(b, 2, 100_000, 10_000, 250_000)
	ix, err := Build(ctx, scans, Config{})
	if err != nil {
		b.Fatal(err)
	}
	tr, _ := NewTracer(ix, nil, Config{})
	rng := rand.New(rand.NewPCG(2, 2))
	var qs []Query
	for range 64 {
		q := Query{Before: 2 * time.Hour, After: 2 * time.Hour}
		for range 30 {
			s := scans[rng.IntN(len(scans))]
			q.Visits = append(q.Visits, Visit{Venue: s.Venue, From: time.Unix(s.Time, 0), To: time.Unix(s.Time, 0)})
		}
		qs = append(qs, q)
	}
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := tr.Trace(ctx, qs[i%len(qs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("each=64", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := tr.TraceEach(ctx, qs, func(int, Result) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/case")
	})
}

func BenchmarkReadIndex(b *testing.B) {
	scans, _ := synthWorld(b, 3, 100_000, 10_000, 250_000)
	ix, err := Build(context.Background(), scans, Config{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ReadIndex(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVenueSearch(b *testing.B) {
	names := synthVenueNames(4, 100_000)
	vn, err := NewVenueNames(context.Background(), names, Config{})
	if err != nil {
		b.Fatal(err)
	}
	queries := []string{"太古里 春熙路", "咖啡 锦江", "火锅", "成都 万达 影城"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(vn.Search(queries[i%len(queries)], 10)) == 0 {
			b.Fatal("no hits")
		}
		i++
	}
}
