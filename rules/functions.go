package rules

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/decls"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/parser"
)

// factsVar is the hidden variable through which the domain functions reach
// the facts and risk areas of the current evaluation. A macro per function
// rewrites positive_within(h) into positive_within(__facts__, h), so rules
// stay scalar and the functions need no per-call allocation.
const factsVar = "__facts__"

var factsType = cel.OpaqueType("rules.facts")

// Hidden variables for positive_within and negative_within called with a
// literal kind: positive_within(h, "pcr") becomes
// positive_within(__facts_pcr__, h), a binary call that allocates nothing.
const (
	factsPCRVar     = "__facts_pcr__"
	factsAntigenVar = "__facts_antigen__"
)

// factsVal is the CEL value of factsVar: a handle on the activation, with
// the test kind the handle selects (kindAny for factsVar).
type factsVal struct {
	a    *activation
	kind int
}

func (v *factsVal) ConvertToNative(reflect.Type) (any, error) {
	return nil, errors.New("rules: facts handle is not convertible")
}
func (v *factsVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return factsType
	}
	return types.NewErr("rules: facts handle is not convertible to %s", t.TypeName())
}
func (v *factsVal) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(v)) }
func (v *factsVal) Type() ref.Type          { return factsType }
func (v *factsVal) Value() any              { return v.a.facts }

// Interned results and inputs, so the common paths do not allocate.
var (
	levelVals = [...]ref.Val{
		LevelNone:   types.String("none"),
		LevelLow:    types.String("low"),
		LevelMedium: types.String("medium"),
		LevelHigh:   types.String("high"),
	}
	emptyString = types.String("")
	knownVals   = map[string]ref.Val{}
)

func init() {
	for _, s := range []string{"close", "secondary", "pending", "cleared"} {
		knownVals[s] = types.String(s)
	}
}

func stringVal(s string) ref.Val {
	if s == "" {
		return emptyString
	}
	if v, ok := knownVals[s]; ok {
		return v
	}
	return types.String(s)
}

// maxHours bounds the hour and day arguments so that time arithmetic cannot
// overflow (a century).
const maxHours = 100 * 366 * 24

// domain function names and arities (user-visible arguments).
var domainArity = []struct {
	name  string
	arity int
}{
	{"positive_within", 1}, {"positive_within", 2},
	{"negative_within", 1}, {"negative_within", 2},
	{"negatives_within", 1},
	{"hours_since_last_negative", 0},
	{"hours_since_exposure", 0},
	{"max_risk_level", 1},
	{"visited_risk", 2},
	{"risk_level", 1},
	{"has_flag", 1},
}

func domainFunctions() []cel.EnvOption {
	noGuard := decls.DisableTypeGuards(true)
	ft := factsType
	i, s, b := cel.IntType, cel.StringType, cel.BoolType
	opts := []cel.EnvOption{
		cel.Function("positive_within", noGuard,
			cel.Overload("positive_within_int", []*cel.Type{ft, i}, b, cel.BinaryBinding(func(f, h ref.Val) ref.Val {
				return testWithin(f, h, nil, true)
			})),
			cel.Overload("positive_within_int_string", []*cel.Type{ft, i, s}, b, cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return testWithin(args[0], args[1], args[2], true)
			}))),
		cel.Function("negative_within", noGuard,
			cel.Overload("negative_within_int", []*cel.Type{ft, i}, b, cel.BinaryBinding(func(f, h ref.Val) ref.Val {
				return testWithin(f, h, nil, false)
			})),
			cel.Overload("negative_within_int_string", []*cel.Type{ft, i, s}, b, cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return testWithin(args[0], args[1], args[2], false)
			}))),
		cel.Function("negatives_within", noGuard,
			cel.Overload("negatives_within_int", []*cel.Type{ft, i}, i, cel.BinaryBinding(negativesWithin))),
		cel.Function("hours_since_last_negative", noGuard,
			cel.Overload("hours_since_last_negative_", []*cel.Type{ft}, i, cel.UnaryBinding(hoursSinceLastNegative))),
		cel.Function("hours_since_exposure", noGuard,
			cel.Overload("hours_since_exposure_", []*cel.Type{ft}, i, cel.UnaryBinding(hoursSinceExposure))),
		cel.Function("max_risk_level", noGuard,
			cel.Overload("max_risk_level_int", []*cel.Type{ft, i}, s, cel.BinaryBinding(maxRiskLevel))),
		cel.Function("visited_risk", noGuard,
			cel.Overload("visited_risk_string_int", []*cel.Type{ft, s, i}, b, cel.FunctionBinding(visitedRisk))),
		cel.Function("risk_level", noGuard,
			cel.Overload("risk_level_string", []*cel.Type{ft, s}, s, cel.BinaryBinding(riskLevel))),
		cel.Function("has_flag", noGuard,
			cel.Overload("has_flag_string", []*cel.Type{ft, s}, b, cel.BinaryBinding(hasFlag))),
	}
	var macros []cel.Macro
	for _, d := range domainArity {
		name := d.name
		macros = append(macros, cel.GlobalMacro(name, d.arity,
			func(eh parser.ExprHelper, _ ast.Expr, args []ast.Expr) (ast.Expr, *cel.Error) {
				if len(args) == 2 && (name == "positive_within" || name == "negative_within") {
					if v, ok := literalString(args[1]); ok {
						switch v {
						case "pcr":
							return eh.NewCall(name, eh.NewIdent(factsPCRVar), args[0]), nil
						case "antigen":
							return eh.NewCall(name, eh.NewIdent(factsAntigenVar), args[0]), nil
						}
					}
				}
				full := make([]ast.Expr, 0, len(args)+1)
				full = append(full, eh.NewIdent(factsVar))
				full = append(full, args...)
				return eh.NewCall(name, full...), nil
			}))
	}
	return append(opts, cel.Macros(macros...))
}

func literalString(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// healthCostOptions declares the worst-case cost of each domain function for
// the static estimate: a scan of the list it reads.
func healthCostOptions(sizes map[string]uint64) []cost.Option {
	scan := func(list string) cost.FunctionEstimator {
		n := sizes[list] + 1
		return func(cost.Estimator, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
			return &cost.CallEstimate{CostEstimate: cost.FixedCostEstimate(n)}
		}
	}
	byList := map[string][]string{
		"tests":        {"positive_within_int", "positive_within_int_string", "negative_within_int", "negative_within_int_string", "negatives_within_int", "hours_since_last_negative_"},
		"travel":       {"visited_risk_string_int"},
		"manual_flags": {"has_flag_string"},
	}
	var opts []cost.Option
	for list, ids := range byList {
		for _, id := range ids {
			opts = append(opts, cost.OverloadCostEstimate(id, scan(list)))
		}
	}
	opts = append(opts, cost.OverloadCostEstimate("hours_since_exposure_", func(cost.Estimator, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
		return &cost.CallEstimate{CostEstimate: cost.FixedCostEstimate(3)}
	}))
	// The level names are at most six bytes long.
	levelSize := &cost.SizeEstimate{Min: 3, Max: 6}
	opts = append(opts, cost.OverloadCostEstimate("risk_level_string", func(cost.Estimator, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
		return &cost.CallEstimate{CostEstimate: cost.FixedCostEstimate(3), ResultSize: levelSize}
	}))
	travel := sizes["travel"] + 1
	opts = append(opts, cost.OverloadCostEstimate("max_risk_level_int", func(cost.Estimator, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
		return &cost.CallEstimate{CostEstimate: cost.FixedCostEstimate(travel), ResultSize: levelSize}
	}))
	return opts
}

// cleanMessage hides the facts handle from checker messages about the domain
// functions: "(rules.facts, string)" reads "(string)".
func cleanMessage(msg string) string {
	msg = strings.ReplaceAll(msg, "(rules.facts, ", "(")
	return strings.ReplaceAll(msg, "(rules.facts)", "()")
}

func actOf(v ref.Val) (*activation, ref.Val) {
	fv, ok := v.(*factsVal)
	if !ok || fv.a.facts == nil {
		return nil, types.NewErr("rules: domain functions need health facts")
	}
	return fv.a, nil
}

func handleKind(v ref.Val) int {
	if fv, ok := v.(*factsVal); ok {
		return fv.kind
	}
	return kindAny
}

func hoursArg(v ref.Val) (int64, ref.Val) {
	h, ok := v.(types.Int)
	if !ok {
		return 0, types.MaybeNoSuchOverloadErr(v)
	}
	if h < 0 {
		return 0, types.NewErr("rules: negative duration %d", int64(h))
	}
	return min(int64(h), maxHours), nil
}

// kind indexes of the test summary.
const (
	kindAny = iota
	kindPCR
	kindAntigen
	kindOther
	nKinds
)

func kindIndex(k string) int {
	switch k {
	case "pcr":
		return kindPCR
	case "antigen":
		return kindAntigen
	}
	return kindOther
}

func testWithin(fv, hv, kv ref.Val, positive bool) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	h, errv := hoursArg(hv)
	if errv != nil {
		return errv
	}
	k := handleKind(fv)
	if kv != nil {
		ks, ok := kv.(types.String)
		if !ok {
			return types.MaybeNoSuchOverloadErr(kv)
		}
		k = kindIndex(string(ks))
	}
	return types.Bool(a.testWithin(h, k, positive))
}

// testWithin reports whether a test of the kind with the result was sampled
// in the last h hours.
func (a *activation) testWithin(h int64, k int, positive bool) bool {
	a.summariseTests()
	latest := a.latestNeg[k]
	if positive {
		latest = a.latestPos[k]
	}
	return latest != none && latest >= a.nowUnix-h*3600
}

func negativesWithin(fv, hv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	h, errv := hoursArg(hv)
	if errv != nil {
		return errv
	}
	return types.Int(a.negativesWithin(h))
}

func (a *activation) negativesWithin(h int64) int64 {
	cut := a.nowUnix - h*3600
	var n int64
	for i := range a.facts.Tests {
		t := &a.facts.Tests[i]
		if t.Positive || t.Sampled.IsZero() {
			continue
		}
		if s := t.Sampled.Unix(); s >= cut && s <= a.nowUnix {
			n++
		}
	}
	return n
}

func hoursSinceLastNegative(fv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	return types.Int(a.hoursSinceLastNegative())
}

func (a *activation) hoursSinceLastNegative() int64 {
	a.summariseTests()
	if a.latestNeg[kindAny] == none {
		return -1
	}
	return (a.nowUnix - a.latestNeg[kindAny]) / 3600
}

func hoursSinceExposure(fv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	return types.Int(a.hoursSinceExposure())
}

func (a *activation) hoursSinceExposure() int64 {
	t := a.facts.Contact.LastExposure
	if t.IsZero() || t.Unix() > a.nowUnix {
		return -1
	}
	return (a.nowUnix - t.Unix()) / 3600
}

func maxRiskLevel(fv, dv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	d, errv := hoursArg(dv)
	if errv != nil {
		return errv
	}
	return levelVals[a.maxLevelWithin(min(d*24, maxHours))]
}

func visitedRisk(args ...ref.Val) ref.Val {
	a, errv := actOf(args[0])
	if errv != nil {
		return errv
	}
	ls, ok := args[1].(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[1])
	}
	lvl, err := ParseRiskLevel(string(ls))
	if err != nil {
		return types.NewErr("rules: visited_risk: unknown level %q", string(ls))
	}
	d, errv := hoursArg(args[2])
	if errv != nil {
		return errv
	}
	if lvl == LevelNone {
		return types.True
	}
	return types.Bool(a.maxLevelWithin(min(d*24, maxHours)) >= lvl)
}

func riskLevel(fv, rv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	r, ok := rv.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(rv)
	}
	return levelVals[a.areas.Level(string(r))]
}

func hasFlag(fv, nv ref.Val) ref.Val {
	a, errv := actOf(fv)
	if errv != nil {
		return errv
	}
	n, ok := nv.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(nv)
	}
	return types.Bool(a.hasFlag(string(n)))
}

func (a *activation) hasFlag(name string) bool {
	for _, f := range a.facts.ManualFlags {
		if f == name {
			return true
		}
	}
	return false
}

// none marks "no such event" in the per-evaluation summaries.
const none = math.MinInt64

// summariseTests computes, once per evaluation, the latest sampling time of
// positive and negative tests by kind, ignoring tests sampled after now.
func (a *activation) summariseTests() {
	if a.testsDone {
		return
	}
	a.testsDone = true
	for k := range nKinds {
		a.latestPos[k], a.latestNeg[k] = none, none
	}
	for i := range a.facts.Tests {
		t := &a.facts.Tests[i]
		if t.Sampled.IsZero() {
			continue
		}
		s := t.Sampled.Unix()
		if s > a.nowUnix {
			continue
		}
		dst := &a.latestNeg
		if t.Positive {
			dst = &a.latestPos
		}
		k := kindIndex(t.Kind)
		dst[k] = max(dst[k], s)
		dst[kindAny] = max(dst[kindAny], s)
	}
}

// maxLevelWithin returns the highest current risk level among the regions
// visited in the last h hours. Designations apply to earlier visits too, as
// in the 2022 protocols: a visit three days before an area turned high-risk
// counts.
func (a *activation) maxLevelWithin(h int64) RiskLevel {
	if !a.travelDone {
		a.travelDone = true
		a.latestVisit = [4]int64{none, none, none, none}
		if a.areas.Len() > 0 {
			for i := range a.facts.Travel {
				v := &a.facts.Travel[i]
				code, ok := regionCode(v.Region)
				if !ok {
					continue
				}
				t := v.Time.Unix()
				if t > a.nowUnix {
					continue
				}
				if l := a.areas.level(code); l > LevelNone {
					a.latestVisit[l] = max(a.latestVisit[l], t)
				}
			}
		}
	}
	cut := a.nowUnix - h*3600
	for l := LevelHigh; l > LevelNone; l-- {
		if a.latestVisit[l] != none && a.latestVisit[l] >= cut {
			return l
		}
	}
	return LevelNone
}

// activation resolves the variables of one evaluation. The health schema
// reads a *Facts field by field with no map; a custom schema reads vars.
// Derived values are computed on first use and kept until reset.
type activation struct {
	env     *Env
	facts   *Facts
	vars    map[string]any
	areas   *RiskAreas
	now     time.Time
	nowUnix int64
	hv      factsVal // handles for factsVar, factsPCRVar, factsAntigenVar
	hvPCR   factsVal
	hvAg    factsVal

	nowVal      ref.Val
	testsDone   bool
	latestPos   [nKinds]int64
	latestNeg   [nKinds]int64
	travelDone  bool
	latestVisit [4]int64
}

func (a *activation) resetFacts(f *Facts, areas *RiskAreas) {
	a.facts, a.vars, a.areas = f, nil, areas
	a.setNow(f.Now)
}

func (a *activation) resetVars(vars map[string]any, now time.Time) {
	a.facts, a.vars, a.areas = nil, vars, nil
	a.setNow(now)
}

// clear drops the references to the caller's input before the evaluator
// goes back to its pool.
func (a *activation) clear() {
	a.facts, a.vars, a.areas, a.nowVal = nil, nil, nil, nil
}

func (a *activation) setNow(now time.Time) {
	a.now, a.nowUnix = now, now.Unix()
	a.nowVal = nil
	a.testsDone, a.travelDone = false, false
}

func (a *activation) ResolveName(name string) (any, bool) {
	if a.facts == nil {
		if name == "now" {
			return a.nowValue(), true
		}
		v, ok := a.vars[name]
		return v, ok
	}
	f := a.facts
	switch name {
	case factsVar:
		return &a.hv, true
	case factsPCRVar:
		return &a.hvPCR, true
	case factsAntigenVar:
		return &a.hvAg, true
	case "now":
		return a.nowValue(), true
	case "tests":
		return f.Tests, true
	case "travel":
		return f.Travel, true
	case "contact_kind":
		return stringVal(f.Contact.Kind), true
	case "contact_last_exposure":
		return types.Timestamp{Time: f.Contact.LastExposure}, true
	case "contact_identified":
		return types.Timestamp{Time: f.Contact.Identified}, true
	case "vaccine_doses":
		return types.Int(f.VaccineDoses), true
	case "entry_status":
		return stringVal(f.EntryStatus), true
	case "manual_flags":
		if f.ManualFlags == nil {
			return []string{}, true
		}
		return f.ManualFlags, true
	}
	return nil, false
}

func (a *activation) nowValue() ref.Val {
	if a.nowVal == nil {
		a.nowVal = types.Timestamp{Time: a.now}
	}
	return a.nowVal
}

func (a *activation) Parent() cel.Activation { return nil }
