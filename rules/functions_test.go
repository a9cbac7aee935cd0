package rules

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// evalExpr compiles a one-rule set around expr and returns the explained
// value of the rule (or its error).
func evalExpr(t *testing.T, env *Env, expr string, f *Facts, areas *RiskAreas) (string, error) {
	t.Helper()
	c, err := env.Compile(&RuleSet{ID: "t", Version: "1", Rules: []Rule{{ID: "r", When: expr, Colour: Red}}})
	require.NoError(t, err, expr)
	x, err := c.Explain(context.Background(), f, areas)
	if err != nil {
		return "", err
	}
	return x.Rules[0].Value, nil
}

func TestDomainFunctions(t *testing.T) {
	env, err := NewEnv()
	require.NoError(t, err)
	h := func(n int) time.Time { return t0.Add(-time.Duration(n) * time.Hour) }
	f := &Facts{
		Now: t0,
		Tests: []Test{
			{Kind: "pcr", Positive: false, Sampled: h(30)},
			{Kind: "antigen", Positive: true, Sampled: h(5)},
			{Kind: "pcr", Positive: false, Sampled: h(70)},
			{Kind: "pcr", Positive: true, Sampled: h(-2)}, // sampled in the future: ignored
			{Kind: "other", Positive: false, Sampled: h(1)},
		},
		Travel: []Visit{
			{Region: "510104", Time: h(24 * 2)},  // high county
			{Region: "440304", Time: h(24 * 5)},  // county of a medium city
			{Region: "650102", Time: h(24 * 10)}, // county of a low province
			{Region: "x", Time: h(1)},            // not a code
		},
		Contact:     Contact{Kind: "close", LastExposure: h(50)},
		ManualFlags: []string{"fever_clinic"},
	}
	areas, err := NewRiskAreas("v1", []RiskArea{{Region: "510104", Level: "high"}, {Region: "440300", Level: "medium"}, {Region: "650000", Level: "low"}})
	require.NoError(t, err)
	for _, tc := range []struct {
		expr, want string
	}{
		{"positive_within(5)", "true"},
		{"positive_within(4)", "false"},
		{`positive_within(5, "antigen")`, "true"},
		{`positive_within(100, "pcr")`, "false"}, // the future positive does not count
		{`positive_within(5, ["antigen"][0])`, "true"},
		{"negative_within(1)", "true"}, // the "other" kind counts for any kind
		{`negative_within(29, "pcr")`, "false"},
		{`negative_within(30, "pcr")`, "true"},
		{`negative_within(30, "antigen")`, "false"},
		{"negatives_within(30)", "2"},
		{"negatives_within(72)", "3"},
		{"hours_since_last_negative()", "1"},
		{"hours_since_exposure()", "50"},
		{"max_risk_level(1)", "none"},
		{"max_risk_level(2)", "high"},
		{"max_risk_level(14)", "high"},
		{`visited_risk("medium", 5)`, "true"},
		{`visited_risk("medium", 4)`, "true"}, // the high county counts as at least medium
		{`visited_risk("medium", 1)`, "false"},
		{`visited_risk("low", 10)`, "true"},
		{`visited_risk("high", 1)`, "false"},
		{`visited_risk("none", 0)`, "true"},
		{`risk_level("440399")`, "medium"},
		{`risk_level("510104")`, "high"},
		{`risk_level("650102")`, "low"},
		{`risk_level("110101")`, "none"},
		{`has_flag("fever_clinic")`, "true"},
		{`has_flag("manual_red")`, "false"},
		{`tests.exists(t, t.kind == "antigen" && t.positive && now - t.sampled == duration("5h"))`, "true"},
		{`travel.filter(v, risk_level(v.region) == "high").size() == 1`, "true"},
		{`size(manual_flags) == 1 && contact_kind == "close" && vaccine_doses == 0 && entry_status == ""`, "true"},
		{`contact_last_exposure == now - duration("50h") && contact_identified == timestamp("0001-01-01T00:00:00Z")`, "true"},
	} {
		c, err := env.Compile(&RuleSet{ID: "t", Version: "1", Rules: []Rule{{ID: "r", When: fmt.Sprintf("string(%s) == %q", tc.expr, tc.want), Colour: Red}}})
		require.NoError(t, err, tc.expr)
		d, err := c.Evaluate(context.Background(), f, areas)
		require.NoError(t, err, tc.expr)
		require.Equal(t, Red, d.Colour, "%s should be %s", tc.expr, tc.want)
	}

	// No risk areas: nothing is risky.
	got, err := evalExpr(t, env, `max_risk_level(14) == "none"`, f, nil)
	require.NoError(t, err)
	require.Equal(t, "true", got)

	// Nothing on record.
	empty := &Facts{Now: t0}
	for _, expr := range []string{"hours_since_last_negative() == -1", "hours_since_exposure() == -1", "!positive_within(100000000)", "!has_flag(\"x\")"} {
		got, err := evalExpr(t, env, expr, empty, areas)
		require.NoError(t, err, expr)
		require.Equal(t, "true", got, expr)
	}

	// Bad arguments are runtime errors.
	for _, expr := range []string{`visited_risk("severe", 3)`, "positive_within(-1)", "max_risk_level(-2) == 'x'"} {
		_, err := evalExpr(t, env, expr, f, areas)
		require.ErrorIs(t, err, ErrEval, expr)
	}
}

func TestRiskAreas(t *testing.T) {
	for _, tc := range []struct {
		areas []RiskArea
		err   string
	}{
		{[]RiskArea{{Region: "51010", Level: "high"}}, `risk area 0: region "51010" is not a six-digit code`},
		{[]RiskArea{{Region: "510104", Level: "high"}, {Region: "51010a", Level: "low"}}, "risk area 1"},
		{[]RiskArea{{Region: "510104", Level: "severe"}}, `unknown risk level "severe"`},
	} {
		_, err := NewRiskAreas("v", tc.areas)
		require.ErrorIs(t, err, ErrBadRiskArea)
		require.ErrorContains(t, err, tc.err)
	}
	a, err := NewRiskAreas("v2", []RiskArea{{Region: "510104", Level: "low"}, {Region: "510104", Level: "high"}, {Region: "510104", Level: "medium"}})
	require.NoError(t, err)
	require.Equal(t, LevelHigh, a.Level("510104"), "a region listed twice keeps its highest level")
	require.Equal(t, 1, a.Len())
	require.Equal(t, "v2", a.Version())
	var none *RiskAreas
	require.Equal(t, LevelNone, none.Level("510104"))
	require.Equal(t, "", none.Version())
	require.Equal(t, "medium", LevelMedium.String())
	require.Equal(t, "RiskLevel(9)", RiskLevel(9).String())
}
