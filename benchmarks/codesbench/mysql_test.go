package codesbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/internal/benchdb"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkCodesMySQL runs the MySQL-wire workloads; without
// HEALTHCODE_TEST_MYSQL it skips (fails under CI=true).
func BenchmarkCodesMySQL(b *testing.B) {
	dsn := testenv.MySQL(b)
	for _, w := range MySQLWorkloads(bench.Small, dsn) {
		bench.Benchmark(b, w)
	}
}

// Every MySQL-wire subject runs twice and checks its answers at small
// scale, reports its figures, and drops its database when it closes.
func TestMySQLWorkloadsRun(t *testing.T) {
	dsn := testenv.MySQL(t)
	ctx := context.Background()
	before, err := benchdb.Leftovers(ctx, dsn, "hcb_codes_")
	require.NoError(t, err)
	for _, w := range MySQLWorkloads(bench.Small, dsn) {
		for _, s := range w.Subjects {
			r, err := s.Setup(ctx)
			require.NoError(t, err, "%s/%s", w.Name, s.Name)
			n := 1
			if w.Unit == "lookup" {
				n = 30_000 // past the population: the stream wraps around
			}
			require.NoError(t, r.Run(ctx, n), "%s/%s", w.Name, s.Name)
			require.NoError(t, r.Run(ctx, n), "%s/%s: second run", w.Name, s.Name)
			m := r.(bench.MetricsReporter).Metrics()
			require.NotEmpty(t, m, "%s/%s", w.Name, s.Name)
			if w.Name == "codes/lookup-mysql" {
				// The small population's non-green keys fit in the cache.
				require.Equal(t, "store-reads", m[0].Name)
				require.Less(t, m[0].Value, 5.0, "%s/%s: store reads", w.Name, s.Name)
			}
			require.NoError(t, r.(interface{ Close() error }).Close(), "%s/%s", w.Name, s.Name)
		}
	}
	// Nothing left behind (but what others' runs had made before).
	after, err := benchdb.Leftovers(ctx, dsn, "hcb_codes_")
	require.NoError(t, err)
	require.Subset(t, before, after, "databases left behind")
}
