package bench

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// counter is a runner that counts the operations it is asked for.
type counter struct {
	ops    atomic.Int64
	closed atomic.Bool
	cost   time.Duration
}

func (c *counter) Run(ctx context.Context, n int) error {
	c.ops.Add(int64(n))
	if c.cost > 0 {
		time.Sleep(c.cost * time.Duration(n))
	}
	return nil
}
func (c *counter) Close() error      { c.closed.Store(true); return nil }
func (c *counter) Metrics() []Metric { return []Metric{{Name: "precision", Value: 1, Unit: "ratio"}} }

func TestRunCountsEveryOperationAndCloses(t *testing.T) {
	seq, par := &counter{}, &counter{}
	w := Workload{Name: "t/count", Unit: "op", Subjects: []Subject{
		{Name: "seq", Role: Primary, Setup: func(context.Context) (Runner, error) { return seq, nil }},
		{Name: "par", Role: Baseline, Parallel: true, Setup: func(context.Context) (Runner, error) { return par, nil }},
	}}
	rep, err := Run(context.Background(), []Workload{w}, Options{MinTime: 5 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, rep.Results, 2)
	for _, r := range rep.Results {
		require.Greater(t, r.N, 1, "n should grow until MinTime is filled")
	}
	// Every call of the growth loop adds its n, so the runner saw at least
	// the final n, and the parallel split lost no operation.
	require.GreaterOrEqual(t, seq.ops.Load(), int64(rep.Results[0].N))
	require.GreaterOrEqual(t, par.ops.Load(), int64(rep.Results[1].N))
	require.True(t, seq.closed.Load())
	require.True(t, par.closed.Load())
	require.Equal(t, []Metric{{Name: "precision", Value: 1, Unit: "ratio"}}, rep.Results[0].Metrics)
}

func TestRunParallelSplitsExactly(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 1000, 1001} {
		c := &counter{}
		require.NoError(t, runParallel(context.Background(), c, n))
		require.Equal(t, int64(n), c.ops.Load(), "n=%d", n)
	}
}

func TestRunStopsOnWrongAnswer(t *testing.T) {
	w := Workload{Name: "t/wrong", Unit: "op", Subjects: []Subject{{
		Name: "liar", Setup: func(context.Context) (Runner, error) {
			return RunFunc(func(context.Context, int) error {
				return errors.Join(ErrWrongAnswer, errors.New("got 3, want 4"))
			}), nil
		},
	}}}
	_, err := Run(context.Background(), []Workload{w}, Options{Once: true})
	require.ErrorIs(t, err, ErrWrongAnswer)
	require.Contains(t, err.Error(), "t/wrong/liar")
}

func TestRunSetupErrorNamesSubject(t *testing.T) {
	w := Workload{Name: "t/setup", Subjects: []Subject{{
		Name: "broken", Setup: func(context.Context) (Runner, error) { return nil, errors.New("no data") },
	}}}
	_, err := Run(context.Background(), []Workload{w}, Options{Once: true})
	require.ErrorContains(t, err, "t/setup/broken: setup: no data")
}

func TestRunFilterAndCancel(t *testing.T) {
	c := &counter{}
	mk := func(name string) Workload {
		return Workload{Name: name, Subjects: []Subject{{Name: "s", Setup: func(context.Context) (Runner, error) { return c, nil }}}}
	}
	rep, err := Run(context.Background(), []Workload{mk("a/x"), mk("b/y")}, Options{Once: true, Filter: regexp.MustCompile("^b/")})
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	require.Equal(t, "b/y", rep.Results[0].Workload)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, []Workload{mk("a/x")}, Options{Once: true})
	require.ErrorIs(t, err, context.Canceled)
}

func TestMarkdownRatios(t *testing.T) {
	rep := Report{GoVersion: "go1.x", GOMAXPROCS: 2, NumCPU: 2, Docs: map[string]string{"w/l": "lookups"}, Results: []Result{
		{Workload: "w/l", Unit: "lookup", Subject: "sdk", Role: Primary, OpsPerSec: 8e6, NsPerOp: 125, N: 10},
		{Workload: "w/l", Unit: "lookup", Subject: "map", Role: Baseline, OpsPerSec: 2e7, NsPerOp: 50, N: 10},
		{Workload: "w/l", Unit: "lookup", Subject: "sqlite", Role: Peer, OpsPerSec: 4e5, NsPerOp: 2500, N: 10},
	}}
	var buf bytes.Buffer
	require.NoError(t, rep.Markdown(&buf))
	out := buf.String()
	require.Contains(t, out, "| subject | role | lookup/s | ns/op | allocs/op | B/op | n | vs map | vs sqlite |")
	// 8e6 / 2e7 = 0.40 and 8e6 / 4e5 = 20.
	require.Contains(t, out, "| sdk | primary | 8.00M | 125 | 0.0 | 0 | 10 | 0.40x | 20.0x |")
	require.Contains(t, out, "| map | baseline | 20.00M | 50.00 | 0.0 | 0 | 10 | - | 50.0x |")
	require.Contains(t, out, "| sqlite | peer | 400.0k | 2500 | 0.0 | 0 | 10 | 0.020x | - |")
	require.Equal(t, 1, strings.Count(out, "## w/l"))

	var js bytes.Buffer
	require.NoError(t, rep.JSON(&js))
	require.Contains(t, js.String(), `"Role": "baseline"`)
}

func TestNextNGrowsBounded(t *testing.T) {
	require.Equal(t, 100, nextN(1, 0, time.Second))
	require.Equal(t, 100, nextN(1, time.Nanosecond, time.Second), "growth is capped at 100x")
	require.Equal(t, 11, nextN(10, 2*time.Second, time.Second), "always grows by at least one")
	require.Equal(t, 1200, nextN(1000, 100*time.Millisecond, 100*time.Millisecond))
}

func TestParseScale(t *testing.T) {
	s, err := ParseScale("full")
	require.NoError(t, err)
	require.Equal(t, Full, s)
	_, err = ParseScale("huge")
	require.ErrorContains(t, err, `unknown scale "huge"`)
}

// BenchmarkHarnessOverhead measures what the harness adds per operation.
func BenchmarkHarnessOverhead(b *testing.B) {
	Benchmark(b, Workload{Name: "bench/noop", Unit: "op", Subjects: []Subject{
		{Name: "noop", Setup: func(context.Context) (Runner, error) {
			return RunFunc(func(context.Context, int) error { return nil }), nil
		}},
	}})
}
