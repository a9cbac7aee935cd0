package rules

import (
	"context"
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBatchPreservesOrderAndMatchesEvaluate(t *testing.T) {
	c := defaultCompiled(t)
	pop, areas := population(t, 11, 3000, t0)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.NoError(t, e.Swap(c, t0))
	e.SetRiskAreas(areas)
	for _, cfg := range []BatchConfig{{}, {Workers: 1, ChunkSize: 1}, {Workers: 3, ChunkSize: 7}, {Workers: 8, ChunkSize: 1000}} {
		var got []Decision
		var idx []int
		var progress []int
		cfg.Progress = func(done int) { progress = append(progress, done) }
		err := e.Batch(context.Background(), slices.Values(pop), cfg, func(i int, d Decision, err error) {
			require.NoError(t, err)
			idx = append(idx, i)
			got = append(got, d)
		})
		require.NoError(t, err)
		require.Len(t, got, len(pop))
		for i := range pop {
			require.Equal(t, i, idx[i], "emitted out of order")
			want, err := c.Evaluate(context.Background(), &pop[i], areas)
			require.NoError(t, err)
			require.Equal(t, want, got[i], "person %d (cfg %+v)", i, cfg)
		}
		require.True(t, slices.IsSorted(progress), "progress must grow: %v", progress)
		require.Equal(t, len(pop), progress[len(progress)-1])
	}
}

func TestBatchCancel(t *testing.T) {
	c := defaultCompiled(t)
	pop, areas := population(t, 12, 2000, t0)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := c.Batch(ctx, slices.Values(pop), areas, BatchConfig{Workers: 2, ChunkSize: 10}, func(i int, d Decision, err error) {
		n++
		if i == 95 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, n, 96)
	require.Less(t, n, len(pop))

	// An endless population is stopped by cancellation too.
	endless := func(yield func(Facts) bool) {
		for yield(pop[0]) {
		}
	}
	ctx, cancel = context.WithCancel(context.Background())
	err = c.Batch(ctx, iter.Seq[Facts](endless), areas, BatchConfig{}, func(i int, _ Decision, _ error) {
		if i == 10_000 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)

	// A cancelled context returns at once.
	err = c.Batch(ctx, slices.Values(pop), areas, BatchConfig{}, func(int, Decision, error) { t.Fatal("emit after cancel") })
	require.ErrorIs(t, err, context.Canceled)
}

// Batch returns nil only when it emitted the whole population: a
// cancellation that stops the producer while it waits for a free chunk
// used to end the run early with a nil error (one run in five here).
func TestBatchNilMeansEverythingEmitted(t *testing.T) {
	c := defaultCompiled(t)
	pop, areas := population(t, 13, 200, t0)
	for run := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		stopAt := run % len(pop)
		n := 0
		err := c.Batch(ctx, slices.Values(pop), areas, BatchConfig{Workers: 2, ChunkSize: 10}, func(i int, _ Decision, _ error) {
			n++
			if i == stopAt {
				cancel()
			}
		})
		cancel()
		if err == nil {
			require.Equal(t, len(pop), n, "run %d: nil error after %d of %d emitted", run, n, len(pop))
		} else {
			require.ErrorIs(t, err, context.Canceled, "run %d", run)
		}
		if stopAt < len(pop)-10 { // cancelled before the last chunk was emitted
			require.Error(t, err, "run %d: cancelled at %d, all %d emitted", run, stopAt, n)
		}
	}
}

func TestBatchReportsPerPersonErrors(t *testing.T) {
	c := defaultCompiled(t)
	pop := []Facts{{Now: t0}, {}, {Now: t0}}
	var errs []error
	err := c.Batch(context.Background(), slices.Values(pop), nil, BatchConfig{}, func(i int, d Decision, err error) {
		errs = append(errs, err)
	})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], ErrNoTime)
	require.NoError(t, errs[2])
	require.ErrorIs(t, BatchConfig{Workers: -1}.Validate(), ErrBadOption)
	require.ErrorIs(t, BatchConfig{ChunkSize: -1}.Validate(), ErrBadOption)
	require.NoError(t, DefaultBatchConfig().Validate())
}

func TestDryRunMatchesNaiveComparison(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	active := defaultCompiled(t)
	rs, err := DefaultRuleSet()
	require.NoError(t, err)
	// The candidate drops the 72-hour pop-up and shortens the close-contact
	// isolation to five days.
	cand := *rs
	cand.Version = "candidate"
	cand.Rules = nil
	for _, r := range rs.Rules {
		switch r.ID {
		case "no-test-72h":
			continue
		case "close-contact-isolation":
			r.When = `contact_kind == "close" && hours_since_exposure() < 5 * 24`
		}
		cand.Rules = append(cand.Rules, r)
	}
	candidate, err := env.Compile(&cand)
	require.NoError(t, err)

	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.NoError(t, e.Swap(active, t0))
	pop, areas := population(t, 21, 5000, t0)
	e.SetRiskAreas(areas)
	rep, err := e.DryRun(context.Background(), candidate, slices.Values(pop), DryRunConfig{Samples: 3})
	require.NoError(t, err)

	// The naive comparison, person by person.
	type key struct {
		from, to         Colour
		fromRule, toRule string
	}
	want := map[key][]int{}
	changed := 0
	for i := range pop {
		a, err := active.Evaluate(context.Background(), &pop[i], areas)
		require.NoError(t, err)
		b, err := candidate.Evaluate(context.Background(), &pop[i], areas)
		require.NoError(t, err)
		if a.Colour != b.Colour {
			changed++
			k := key{a.Colour, b.Colour, a.RuleID, b.RuleID}
			want[k] = append(want[k], i)
		}
	}
	require.Equal(t, len(pop), rep.Total)
	require.Equal(t, changed, rep.Changed)
	require.Zero(t, rep.Errors)
	require.Equal(t, "healthcode-default@candidate", rep.Candidate)
	require.Len(t, rep.Transitions, len(want))
	require.Positive(t, changed, "the candidate must change someone or the test proves nothing")
	sum := 0
	for i, tr := range rep.Transitions {
		idx := want[key{tr.From, tr.To, tr.FromRule, tr.ToRule}]
		require.Equal(t, len(idx), tr.Count)
		require.Equal(t, idx[:min(3, len(idx))], tr.Samples)
		if i > 0 {
			require.LessOrEqual(t, tr.Count, rep.Transitions[i-1].Count)
		}
		sum += tr.Count
	}
	require.Equal(t, changed, sum)

	_, err = e.DryRun(context.Background(), nil, slices.Values(pop), DryRunConfig{})
	require.ErrorIs(t, err, ErrNotCompiled)
}
