package slabench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/stretchr/testify/require"
)

func BenchmarkSLA(b *testing.B) {
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}

// Both subjects run and agree (each checks against the minute walk), and
// cancellation is honoured.
func TestWorkloadsRun(t *testing.T) {
	for _, w := range Workloads(bench.Small) {
		for _, s := range w.Subjects {
			r, err := s.Setup(context.Background())
			require.NoError(t, err)
			require.NoError(t, r.Run(context.Background(), 300), "%s/%s", w.Name, s.Name)
		}
	}
	r, err := Workloads(bench.Small)[0].Subjects[0].Setup(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, r.Run(ctx, 10), context.Canceled)
}
