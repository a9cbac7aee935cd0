package rules_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/rules"
)

var now = time.Date(2022, 9, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func ExampleEnv_CompileYAML() {
	env, err := rules.NewEnv()
	if err != nil {
		panic(err)
	}
	_, err = env.CompileYAML("policy.yaml", []byte(`id: city
version: "3"
rules:
  - id: fever
    when: has_flag("fever_clinic") && vaccine_doeses < 2
    colour: yelow
`))
	fmt.Println(err)
	// Output:
	// rules: 2 problem(s) in rule set
	// 	policy.yaml:5:39: rule "fever" when 1:29: undeclared reference to 'vaccine_doeses' (did you mean 'vaccine_doses'?)
	// 	policy.yaml:6:13: rule "fever" colour: unknown colour "yelow" (known: green, yellow, red)
}

func ExampleCompiled_Evaluate() {
	env, _ := rules.NewEnv()
	rs, _ := rules.DefaultRuleSet()
	set, err := env.Compile(rs)
	if err != nil {
		panic(err)
	}
	areas, _ := rules.NewRiskAreas("2022-09-01T09", []rules.RiskArea{{Region: "510104", Level: "high"}})
	f := &rules.Facts{
		Now:    now,
		Tests:  []rules.Test{{Kind: "pcr", Sampled: now.Add(-20 * time.Hour)}},
		Travel: []rules.Visit{{Region: "510104", Time: now.Add(-3 * 24 * time.Hour)}},
	}
	d, err := set.Evaluate(context.Background(), f, areas)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Colour, d.RuleID, d.Reason)
	fmt.Println(d.Matched)
	// Output:
	// red high-risk-7d 7天内有高风险区旅居史
	// [high-risk-7d high-risk-8-14d negative-48h]
}

func ExampleCompiled_Explain() {
	env, _ := rules.NewEnv()
	set, err := env.Compile(&rules.RuleSet{ID: "demo", Version: "1", Rules: []rules.Rule{
		{ID: "isolation", When: `contact_kind == "close" && hours_since_exposure() < 7 * 24`, Colour: rules.Red, Reason: "close contact"},
		{ID: "no-test", When: "!negative_within(72)", Colour: rules.Yellow, Reason: "no recent test"},
	}})
	if err != nil {
		panic(err)
	}
	x, _ := set.Explain(context.Background(), &rules.Facts{Now: now, Contact: rules.Contact{Kind: "close", LastExposure: now.Add(-50 * time.Hour)}}, nil)
	fmt.Print(x)
	// Output:
	// decision red by isolation (demo@1)
	//   reason: close contact
	//   matched: isolation, no-test
	//   [x] isolation red p=0 = true  <- decisive
	//   [x] no-test yellow p=0 = true
}

func ExampleEngine_Swap() {
	env, _ := rules.NewEnv()
	engine, _ := rules.NewEngine(rules.DefaultEngineConfig())
	v1, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v1", Rules: []rules.Rule{{ID: "pending", When: `entry_status == "pending"`, Colour: rules.Yellow}}})
	v2, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v2", EffectiveFrom: now.Add(24 * time.Hour),
		Rules: []rules.Rule{{ID: "pending", When: `entry_status == "pending"`, Colour: rules.Red}}})
	_ = engine.Swap(v1, now)
	_ = engine.Swap(v2, now) // scheduled for tomorrow

	// A set that fails to compile is never swapped in: there is no *Compiled to swap.
	bad, err := env.Compile(&rules.RuleSet{ID: "p", Version: "v3", Rules: []rules.Rule{{ID: "x", When: "entry_status ==", Colour: rules.Red}}})
	fmt.Println(bad == nil, err != nil, engine.Swap(bad, now))

	for _, at := range []time.Time{now, now.Add(25 * time.Hour)} {
		d, _ := engine.Evaluate(context.Background(), &rules.Facts{Now: at, EntryStatus: "pending"})
		fmt.Println(d.RuleSetVersion, d.Colour)
	}
	_ = engine.Rollback() // undo the scheduling of v2
	d, _ := engine.Evaluate(context.Background(), &rules.Facts{Now: now.Add(25 * time.Hour), EntryStatus: "pending"})
	fmt.Println(d.RuleSetVersion, d.Colour)
	// Output:
	// true true rules: rule set not compiled: Swap was given a nil set
	// v1 yellow
	// v2 red
	// v1 yellow
}

func ExampleEngine_DryRun() {
	env, _ := rules.NewEnv()
	engine, _ := rules.NewEngine(rules.EngineConfig{})
	active, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v1", Rules: []rules.Rule{
		{ID: "no-test-72h", When: "!negative_within(72)", Colour: rules.Yellow},
	}})
	candidate, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v2", Rules: []rules.Rule{
		{ID: "no-test-48h", When: "!negative_within(48)", Colour: rules.Yellow},
	}})
	_ = engine.Swap(active, now)
	var people []rules.Facts
	for _, hours := range []int{10, 50, 60, 80, 30} {
		people = append(people, rules.Facts{Now: now, Tests: []rules.Test{{Kind: "pcr", Sampled: now.Add(-time.Duration(hours) * time.Hour)}}})
	}
	rep, err := engine.DryRun(context.Background(), candidate, slices.Values(people), rules.DryRunConfig{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d of %d change\n", rep.Candidate, rep.Changed, rep.Total)
	for _, t := range rep.Transitions {
		fmt.Printf("%s -> %s by %q: %d, e.g. %v\n", t.From, t.To, t.ToRule, t.Count, t.Samples)
	}
	// Output:
	// p@v2: 2 of 5 change
	// green -> yellow by "no-test-48h": 2, e.g. [1 2]
}

func ExampleEngine_Batch() {
	env, _ := rules.NewEnv()
	rs, _ := rules.DefaultRuleSet()
	set, _ := env.Compile(rs)
	engine, _ := rules.NewEngine(rules.EngineConfig{})
	_ = engine.Swap(set, now)
	people := []rules.Facts{
		{Now: now, Tests: []rules.Test{{Kind: "pcr", Sampled: now.Add(-5 * time.Hour)}}},
		{Now: now, Tests: []rules.Test{{Kind: "pcr", Positive: true, Sampled: now.Add(-5 * time.Hour)}}},
		{Now: now, EntryStatus: "pending", Tests: []rules.Test{{Kind: "pcr", Sampled: now.Add(-5 * time.Hour)}}},
	}
	err := engine.Batch(context.Background(), slices.Values(people), rules.BatchConfig{}, func(i int, d rules.Decision, err error) {
		fmt.Println(i, d.Colour, d.RuleID, err)
	})
	fmt.Println(err)
	// Output:
	// 0 green negative-48h <nil>
	// 1 red pcr-positive-14d <nil>
	// 2 yellow entry-pending <nil>
	// <nil>
}

func ExampleCompiled_WithEffectiveFrom() {
	env, _ := rules.NewEnv()
	engine, _ := rules.NewEngine(rules.DefaultEngineConfig())
	v1, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v1", Rules: []rules.Rule{{ID: "pending", When: `entry_status == "pending"`, Colour: rules.Yellow}}})
	v2, _ := env.Compile(&rules.RuleSet{ID: "p", Version: "v2", Rules: []rules.Rule{{ID: "pending", When: `entry_status == "pending"`, Colour: rules.Red}}})
	_ = engine.Swap(v1, now)

	// v2 has no effective_from of its own: the operator chooses midnight.
	midnight := time.Date(2022, 9, 2, 0, 0, 0, 0, now.Location())
	_ = engine.Swap(v2.WithEffectiveFrom(midnight), now)
	for _, c := range engine.Scheduled(now) {
		fmt.Println("scheduled", c.ID(), c.Version(), c.EffectiveFrom().Format(time.RFC3339))
	}
	for _, at := range []time.Time{now, midnight.Add(-time.Second), midnight} {
		d, _ := engine.Evaluate(context.Background(), &rules.Facts{Now: at, EntryStatus: "pending"})
		fmt.Println(at.Format("15:04:05"), d.RuleSetVersion, d.Colour)
	}
	fmt.Println("v2 itself:", v2.EffectiveFrom().IsZero())
	// Output:
	// scheduled p v2 2022-09-02T00:00:00+08:00
	// 10:00:00 v1 yellow
	// 23:59:59 v1 yellow
	// 00:00:00 v2 red
	// v2 itself: true
}
