// Package rules assigns health-code colours with CEL rules: rule sets
// compiled once and checked for cost, evaluated fast on all cores, swapped
// atomically, explained rule by rule and dry-run before activation.
//
// # Usage
//
//	env, err := rules.NewEnv()                          // the default health schema
//	set, err := env.CompileYAML("policy.yaml", data)    // *CompileError lists every problem
//	engine, err := rules.NewEngine(rules.EngineConfig{})
//	err = engine.Swap(set, time.Now())                  // only a compiled set can be swapped in
//	err = engine.Swap(set.WithEffectiveFrom(midnight), time.Now()) // or scheduled when you choose
//	engine.SetRiskAreas(areas)                          // hourly data, no recompilation
//	d, err := engine.Evaluate(ctx, &rules.Facts{Now: now, Tests: tests})
//	fmt.Println(d.Colour, d.RuleID, d.RuleSetVersion, d.Reason, d.Matched)
//
// Explain returns the trace of every rule; DryRun compares a candidate set
// with the sets in force over a population; Batch evaluates a population on
// all cores in order. DefaultRuleSet is a twenty-rule 2022-style policy.
//
// # Schema
//
// The default health schema declares these CEL variables, read from a Facts:
//
//	now                    timestamp      Facts.Now
//	tests                  list(rules.Test)  {kind, positive, sampled, reported}
//	travel                 list(rules.Visit) {region, time}
//	contact_kind           string         "", "close", "secondary"
//	contact_last_exposure  timestamp
//	contact_identified     timestamp
//	vaccine_doses          int
//	entry_status           string         "", "pending", "cleared" (落地检)
//	manual_flags           list(string)
//
// and these functions, implemented in Go so rules stay scalar and fast
// (times are compared at one-second resolution; tests and visits dated
// after now are ignored):
//
//	positive_within(hours) bool, positive_within(hours, kind) bool
//	negative_within(hours) bool, negative_within(hours, kind) bool
//	negatives_within(hours) int
//	hours_since_last_negative() int   -1 if none
//	hours_since_exposure() int        -1 if unknown
//	max_risk_level(days) string       "none", "low", "medium" or "high"
//	visited_risk(level, days) bool    visited an area of at least level
//	risk_level(region) string
//	has_flag(name) bool
//
// Risk levels come from the RiskAreas passed to the evaluation (the
// Engine's current snapshot); a county is as risky as the highest of its
// own, its city's and its province's designations. A custom schema
// (Schema option) declares its own variables and is evaluated with
// EvaluateVars.
//
// # Resolution
//
// The most severe matching colour wins (red > yellow > green; WithColour
// adds colours); among rules of that colour the highest priority wins, then
// the rule listed first. No match gives the set's default colour. A rule
// that fails at evaluation fails the decision with an *EvalError naming it:
// nobody is silently given the default.
//
// # Plans
//
// Every rule is compiled by cel-go. Rules of the health schema that stay in
// a small subset of CEL in which nothing can fail (boolean logic,
// comparisons of ints and strings, contact_kind, entry_status,
// vaccine_doses and the domain functions with literal arguments) also get a
// native plan: Go closures that compute the same value without the
// interpreter's overhead. All twenty default rules are native. A
// differential test checks the two plans agree on random rules and people;
// NativePlan(false) turns the native plan off. Compiled.Plan tells which
// plan a rule uses.
//
// # Bounds
//
// Every rule's worst-case cost is estimated at compile time from the
// schema's declared sizes and rejected over the budget (CostBudget). A rule
// without a comprehension evaluates each node once, so its work is linear
// in its size and inputs; rules with comprehensions run under a runtime
// cost limit (CostLimit) and check ctx every InterruptCheckFrequency
// iterations.
//
// # Concurrency
//
// Env, Compiled, RiskAreas and Engine are safe for concurrent use.
// Evaluations never block: the Engine publishes immutable snapshots through
// atomic pointers, and a reader sees either the old set or the new one,
// never a mix. Swap and Rollback are serialised among themselves. Facts are
// only read.
//
// The reference server in examples/healthcoded shows the package behind
// HTTP, with the default rule set embedded.
package rules
