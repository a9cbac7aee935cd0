package codesbench

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkCodesPostgres runs the PostgreSQL workloads; without
// HEALTHCODE_TEST_POSTGRES it skips (fails under CI=true).
func BenchmarkCodesPostgres(b *testing.B) {
	dsn := testenv.Postgres(b)
	for _, w := range PostgresWorkloads(bench.Small, dsn) {
		bench.Benchmark(b, w)
	}
}

// Every PostgreSQL subject runs twice and checks its answers at small
// scale, reports its figures, and drops its schema when it closes.
func TestPostgresWorkloadsRun(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	for _, w := range PostgresWorkloads(bench.Small, dsn) {
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
			if w.Name == "codes/lookup-pg" {
				// The small population's non-green keys fit in the cache.
				require.Equal(t, "store-reads", m[0].Name)
				require.Less(t, m[0].Value, 5.0, "%s/%s: store reads", w.Name, s.Name)
			}
			if c, ok := r.(interface{ Close() error }); ok {
				require.NoError(t, c.Close(), "%s/%s", w.Name, s.Name)
			}
		}
	}
	// Nothing left behind.
	sch, _ := newPGSchema(dsn)
	require.NoError(t, sch.exec(ctx, `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname LIKE 'hcb\_%') THEN RAISE EXCEPTION 'schemas left behind'; END IF; END $$`))
}
