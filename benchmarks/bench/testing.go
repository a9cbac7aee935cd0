package bench

import (
	"context"
	"strings"
	"testing"
)

// Benchmark runs every subject of w as a sub-benchmark of b named after the
// subject, so that `go test -bench` measures the same code as the CLI.
// Setup runs outside the timer; a runner's error fails the benchmark.
// Parallel subjects split b.N over GOMAXPROCS goroutines.
func Benchmark(b *testing.B, w Workload) {
	b.Helper()
	for _, s := range w.Subjects {
		b.Run(w.Name+"/"+s.Name, func(b *testing.B) {
			ctx := context.Background()
			r, err := s.Setup(ctx)
			if err != nil {
				b.Fatalf("setup: %v", err)
			}
			defer closeRunner(r)
			b.ReportAllocs()
			b.ResetTimer()
			if s.Parallel {
				err = runParallel(ctx, r, b.N)
			} else {
				err = r.Run(ctx, b.N)
			}
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if b.Elapsed() > 0 {
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), w.Unit+"/s")
			}
			if m, ok := r.(MetricsReporter); ok {
				for _, x := range m.Metrics() {
					b.ReportMetric(x.Value, metricUnit(x))
				}
			}
		})
	}
}

// metricUnit names a metric for testing.B, which refuses whitespace.
func metricUnit(m Metric) string {
	u := m.Name
	if m.Unit != "" {
		u += "-" + m.Unit
	}
	return strings.Join(strings.Fields(u), "_")
}
