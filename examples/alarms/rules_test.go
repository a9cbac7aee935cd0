package alarms

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

func parseFile(t testing.TB, name string) (*Rules, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ParseRules(name, data)
}

func mustParse(t testing.TB, src string) *Rules {
	t.Helper()
	r, err := ParseRules("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseRules:\n%v", err)
	}
	return r
}

func TestShippedRules(t *testing.T) {
	r, err := parseFile(t, "alarms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[Kind]int{}
	for _, x := range r.Rules {
		got[x.Kind]++
		if x.text == nil || x.Line == 0 {
			t.Errorf("rule %s: not compiled or no position", x.Name)
		}
	}
	for _, k := range kinds {
		if got[k] == 0 {
			t.Errorf("the shipped file has no %s rule", k)
		}
	}
	if len(r.Notifiers) != 2 || r.Notifiers[1].Headers["Authorization"] != "Bearer ${SMS_GATEWAY_TOKEN}" || r.Notifiers[0].Line != 11 || r.Notifiers[0].Column != 5 {
		t.Errorf("notifiers = %+v", r.Notifiers)
	}
	if time.Duration(r.Notifiers[0].Timeout) != 10*time.Second || r.Notifiers[1].Timeout != 0 {
		t.Errorf("timeouts: %v, %v", r.Notifiers[0].Timeout, r.Notifiers[1].Timeout)
	}
	h, _ := r.Rule("history-leak")
	if h.ResolveAfter != 30*time.Minute || h.Window != 10*time.Minute || h.Threshold != 20 {
		t.Errorf("history-leak = %+v", h)
	}
	b, _ := r.Rule("transcode-burst")
	if b.ResolveAfter != time.Minute {
		t.Errorf("resolve_after default: %v, want the window", b.ResolveAfter)
	}
	a, _ := r.Rule("code-anomaly")
	if len(a.Colours) != 2 || len(a.Dimensions) != 2 || a.ResolveAfter != DefaultAnomalyResolveAfter {
		t.Errorf("code-anomaly = %+v", a)
	}
	c, _ := r.Rule("refused-by-client")
	if c.By != "client" {
		t.Errorf("by = %q", c.By)
	}
}

// TestBadRules checks every problem of testdata/bad.yaml, with its
// position, against testdata/bad.golden (-rewrite to regenerate).
func TestBadRules(t *testing.T) {
	_, err := parseFile(t, "bad.yaml")
	var re *RulesError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RulesError", err)
	}
	got := err.Error() + "\n"
	golden := filepath.Join("testdata", "bad.golden")
	if *rewrite {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("problems differ from %s (-rewrite to accept):\ngot:\n%s", golden, got)
	}
	for _, p := range re.Problems {
		if p.Line <= 0 || p.Column <= 0 {
			t.Errorf("problem without a position: %+v", p)
		}
	}
}

func TestParseRulesProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error, in order
	}{
		{"empty", "", []string{"1:1: document: empty document"}},
		{"syntax", "rules:\n  - name: [\n", []string{"document: syntax:"}},
		{"not a mapping", "- a\n- b\n", []string{"1:1: document: expected a mapping"}},
		{"no rules", "notifiers: []\n", []string{"rules: required"}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"more than one document"}},
		{"alias", "x: &a 1\nrules: *a\n", []string{"1:1: x: unknown key", "2:8: rules: anchors and aliases"}},
		{"repeated key", "rules: []\nrules: []\n", []string{"2:1: rules: repeated key"}},
		{"rules not a list", "rules: {a: 1}\n", []string{"1:8: rules: expected a list"}},
		{"missing fields", "rules:\n  - name: x\n", []string{
			"2:5: rules[0].kind: required", "2:5: rules[0].severity: required"}},
		{"missing threshold", "rules:\n  - {name: x, kind: history_views, severity: info}\n", []string{
			"rules[0].threshold: required", "rules[0].window: required"}},
		{"wrong key for kind", "rules:\n  - {name: x, kind: anomaly, severity: info, by: client}\n", []string{
			"2:46: rules[0].by: not used by kind anomaly"}},
		{"threshold a list", "rules:\n  - {name: x, kind: history_views, severity: info, window: 1m, threshold: [1]}\n", []string{
			"rules[0].threshold: expected a whole number, got a list"}},
		{"threshold too big", "rules:\n  - {name: x, kind: history_views, severity: info, window: 1m, threshold: 1000001}\n", []string{
			"out of range 1..100000"}},
		{"window too long", "rules:\n  - {name: x, kind: history_views, severity: info, window: 25h, threshold: 5}\n", []string{
			"rules[0].window: 25h0m0s is out of range 1s..24h0m0s"}},
		{"negative duration", "rules:\n  - {name: x, kind: history_views, severity: info, window: -1m, threshold: 5}\n", []string{
			"out of range"}},
		{"text names a target", "rules:\n  - {name: x, kind: history_views, severity: info, window: 1m, threshold: 5, text: '{{.Target}}'}\n", []string{
			"rules[0].text:", "can't evaluate field Target"}},
		{"equal working hours", "working_hours: {start: '09:00', end: '09:00'}\nrules: []\n", []string{
			"working_hours: start and end are the same time"}},
		{"bad zone", "working_hours: {zone: Mars/Olympus}\nrules: []\n", []string{"working_hours.zone:"}},
		{"notifier missing url", "notifiers:\n  - {name: a, type: sms}\nrules: []\n", []string{"notifiers[0].url: required"}},
		{"notifier bad header", "notifiers:\n  - {name: a, type: sms, url: 'http://x', headers: {'a b': c}}\nrules: []\n", []string{"not a header name"}},
		{"notifier headers a list", "notifiers:\n  - {name: a, type: sms, url: 'http://x', headers: [a]}\nrules: []\n", []string{"headers: expected a mapping"}},
		{"notifier relative url", "notifiers:\n  - {name: a, type: sms, url: /send}\nrules: []\n", []string{"not an absolute http or https URL"}},
		{"notify listed twice", "notifiers:\n  - {name: a, type: sms, url: 'http://x'}\nrules:\n  - {name: x, kind: anomaly, severity: info, notify: [a, a]}\n", []string{
			`rules[0].notify[1]: "a" listed twice`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules("t.yaml", []byte(tc.src))
			var re *RulesError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RulesError", err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error lacks %q (in order):\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
			for _, p := range re.Problems {
				if p.Line <= 0 || p.Column <= 0 || p.Field == "" {
					t.Errorf("problem without a position or field: %+v", p)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	r := mustParse(t, `
rules:
  - {name: a, kind: anomaly, severity: critical}
  - {name: b, kind: refused_burst, severity: info, threshold: 3, window: 5m}
  - {name: c, kind: off_hours_bulk, severity: warning, threshold: 3, window: 5m, resolve_after: 1h}
`)
	a, b, c := r.Rules[0], r.Rules[1], r.Rules[2]
	if len(a.Colours) != 2 || a.Colours[0] != codes.Red || len(a.Dimensions) != 3 || a.Text != defaultTexts[KindAnomaly] {
		t.Errorf("anomaly defaults: %+v", a)
	}
	if b.By != "client" || b.ResolveAfter != 5*time.Minute || len(b.Notify) != 0 {
		t.Errorf("refused_burst defaults: %+v", b)
	}
	if c.ResolveAfter != time.Hour {
		t.Errorf("resolve_after = %v", c.ResolveAfter)
	}
	w := r.WorkingHours
	if w.Start != 8*time.Hour+30*time.Minute || w.End != 18*time.Hour || len(w.Weekdays) != 5 {
		t.Errorf("working hours default: %+v", w)
	}
}

func TestWorkingHours(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := DefaultWorkingHours()
	night := WorkingHours{Start: 22 * time.Hour, End: 6 * time.Hour, Weekdays: []time.Weekday{time.Monday}, Zone: cst}
	for _, tc := range []struct {
		w    WorkingHours
		at   time.Time
		want bool
	}{
		{day, time.Date(2024, 3, 4, 10, 0, 0, 0, cst), true},     // Monday
		{day, time.Date(2024, 3, 4, 8, 29, 0, 0, cst), false},    // before
		{day, time.Date(2024, 3, 4, 8, 30, 0, 0, cst), true},     // start counts
		{day, time.Date(2024, 3, 4, 18, 0, 0, 0, cst), false},    // end does not
		{day, time.Date(2024, 3, 4, 23, 0, 0, 0, cst), false},    // night
		{day, time.Date(2024, 3, 9, 10, 0, 0, 0, cst), false},    // Saturday
		{day, time.Date(2024, 3, 4, 2, 0, 0, 0, time.UTC), true}, // 10:00 in Shanghai
		{night, time.Date(2024, 3, 4, 23, 0, 0, 0, cst), true},   // Monday night
		{night, time.Date(2024, 3, 5, 5, 0, 0, 0, cst), true},    // Monday's shift, Tuesday morning
		{night, time.Date(2024, 3, 5, 23, 0, 0, 0, cst), false},
		{night, time.Date(2024, 3, 4, 12, 0, 0, 0, cst), false},
	} {
		if got := tc.w.Contains(tc.at); got != tc.want {
			t.Errorf("%+v.Contains(%v) = %v", tc.w, tc.at, got)
		}
	}
}

// TestWorkingHoursHolidays: public holidays are off hours whatever the
// weekday, make-up working days (调休) are working days, "holidays: none"
// goes by the weekdays alone, and a year the holiday set lacks falls back
// to the weekdays.
func TestWorkingHoursHolidays(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	china := DefaultWorkingHours()
	plain := mustParse(t, "working_hours: {holidays: none}\nrules: []\n").WorkingHours
	require.Nil(t, plain.Holidays)
	require.NotNil(t, mustParse(t, "rules: []\n").WorkingHours.Holidays, "the mainland's holidays by default")
	for _, tc := range []struct {
		name string
		w    WorkingHours
		at   time.Time
		want bool
	}{
		{"National Day, a Tuesday", china, time.Date(2024, 10, 1, 10, 0, 0, 0, cst), false},
		{"its make-up Sunday", china, time.Date(2024, 9, 29, 10, 0, 0, 0, cst), true},
		{"an ordinary Wednesday", china, time.Date(2024, 10, 9, 10, 0, 0, 0, cst), true},
		{"National Day, holidays: none", plain, time.Date(2024, 10, 1, 10, 0, 0, 0, cst), true},
		{"make-up Sunday, holidays: none", plain, time.Date(2024, 9, 29, 10, 0, 0, 0, cst), false},
		{"a year the set lacks, Monday", china, time.Date(2031, 3, 3, 10, 0, 0, 0, cst), true},
		{"a year the set lacks, Saturday", china, time.Date(2031, 3, 1, 10, 0, 0, 0, cst), false},
	} {
		require.Equal(t, tc.want, tc.w.Contains(tc.at), tc.name)
	}
	_, err := ParseRules("h.yaml", []byte("working_hours: {holidays: mars}\nrules: []\n"))
	var re *RulesError
	require.ErrorAs(t, err, &re)
	require.Contains(t, err.Error(), "h.yaml:1:27: working_hours.holidays")
}

func TestRenderCapsLongText(t *testing.T) {
	r := mustParse(t, "rules:\n  - {name: x, kind: transcode_rate, severity: info, threshold: 1, window: 1m, text: '{{range $i := .Count}}长{{end}}'}\n")
	rule := r.Rules[0]
	s := rule.render(TextData{Count: 1000})
	if len(s) > maxText+len("…") || !strings.HasSuffix(s, "…") {
		t.Errorf("len %d, %q...", len(s), s[:20])
	}
}

func FuzzParseRules(f *testing.F) {
	for _, name := range []string{"alarms.yaml", "bad.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rules: []\n"))
	f.Add([]byte("rules:\n  - {name: a, kind: anomaly, severity: info}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules("f.yaml", data)
		if err == nil {
			if r == nil {
				t.Fatal("nil rules and nil error")
			}
			for _, x := range r.Rules {
				if x.text == nil {
					t.Fatalf("rule %q has no compiled text", x.Name)
				}
			}
			return
		}
		var re *RulesError
		if !errors.As(err, &re) || len(re.Problems) == 0 {
			t.Fatalf("err = %v, want a *RulesError with problems", err)
		}
		for _, p := range re.Problems {
			if p.Line <= 0 || p.Column <= 0 {
				t.Fatalf("problem without a position: %+v", p)
			}
		}
	})
}
