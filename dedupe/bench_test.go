package dedupe

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"slices"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

func BenchmarkResolve(b *testing.B) {
	for _, n := range benchSizes() {
		raw, _ := synth.New(1).Registry(synth.RegistryConfig{Records: n, DupRate: 0.02, SuspiciousRate: 0.01, NoiseRate: 0.1})
		recs := fromSynth(raw)
		r, err := NewResolver(Policy{}, Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Resolve(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	raw, _ := synth.New(1).Registry(synth.RegistryConfig{Records: 1000, NoiseRate: 0.1})
	recs := fromSynth(raw)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Normalize(recs[i%len(recs)])
	}
}

func BenchmarkJaroWinkler(b *testing.B) {
	for b.Loop() {
		_ = JaroWinkler("阿依古丽·买买提", "阿依古丽·买提")
	}
}

// BenchmarkStreamCSV reads a registry from CSV and resolves it through
// spill partitions (a budget far below the input).
func BenchmarkStreamCSV(b *testing.B) {
	n := 200_000
	if *bigBench {
		n = 1_000_000
	}
	raw, _ := synth.New(1).Registry(synth.RegistryConfig{Records: n, DupRate: 0.02, SuspiciousRate: 0.01, NoiseRate: 0.1})
	var buf bytes.Buffer
	w := NewWriter(&buf, CSVConfig{}, nil)
	for _, r := range fromSynth(raw) {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, budget := range []int64{8 << 20, 1 << 30} {
		r, err := NewResolver(Policy{}, Config{MemoryBudget: budget, Spill: DirSpill(b.TempDir())})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("budget=%dMiB", budget>>20), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd, err := NewReader(bytes.NewReader(buf.Bytes()), CSVConfig{})
				if err != nil {
					b.Fatal(err)
				}
				var res Result
				st, err := r.Stream(context.Background(), rd, &res)
				if err != nil || st.Records != int64(n) {
					b.Fatal(err, st.Records)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchSizes are the registry sizes of BenchmarkResolve; -dedupe.big adds
// a million records.
func benchSizes() []int {
	if *bigBench {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

var bigBench = flag.Bool("dedupe.big", false, "include 1e6-record sizes in the micro-benchmarks")

func BenchmarkReconcile(b *testing.B) {
	raw, _ := synth.New(1).Registry(synth.RegistryConfig{Records: 200_000, NoiseRate: 0.1})
	src := fromSynth(raw)
	iss := slices.Clone(src)
	for i := range iss {
		iss[i].ID += 1 << 20
	}
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Reconcile(context.Background(), SliceReader(src), SliceReader(iss), ReconcileConfig{})
		if err != nil || rep.Matched != int64(len(src)) {
			b.Fatal(err, rep.Matched)
		}
	}
	b.ReportMetric(float64(len(src)+len(iss))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
