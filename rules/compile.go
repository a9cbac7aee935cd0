package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
)

// Compiled is a rule set compiled against an Env: every `when` parsed,
// type-checked, cost-estimated and planned. Only Env.Compile makes one, so a
// *Compiled is proof that the set compiled.
//
// A *Compiled is immutable and safe for concurrent use.
type Compiled struct {
	env           *Env
	set           RuleSet
	id, version   string
	effectiveFrom time.Time
	def           Colour
	rules         []compiledRule
}

type compiledRule struct {
	id, reason, legal string
	colour            Colour
	priority          int
	rank              int // position in resolution order: lower wins
	prog              cel.Program
	guarded           bool                   // contains a comprehension: runs with a cost limit and ctx
	native            func(*activation) bool // the native plan, nil if interpreted
	from, until       time.Time
	hasFrom, hasUntil bool
	windowed          bool // hasFrom || hasUntil
	costMin, costMax  uint64
}

func (r *compiledRule) activeAt(now time.Time) bool {
	return (!r.hasFrom || !now.Before(r.from)) && (!r.hasUntil || now.Before(r.until))
}

// ID returns the rule set's id.
func (c *Compiled) ID() string { return c.id }

// Version returns the rule set's version.
func (c *Compiled) Version() string { return c.version }

// EffectiveFrom returns when the set takes effect in an Engine (zero: at once).
func (c *Compiled) EffectiveFrom() time.Time { return c.effectiveFrom }

// WithEffectiveFrom returns a copy of the set that takes effect at t
// instead of its own EffectiveFrom: the time an operator chose for an
// uploaded set, such as midnight when new guidance applies. Swap the copy
// in; Engine.Scheduled lists it with t. The copy has the same id, version
// and rules and shares the compiled programs (nothing is recompiled); its
// RuleSet reports t. As with EffectiveFrom, the zero time or a time not
// after the now given to Swap puts it in force at once. c is not
// modified; a nil c gives nil (which Swap refuses with ErrNotCompiled).
func (c *Compiled) WithEffectiveFrom(t time.Time) *Compiled {
	if c == nil {
		return nil
	}
	cp := *c
	cp.effectiveFrom = t
	cp.set.EffectiveFrom = t
	return &cp
}

// Env returns the Env the set was compiled with.
func (c *Compiled) Env() *Env { return c.env }

// RuleSet returns a copy of the source rule set.
func (c *Compiled) RuleSet() RuleSet {
	rs := c.set
	rs.Rules = append([]Rule(nil), c.set.Rules...)
	return rs
}

// Plan says how a rule is evaluated. A plain value.
type Plan string

// Plans.
const (
	// PlanNative: Go closures equivalent to the expression (see NativePlan).
	PlanNative Plan = "native"
	// PlanInterpreted: the CEL interpreter.
	PlanInterpreted Plan = "interpreted"
	// PlanBounded: the CEL interpreter with a runtime cost limit and ctx
	// checks, for rules with comprehensions.
	PlanBounded Plan = "bounded"
)

// Plan returns how the rule is evaluated.
func (c *Compiled) Plan(ruleID string) (Plan, bool) {
	for i := range c.rules {
		r := &c.rules[i]
		if r.id != ruleID {
			continue
		}
		switch {
		case r.native != nil:
			return PlanNative, true
		case r.guarded:
			return PlanBounded, true
		}
		return PlanInterpreted, true
	}
	return "", false
}

// RuleCost returns the static cost estimate of a rule: the range of CEL cost
// units one evaluation may take given the schema's declared sizes.
func (c *Compiled) RuleCost(ruleID string) (minCost, maxCost uint64, ok bool) {
	for i := range c.rules {
		if c.rules[i].id == ruleID {
			return c.rules[i].costMin, c.rules[i].costMax, true
		}
	}
	return 0, 0, false
}

// CompileYAML parses a rule set (YAML or JSON) and compiles it.
// Load and compile problems are reported together, in file order.
func (e *Env) CompileYAML(file string, data []byte) (*Compiled, error) {
	rs, problems := parseRuleSet(file, data)
	if rs == nil {
		return nil, &CompileError{Problems: problems}
	}
	c, err := e.Compile(rs)
	var ce *CompileError
	if errors.As(err, &ce) {
		problems = append(problems, ce.Problems...)
	}
	if len(problems) == 0 {
		return c, err
	}
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return nil, &CompileError{Problems: problems}
}

// Compile checks and compiles a rule set. It reports every problem it finds
// in one *CompileError: missing fields, unknown colours, duplicate rule ids,
// empty validity windows, expressions that do not parse or type-check or are
// not boolean (with the line:column inside the expression and, for parsed
// sets, in the file), and rules whose static cost estimate exceeds the
// budget. rs is not modified and may be reused.
func (e *Env) Compile(rs *RuleSet) (*Compiled, error) {
	if rs == nil {
		return nil, &CompileError{Problems: []Problem{{Msg: "nil rule set", Err: ErrMissingField}}}
	}
	cp := &compiler{env: e, rs: rs}
	if rs.src != nil {
		cp.file = rs.src.file
	}
	c := &Compiled{env: e, id: rs.ID, version: rs.Version, effectiveFrom: rs.EffectiveFrom, def: rs.Default}
	c.set = *rs
	c.set.Rules = append([]Rule(nil), rs.Rules...)
	if c.def == "" {
		c.def = Green
	}
	if strings.TrimSpace(rs.ID) == "" {
		cp.setProblem("id", "rule set id is missing", ErrMissingField)
	}
	if strings.TrimSpace(rs.Version) == "" {
		cp.setProblem("version", "rule set version is missing", ErrMissingField)
	}
	if _, ok := e.colours[c.def]; !ok {
		cp.setProblem("default", fmt.Sprintf("unknown default colour %q (known: %s)", rs.Default, e.colourList()), ErrBadColour)
	}
	if len(rs.Rules) > e.maxRules {
		cp.setProblem("rules", fmt.Sprintf("%d rules, more than the limit of %d", len(rs.Rules), e.maxRules), ErrBadValue)
		return nil, &CompileError{Problems: cp.problems}
	}
	seen := map[string]int{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		cr, ok := cp.rule(r, i, seen)
		if ok {
			c.rules = append(c.rules, cr)
		}
	}
	if len(cp.problems) > 0 {
		return nil, &CompileError{Problems: cp.problems}
	}
	// Resolution order: most severe colour, then highest priority, then
	// first in the file.
	order := make([]int, len(c.rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := &c.rules[order[a]], &c.rules[order[b]]
		sa, sb := e.colours[ra.colour], e.colours[rb.colour]
		if sa != sb {
			return sa > sb
		}
		return ra.priority > rb.priority
	})
	for rank, i := range order {
		c.rules[i].rank = rank
	}
	return c, nil
}

type compiler struct {
	env      *Env
	rs       *RuleSet
	file     string
	problems []Problem
}

func (cp *compiler) setProblem(field, msg string, err error) {
	if cp.rs.badField(field) {
		return
	}
	p := Problem{File: cp.file, Field: field, Msg: msg, Err: err}
	if cp.rs.src != nil {
		if pos, ok := cp.rs.src.fields[field]; ok {
			p.Line, p.Column = pos.line, pos.column
		}
	}
	cp.problems = append(cp.problems, p)
}

func (cp *compiler) ruleProblem(r *Rule, field, msg string, err error) {
	if r.badField(field) {
		return
	}
	pos := r.fieldPos(field)
	cp.problems = append(cp.problems, Problem{File: cp.file, Line: pos.line, Column: pos.column, RuleID: r.ID, Field: field, Msg: msg, Err: err})
}

func (cp *compiler) rule(r *Rule, index int, seen map[string]int) (compiledRule, bool) {
	e := cp.env
	before := len(cp.problems)
	switch {
	case r.ID == "":
		cp.ruleProblem(r, "id", fmt.Sprintf("rule %d has no id", index+1), ErrMissingField)
	case !validRuleID(r.ID):
		cp.ruleProblem(r, "id", "rule id must be 1-128 printable characters without spaces", ErrBadValue)
	default:
		if first, dup := seen[r.ID]; dup {
			cp.ruleProblem(r, "id", fmt.Sprintf("duplicate rule id (first used by rule %d)", first+1), ErrDuplicate)
		} else {
			seen[r.ID] = index
		}
	}
	if _, ok := e.colours[r.Colour]; !ok {
		msg := fmt.Sprintf("unknown colour %q (known: %s)", r.Colour, e.colourList())
		if r.Colour == "" {
			msg = "colour is missing (known: " + e.colourList() + ")"
		}
		cp.ruleProblem(r, "colour", msg, ErrBadColour)
	}
	if !r.ValidFrom.IsZero() && !r.ValidUntil.IsZero() && !r.ValidUntil.After(r.ValidFrom) {
		cp.ruleProblem(r, "valid_until", fmt.Sprintf("valid_until %s is not after valid_from %s", r.ValidUntil.Format(time.RFC3339), r.ValidFrom.Format(time.RFC3339)), ErrBadTime)
	}
	cr := compiledRule{
		id: r.ID, reason: r.Reason, legal: r.LegalBasis, colour: r.Colour, priority: r.Priority,
		from: r.ValidFrom, until: r.ValidUntil, hasFrom: !r.ValidFrom.IsZero(), hasUntil: !r.ValidUntil.IsZero(),
	}
	cr.windowed = cr.hasFrom || cr.hasUntil
	if strings.TrimSpace(r.When) == "" {
		cp.ruleProblem(r, "when", "when expression is missing", ErrMissingField)
		return cr, false
	}
	if r.badField("when") {
		return cr, false
	}
	ast, iss := e.cel.Compile(r.When)
	if iss.Err() != nil {
		for _, ce := range iss.Errors() {
			cp.exprProblem(r, ce.Location.Line(), ce.Location.Column()+1, cleanMessage(ce.Message))
		}
		return cr, false
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		cp.exprProblem(r, 1, 1, fmt.Sprintf("when must be boolean, it is %s", cel.FormatCELType(t)))
		return cr, false
	}
	// Fold constants (7 * 24 becomes 168) so evaluation does not redo them.
	if folded, iss := e.optimizer.Optimize(e.cel, ast); iss.Err() == nil {
		ast = folded
	}
	est, err := e.cel.EstimateCost(ast, sizeEstimator{sizes: e.vars}, e.costOpts...)
	if err != nil {
		cp.ruleProblem(r, "when", fmt.Sprintf("cost estimate failed: %v", err), ErrCostBudget)
		return cr, false
	}
	cr.costMin, cr.costMax = est.Min, est.Max
	if est.Max > e.budget {
		cp.ruleProblem(r, "when", fmt.Sprintf("estimated worst-case cost %s exceeds the budget of %d", costString(est.Max), e.budget), ErrCostBudget)
		return cr, false
	}
	cr.guarded = len(celast.MatchDescendants(celast.NavigateAST(ast.NativeRep()), celast.KindMatcher(celast.ComprehensionKind))) > 0
	popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if cr.guarded {
		popts = append(popts, cel.CostLimit(e.limit), cel.InterruptCheckFrequency(e.interrupt))
	}
	prog, err := e.cel.Program(ast, popts...)
	if err != nil {
		cp.exprProblem(r, 1, 1, fmt.Sprintf("cannot plan: %v", err))
		return cr, false
	}
	cr.prog = prog
	if e.native && !cr.guarded {
		cr.native = nativePlan(ast.NativeRep())
	}
	return cr, len(cp.problems) == before
}

func (cp *compiler) exprProblem(r *Rule, line, col int, msg string) {
	p := Problem{File: cp.file, RuleID: r.ID, Field: "when", ExprLine: line, ExprColumn: col, Msg: msg, Err: ErrExpression}
	if pos, ok := cp.rs.exprPos(r, line, col); ok || pos.line > 0 {
		p.Line, p.Column = pos.line, pos.column
	}
	cp.problems = append(cp.problems, p)
}

func costString(n uint64) string {
	if n == ^uint64(0) {
		return "(unbounded)"
	}
	return fmt.Sprint(n)
}

func validRuleID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, c := range id {
		if unicode.IsSpace(c) || !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

func (e *Env) colourList() string {
	cs := e.Colours()
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
