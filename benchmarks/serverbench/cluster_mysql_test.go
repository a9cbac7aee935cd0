package serverbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkServerMySQL runs the cluster over a MySQL-wire server; without
// HEALTHCODE_TEST_MYSQL it skips (fails under CI=true).
func BenchmarkServerMySQL(b *testing.B) {
	if testing.Short() {
		b.Skip("starts servers")
	}
	dsn := testenv.MySQL(b)
	for _, w := range MySQLWorkloads(bench.Small, dsn) {
		bench.Benchmark(b, w)
	}
}

// The cluster over MariaDB or MySQL propagates every transcode at small
// scale, reports the database's CPU share, and drops its database.
func TestMySQLWorkloadsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dsn := testenv.MySQL(t)
	ctx := context.Background()
	for _, w := range MySQLWorkloads(bench.Small, dsn) {
		for _, s := range w.Subjects {
			r, err := s.Setup(ctx)
			require.NoError(t, err, "%s/%s", w.Name, s.Name)
			require.NoError(t, r.Run(ctx, 1), "%s/%s", w.Name, s.Name)
			m := map[string]float64{}
			for _, x := range r.(bench.MetricsReporter).Metrics() {
				m[x.Name] = x.Value
			}
			t.Logf("%s/%s: %v", w.Name, s.Name, m)
			require.Contains(t, m, "lookups-b-p99")
			require.Contains(t, m, "cpu-mysql")
			if s.Role == bench.Primary {
				require.Greater(t, m["transcodes"], 10.0)
				require.Zero(t, m["propagation-failed"])
				require.Positive(t, m["propagation-p50"])
				require.LessOrEqual(t, m["propagation-p99"], m["propagation-max"])
			} else {
				require.NotContains(t, m, "transcodes")
			}
			require.NoError(t, r.(interface{ Close() error }).Close(), "%s/%s", w.Name, s.Name)
		}
	}
}
