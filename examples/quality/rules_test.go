package quality

import (
	"errors"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/examples/internal/yamlcheck"
)

func TestParseRulesShipped(t *testing.T) {
	rules := loadRules(t)
	ru, ok := rules.Rule("sichuan-coding-daily")
	if !ok || !ru.Daily || ru.At.Hours() != 2 || ru.From != "2022-01-01" || ru.To != "2022-12-31" || len(ru.Checks) != 6 || ru.SampleLimit != 20 {
		t.Fatalf("rule = %+v", ru)
	}
	if got := ru.Path(Coded, day); got != "data/2022-06-14/coded.csv" {
		t.Errorf("Path = %q", got)
	}
	imp, _ := rules.Rule("sichuan-import")
	if imp.Daily || imp.To != "" || !imp.Valid("2030-01-01") || imp.Valid("2021-12-31") {
		t.Errorf("sichuan-import = %+v", imp)
	}
}

func TestParseRulesProblems(t *testing.T) {
	const bad = `rules:
  - name: Bad Name
    covers: x
    valid: {from: 2022-02-30, to: 2021-01-01}
    schedule: hourly
    columns: fr
    datasets:
      source: /abs/{date}.csv
      coded: data/{day}.csv
    key: [doc_number, colour]
    checks:
      - reconcile: [source, issued]
      - validate: coded
        required: [name]
        dataset: coded
      - format: {phone: email}
        dataset: coded
      - non_empty: [name]
      - frobnicate: coded
    sample_limit: -1
    extra: 1
`
	_, err := ParseRules("bad.yaml", []byte(bad))
	var re *RulesError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *RulesError", err)
	}
	want := []string{
		"bad.yaml:2:11: rules[0].name:",
		"bad.yaml:4:19: rules[0].valid.from:",
		"bad.yaml:5:15: rules[0].schedule:",
		"bad.yaml:6:14: rules[0].columns:",
		"bad.yaml:8:15: rules[0].datasets.source:",
		"bad.yaml:9:14: rules[0].datasets.coded:",
		"bad.yaml:10:23: rules[0].key[1]:",
		"bad.yaml:12:29: rules[0].checks[0].reconcile[1]:",
		"bad.yaml:15:9: rules[0].checks[1].dataset: unknown key",
		"bad.yaml:16:25: rules[0].checks[2].format.phone:",
		"bad.yaml:18:9: rules[0].checks[3].dataset: required",
		"bad.yaml:19:9: rules[0].checks[4]: no check",
		"bad.yaml:20:19: rules[0].sample_limit:",
		"bad.yaml:21:5: rules[0].extra: unknown key",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in\n%s", w, msg)
		}
	}
	for _, p := range re.Problems {
		if p.Line < 1 || p.Column < 1 || p.Msg == "" {
			t.Errorf("problem without position or message: %+v", p)
		}
	}
}

func TestParseRulesSmall(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "empty document"},
		{"syntax", "rules: [\n", "syntax"},
		{"no rules", "x: 1\n", "unknown key"},
		{"duplicate rule", "rules:\n- {name: a, covers: c, valid: {from: 2022-01-01}, datasets: {source: s.csv}, checks: [{validate: source}]}\n- {name: a, covers: c, valid: {from: 2022-01-01}, datasets: {source: s.csv}, checks: [{validate: source}]}\n", `rule "a" defined twice`},
		{"missing", "rules:\n- {name: a}\n", "rules[0].covers: required"},
		{"escape", "rules:\n- {name: a, covers: c, valid: {from: 2022-01-01}, datasets: {source: ../s.csv}, checks: [{validate: source}]}\n", "leaves the base"},
		{"alias", "rules:\n- &x {name: a}\n", "anchors and aliases"},
	} {
		_, err := ParseRules("f.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add([]byte("rules:\n- {name: a, covers: c, valid: {from: 2022-01-01}, datasets: {source: s.csv}, checks: [{validate: source}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules("f.yaml", data)
		if err != nil {
			var re *RulesError
			if !errors.As(err, &re) || len(re.Problems) == 0 {
				t.Fatalf("err = %v, want a *RulesError with problems", err)
			}
			for _, p := range re.Problems {
				if p.Line < 1 || p.Column < 1 {
					t.Fatalf("problem without a position: %+v", p)
				}
			}
			return
		}
		for _, ru := range rules.Rules {
			if !yamlcheck.ValidName(ru.Name) || !validDay(ru.From) || len(ru.Checks) == 0 || len(ru.Key) == 0 {
				t.Fatalf("accepted an invalid rule: %+v", ru)
			}
			for _, c := range ru.Checks {
				for _, ds := range c.Datasets {
					if ru.Path(ds, day) == "" {
						t.Fatalf("check %s names an undeclared dataset", c.Name())
					}
				}
			}
		}
	})
}
