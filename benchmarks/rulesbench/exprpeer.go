package rulesbench

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/healthcode-sdk/healthcode/rules"
)

// exprRules are the default set's twenty `when` expressions in expr-lang's
// fastest idiom: every fact and domain function is an expr.Function with a
// typed signature (called with a reused argument buffer, no reflection),
// with kind-specific names where CEL passes a kind.
var exprRules = []string{
	`PCRPositiveWithin(14 * 24)`,
	`HasFlag("manual_red")`,
	`HasFlag("isolation")`,
	`ContactKind() == "close" && HoursSinceExposure() < 7 * 24`,
	`MaxRiskLevel(7) == "high"`,
	`HasFlag("inbound_quarantine")`,
	`HasFlag("manual_yellow")`,
	`AntigenPositiveWithin(72) && !PCRNegativeWithin(48)`,
	`ContactKind() == "close" && HoursSinceExposure() >= 7 * 24 && HoursSinceExposure() < 10 * 24`,
	`ContactKind() == "secondary" && HoursSinceExposure() < 7 * 24`,
	`MaxRiskLevel(14) == "high"`,
	`MaxRiskLevel(7) == "medium"`,
	`HasFlag("fever_clinic")`,
	`HasFlag("home_monitoring")`,
	`EntryStatus() == "pending"`,
	`EntryStatus() == "cleared" && !NegativeWithin(7 * 24)`,
	`MaxRiskLevel(3) == "low" && NegativesWithin(72) < 2`,
	`ContactKind() == "secondary" && VaccineDoses() == 0 && HoursSinceExposure() < 10 * 24`,
	`!NegativeWithin(72)`,
	`PCRNegativeWithin(48)`,
}

// Interned results, as the CEL functions intern theirs, so that returning
// a known string does not allocate.
var (
	levelAny = [...]any{"none", "low", "medium", "high"}
	knownAny = map[string]any{"": "", "close": "close", "secondary": "secondary", "pending": "pending", "cleared": "cleared"}
)

func internAny(s string) any {
	if v, ok := knownAny[s]; ok {
		return v
	}
	return s
}

// exprEvaluator holds twenty expr programs whose functions are bound to its
// own domain state. Not safe for concurrent use: each goroutine has one.
type exprEvaluator struct {
	d     domain
	progs []*vm.Program
	vm    vm.VM
}

func newExprEvaluator() (*exprEvaluator, error) {
	x := &exprEvaluator{}
	d := &x.d
	hours := func(name string, fn func(int) any) expr.Option {
		return expr.Function(name, func(p ...any) (any, error) { return fn(p[0].(int)), nil }, new(func(int) bool))
	}
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AsBool(),
		hours("PCRPositiveWithin", func(h int) any { return d.positiveWithin(h, kindPCR) }),
		hours("AntigenPositiveWithin", func(h int) any { return d.positiveWithin(h, kindAntigen) }),
		hours("NegativeWithin", func(h int) any { return d.negativeWithin(h, kindAny) }),
		hours("PCRNegativeWithin", func(h int) any { return d.negativeWithin(h, kindPCR) }),
		expr.Function("NegativesWithin", func(p ...any) (any, error) { return d.negativesWithin(p[0].(int)), nil }, new(func(int) int)),
		expr.Function("MaxRiskLevel", func(p ...any) (any, error) { return levelAny[d.maxRiskLevel(p[0].(int))], nil }, new(func(int) string)),
		expr.Function("HasFlag", func(p ...any) (any, error) { return d.hasFlag(p[0].(string)), nil }, new(func(string) bool)),
		expr.Function("HoursSinceExposure", func(...any) (any, error) { return d.hoursSinceExposure(), nil }, new(func() int)),
		expr.Function("ContactKind", func(...any) (any, error) { return internAny(d.f.Contact.Kind), nil }, new(func() string)),
		expr.Function("EntryStatus", func(...any) (any, error) { return internAny(d.f.EntryStatus), nil }, new(func() string)),
		expr.Function("VaccineDoses", func(...any) (any, error) { return d.f.VaccineDoses, nil }, new(func() int)),
	}
	x.progs = make([]*vm.Program, len(exprRules))
	for i, src := range exprRules {
		p, err := expr.Compile(src, opts...)
		if err != nil {
			return nil, fmt.Errorf("expr rule %s: %w", defaultMeta[i].id, err)
		}
		x.progs[i] = p
	}
	return x, nil
}

func (x *exprEvaluator) eval(f *rules.Facts, areas *rules.RiskAreas, hits *[20]bool) error {
	x.d.reset(f, areas)
	for i, p := range x.progs {
		out, err := x.vm.Run(p, nil)
		if err != nil {
			return fmt.Errorf("expr rule %s: %w", defaultMeta[i].id, err)
		}
		hits[i] = out.(bool)
	}
	return nil
}
