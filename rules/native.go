package rules

import (
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// The native plan. Most health rules are small boolean formulas over the
// scalar facts and the domain functions with literal arguments
// (`contact_kind == "close" && hours_since_exposure() < 168`). For those,
// Compile also builds a tree of Go closures that computes the same value
// without the interpreter's per-evaluation overhead. The subset is chosen so
// that nothing in it can fail: boolean &&, || and !; ==, != on ints, strings
// and bools; <, <=, >, >= on ints and strings; int, string and bool
// literals; the variables contact_kind, entry_status and vaccine_doses; the
// domain functions with literal, valid arguments. Without errors, CEL's
// commutative && and || agree with Go's short-circuit ones, so the closures
// and the interpreter give the same value; TestNativeMatchesInterpreter
// checks this on random expressions and facts. Anything else (comparisons
// of times, lists, comprehensions, arithmetic left after constant folding)
// runs on the CEL interpreter.

type nativeKind int

const (
	nkBool nativeKind = iota + 1
	nkInt
	nkString
)

type native struct {
	kind nativeKind
	b    func(*activation) bool
	i    func(*activation) int64
	s    func(*activation) string
	// lit marks a literal, whose value is in litI or litS, so comparisons
	// with it need one closure instead of two.
	lit  bool
	litI int64
	litS string
}

// nativePlan returns the closure for a checked, folded boolean expression of
// the health schema, or nil if it is outside the subset.
func nativePlan(a *ast.AST) func(*activation) bool {
	n, ok := planNative(a, a.Expr())
	if !ok || n.kind != nkBool {
		return nil
	}
	return n.b
}

func planNative(a *ast.AST, e ast.Expr) (native, bool) {
	switch e.Kind() {
	case ast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.Bool:
			b := bool(v)
			return native{kind: nkBool, b: func(*activation) bool { return b }}, true
		case types.Int:
			i := int64(v)
			return native{kind: nkInt, i: func(*activation) int64 { return i }, lit: true, litI: i}, true
		case types.String:
			s := string(v)
			return native{kind: nkString, s: func(*activation) string { return s }, lit: true, litS: s}, true
		}
	case ast.IdentKind:
		if r, ok := a.ReferenceMap()[e.ID()]; ok && (r.Value != nil || r.Name != e.AsIdent()) {
			return native{}, false
		}
		switch e.AsIdent() {
		case "contact_kind":
			return native{kind: nkString, s: func(x *activation) string { return x.facts.Contact.Kind }}, true
		case "entry_status":
			return native{kind: nkString, s: func(x *activation) string { return x.facts.EntryStatus }}, true
		case "vaccine_doses":
			return native{kind: nkInt, i: func(x *activation) int64 { return int64(x.facts.VaccineDoses) }}, true
		}
	case ast.CallKind:
		return planCall(a, e.AsCall())
	}
	return native{}, false
}

func planCall(a *ast.AST, c ast.CallExpr) (native, bool) {
	if c.IsMemberFunction() {
		return native{}, false
	}
	args := c.Args()
	switch fn := c.FunctionName(); fn {
	case operators.LogicalAnd, operators.LogicalOr:
		if len(args) != 2 {
			return native{}, false
		}
		l, ok1 := planNative(a, args[0])
		r, ok2 := planNative(a, args[1])
		if !ok1 || !ok2 || l.kind != nkBool || r.kind != nkBool {
			return native{}, false
		}
		lb, rb := l.b, r.b
		if fn == operators.LogicalAnd {
			return native{kind: nkBool, b: func(x *activation) bool { return lb(x) && rb(x) }}, true
		}
		return native{kind: nkBool, b: func(x *activation) bool { return lb(x) || rb(x) }}, true
	case operators.LogicalNot:
		if len(args) != 1 {
			return native{}, false
		}
		v, ok := planNative(a, args[0])
		if !ok || v.kind != nkBool {
			return native{}, false
		}
		vb := v.b
		return native{kind: nkBool, b: func(x *activation) bool { return !vb(x) }}, true
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		if len(args) != 2 {
			return native{}, false
		}
		l, ok1 := planNative(a, args[0])
		r, ok2 := planNative(a, args[1])
		if !ok1 || !ok2 || l.kind != r.kind {
			return native{}, false
		}
		return compare(fn, l, r)
	}
	return planDomain(c)
}

func compare(op string, l, r native) (native, bool) {
	if r.lit && !l.lit {
		if b := compareLiteral(op, l, r); b != nil {
			return native{kind: nkBool, b: b}, true
		}
	}
	var b func(*activation) bool
	switch l.kind {
	case nkInt:
		li, ri := l.i, r.i
		switch op {
		case operators.Equals:
			b = func(x *activation) bool { return li(x) == ri(x) }
		case operators.NotEquals:
			b = func(x *activation) bool { return li(x) != ri(x) }
		case operators.Less:
			b = func(x *activation) bool { return li(x) < ri(x) }
		case operators.LessEquals:
			b = func(x *activation) bool { return li(x) <= ri(x) }
		case operators.Greater:
			b = func(x *activation) bool { return li(x) > ri(x) }
		case operators.GreaterEquals:
			b = func(x *activation) bool { return li(x) >= ri(x) }
		}
	case nkString:
		ls, rs := l.s, r.s
		switch op {
		case operators.Equals:
			b = func(x *activation) bool { return ls(x) == rs(x) }
		case operators.NotEquals:
			b = func(x *activation) bool { return ls(x) != rs(x) }
		case operators.Less:
			b = func(x *activation) bool { return ls(x) < rs(x) }
		case operators.LessEquals:
			b = func(x *activation) bool { return ls(x) <= rs(x) }
		case operators.Greater:
			b = func(x *activation) bool { return ls(x) > rs(x) }
		case operators.GreaterEquals:
			b = func(x *activation) bool { return ls(x) >= rs(x) }
		}
	case nkBool:
		lb, rb := l.b, r.b
		switch op {
		case operators.Equals:
			b = func(x *activation) bool { return lb(x) == rb(x) }
		case operators.NotEquals:
			b = func(x *activation) bool { return lb(x) != rb(x) }
		default:
			return native{}, false // CEL orders bools; the subset does not need it
		}
	}
	if b == nil {
		return native{}, false
	}
	return native{kind: nkBool, b: b}, true
}

// compareLiteral specialises the common "expression op literal".
func compareLiteral(op string, l, r native) func(*activation) bool {
	switch l.kind {
	case nkInt:
		li, v := l.i, r.litI
		switch op {
		case operators.Equals:
			return func(x *activation) bool { return li(x) == v }
		case operators.NotEquals:
			return func(x *activation) bool { return li(x) != v }
		case operators.Less:
			return func(x *activation) bool { return li(x) < v }
		case operators.LessEquals:
			return func(x *activation) bool { return li(x) <= v }
		case operators.Greater:
			return func(x *activation) bool { return li(x) > v }
		case operators.GreaterEquals:
			return func(x *activation) bool { return li(x) >= v }
		}
	case nkString:
		ls, v := l.s, r.litS
		switch op {
		case operators.Equals:
			return func(x *activation) bool { return ls(x) == v }
		case operators.NotEquals:
			return func(x *activation) bool { return ls(x) != v }
		}
	}
	return nil
}

// planDomain plans a domain function whose first argument is a facts
// handle and whose other arguments are valid literals.
func planDomain(c ast.CallExpr) (native, bool) {
	args := c.Args()
	if len(args) == 0 || args[0].Kind() != ast.IdentKind {
		return native{}, false
	}
	kind := kindAny
	switch args[0].AsIdent() {
	case factsVar:
	case factsPCRVar:
		kind = kindPCR
	case factsAntigenVar:
		kind = kindAntigen
	default:
		return native{}, false
	}
	lits := args[1:]
	intArg := func(i int) (int64, bool) {
		if i >= len(lits) || lits[i].Kind() != ast.LiteralKind {
			return 0, false
		}
		v, ok := lits[i].AsLiteral().(types.Int)
		if !ok || v < 0 {
			return 0, false
		}
		return min(int64(v), maxHours), true
	}
	strArg := func(i int) (string, bool) {
		if i >= len(lits) || lits[i].Kind() != ast.LiteralKind {
			return "", false
		}
		v, ok := lits[i].AsLiteral().(types.String)
		return string(v), ok
	}
	switch name := c.FunctionName(); {
	case (name == "positive_within" || name == "negative_within") && (len(lits) == 1 || len(lits) == 2):
		h, ok := intArg(0)
		if !ok {
			return native{}, false
		}
		if len(lits) == 2 {
			k, ok := strArg(1)
			if !ok {
				return native{}, false
			}
			kind = kindIndex(k)
		}
		positive := name == "positive_within"
		return native{kind: nkBool, b: func(x *activation) bool { return x.testWithin(h, kind, positive) }}, true
	case name == "negatives_within" && len(lits) == 1:
		h, ok := intArg(0)
		if !ok {
			return native{}, false
		}
		return native{kind: nkInt, i: func(x *activation) int64 { return x.negativesWithin(h) }}, true
	case name == "hours_since_last_negative" && len(lits) == 0:
		return native{kind: nkInt, i: (*activation).hoursSinceLastNegative}, true
	case name == "hours_since_exposure" && len(lits) == 0:
		return native{kind: nkInt, i: (*activation).hoursSinceExposure}, true
	case name == "max_risk_level" && len(lits) == 1:
		d, ok := intArg(0)
		if !ok {
			return native{}, false
		}
		return native{kind: nkString, s: func(x *activation) string { return levelNames[x.maxLevelWithin(min(d*24, maxHours))] }}, true
	case name == "visited_risk" && len(lits) == 2:
		l, ok1 := strArg(0)
		d, ok2 := intArg(1)
		lvl, err := ParseRiskLevel(l)
		if !ok1 || !ok2 || err != nil {
			return native{}, false
		}
		return native{kind: nkBool, b: func(x *activation) bool { return lvl == LevelNone || x.maxLevelWithin(min(d*24, maxHours)) >= lvl }}, true
	case name == "risk_level" && len(lits) == 1:
		r, ok := strArg(0)
		if !ok {
			return native{}, false
		}
		return native{kind: nkString, s: func(x *activation) string { return levelNames[x.areas.Level(r)] }}, true
	case name == "has_flag" && len(lits) == 1:
		f, ok := strArg(0)
		if !ok {
			return native{}, false
		}
		return native{kind: nkBool, b: func(x *activation) bool { return x.hasFlag(f) }}, true
	}
	return native{}, false
}
