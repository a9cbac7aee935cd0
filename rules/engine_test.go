package rules

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC)

// tinySet compiles a one-rule set that paints everyone colour.
func tinySet(t testing.TB, env *Env, version string, colour Colour, effective time.Time) *Compiled {
	t.Helper()
	c, err := env.Compile(&RuleSet{ID: "tiny", Version: version, EffectiveFrom: effective, Rules: []Rule{
		{ID: "all", When: "true", Colour: colour, Reason: "everyone"},
	}})
	require.NoError(t, err)
	return c
}

func TestEngineSwapScheduleRollback(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	f := &Facts{Now: t0}

	_, err = e.Evaluate(ctx, f)
	require.ErrorIs(t, err, ErrNoRuleSet)
	require.ErrorIs(t, e.Swap(nil, t0), ErrNotCompiled)
	require.ErrorIs(t, e.Rollback(), ErrNoPrevious)

	v1 := tinySet(t, env, "v1", Green, time.Time{})
	require.NoError(t, e.Swap(v1, t0))
	d, err := e.Evaluate(ctx, f)
	require.NoError(t, err)
	require.Equal(t, "v1", d.RuleSetVersion)

	// v2 is scheduled for tomorrow: today's evaluations still use v1.
	v2 := tinySet(t, env, "v2", Yellow, t0.Add(24*time.Hour))
	require.NoError(t, e.Swap(v2, t0.Add(time.Hour)))
	require.Equal(t, []*Compiled{v2}, e.Scheduled(t0.Add(time.Hour)))
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0.Add(2 * time.Hour), "v1"},
		{t0.Add(24*time.Hour - time.Second), "v1"},
		{t0.Add(24 * time.Hour), "v2"},
		{t0.Add(48 * time.Hour), "v2"},
		{t0.Add(-time.Hour), "v1"}, // before every activation: the immediate set answers
	} {
		d, err := e.Evaluate(ctx, &Facts{Now: tc.at})
		require.NoError(t, err, tc.at)
		require.Equal(t, tc.want, d.RuleSetVersion, "at %s", tc.at)
	}

	// A hot fix in force now keeps tomorrow's schedule.
	v3 := tinySet(t, env, "v3", Red, time.Time{})
	require.NoError(t, e.Swap(v3, t0.Add(3*time.Hour)))
	require.Equal(t, "v3", e.Active(t0.Add(4*time.Hour)).Version())
	require.Equal(t, "v2", e.Active(t0.Add(25*time.Hour)).Version())

	// Rollback undoes the swaps one by one.
	require.NoError(t, e.Rollback())
	require.Equal(t, "v1", e.Active(t0.Add(4*time.Hour)).Version())
	require.NoError(t, e.Rollback())
	require.Empty(t, e.Scheduled(t0))
	require.Equal(t, "v1", e.Active(t0.Add(48*time.Hour)).Version())
	require.NoError(t, e.Rollback())
	require.Nil(t, e.Active(t0))
	require.ErrorIs(t, e.Rollback(), ErrNoPrevious)
}

func TestEngineHistoryIsBounded(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{History: 2})
	require.NoError(t, err)
	for i := range 6 {
		require.NoError(t, e.Swap(tinySet(t, env, fmt.Sprint("v", i), Green, time.Time{}), t0.Add(time.Duration(i)*time.Minute)))
	}
	require.NoError(t, e.Rollback())
	require.Equal(t, "v4", e.Active(t0.Add(time.Hour)).Version())
	require.NoError(t, e.Rollback())
	require.Equal(t, "v3", e.Active(t0.Add(time.Hour)).Version())
	require.ErrorIs(t, e.Rollback(), ErrNoPrevious)
}

func TestEngineRejectsMixedSchemas(t *testing.T) {
	health, err := NewEnv()
	require.NoError(t, err)
	custom, err := NewEnv(Schema(Variable{Name: "score", Type: celInt}))
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.NoError(t, e.Swap(tinySet(t, health, "h", Green, time.Time{}), t0))
	err = e.Swap(tinySet(t, custom, "c", Green, time.Time{}), t0)
	require.ErrorIs(t, err, ErrSchema)
	require.Equal(t, "h", e.Active(t0).Version(), "a rejected swap changes nothing")
	require.ErrorIs(t, EngineConfig{History: -1}.Validate(), ErrBadOption)
	_, err = NewEngine(EngineConfig{History: -1})
	require.ErrorIs(t, err, ErrBadOption)
}

// TestEngineConcurrentSwapProperty is the property test of the Engine:
// while readers evaluate continuously, writers compile good and bad sets
// and swap in whatever compiled. No evaluation ever fails, and none ever
// reports a version whose compilation failed.
func TestEngineConcurrentSwapProperty(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	base := defaultCompiled(t)
	require.NoError(t, e.Swap(base, t0))
	pop, areas := population(t, 3, 512, t0)
	e.SetRiskAreas(areas)

	var bad sync.Map // versions that failed to compile
	var good sync.Map
	good.Store(base.Version(), true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var evals, swaps atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				f := pop[i%len(pop)]
				d, err := e.Evaluate(context.Background(), &f)
				if err != nil {
					errs <- fmt.Errorf("evaluate: %w", err)
					return
				}
				if _, isBad := bad.Load(d.RuleSetVersion); isBad {
					errs <- fmt.Errorf("decision from %s, which failed to compile", d.RuleSetVersion)
					return
				}
				if _, isGood := good.Load(d.RuleSetVersion); !isGood {
					errs <- fmt.Errorf("decision from unknown version %q", d.RuleSetVersion)
					return
				}
				evals.Add(1)
			}
		}()
	}
	defaultRS, err := DefaultRuleSet()
	require.NoError(t, err)
	const rounds = 60
	for i := range rounds {
		rs := *defaultRS
		// A slice of the default set keeps compilation quick under -race.
		rs.Rules = append([]Rule(nil), defaultRS.Rules[i%4:i%4+6]...)
		rs.Version = fmt.Sprint("candidate-", i)
		if i%2 == 1 { // break one rule in a different way each time
			r := &rs.Rules[i%len(rs.Rules)]
			r.ID += "-broken"
			switch i % 3 {
			case 0:
				r.When = "undeclared_fact > 1"
			case 1:
				r.Colour = "purple"
			default:
				r.When = "positive_within("
			}
		}
		// Mark as good before the swap, so a reader can never see a version
		// it does not know about.
		good.Store(rs.Version, true)
		c, err := env.Compile(&rs)
		if err != nil {
			good.Delete(rs.Version)
			bad.Store(rs.Version, true)
			var ce *CompileError
			require.ErrorAs(t, err, &ce)
			require.Nil(t, c)
			require.ErrorIs(t, e.Swap(c, t0), ErrNotCompiled)
			continue
		}
		require.NoError(t, e.Swap(c, t0))
		swaps.Add(1)
		if i%10 == 0 {
			require.NoError(t, e.Rollback())
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Greater(t, evals.Load(), int64(0))
	require.Equal(t, int64(rounds/2), swaps.Load())
	var nbad int
	bad.Range(func(any, any) bool { nbad++; return true })
	require.Equal(t, rounds/2, nbad)
}

// TestThousandSwapsUnderLoad swaps the default set 1,000 times while
// evaluations run, and counts errors: there must be none.
func TestThousandSwapsUnderLoad(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	rs, err := DefaultRuleSet()
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	first, err := env.Compile(rs)
	require.NoError(t, err)
	require.NoError(t, e.Swap(first, t0))
	pop, areas := population(t, 5, 256, t0)
	e.SetRiskAreas(areas)
	ctx, cancel := context.WithCancel(context.Background())
	var failures, evals atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				if _, err := e.Evaluate(context.Background(), &pop[i%len(pop)]); err != nil {
					failures.Add(1)
				}
				evals.Add(1)
			}
		}()
	}
	sets := make([]*Compiled, 8) // compile a few, swap them round 1,000 times
	for i := range sets {
		c, err := env.Compile(rs)
		require.NoError(t, err)
		sets[i] = c
	}
	for i := range 1000 {
		require.NoError(t, e.Swap(sets[i%len(sets)], t0))
	}
	cancel()
	wg.Wait()
	require.Zero(t, failures.Load())
	require.Greater(t, evals.Load(), int64(0))
}

func TestEngineEvaluateNeedsTime(t *testing.T) {
	e, err := NewEngine(DefaultEngineConfig())
	require.NoError(t, err)
	_, err = e.Evaluate(context.Background(), &Facts{})
	require.ErrorIs(t, err, ErrNoTime)
	_, err = e.Explain(context.Background(), nil)
	require.ErrorIs(t, err, ErrNoTime)
	require.ErrorIs(t, e.Swap(defaultCompiled(t), time.Time{}), ErrNoTime)
	require.True(t, errors.Is(fmt.Errorf("x: %w", ErrNoTime), ErrNoTime))
}

func TestEngineCustomSchemaAndDryRunErrors(t *testing.T) {
	env, err := NewEnv(Schema(Variable{Name: "score", Type: celInt}))
	require.NoError(t, err)
	c, err := env.Compile(&RuleSet{ID: "c", Version: "1", Rules: []Rule{{ID: "high", When: "score > 5", Colour: Red, Reason: "high score"}}})
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = e.EvaluateVars(ctx, map[string]any{"score": 9}, t0)
	require.ErrorIs(t, err, ErrNoRuleSet)
	require.NoError(t, e.Swap(c, t0))
	d, err := e.EvaluateVars(ctx, map[string]any{"score": 9}, t0)
	require.NoError(t, err)
	require.Equal(t, Red, d.Colour)
	require.Equal(t, "high score", d.Reason)
	x, err := c.ExplainVars(ctx, map[string]any{"score": 1}, t0)
	require.NoError(t, err)
	require.Equal(t, Green, x.Decision.Colour)
	require.Equal(t, "false", x.Rules[0].Value)
	_, err = c.ExplainVars(ctx, map[string]any{}, t0)
	require.ErrorIs(t, err, ErrEval)

	// A dry run on an engine with nothing in force counts every person as
	// an error, with samples.
	health, err := NewEnv()
	require.NoError(t, err)
	empty, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	cand := tinySet(t, health, "v1", Yellow, time.Time{})
	people := []Facts{{Now: t0}, {Now: t0}, {Now: t0}}
	rep, err := empty.DryRun(ctx, cand, func(yield func(Facts) bool) {
		for _, p := range people {
			if !yield(p) {
				return
			}
		}
	}, DryRunConfig{Samples: 2})
	require.NoError(t, err)
	require.Equal(t, 3, rep.Total)
	require.Equal(t, 3, rep.Errors)
	require.Zero(t, rep.Changed)
	require.Len(t, rep.ErrorSamples, 2)
	require.Equal(t, 0, rep.ErrorSamples[0].Index)
	require.Contains(t, rep.ErrorSamples[0].Err, "no rule set in effect")
}

// TestEngineSwapAtChosenTime: a set swapped in through WithEffectiveFrom
// takes effect at the chosen time, whatever its own EffectiveFrom; a
// chosen time that is zero or not after now puts it in force at once.
// Either way Rollback undoes it as it undoes any Swap.
func TestEngineSwapAtChosenTime(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	now := t0.Add(time.Hour)
	midnight := time.Date(2022, 9, 2, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)) // t0 + 6 h
	for _, tc := range []struct {
		name      string
		own       time.Time // the set's own EffectiveFrom
		chosen    time.Time
		scheduled bool // else in force at once
	}{
		{"later than its own", time.Time{}, midnight, true},
		{"earlier than its own", t0.Add(72 * time.Hour), midnight, true},
		{"a second after now", time.Time{}, now.Add(time.Second), true},
		{"now", t0.Add(72 * time.Hour), now, false},
		{"in the past", time.Time{}, t0.Add(-24 * time.Hour), false},
		{"zero", t0.Add(72 * time.Hour), time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(EngineConfig{})
			require.NoError(t, err)
			require.NoError(t, e.Swap(tinySet(t, env, "v1", Green, time.Time{}), t0))
			v2 := tinySet(t, env, "v2", Red, tc.own)
			at := v2.WithEffectiveFrom(tc.chosen)
			require.Equal(t, tc.own, v2.EffectiveFrom(), "the original keeps its own time")
			require.True(t, tc.chosen.Equal(at.EffectiveFrom()))
			require.True(t, tc.chosen.Equal(at.RuleSet().EffectiveFrom))
			require.Equal(t, "tiny", at.ID())
			require.Equal(t, "v2", at.Version())

			require.NoError(t, e.Swap(at, now))
			if tc.scheduled {
				require.Equal(t, []*Compiled{at}, e.Scheduled(now))
				require.Equal(t, "v1", e.Active(now).Version())
				require.Equal(t, "v1", e.Active(tc.chosen.Add(-time.Second)).Version())
				require.Equal(t, "v2", e.Active(tc.chosen).Version())
			} else {
				require.Empty(t, e.Scheduled(now))
				require.Equal(t, "v2", e.Active(now).Version())
			}
			require.Equal(t, "v2", e.Active(t0.Add(96*time.Hour)).Version(), "its own later time plays no part")

			require.NoError(t, e.Rollback())
			require.Empty(t, e.Scheduled(now))
			require.Equal(t, "v1", e.Active(t0.Add(96*time.Hour)).Version())
		})
	}
	require.Nil(t, (*Compiled)(nil).WithEffectiveFrom(midnight))
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.ErrorIs(t, e.Swap((*Compiled)(nil).WithEffectiveFrom(midnight), now), ErrNotCompiled)
}

// TestEngineChosenTimeSuperseded: a set scheduled at a chosen time is
// replaced by another scheduled at the same instant, and stays scheduled
// when a hot fix goes in force now.
func TestEngineChosenTimeSuperseded(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	midnight := t0.Add(14 * time.Hour)
	require.NoError(t, e.Swap(tinySet(t, env, "v1", Green, time.Time{}), t0))
	require.NoError(t, e.Swap(tinySet(t, env, "v2", Yellow, time.Time{}).WithEffectiveFrom(midnight), t0))
	v3 := tinySet(t, env, "v3", Red, time.Time{}).WithEffectiveFrom(midnight.In(time.FixedZone("CST", 8*3600)))
	require.NoError(t, e.Swap(v3, t0.Add(time.Minute)))
	require.Equal(t, []*Compiled{v3}, e.Scheduled(t0), "the same instant in another zone replaces v2")
	require.NoError(t, e.Swap(tinySet(t, env, "fix", Green, time.Time{}), t0.Add(2*time.Minute)))
	require.Equal(t, "fix", e.Active(t0.Add(time.Hour)).Version())
	require.Equal(t, "v3", e.Active(midnight).Version())
	require.NoError(t, e.Rollback())
	require.NoError(t, e.Rollback())
	require.Equal(t, "v2", e.Active(midnight).Version())
}
