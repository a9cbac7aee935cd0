package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseRuleSet feeds arbitrary documents to the loader and compiler:
// they must not panic, and a failure must be a *CompileError whose problems
// all carry a sentinel and positions inside the document.
func FuzzParseRuleSet(f *testing.F) {
	f.Add(DefaultRuleSetYAML())
	f.Add([]byte(`{"id": "j", "version": "2", "rules": [{"id": "r", "when": "entry_status == 'pending'", "colour": "yellow"}]}`))
	f.Add([]byte("id: s\nversion: 1\nrules:\n  - id: a\n    when: |\n      has_flag(\"x\") &&\n        nope\n    colour: red\n"))
	f.Add([]byte("id: &a s\nversion: *a\nrules: []\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("id: s\nversion: \"1\"\nrules:\n  - id: a\n    when: \"x\\u0041\"\n    colour: red\n"))
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		c, err := env.CompileYAML("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatal("both a set and an error")
			}
			var ce *CompileError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("want a *CompileError with problems, got %T %v", err, err)
			}
			for _, p := range ce.Problems {
				if p.Err == nil || p.Msg == "" {
					t.Fatalf("problem without sentinel or message: %+v", p)
				}
				if p.Line < 0 || p.Line > lines+1 || p.Column < 0 { // yaml.v3 may point just past the end
					t.Fatalf("position outside the document (%d lines): %+v", lines, p)
				}
			}
			if !strings.HasPrefix(err.Error(), "rules: ") {
				t.Fatalf("message must start with rules: %q", err)
			}
			return
		}
		// What compiles must evaluate without panicking.
		_, _ = c.Evaluate(context.Background(), &Facts{Now: time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC)}, nil)
	})
}

// FuzzCompileWhen compiles arbitrary expressions as a rule's `when`,
// evaluates what compiles against a fixed person, and checks that the
// native plan and the interpreter agree.
func FuzzCompileWhen(f *testing.F) {
	rs, err := DefaultRuleSet()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range rs.Rules {
		f.Add(r.When)
	}
	for _, s := range []string{
		"tests.exists(t, t.positive)", `visited_risk("high", 7)`, "1 / 0 == 1", "positive_within(", `"a" + "b" == "ab"`,
		"travel.map(v, risk_level(v.region)).exists(l, l == 'high')", "[1,2,3].all(x, x > 0)",
		"has_flag(manual_flags[0])", "hours_since_last_negative() > 9223372036854775807",
		"now > timestamp('2022-01-01T00:00:00Z')", "dyn(1) == 'x'", "positive_within(dyn('x'))",
	} {
		f.Add(s)
	}
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	interp, err := NewEnv(NativePlan(false))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC)
	facts := &Facts{
		Now:         now,
		Tests:       []Test{{Kind: "pcr", Positive: true, Sampled: now.Add(-time.Hour)}},
		Travel:      []Visit{{Region: "510104", Time: now.Add(-time.Hour)}},
		Contact:     Contact{Kind: "close", LastExposure: now.Add(-time.Hour)},
		ManualFlags: []string{"x"},
	}
	areas, err := NewRiskAreas("f", []RiskArea{{Region: "510104", Level: "high"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, when string) {
		c, err := env.Compile(&RuleSet{ID: "f", Version: "1", Rules: []Rule{{ID: "r", When: when, Colour: Red}}})
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("want a *CompileError, got %T %v", err, err)
			}
			for _, p := range ce.Problems {
				if p.RuleID != "r" && p.Err != ErrMissingField {
					t.Fatalf("problem does not name the rule: %+v", p)
				}
			}
			return
		}
		d, err := c.Evaluate(context.Background(), facts, areas)
		if err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) || ee.RuleID != "r" || !errors.Is(err, ErrEval) {
				t.Fatalf("runtime error must be an *EvalError naming the rule: %T %v", err, err)
			}
		}
		ci, err2 := interp.Compile(&RuleSet{ID: "f", Version: "1", Rules: []Rule{{ID: "r", When: when, Colour: Red}}})
		if err2 != nil {
			t.Fatalf("compiles with the native plan but not without: %v", err2)
		}
		di, err2 := ci.Evaluate(context.Background(), facts, areas)
		if (err == nil) != (err2 == nil) || d.Colour != di.Colour {
			p, _ := c.Plan("r")
			t.Fatalf("plans disagree on %q (%s): native %s %v, interpreter %s %v", when, p, d.Colour, err, di.Colour, err2)
		}
	})
}
