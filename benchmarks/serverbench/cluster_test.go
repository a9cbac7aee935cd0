package serverbench

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkServerPostgres runs the scenarios over PostgreSQL; without
// HEALTHCODE_TEST_POSTGRES it skips (fails under CI=true).
func BenchmarkServerPostgres(b *testing.B) {
	if testing.Short() {
		b.Skip("starts servers")
	}
	dsn := testenv.Postgres(b)
	for _, w := range PostgresWorkloads(bench.Small, dsn) {
		bench.Benchmark(b, w)
	}
}

// Every subject runs at small scale and checks its answers; the cluster
// propagates every transcode, the nodes' figures are there, and every
// database is dropped at Close.
func TestPostgresWorkloadsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	for _, w := range PostgresWorkloads(bench.Small, dsn) {
		for _, s := range w.Subjects {
			r, err := s.Setup(ctx)
			require.NoError(t, err, "%s/%s", w.Name, s.Name)
			n := 1
			if w.Unit == "lookup" {
				n = 2000
			}
			require.NoError(t, r.Run(ctx, n), "%s/%s", w.Name, s.Name)
			m := map[string]float64{}
			for _, x := range r.(bench.MetricsReporter).Metrics() {
				m[x.Name] = x.Value
			}
			t.Logf("%s/%s: %v", w.Name, s.Name, m)
			switch w.Name {
			case "server/cluster":
				require.Contains(t, m, "lookups-b-p99")
				if s.Role != bench.Primary {
					require.NotContains(t, m, "transcodes")
					break
				}
				require.Greater(t, m["transcodes"], 10.0)
				require.Zero(t, m["propagation-failed"])
				require.Positive(t, m["propagation-p50"])
				require.LessOrEqual(t, m["propagation-p99"], m["propagation-max"])
			case "server/nodes":
				require.Positive(t, m["cpu-healthcoded"], "the servers did the work")
				require.Contains(t, m, "cpu-postgres")
				if strings.Contains(s.Name, "-x2-") {
					require.Contains(t, m, "node-b-p99")
				}
			}
			require.NoError(t, r.(interface{ Close() error }).Close(), "%s/%s", w.Name, s.Name)
		}
	}
}

func TestProcCPU(t *testing.T) {
	busy := 0
	for i := range 50_000_000 {
		busy ^= i
	}
	_ = busy
	if procCPU(os.Getpid()) <= 0 {
		t.Fatal("no CPU time read for this process")
	}
	if procCPU(-1) != 0 {
		t.Fatal("CPU time for no process")
	}
	if machineBusy() < procCPU(os.Getpid()) {
		t.Fatal("the machine was less busy than this process")
	}
}
