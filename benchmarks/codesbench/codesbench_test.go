package codesbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/stretchr/testify/require"
)

func BenchmarkCodes(b *testing.B) {
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}

// Every subject runs and checks its answers at small scale.
func TestWorkloadsRun(t *testing.T) {
	for _, w := range Workloads(bench.Small) {
		for _, s := range w.Subjects {
			r, err := s.Setup(context.Background())
			require.NoError(t, err, "%s/%s", w.Name, s.Name)
			require.NoError(t, r.Run(context.Background(), 3000), "%s/%s", w.Name, s.Name)
			if w.Name == "codes/bulk-apply" || w.Name == "codes/bulk-decide" { // wraps around the key pool
				require.NoError(t, r.Run(context.Background(), 60_000), "%s/%s: second run", w.Name, s.Name)
			}
			if c, ok := r.(interface{ Close() error }); ok {
				require.NoError(t, c.Close())
			}
		}
	}
}
