package rules

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// exprGen draws random boolean rules over the health schema, mostly inside
// the native subset and sometimes outside it.
type exprGen struct{ r *rand.Rand }

func (g exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g exprGen) hours() string {
	if g.r.IntN(4) == 0 {
		return fmt.Sprintf("%d * 24", g.r.IntN(15)) // folded to a literal
	}
	return fmt.Sprint(g.r.IntN(400))
}

func (g exprGen) intExpr(depth int) string {
	switch g.r.IntN(7) {
	case 0:
		return fmt.Sprint(g.r.IntN(400) - 5)
	case 1:
		return "vaccine_doses"
	case 2:
		return "negatives_within(" + g.hours() + ")"
	case 3:
		return "hours_since_last_negative()"
	case 4:
		return "hours_since_exposure()"
	case 5:
		return "size(tests)" // interpreted
	default:
		return fmt.Sprintf("(%s + %d)", g.intExpr(depth+1), g.r.IntN(3)) // arithmetic: interpreted
	}
}

func (g exprGen) strExpr() string {
	switch g.r.IntN(6) {
	case 0:
		return fmt.Sprintf("%q", g.pick("close", "secondary", "", "pending", "cleared", "high", "medium", "low", "none", "a"))
	case 1:
		return "contact_kind"
	case 2:
		return "entry_status"
	case 3:
		return "max_risk_level(" + fmt.Sprint(g.r.IntN(16)) + ")"
	case 4:
		return fmt.Sprintf("risk_level(%q)", g.pick("510104", "510105", "440304", "650102", "110101", "x"))
	default:
		return fmt.Sprintf("risk_level(%s)", g.pick("contact_kind", `"5101" + "04"`)) // interpreted
	}
}

func (g exprGen) boolExpr(depth int) string {
	n := 12
	if depth > 3 {
		n = 7 // leaves only
	}
	switch g.r.IntN(n) {
	case 0:
		return g.pick("true", "false")
	case 1:
		return fmt.Sprintf("has_flag(%q)", g.pick("manual_red", "isolation", "fever_clinic", "nope"))
	case 2:
		return fmt.Sprintf("%s(%s)", g.pick("positive_within", "negative_within"), g.hours())
	case 3:
		return fmt.Sprintf("%s(%s, %q)", g.pick("positive_within", "negative_within"), g.hours(), g.pick("pcr", "antigen", "other"))
	case 4:
		return fmt.Sprintf("visited_risk(%q, %d)", g.pick("none", "low", "medium", "high"), g.r.IntN(16))
	case 5:
		return fmt.Sprintf("%s %s %s", g.intExpr(depth+1), g.pick("==", "!=", "<", "<=", ">", ">="), g.intExpr(depth+1))
	case 6:
		return fmt.Sprintf("%s %s %s", g.strExpr(), g.pick("==", "!=", "<", "<=", ">", ">="), g.strExpr())
	case 7:
		return "!(" + g.boolExpr(depth+1) + ")"
	case 8, 9:
		return fmt.Sprintf("(%s %s %s)", g.boolExpr(depth+1), g.pick("&&", "||"), g.boolExpr(depth+1))
	case 10:
		return fmt.Sprintf("(%s) %s (%s)", g.boolExpr(depth+1), g.pick("==", "!="), g.boolExpr(depth+1))
	default:
		return g.pick(`"manual_red" in manual_flags`, `tests.exists(t, t.positive)`, `now - contact_last_exposure < duration("72h")`)
	}
}

// TestNativeMatchesInterpreter checks the native plan against the CEL
// interpreter on random rules and random people: same match, same errors.
func TestNativeMatchesInterpreter(t *testing.T) {
	nat, err := NewEnv()
	require.NoError(t, err)
	interp, err := NewEnv(NativePlan(false))
	require.NoError(t, err)
	areas, err := NewRiskAreas("n", []RiskArea{{Region: "510104", Level: "high"}, {Region: "510105", Level: "medium"}, {Region: "440300", Level: "medium"}, {Region: "650000", Level: "low"}})
	require.NoError(t, err)
	regions := []string{"510104", "510105", "440304", "650102", "110101"}
	r := rand.New(rand.NewPCG(4, 2))
	g := exprGen{r: r}
	now := time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC)
	var people []Facts
	for range 150 {
		people = append(people, randomFacts(r, now, regions))
	}
	plans := map[Plan]int{}
	ctx := context.Background()
	for i := range 400 {
		when := g.boolExpr(0)
		rs := &RuleSet{ID: "n", Version: "1", Rules: []Rule{{ID: "r", When: when, Colour: Red}}}
		a, errA := nat.Compile(rs)
		b, errB := interp.Compile(rs)
		require.Equal(t, fmt.Sprint(errB), fmt.Sprint(errA), when)
		if errA != nil {
			plans["rejected"]++
			continue
		}
		p, _ := a.Plan("r")
		plans[p]++
		bp, _ := b.Plan("r")
		require.NotEqual(t, PlanNative, bp)
		for k := range people {
			da, errA := a.Evaluate(ctx, &people[k], areas)
			db, errB := b.Evaluate(ctx, &people[k], areas)
			require.Equal(t, errB == nil, errA == nil, "rule %d %q person %d: %v / %v", i, when, k, errA, errB)
			require.Equal(t, db.Colour, da.Colour, "rule %d %q (plan %s) person %d", i, when, p, k)
		}
	}
	t.Logf("plans: %v", plans)
	// Both plans must be well represented, or the comparison proves little.
	require.Greater(t, plans[PlanNative], 130, "%v", plans)
	require.Greater(t, plans[PlanInterpreted]+plans[PlanBounded], 65, "%v", plans)
	require.Less(t, plans["rejected"], 40, "%v", plans)
}

func TestDefaultSetIsNative(t *testing.T) {
	c := defaultCompiled(t)
	for _, r := range c.RuleSet().Rules {
		p, ok := c.Plan(r.ID)
		require.True(t, ok)
		require.Equal(t, PlanNative, p, r.ID)
	}
	_, ok := c.Plan("nope")
	require.False(t, ok)
}
