package rules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Decision is the outcome of evaluating a rule set for one person: the
// colour, the rule that decided it (empty when no rule matched and the
// default applies), the rule set it came from, and every rule that matched.
// A plain value; each Decision has its own Matched slice.
type Decision struct {
	Colour         Colour
	RuleID         string // "" when the default colour applies
	RuleSetID      string
	RuleSetVersion string
	Reason         string
	LegalBasis     string
	Matched        []string // ids of all matching rules, in rule-set order
	// RiskAreasVersion is the version of the risk areas the decision read
	// ("" if none), so a colour can be traced to the data behind it.
	RiskAreasVersion string
}

// Explanation is a Decision with the trace of every rule. A plain value.
type Explanation struct {
	Decision         Decision
	Now              time.Time
	RiskAreasVersion string
	Rules            []RuleTrace
}

// RuleTrace says what one rule did in an evaluation. A plain value.
type RuleTrace struct {
	RuleID   string
	Colour   Colour
	Priority int
	Active   bool   // within its validity window at Now
	Matched  bool   // evaluated to true
	Decisive bool   // the rule that decided the colour
	Value    string // the result ("true", "false") or "" if inactive or failed
	Err      error  // the evaluation error, if any
}

// evaluator holds the per-goroutine state of evaluation: an activation over
// the current input and an execution frame reused across the rules, so that
// evaluating a person allocates nothing but the Matched list. Not safe for
// concurrent use; Envs pool them.
type evaluator struct {
	act   activation
	frame *interpreter.ExecutionFrame
}

func newEvaluator(e *Env) *evaluator {
	ev := &evaluator{}
	ev.act.env = e
	ev.act.hv = factsVal{a: &ev.act, kind: kindAny}
	ev.act.hvPCR = factsVal{a: &ev.act, kind: kindPCR}
	ev.act.hvAg = factsVal{a: &ev.act, kind: kindAntigen}
	frame, err := interpreter.NewExecutionFrame(&ev.act)
	if err == nil {
		ev.frame = frame
	}
	return ev
}

// Evaluate decides the colour for f, using the given risk areas (nil: none).
// The Env must have the health schema. A rule that fails makes Evaluate
// return an *EvalError naming it; the decision is then empty, never a
// silent default.
func (c *Compiled) Evaluate(ctx context.Context, f *Facts, areas *RiskAreas) (Decision, error) {
	if err := c.checkFacts(ctx, f); err != nil {
		return Decision{}, err
	}
	ev := c.env.evaluators.Get().(*evaluator)
	ev.act.resetFacts(f, areas)
	d, err := c.run(ctx, ev, nil)
	ev.act.clear()
	c.env.evaluators.Put(ev)
	return d, err
}

// EvaluateVars decides the colour for a custom schema's variables at now.
func (c *Compiled) EvaluateVars(ctx context.Context, vars map[string]any, now time.Time) (Decision, error) {
	if err := c.checkVars(ctx, now); err != nil {
		return Decision{}, err
	}
	ev := c.env.evaluators.Get().(*evaluator)
	ev.act.resetVars(vars, now)
	d, err := c.run(ctx, ev, nil)
	ev.act.clear()
	c.env.evaluators.Put(ev)
	return d, err
}

// Explain evaluates f like Evaluate and returns the trace of every rule.
// It evaluates all rules even when some fail; the error is the first
// failure, and the Explanation is filled in either way.
func (c *Compiled) Explain(ctx context.Context, f *Facts, areas *RiskAreas) (Explanation, error) {
	if err := c.checkFacts(ctx, f); err != nil {
		return Explanation{}, err
	}
	ev := c.env.evaluators.Get().(*evaluator)
	ev.act.resetFacts(f, areas)
	x := Explanation{Now: f.Now, RiskAreasVersion: areas.Version(), Rules: make([]RuleTrace, 0, len(c.rules))}
	d, err := c.run(ctx, ev, &x.Rules)
	x.Decision = d
	ev.act.clear()
	c.env.evaluators.Put(ev)
	return x, err
}

// ExplainVars is Explain for a custom schema.
func (c *Compiled) ExplainVars(ctx context.Context, vars map[string]any, now time.Time) (Explanation, error) {
	if err := c.checkVars(ctx, now); err != nil {
		return Explanation{}, err
	}
	ev := c.env.evaluators.Get().(*evaluator)
	ev.act.resetVars(vars, now)
	x := Explanation{Now: now, Rules: make([]RuleTrace, 0, len(c.rules))}
	d, err := c.run(ctx, ev, &x.Rules)
	x.Decision = d
	ev.act.clear()
	c.env.evaluators.Put(ev)
	return x, err
}

func (c *Compiled) checkFacts(ctx context.Context, f *Facts) error {
	if c.env.custom {
		return fmt.Errorf("%w: Evaluate with Facts on an Env with a custom schema (use EvaluateVars)", ErrSchema)
	}
	if f == nil || f.Now.IsZero() {
		return fmt.Errorf("%w: Facts.Now must be set", ErrNoTime)
	}
	return ctx.Err()
}

func (c *Compiled) checkVars(ctx context.Context, now time.Time) error {
	if !c.env.custom {
		return fmt.Errorf("%w: EvaluateVars on the health schema (use Evaluate with Facts)", ErrSchema)
	}
	if now.IsZero() {
		return fmt.Errorf("%w: now must be set", ErrNoTime)
	}
	return ctx.Err()
}

// run evaluates every active rule against the evaluator's activation. With
// trace non-nil it records every rule and keeps going after failures.
func (c *Compiled) run(ctx context.Context, ev *evaluator, trace *[]RuleTrace) (Decision, error) {
	now := ev.act.now
	best := -1
	var matched []string
	var firstErr error
	for i := range c.rules {
		r := &c.rules[i]
		if r.windowed && !r.activeAt(now) {
			if trace != nil {
				*trace = append(*trace, RuleTrace{RuleID: r.id, Colour: r.colour, Priority: r.priority})
			}
			continue
		}
		var hit bool
		if r.native != nil {
			hit = r.native(&ev.act)
			if trace != nil {
				*trace = append(*trace, RuleTrace{RuleID: r.id, Colour: r.colour, Priority: r.priority, Active: true, Matched: hit, Value: strconv.FormatBool(hit)})
			}
		} else {
			var v ref.Val
			var err error
			if r.guarded || ev.frame == nil {
				v, _, err = r.prog.ContextEval(ctx, &ev.act)
			} else {
				v, _, err = r.prog.Eval(ev.frame)
			}
			b, isBool := v.(types.Bool)
			if err == nil && !isBool {
				err = fmt.Errorf("result is %s, not bool", v.Type().TypeName())
			}
			if err != nil {
				err = &EvalError{RuleSetID: c.id, RuleSetVersion: c.version, RuleID: r.id, Err: err}
				if trace == nil {
					return Decision{}, err
				}
				*trace = append(*trace, RuleTrace{RuleID: r.id, Colour: r.colour, Priority: r.priority, Active: true, Err: err})
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			hit = bool(b)
			if trace != nil {
				*trace = append(*trace, RuleTrace{RuleID: r.id, Colour: r.colour, Priority: r.priority, Active: true, Matched: hit, Value: strconv.FormatBool(hit)})
			}
		}
		if hit {
			if matched == nil {
				matched = make([]string, 0, 4)
			}
			matched = append(matched, r.id)
			if best < 0 || r.rank < c.rules[best].rank {
				best = i
			}
		}
	}
	if firstErr != nil {
		return Decision{}, firstErr
	}
	d := Decision{Colour: c.def, RuleSetID: c.id, RuleSetVersion: c.version, Matched: matched, RiskAreasVersion: ev.act.areas.Version()}
	if best >= 0 {
		r := &c.rules[best]
		d.Colour, d.RuleID, d.Reason, d.LegalBasis = r.colour, r.id, r.reason, r.legal
		if trace != nil {
			for i := range *trace {
				if (*trace)[i].RuleID == r.id {
					(*trace)[i].Decisive = true
				}
			}
		}
	}
	return d, nil
}

// String renders the explanation as text, one rule per line:
//
//	decision red by positive-14d (healthcode-default@2022.12)
//	  risk areas: 2022-09-01T09
//	  reason: ...
//	  [x] positive-14d red p=100 = true  <- decisive
//	  [ ] no-test-72h yellow p=10 = false
//	  [-] holiday-rule yellow p=0 (inactive)
//	  [!] broken red p=0 error: ...
func (x Explanation) String() string {
	var b strings.Builder
	d := x.Decision
	by := d.RuleID
	if by == "" {
		by = "default"
	}
	fmt.Fprintf(&b, "decision %s by %s (%s@%s)\n", d.Colour, by, d.RuleSetID, d.RuleSetVersion)
	if d.RiskAreasVersion != "" {
		fmt.Fprintf(&b, "  risk areas: %s\n", d.RiskAreasVersion)
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, "  reason: %s\n", d.Reason)
	}
	if d.LegalBasis != "" {
		fmt.Fprintf(&b, "  legal basis: %s\n", d.LegalBasis)
	}
	if len(d.Matched) > 0 {
		fmt.Fprintf(&b, "  matched: %s\n", strings.Join(d.Matched, ", "))
	}
	for _, t := range x.Rules {
		mark := "[ ]"
		switch {
		case !t.Active:
			mark = "[-]"
		case t.Err != nil:
			mark = "[!]"
		case t.Matched:
			mark = "[x]"
		}
		fmt.Fprintf(&b, "  %s %s %s p=%d", mark, t.RuleID, t.Colour, t.Priority)
		switch {
		case !t.Active:
			b.WriteString(" (inactive)")
		case t.Err != nil:
			fmt.Fprintf(&b, " error: %v", t.Err)
		default:
			fmt.Fprintf(&b, " = %s", t.Value)
		}
		if t.Decisive {
			b.WriteString("  <- decisive")
		}
		b.WriteByte('\n')
	}
	return b.String()
}
