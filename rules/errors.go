package rules

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Problems in a *CompileError and the error of an
// *EvalError wrap one of them, so callers can branch with errors.Is.
var (
	// ErrSyntax: the rule-set document is not well-formed YAML or JSON, or a
	// field has the wrong shape (a list where a string belongs).
	ErrSyntax = errors.New("rules: syntax error")
	// ErrUnknownField: the document has a field the format does not define.
	ErrUnknownField = errors.New("rules: unknown field")
	// ErrMissingField: a required field is absent or empty.
	ErrMissingField = errors.New("rules: missing field")
	// ErrDuplicate: two rules share an id, or a field appears twice.
	ErrDuplicate = errors.New("rules: duplicate")
	// ErrBadColour: a colour the Env does not define.
	ErrBadColour = errors.New("rules: unknown colour")
	// ErrBadTime: a time that does not parse as RFC 3339, or a validity window
	// that ends before it starts.
	ErrBadTime = errors.New("rules: bad time")
	// ErrBadValue: a field value out of range (a priority that is not an
	// integer, too many rules).
	ErrBadValue = errors.New("rules: bad value")
	// ErrExpression: a `when` expression does not parse or type-check, or is
	// not boolean.
	ErrExpression = errors.New("rules: bad expression")
	// ErrCostBudget: a rule's static worst-case cost exceeds the Env's budget.
	ErrCostBudget = errors.New("rules: cost over budget")
	// ErrEval: a rule failed at evaluation time (a runtime error, a cost
	// limit, a cancelled context).
	ErrEval = errors.New("rules: evaluation failed")
	// ErrNoRuleSet: the Engine has no rule set in effect at the given time.
	ErrNoRuleSet = errors.New("rules: no rule set in effect")
	// ErrNotCompiled: Swap was given a nil *Compiled, or a set compiled by a
	// different kind of Env than the Engine's other sets.
	ErrNotCompiled = errors.New("rules: rule set not compiled")
	// ErrNoPrevious: Rollback has no earlier state to return to.
	ErrNoPrevious = errors.New("rules: no previous rule set")
	// ErrNoTime: Facts.Now (or the now argument) is the zero time.
	ErrNoTime = errors.New("rules: evaluation time is zero")
	// ErrSchema: the input does not match the Env's schema (Facts given to an
	// Env with a custom schema, or variables to the health schema).
	ErrSchema = errors.New("rules: input does not match the schema")
	// ErrBadOption: an Env option or a Config field is invalid.
	ErrBadOption = errors.New("rules: bad option")
	// ErrBadRiskArea: a risk-area entry has a bad region code or level.
	ErrBadRiskArea = errors.New("rules: bad risk area")
)

// Problem is one thing wrong with a rule set. Positions are 1-based; zero
// means unknown (a rule set built in Go has no file positions). A plain
// value.
type Problem struct {
	File   string // the name given to ParseRuleSet, "" if none
	Line   int    // line in the file
	Column int    // column in the file
	RuleID string // the rule concerned, "" for the set itself
	Field  string // the field concerned: "when", "colour", "rules[3].id", ...
	// ExprLine and ExprColumn locate the problem inside the rule's `when`
	// expression (1-based), for expression problems.
	ExprLine, ExprColumn int
	Msg                  string
	Err                  error // the sentinel: ErrSyntax, ErrExpression, ...
}

// String formats the problem as "file:line:col: rule "id" when 1:5: msg".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Column)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if p.RuleID != "" {
		fmt.Fprintf(&b, "rule %q ", p.RuleID)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		if p.ExprLine > 0 {
			fmt.Fprintf(&b, " %d:%d", p.ExprLine, p.ExprColumn)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// CompileError lists every problem found while loading or compiling a rule
// set; loading and compilation do not stop at the first one. It is not
// modified after it is returned, so it is safe for concurrent reads.
type CompileError struct {
	Problems []Problem
}

func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rules: %d problem(s) in rule set", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the sentinel of every problem, so errors.Is(err,
// ErrExpression) reports whether any problem is an expression problem.
func (e *CompileError) Unwrap() []error {
	errs := make([]error, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// EvalError is a rule that failed at evaluation time. It wraps ErrEval and
// the cause (a context error when evaluation was cancelled). Safe for
// concurrent reads.
type EvalError struct {
	RuleSetID, RuleSetVersion string
	RuleID                    string
	Err                       error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("rules: rule set %s@%s: rule %q: %v", e.RuleSetID, e.RuleSetVersion, e.RuleID, e.Err)
}

// Unwrap returns ErrEval and the cause.
func (e *EvalError) Unwrap() []error { return []error{ErrEval, e.Err} }
