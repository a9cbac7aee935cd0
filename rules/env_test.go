package rules

import (
	"context"
	"errors"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/stretchr/testify/require"
)

func TestNewEnvRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []EnvOption
		want string
	}{
		{"nil option", []EnvOption{nil}, "option 0 is nil"},
		{"same severity", []EnvOption{WithColour("orange", 10)}, `colours "orange" and "yellow" have the same severity 10`},
		{"bad colour name", []EnvOption{WithColour("dark red", 30)}, "not a valid colour name"},
		{"limit below budget", []EnvOption{CostBudget(500), CostLimit(100)}, "cost limit 100 is below the cost budget 500"},
		{"negative max rules", []EnvOption{MaxRules(-1)}, "MaxRules: -1 is negative"},
		{"variable without type", []EnvOption{Schema(Variable{Name: "x"})}, `variable "x" has no type`},
		{"variable twice", []EnvOption{Schema(Variable{Name: "x", Type: celInt}, Variable{Name: "x", Type: celInt})}, `"x" declared twice`},
		{"variable shadows now", []EnvOption{Schema(Variable{Name: "now", Type: celInt})}, `"now" declared twice`},
		{"bad variable name", []EnvOption{Schema(Variable{Name: "a-b", Type: celInt})}, "not a CEL identifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := NewEnv(tc.opts...)
			require.Nil(t, env)
			require.ErrorIs(t, err, ErrBadOption)
			require.ErrorContains(t, err, tc.want)
			require.Regexp(t, "^rules: ", err.Error())
		})
	}
}

func TestCustomColoursAndResolution(t *testing.T) {
	env, err := NewEnv(WithColour("orange", 15))
	require.NoError(t, err)
	require.Equal(t, []Colour{Green, Yellow, "orange", Red}, env.Colours())
	c, err := env.Compile(&RuleSet{ID: "s", Version: "1", Rules: []Rule{
		{ID: "y-low", When: "vaccine_doses >= 0", Colour: Yellow, Priority: 1},
		{ID: "o-first", When: "vaccine_doses >= 1", Colour: "orange", Priority: 5},
		{ID: "o-second", When: "vaccine_doses >= 1", Colour: "orange", Priority: 5},
		{ID: "o-high", When: "vaccine_doses >= 2", Colour: "orange", Priority: 9},
		{ID: "r", When: "vaccine_doses >= 3", Colour: Red},
		{ID: "never", When: "false", Colour: Red, Priority: 100},
	}})
	require.NoError(t, err)
	for _, tc := range []struct {
		doses   int
		colour  Colour
		by      string
		matched []string
	}{
		{0, Yellow, "y-low", []string{"y-low"}},
		{1, "orange", "o-first", []string{"y-low", "o-first", "o-second"}}, // tie on priority: first wins
		{2, "orange", "o-high", []string{"y-low", "o-first", "o-second", "o-high"}},
		{3, Red, "r", []string{"y-low", "o-first", "o-second", "o-high", "r"}}, // severity beats priority
	} {
		d, err := c.Evaluate(context.Background(), &Facts{Now: t0, VaccineDoses: tc.doses}, nil)
		require.NoError(t, err)
		require.Equal(t, tc.colour, d.Colour, "doses %d", tc.doses)
		require.Equal(t, tc.by, d.RuleID, "doses %d", tc.doses)
		require.Equal(t, tc.matched, d.Matched, "doses %d", tc.doses)
	}
}

func TestDefaultColourAndValidityWindow(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	from := t0.Add(time.Hour)
	until := t0.Add(2 * time.Hour)
	c, err := env.Compile(&RuleSet{ID: "s", Version: "1", Default: Yellow, Rules: []Rule{
		{ID: "window", When: "true", Colour: Red, ValidFrom: from, ValidUntil: until, Reason: "event"},
	}})
	require.NoError(t, err)
	for _, tc := range []struct {
		at   time.Time
		want Colour
	}{
		{t0, Yellow}, {from.Add(-time.Second), Yellow}, {from, Red}, {until.Add(-time.Second), Red}, {until, Yellow},
	} {
		d, err := c.Evaluate(context.Background(), &Facts{Now: tc.at}, nil)
		require.NoError(t, err)
		require.Equal(t, tc.want, d.Colour, "at %s", tc.at)
		if tc.want == Yellow {
			require.Empty(t, d.RuleID)
			require.Nil(t, d.Matched)
		}
	}
	x, err := c.Explain(context.Background(), &Facts{Now: t0}, nil)
	require.NoError(t, err)
	require.False(t, x.Rules[0].Active)
	require.Contains(t, x.String(), "[-] window red p=0 (inactive)")
}

func TestCustomSchema(t *testing.T) {
	env, err := NewEnv(Schema(
		Variable{Name: "score", Type: celInt},
		Variable{Name: "tags", Type: cel.ListType(celString), MaxSize: 8},
		Variable{Name: "since", Type: cel.TimestampType},
	))
	require.NoError(t, err)
	require.False(t, env.HealthSchema())
	c, err := env.Compile(&RuleSet{ID: "custom", Version: "1", Rules: []Rule{
		{ID: "high", When: "score > 80", Colour: Red},
		{ID: "tagged", When: `"watch" in tags && now - since < duration("24h")`, Colour: Yellow},
	}})
	require.NoError(t, err)
	d, err := c.EvaluateVars(context.Background(), map[string]any{"score": 90, "tags": []string{"watch"}, "since": t0.Add(-time.Hour)}, t0)
	require.NoError(t, err)
	require.Equal(t, Red, d.Colour)
	require.Equal(t, []string{"high", "tagged"}, d.Matched)

	// A missing variable is a runtime error naming the rule.
	_, err = c.EvaluateVars(context.Background(), map[string]any{"score": 1}, t0)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "tagged", ee.RuleID)
	require.ErrorIs(t, err, ErrEval)

	// Facts do not fit a custom schema, nor variables the health schema.
	_, err = c.Evaluate(context.Background(), &Facts{Now: t0}, nil)
	require.ErrorIs(t, err, ErrSchema)
	_, err = defaultCompiled(t).EvaluateVars(context.Background(), map[string]any{}, t0)
	require.ErrorIs(t, err, ErrSchema)
	_, err = c.EvaluateVars(context.Background(), map[string]any{}, time.Time{})
	require.ErrorIs(t, err, ErrNoTime)

	// Undeclared facts do not compile.
	_, err = env.Compile(&RuleSet{ID: "custom", Version: "1", Rules: []Rule{{ID: "x", When: "tests.size() > 0", Colour: Red}}})
	require.ErrorIs(t, err, ErrExpression)
	require.ErrorContains(t, err, "undeclared reference to 'tests'")
}

func TestRuntimeErrorsNameTheRule(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	c, err := env.Compile(&RuleSet{ID: "s", Version: "7", Rules: []Rule{
		{ID: "fine", When: "vaccine_doses > 1", Colour: Yellow},
		{ID: "divides", When: "10 / vaccine_doses > 1", Colour: Red},
		{ID: "negative-hours", When: "positive_within(vaccine_doses - 5)", Colour: Red},
	}})
	require.NoError(t, err)
	_, err = c.Evaluate(context.Background(), &Facts{Now: t0}, nil)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "divides", ee.RuleID)
	require.Equal(t, "7", ee.RuleSetVersion)
	require.ErrorContains(t, err, "division by zero")

	// Explain goes on past failures and shows them all.
	x, err := c.Explain(context.Background(), &Facts{Now: t0}, nil)
	require.ErrorAs(t, err, &ee)
	require.Len(t, x.Rules, 3)
	require.Error(t, x.Rules[1].Err)
	require.Error(t, x.Rules[2].Err)
	require.ErrorContains(t, x.Rules[2].Err, "negative duration -5")
}

func TestComprehensionRulesAreBounded(t *testing.T) {
	env, err := NewEnv(CostBudget(50_000), CostLimit(50_000))
	require.NoError(t, err)
	c, err := env.Compile(&RuleSet{ID: "s", Version: "1", Rules: []Rule{
		{ID: "pairs", When: "tests.exists(a, tests.exists(b, a.sampled < b.sampled && b.positive))", Colour: Red},
	}})
	require.NoError(t, err)
	lo, hi, ok := c.RuleCost("pairs")
	require.True(t, ok)
	require.LessOrEqual(t, lo, hi)
	require.LessOrEqual(t, hi, uint64(50_000))
	_, _, ok = c.RuleCost("nope")
	require.False(t, ok)

	// The default budget rejects the same rule at load.
	defEnv, err := NewEnv()
	require.NoError(t, err)
	_, err = defEnv.Compile(&RuleSet{ID: "s", Version: "1", Rules: c.RuleSet().Rules})
	require.ErrorIs(t, err, ErrCostBudget)
	require.ErrorContains(t, err, `rule "pairs" when: estimated worst-case cost`)

	small := &Facts{Now: t0, Tests: []Test{{Kind: "pcr", Sampled: t0.Add(-2 * time.Hour)}, {Kind: "pcr", Positive: true, Sampled: t0.Add(-time.Hour)}}}
	d, err := c.Evaluate(context.Background(), small, nil)
	require.NoError(t, err)
	require.Equal(t, Red, d.Colour)

	// Far more tests than the declared size: the runtime cost limit stops it.
	big := &Facts{Now: t0}
	for i := range 300 {
		big.Tests = append(big.Tests, Test{Kind: "pcr", Sampled: t0.Add(-time.Duration(i) * time.Minute)})
	}
	_, err = c.Evaluate(context.Background(), big, nil)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "pairs", ee.RuleID)
	require.ErrorContains(t, err, "cost limit exceeded")

	// A cancelled context stops evaluation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Evaluate(ctx, small, nil)
	require.True(t, errors.Is(err, context.Canceled))
}

// doneCtx reports no error to the first check and is done for the
// interpreter's interrupt checks: evaluation must stop inside the
// comprehension, deterministically.
type doneCtx struct {
	context.Context
	done  chan struct{}
	calls int
}

func (c *doneCtx) Done() <-chan struct{} { return c.done }
func (c *doneCtx) Err() error {
	c.calls++
	if c.calls == 1 {
		return nil
	}
	return context.Canceled
}

func TestInterruptInsideComprehension(t *testing.T) {
	env, err := NewEnv(InterruptCheckFrequency(1))
	require.NoError(t, err)
	sev, ok := env.Severity(Red)
	require.True(t, ok)
	require.Equal(t, 20, sev)
	c, err := env.Compile(&RuleSet{ID: "s", Version: "1", Rules: []Rule{{ID: "loop", When: "tests.exists(t, t.positive)", Colour: Red}}})
	require.NoError(t, err)
	require.Equal(t, "s", c.ID())
	require.Equal(t, "1", c.Version())
	require.True(t, c.EffectiveFrom().IsZero())
	require.Same(t, env, c.Env())
	p, _ := c.Plan("loop")
	require.Equal(t, PlanBounded, p)
	f := &Facts{Now: t0}
	for i := range 50 {
		f.Tests = append(f.Tests, Test{Kind: "pcr", Sampled: t0.Add(-time.Duration(i) * time.Hour)})
	}
	done := make(chan struct{})
	close(done)
	_, err = c.Evaluate(&doneCtx{Context: context.Background(), done: done}, f, nil)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "loop", ee.RuleID)
	require.ErrorContains(t, err, "interrupted")

	// The same rule through an Engine, explained.
	e, err := NewEngine(EngineConfig{})
	require.NoError(t, err)
	require.NoError(t, e.Swap(c, t0))
	areas, err := NewRiskAreas("a1", nil)
	require.NoError(t, err)
	e.SetRiskAreas(areas)
	require.Same(t, areas, e.RiskAreas())
	x, err := e.Explain(context.Background(), f)
	require.NoError(t, err)
	require.Equal(t, Green, x.Decision.Colour)
	require.Equal(t, "a1", x.RiskAreasVersion)
	require.Equal(t, "a1", x.Decision.RiskAreasVersion)
}
