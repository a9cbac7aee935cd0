package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// problems compiles src with the default Env and returns its problems.
func problems(t *testing.T, src string) []Problem {
	t.Helper()
	env, err := NewEnv()
	require.NoError(t, err)
	c, err := env.CompileYAML("set.yaml", []byte(src))
	require.Nil(t, c)
	var ce *CompileError
	require.ErrorAs(t, err, &ce, "want a *CompileError, got %v", err)
	require.NotEmpty(t, ce.Problems)
	return ce.Problems
}

func TestLoadProblemsHavePositions(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []Problem // File is always set.yaml; Msg is matched as a substring
	}{
		{
			name: "unknown and repeated fields, bad times, bad priority",
			src: `id: s
version: "1"
effective_from: yesterday
colour_scheme: x
rules:
  - id: a
    when: "true"
    colour: red
    priority: high
    valid_from: 2022-13-01T00:00:00Z
    colour: red
`,
			want: []Problem{
				{Line: 3, Column: 17, Field: "effective_from", Msg: `"yesterday" is not an RFC 3339 time`, Err: ErrBadTime},
				{Line: 4, Column: 1, Field: "colour_scheme", Msg: `unknown field "colour_scheme" in rule set`, Err: ErrUnknownField},
				{Line: 9, Column: 15, RuleID: "a", Field: "priority", Msg: `priority "high" is not a 32-bit integer`, Err: ErrBadValue},
				{Line: 10, Column: 17, RuleID: "a", Field: "valid_from", Msg: "not an RFC 3339 time", Err: ErrBadTime},
				{Line: 11, Column: 5, RuleID: "a", Field: "colour", Msg: `field "colour" repeated`, Err: ErrDuplicate},
			},
		},
		{
			name: "wrong shapes",
			src: `id: [s]
version: "1"
rules: {a: 1}
`,
			want: []Problem{
				{Line: 1, Column: 5, Field: "id", Msg: "want a string, got a list", Err: ErrSyntax},
				{Line: 3, Column: 8, Field: "rules", Msg: "want a list of rules, got a mapping", Err: ErrSyntax},
			},
		},
		{
			name: "yaml syntax",
			src:  "id: s\nversion: \"1\nrules: []\n",
			want: []Problem{{Line: 2, Msg: "found unexpected end of stream", Err: ErrSyntax}},
		},
		{
			name: "empty",
			src:  "",
			want: []Problem{{Msg: "empty document", Err: ErrSyntax}},
		},
		{
			name: "two documents",
			src:  "id: s\nversion: \"1\"\nrules: []\n---\nid: t\n",
			want: []Problem{{Line: 4, Column: 1, Msg: "more than one document", Err: ErrSyntax}},
		},
		{
			name: "rule not a mapping",
			src:  "id: s\nversion: \"1\"\nrules:\n  - just text\n",
			want: []Problem{{Line: 4, Column: 5, Field: "rules[0]", Msg: "want a mapping, got a scalar", Err: ErrSyntax}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.src)
			require.Len(t, got, len(tc.want), "%v", got)
			for i, w := range tc.want {
				g := got[i]
				require.Equal(t, "set.yaml", g.File)
				require.Equal(t, w.Line, g.Line, "problem %d: %s", i, g)
				if w.Column != 0 {
					require.Equal(t, w.Column, g.Column, "problem %d: %s", i, g)
				}
				require.Equal(t, w.RuleID, g.RuleID, "problem %d: %s", i, g)
				require.Equal(t, w.Field, g.Field, "problem %d: %s", i, g)
				require.Contains(t, g.Msg, w.Msg, "problem %d", i)
				require.ErrorIs(t, g.Err, w.Err, "problem %d: %s", i, g)
			}
		})
	}
}

func TestCompileCollectsEveryProblem(t *testing.T) {
	src := `id: s
version: "1"
default: blue
rules:
  - id: a
    when: positive_within("x") && nope
    colour: red
  - id: a
    when: vaccine_doses
    colour: purple
  - id: c
    when: |
      contact_kind == "close"
        && tests.exists(t, t.kindx == "pcr")
    colour: yellow
  - id: d
    when: 'has_flag("x") &&'
    colour: red
  - id: e
    colour: red
  - id: f
    when: "true"
    colour: red
    valid_from: 2022-09-02T00:00:00Z
    valid_until: 2022-09-01T00:00:00Z
  - id: g
    when: "tests.all(a, tests.all(b, tests.all(c, a.sampled < c.sampled)))"
    colour: red
`
	got := problems(t, src)
	type want struct {
		line, col       int
		rule, field     string
		exprLine, exprC int
		msg             string
		err             error
	}
	wants := []want{
		{3, 10, "", "default", 0, 0, `unknown default colour "blue"`, ErrBadColour},
		{6, 26, "a", "when", 1, 16, "found no matching overload for 'positive_within' applied to '(string)'", ErrExpression},
		{6, 35, "a", "when", 1, 25, "undeclared reference to 'nope'", ErrExpression},
		{8, 9, "a", "id", 0, 0, "duplicate rule id (first used by rule 1)", ErrDuplicate},
		{9, 11, "a", "when", 1, 1, "when must be boolean, it is int", ErrExpression},
		{10, 13, "a", "colour", 0, 0, `unknown colour "purple" (known: green, yellow, red)`, ErrBadColour},
		{14, 29, "c", "when", 2, 23, "undefined field 'kindx'", ErrExpression},
		{17, 28, "d", "when", 1, 17, "Syntax error", ErrExpression},
		{19, 5, "e", "when", 0, 0, "when expression is missing", ErrMissingField},
		{25, 18, "f", "valid_until", 0, 0, "is not after valid_from", ErrBadTime},
		{27, 11, "g", "when", 0, 0, "exceeds the budget of 10000", ErrCostBudget},
	}
	require.Len(t, got, len(wants), "%v", got)
	for i, w := range wants {
		g := got[i]
		require.Equal(t, w.line, g.Line, "problem %d: %s", i, g)
		require.Equal(t, w.col, g.Column, "problem %d: %s", i, g)
		require.Equal(t, w.rule, g.RuleID, "problem %d: %s", i, g)
		require.Equal(t, w.field, g.Field, "problem %d: %s", i, g)
		require.Equal(t, w.exprLine, g.ExprLine, "problem %d: %s", i, g)
		require.Equal(t, w.exprC, g.ExprColumn, "problem %d: %s", i, g)
		require.Contains(t, g.Msg, w.msg, "problem %d", i)
		require.ErrorIs(t, g.Err, w.err, "problem %d", i)
	}
	// The error as a whole wraps every sentinel and names positions.
	env, _ := NewEnv()
	_, err := env.CompileYAML("set.yaml", []byte(src))
	for _, s := range []error{ErrBadColour, ErrExpression, ErrDuplicate, ErrMissingField, ErrBadTime, ErrCostBudget} {
		require.True(t, errors.Is(err, s), "errors.Is %v", s)
	}
	require.False(t, errors.Is(err, ErrSyntax))
	require.Contains(t, err.Error(), `set.yaml:6:35: rule "a" when 1:25: undeclared reference to 'nope'`)
	require.True(t, strings.HasPrefix(err.Error(), "rules: 11 problem(s)"))
}

func TestJSONRuleSetAndGoBuiltProblems(t *testing.T) {
	src := `{"id": "j", "version": "2", "effective_from": "2022-09-01T00:00:00+08:00",
 "rules": [{"id": "r", "when": "entry_status == 'pending' && nope", "colour": "yellow", "priority": 3}]}`
	got := problems(t, src)
	require.Len(t, got, 1)
	require.Equal(t, 2, got[0].Line)
	require.Equal(t, 33+29, got[0].Column) // the expression starts after the quote at column 32
	require.Equal(t, 30, got[0].ExprColumn)

	rs, err := ParseRuleSet("ok.json", []byte(strings.Replace(src, " && nope", "", 1)))
	require.NoError(t, err)
	require.Equal(t, time.Date(2022, 9, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600)).Unix(), rs.EffectiveFrom.Unix())
	require.Equal(t, 3, rs.Rules[0].Priority)

	// A set built in Go has no file positions, only expression positions.
	env, err := NewEnv()
	require.NoError(t, err)
	_, err = env.Compile(&RuleSet{ID: "go", Version: "1", Rules: []Rule{{ID: "x", When: "true && nope", Colour: Red}}})
	var ce *CompileError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, Problem{RuleID: "x", Field: "when", ExprLine: 1, ExprColumn: 9, Msg: "undeclared reference to 'nope'", Err: ErrExpression}, ce.Problems[0])
	require.Equal(t, `rule "x" when 1:9: undeclared reference to 'nope'`, ce.Problems[0].String())
	_, err = env.Compile(nil)
	require.ErrorIs(t, err, ErrMissingField)
	_, err = env.Compile(&RuleSet{Rules: []Rule{{When: "true", Colour: Red}, {ID: "has space", When: "true", Colour: Red}}})
	require.ErrorIs(t, err, ErrMissingField)
	require.ErrorIs(t, err, ErrBadValue)
	require.ErrorContains(t, err, "rule set id is missing")
	require.ErrorContains(t, err, "rule set version is missing")
	require.ErrorContains(t, err, "rule 1 has no id")
}

func TestMaxRules(t *testing.T) {
	env, err := NewEnv(MaxRules(2))
	require.NoError(t, err)
	rs := &RuleSet{ID: "s", Version: "1"}
	for _, id := range []string{"a", "b", "c"} {
		rs.Rules = append(rs.Rules, Rule{ID: id, When: "true", Colour: Red})
	}
	_, err = env.Compile(rs)
	require.ErrorIs(t, err, ErrBadValue)
	require.ErrorContains(t, err, "3 rules, more than the limit of 2")
}

func TestDefaultRuleSetShape(t *testing.T) {
	rs, err := DefaultRuleSet()
	require.NoError(t, err)
	require.Len(t, rs.Rules, 20)
	for _, r := range rs.Rules {
		require.NotEmpty(t, r.Reason, r.ID)
		require.NotEmpty(t, r.LegalBasis, r.ID)
	}
	require.Equal(t, len(oracleRules), len(rs.Rules))
	for i, r := range rs.Rules {
		require.Equal(t, oracleRules[i].id, r.ID)
		require.Equal(t, oracleRules[i].colour, r.Colour)
		require.Equal(t, oracleRules[i].priority, r.Priority)
	}
	b := DefaultRuleSetYAML()
	b[0] = 'X'
	require.NotEqual(t, b[0], DefaultRuleSetYAML()[0], "the embedded source must not be shared")
}
