package synthbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/stretchr/testify/require"
)

func BenchmarkSynth(b *testing.B) {
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}

// Every subject runs and checks its answers at small scale, and the
// primary's quality metrics show the skew and rhythm the baseline lacks.
func TestWorkloadsRun(t *testing.T) {
	for _, w := range Workloads(bench.Small) {
		for _, s := range w.Subjects {
			r, err := s.Setup(context.Background())
			require.NoError(t, err)
			require.NoError(t, r.Run(context.Background(), 5000), "%s/%s", w.Name, s.Name)
			if m, ok := r.(bench.MetricsReporter); ok {
				for _, x := range m.Metrics() {
					require.Greater(t, x.Value, 0.0, x.Name)
					if x.Name == "peak/quiet hour" {
						require.Greater(t, x.Value, 3.0)
					}
				}
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Workloads(bench.Small)[0].Subjects[0].Setup(context.Background())
	require.NoError(t, err)
	require.ErrorIs(t, r.Run(ctx, 10), context.Canceled)
}
