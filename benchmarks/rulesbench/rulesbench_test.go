package rulesbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/stretchr/testify/require"
)

func BenchmarkRules(b *testing.B) {
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}

// Every subject runs and checks its answers at small scale; the swap
// workload runs 1,000 swaps under load with no evaluation error.
func TestWorkloadsRun(t *testing.T) {
	for _, w := range Workloads(bench.Small) {
		for _, s := range w.Subjects {
			r, err := s.Setup(context.Background())
			require.NoError(t, err, "%s/%s", w.Name, s.Name)
			n := 5000
			if w.Unit == "swap" {
				n = 50
			}
			if w.Name == "rules/swap-under-load" {
				n = 1000
			}
			require.NoError(t, r.Run(context.Background(), n), "%s/%s", w.Name, s.Name)
			if m, ok := r.(bench.MetricsReporter); ok && w.Name == "rules/swap-under-load" {
				got := map[string]float64{}
				for _, x := range m.Metrics() {
					got[x.Name] = x.Value
				}
				require.Equal(t, 1000.0, got["swaps"])
				require.Greater(t, got["evaluations during swaps"], 0.0)
				require.Zero(t, got["evaluation errors"])
			} else if ok {
				for _, x := range m.Metrics() {
					require.Greater(t, x.Value, 0.0, "%s/%s %s", w.Name, s.Name, x.Name)
				}
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Workloads(bench.Small)[0].Subjects[1].Setup(context.Background())
	require.NoError(t, err)
	require.ErrorIs(t, r.Run(ctx, 10), context.Canceled)
}

// The expr peer and the hand-written baseline agree with each other rule by
// rule, not only on the final colour.
func TestExprMatchesHandwritten(t *testing.T) {
	fx, err := loadFixture(bench.Small)
	require.NoError(t, err)
	x, err := newExprEvaluator()
	require.NoError(t, err)
	var d domain
	var a, b [20]bool
	for i := range fx.pop {
		d.reset(&fx.pop[i], fx.areas)
		handwritten(&d, &a)
		require.NoError(t, x.eval(&fx.pop[i], fx.areas, &b))
		require.Equal(t, a, b, "person %d", i)
	}
}
