// Package rulesbench holds the workload benchmarks of the rules package:
// the default twenty-rule set evaluated over a synthetic population by the
// CEL engine, by the same rules hand-written in Go (the limit) and by
// expr-lang/expr (a peer), every subject checking its colours against the
// hand-written ones; and compiling and swapping rule sets under load.
package rulesbench

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/healthcode-sdk/healthcode/rules"
)

// now is the evaluation time of the synthetic population.
var now = time.Date(2022, 9, 1, 10, 0, 0, 0, synth.CST())

// populationSize is how many distinct people a workload cycles through.
func populationSize(s bench.Scale) int {
	if s == bench.Full {
		return 500_000
	}
	return 4_096
}

// fixture is the shared, read-only data of the evaluate workload.
type fixture struct {
	pop    []rules.Facts
	areas  *rules.RiskAreas
	want   []rules.Colour // the hand-written decision for each person
	set    *rules.Compiled
	engine *rules.Engine
	// interp evaluates the same set with the native plan off: every rule
	// on the CEL interpreter.
	interp *rules.Engine
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[bench.Scale]*fixture{}
)

// loadFixture builds (once per scale) the population, the risk areas, the
// compiled default set and the hand-written answers, and checks that the
// engine agrees with the hand-written rules on every person.
func loadFixture(s bench.Scale) (*fixture, error) {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fx, ok := fixtures[s]; ok {
		return fx, nil
	}
	g := synth.New(2022)
	var areas []rules.RiskArea
	for _, a := range g.RiskAreas(400, now) {
		areas = append(areas, rules.RiskArea{Region: a.Region, Level: a.Level})
	}
	ra, err := rules.NewRiskAreas("synth-2022-09-01T10", areas)
	if err != nil {
		return nil, err
	}
	fx := &fixture{areas: ra, pop: make([]rules.Facts, populationSize(s))}
	for i := range fx.pop {
		fx.pop[i] = toFacts(g.Health(now))
	}
	env, err := rules.NewEnv()
	if err != nil {
		return nil, err
	}
	rs, err := rules.DefaultRuleSet()
	if err != nil {
		return nil, err
	}
	if fx.set, err = env.Compile(rs); err != nil {
		return nil, err
	}
	if fx.engine, err = rules.NewEngine(rules.EngineConfig{}); err != nil {
		return nil, err
	}
	if err := fx.engine.Swap(fx.set, now); err != nil {
		return nil, err
	}
	fx.engine.SetRiskAreas(ra)
	ienv, err := rules.NewEnv(rules.NativePlan(false))
	if err != nil {
		return nil, err
	}
	iset, err := ienv.Compile(rs)
	if err != nil {
		return nil, err
	}
	if fx.interp, err = rules.NewEngine(rules.EngineConfig{}); err != nil {
		return nil, err
	}
	if err := fx.interp.Swap(iset, now); err != nil {
		return nil, err
	}
	fx.interp.SetRiskAreas(ra)
	fx.want = make([]rules.Colour, len(fx.pop))
	var d domain
	var hits [20]bool
	for i := range fx.pop {
		d.reset(&fx.pop[i], ra)
		handwritten(&d, &hits)
		colour, by, _ := resolve(&hits)
		fx.want[i] = colour
		got, err := fx.set.Evaluate(context.Background(), &fx.pop[i], ra)
		if err != nil {
			return nil, err
		}
		if got.Colour != colour || got.RuleID != by {
			return nil, fmt.Errorf("%w: person %d: engine says %s by %s, hand-written %s by %s", bench.ErrWrongAnswer, i, got.Colour, got.RuleID, colour, by)
		}
	}
	fixtures[s] = fx
	return fx, nil
}

func toFacts(h synth.HealthFacts) rules.Facts {
	f := rules.Facts{Now: now, VaccineDoses: h.VaccineDoses, EntryStatus: h.EntryStatus, ManualFlags: h.ManualFlags,
		Contact: rules.Contact{Kind: h.Contact.Kind, LastExposure: h.Contact.LastExposure, Identified: h.Contact.Identified}}
	for _, t := range h.Tests {
		f.Tests = append(f.Tests, rules.Test{Kind: t.Kind, Positive: t.Positive, Sampled: t.Sampled, Reported: t.Reported})
	}
	for _, v := range h.Travel {
		f.Travel = append(f.Travel, rules.Visit{Region: v.Region, Time: v.Time})
	}
	return f
}

// Workloads returns the rules workloads at scale s.
func Workloads(s bench.Scale) []bench.Workload {
	swaps := 1_000
	return []bench.Workload{
		{
			Name: "rules/evaluate",
			Unit: "person",
			Doc: fmt.Sprintf("default 20-rule set over %d synthetic people with 400 risk areas, all cores: rules (CEL; native plan, and interpreter only) vs the same rules hand-written in Go and in expr-lang/expr; every subject checks its colour against the hand-written one",
				populationSize(s)),
			Subjects: []bench.Subject{
				{Name: "rules.Engine.Batch", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					return &batchRunner{fx: fx}, err
				}},
				{Name: "rules.Engine.Evaluate", Role: bench.Primary, Parallel: true, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					if err != nil {
						return nil, err
					}
					return &evaluateRunner{fx: fx, engine: fx.engine}, nil
				}},
				{Name: "rules.Engine.Evaluate (interpreter only)", Role: bench.Primary, Parallel: true, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					if err != nil {
						return nil, err
					}
					return &evaluateRunner{fx: fx, engine: fx.interp}, nil
				}},
				{Name: "hand-written-go", Role: bench.Baseline, Parallel: true, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					return &handRunner{fx: fx}, err
				}},
				{Name: "expr-lang/expr", Role: bench.Peer, Parallel: true, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					if err != nil {
						return nil, err
					}
					r := &exprRunner{fx: fx}
					r.pool.New = func() any {
						x, err := newExprEvaluator()
						if err != nil {
							return err
						}
						return x
					}
					return r, nil
				}},
			},
		},
		{
			Name: "rules/compile-swap",
			Unit: "swap",
			Doc:  "parse, compile (type-check, cost-estimate, plan) and atomically swap in the default 20-rule set; swap of a precompiled set; expr compiling the same 20 rules",
			Subjects: []bench.Subject{
				{Name: "rules: CompileYAML+Swap", Role: bench.Primary, Setup: setupCompileSwap(true)},
				{Name: "rules: Swap (precompiled)", Role: bench.Primary, Setup: setupCompileSwap(false)},
				{Name: "expr: compile 20 rules", Role: bench.Peer, Setup: func(context.Context) (bench.Runner, error) {
					return bench.RunFunc(func(ctx context.Context, n int) error {
						for range n {
							x, err := newExprEvaluator()
							if err != nil {
								return err
							}
							if len(x.progs) != 20 {
								return fmt.Errorf("%w: %d programs", bench.ErrWrongAnswer, len(x.progs))
							}
						}
						return ctx.Err()
					}), nil
				}},
			},
		},
		{
			Name: "rules/swap-under-load",
			Unit: "swap",
			Doc:  fmt.Sprintf("swaps of the default set while other goroutines evaluate; any evaluation error or wrong colour fails the run (run it with n >= %d)", swaps),
			Subjects: []bench.Subject{
				{Name: "rules.Engine.Swap+Evaluate", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					fx, err := loadFixture(s)
					if err != nil {
						return nil, err
					}
					return newSwapLoadRunner(fx)
				}},
			},
		},
	}
}

// cursor hands out disjoint ranges of population indexes to the
// goroutines of a parallel subject.
type cursor struct{ next atomic.Int64 }

func (c *cursor) take(n int) int { return int(c.next.Add(int64(n))) - n }

func check(fx *fixture, i int, got rules.Colour) error {
	if want := fx.want[i]; got != want {
		return fmt.Errorf("%w: person %d: got %s, hand-written %s", bench.ErrWrongAnswer, i, got, want)
	}
	return nil
}

// batchRunner evaluates n people with Engine.Batch, which uses every core.
type batchRunner struct {
	cpuMeter
	fx  *fixture
	cur cursor
}

func (r *batchRunner) Run(ctx context.Context, n int) error {
	fx := r.fx
	start := r.cur.take(n)
	people := func(yield func(rules.Facts) bool) {
		for i := range n {
			if !yield(fx.pop[(start+i)%len(fx.pop)]) {
				return
			}
		}
	}
	var bad error
	err := r.process(n, func() error {
		return fx.engine.Batch(ctx, iter.Seq[rules.Facts](people), rules.BatchConfig{}, func(i int, d rules.Decision, err error) {
			if bad != nil {
				return
			}
			if err != nil {
				bad = err
				return
			}
			bad = check(fx, (start+i)%len(fx.pop), d.Colour)
		})
	})
	if err != nil {
		return err
	}
	return bad
}

// evaluateRunner calls Engine.Evaluate person by person; the harness runs
// it from every core.
type evaluateRunner struct {
	cpuMeter
	fx     *fixture
	engine *rules.Engine
	cur    cursor
}

func (r *evaluateRunner) Run(ctx context.Context, n int) error {
	return r.thread(n, func() error { return r.run(ctx, n) })
}

func (r *evaluateRunner) run(ctx context.Context, n int) error {
	fx := r.fx
	start := r.cur.take(n)
	for i := range n {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		k := (start + i) % len(fx.pop)
		d, err := r.engine.Evaluate(ctx, &fx.pop[k])
		if err != nil {
			return err
		}
		if err := check(fx, k, d.Colour); err != nil {
			return err
		}
	}
	return nil
}

// handRunner is the hand-written Go baseline.
type handRunner struct {
	cpuMeter
	fx  *fixture
	cur cursor
}

func (r *handRunner) Run(ctx context.Context, n int) error {
	return r.thread(n, func() error { return r.run(ctx, n) })
}

func (r *handRunner) run(ctx context.Context, n int) error {
	fx := r.fx
	start := r.cur.take(n)
	var d domain
	var hits [20]bool
	for i := range n {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		k := (start + i) % len(fx.pop)
		d.reset(&fx.pop[k], fx.areas)
		handwritten(&d, &hits)
		colour, _, _ := resolve(&hits)
		if err := check(fx, k, colour); err != nil {
			return err
		}
	}
	return nil
}

// exprRunner evaluates the twenty expr programs per person; each goroutine
// takes an evaluator (programs bound to its own state) from the pool.
type exprRunner struct {
	cpuMeter
	fx   *fixture
	pool sync.Pool // *exprEvaluator, or the error making one
	cur  cursor
}

func (r *exprRunner) Run(ctx context.Context, n int) error {
	return r.thread(n, func() error { return r.run(ctx, n) })
}

func (r *exprRunner) run(ctx context.Context, n int) error {
	fx := r.fx
	start := r.cur.take(n)
	got := r.pool.Get()
	x, ok := got.(*exprEvaluator)
	if !ok {
		return got.(error)
	}
	defer r.pool.Put(x)
	var hits [20]bool
	for i := range n {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		k := (start + i) % len(fx.pop)
		if err := x.eval(&fx.pop[k], fx.areas, &hits); err != nil {
			return err
		}
		colour, _, _ := resolve(&hits)
		if err := check(fx, k, colour); err != nil {
			return err
		}
	}
	return nil
}

// setupCompileSwap measures compiling and swapping the default set
// (compile true) or swapping a precompiled one.
func setupCompileSwap(compile bool) func(context.Context) (bench.Runner, error) {
	return func(context.Context) (bench.Runner, error) {
		env, err := rules.NewEnv()
		if err != nil {
			return nil, err
		}
		engine, err := rules.NewEngine(rules.EngineConfig{})
		if err != nil {
			return nil, err
		}
		src := rules.DefaultRuleSetYAML()
		pre, err := env.CompileYAML("default.yaml", src)
		if err != nil {
			return nil, err
		}
		return bench.RunFunc(func(ctx context.Context, n int) error {
			for i := range n {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c := pre
				if compile {
					if c, err = env.CompileYAML("default.yaml", src); err != nil {
						return err
					}
				}
				at := now.Add(time.Duration(i) * time.Second)
				if err := engine.Swap(c, at); err != nil {
					return err
				}
				if engine.Active(at) != c {
					return fmt.Errorf("%w: swap %d not in force", bench.ErrWrongAnswer, i)
				}
			}
			return nil
		}), nil
	}
}

// swapLoadRunner swaps precompiled copies of the default set while
// GOMAXPROCS-1 goroutines (at least one) evaluate the population and check
// every colour.
type swapLoadRunner struct {
	fx     *fixture
	sets   []*rules.Compiled
	engine *rules.Engine
	evals  atomic.Int64
	swaps  atomic.Int64
	errors atomic.Int64
}

func newSwapLoadRunner(fx *fixture) (*swapLoadRunner, error) {
	env, err := rules.NewEnv()
	if err != nil {
		return nil, err
	}
	r := &swapLoadRunner{fx: fx}
	for range 4 {
		c, err := env.CompileYAML("default.yaml", rules.DefaultRuleSetYAML())
		if err != nil {
			return nil, err
		}
		r.sets = append(r.sets, c)
	}
	if r.engine, err = rules.NewEngine(rules.EngineConfig{}); err != nil {
		return nil, err
	}
	r.engine.SetRiskAreas(fx.areas)
	return r, r.engine.Swap(r.sets[0], now)
}

func (r *swapLoadRunner) Run(ctx context.Context, n int) error {
	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for w := range max(1, runtime.GOMAXPROCS(0)-1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 997; loadCtx.Err() == nil; i++ {
				k := i % len(r.fx.pop)
				d, err := r.engine.Evaluate(context.Background(), &r.fx.pop[k])
				if err == nil {
					err = check(r.fx, k, d.Colour)
				}
				if err != nil {
					r.errors.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
				r.evals.Add(1)
			}
		}()
	}
	var err error
	for i := range n {
		if err = ctx.Err(); err != nil {
			break
		}
		if err = r.engine.Swap(r.sets[i%len(r.sets)], now); err != nil {
			break
		}
		r.swaps.Add(1)
		runtime.Gosched() // let the evaluators run between swaps
	}
	stop()
	wg.Wait()
	if err != nil {
		return err
	}
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("%d evaluation errors during swaps, first: %w", r.errors.Load(), *e)
	}
	return nil
}

// Metrics reports how many evaluations ran during the swaps and how many
// failed (always zero when Run succeeded).
func (r *swapLoadRunner) Metrics() []bench.Metric {
	return []bench.Metric{
		{Name: "swaps", Value: float64(r.swaps.Load()), Unit: "swap"},
		{Name: "evaluations during swaps", Value: float64(r.evals.Load()), Unit: "person"},
		{Name: "evaluation errors", Value: float64(r.errors.Load()), Unit: "error"},
	}
}
