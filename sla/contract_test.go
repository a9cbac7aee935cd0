package sla

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPresetsParse(t *testing.T) {
	require.Equal(t, []string{"chengdu", "shaanxi", "sichuan"}, PresetNames())
	for _, name := range PresetNames() {
		c, err := Preset(name)
		require.NoError(t, err, name)
		require.Equal(t, name, c.Name)
	}
	_, err := Preset("beijing")
	require.ErrorIs(t, err, ErrInvalid)
}

// Every level and number of DESIGN.md's sla section, read back from the
// presets. A target is kind=within@calendar.
func TestPresetNumbers(t *testing.T) {
	want := map[string]map[string]string{
		"chengdu": {
			"L1":      "response=12m@7x24 resolution=1h@7x24",
			"L2":      "response=30m@7x24 resolution=2h@7x24",
			"L3":      "response=1h@7x24 resolution=4h@7x24",
			"SEC-I":   "response=6m@7x24 resolution=30m@7x24",
			"SEC-II":  "response=12m@7x24 resolution=1h@7x24",
			"SEC-III": "response=30m@7x24 resolution=2h@7x24",
			"default": "response=30m@7x24 resolution=2d@7x24",
		},
		"shaanxi": {
			"P1": "response=10m@7x24 onsite=1h@7x24 solution=2h@7x24",
			"P2": "response=10m@7x24 onsite=2h@7x24 solution=2h@7x24 resolution=4h@7x24",
			"P3": "response=30m@7x24 onsite=3h@7x24 solution=4h@7x24 resolution=8h@7x24",
			"P4": "response=2 working days@office resolution=2 working days@office",
		},
		"sichuan": {
			"non_catastrophic": "response=30m@7x24 resolution=1d@7x24 onsite=2h@7x24 report=2 working days@office",
			"catastrophic":     "response=30m@7x24 onsite=2h@7x24 report=2 working days@office",
		},
	}
	for name, levels := range want {
		c := mustPreset(t, name)
		require.ElementsMatch(t, keys(levels), c.Policy().Levels(), name)
		for lname, spec := range levels {
			l, ok := c.Policy().Level(lname)
			require.True(t, ok)
			var got []string
			for _, tg := range l.Targets {
				got = append(got, string(tg.Kind)+"="+tg.Within.String()+"@"+tg.Calendar.Name())
			}
			require.Equal(t, spec, strings.Join(got, " "), "%s %s", name, lname)
		}
	}
	cd, sx, sc := mustPreset(t, "chengdu"), mustPreset(t, "shaanxi"), mustPreset(t, "sichuan")
	require.Equal(t, "99.95%", cd.Availability.Target.Percent())
	require.Equal(t, 8*time.Hour, cd.Availability.PlannedCap.D)
	require.Equal(t, "0.01", cd.Availability.PlannedPointsPerMinute.String())
	require.Equal(t, "99.5%", sx.Availability.Target.Percent())
	require.Equal(t, yuan(t, "292000.00"), sx.Total)
	p, _ := sc.Penalty("late_delivery")
	require.Equal(t, []string{"0.05%", "1", "late_portion", "5%"}, []string{p.Rate.Percent(), "1", string(p.Base), p.Cap.Percent()})
	for id, spec := range map[string]string{"vendor_late_per_5_days": "0.01%/5/5%", "vendor_late_per_day": "0.3%/1/5%"} {
		p, ok := sx.Penalty(id)
		require.True(t, ok)
		require.Equal(t, spec, p.Rate.Percent()+"/"+itoa(p.PeriodDays)+"/"+p.Cap.Percent())
	}
	for id, rate := range map[string]string{"no_response_24h": "10%", "ip_breach": "5%"} {
		f, ok := sx.FixedClause(id)
		require.True(t, ok)
		require.Equal(t, rate, f.Rate.Percent())
	}
	require.Equal(t, []string{"90", "60"}, []string{cd.Payment.FullFrom.String(), cd.Payment.FailBelow.String()})
	require.Equal(t, []string{"10%", "5", "1%", "15"}, []string{sc.Deduction.AtStake.Percent(), sc.Deduction.FreeBand.String(), sc.Deduction.PerPoint.Percent(), sc.Deduction.FullBeyond.String()})
	require.Equal(t, "10", cd.Scorecard.Satisfaction.Divisor.String())
	require.Equal(t, "1", cd.Scorecard.Satisfaction.PerMissing.String())
	require.Equal(t, "3", sc.Scorecard.Satisfaction.PerMissing.String())
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

const minimal = `name: test
calendars:
  - {name: 7x24, kind: 7x24}
levels:
  - name: L1
    targets:
      - {kind: response, within: 10m, calendar: 7x24}
`

// Bad documents fail with the field and the line:column of the value
// (columns counted by hand on the document lines, 1-based).
func TestParseContractErrors(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		field      string
		line, col  int
		msgContain string
	}{
		{"unknown top-level field", minimal + "colour: red\n", "colour", 8, 1, "unknown field"},
		{"unknown nested field", strings.Replace(minimal, "within: 10m", "within: 10m, color: red", 1), "levels[0].targets[0].color", 7, 39, "unknown field"},
		{"bad duration", strings.Replace(minimal, "within: 10m", "within: 10 minutes", 1), "levels[0].targets[0].within", 7, 34, "duration"},
		{"unknown calendar", strings.Replace(minimal, "calendar: 7x24}", "calendar: office}", 1), "levels[0].targets[0].calendar", 7, 49, "unknown calendar"},
		{"bad kind", strings.Replace(minimal, "kind: response", "kind: reply", 1), "levels[0].targets[0].kind", 7, 16, "not response"},
		{"list expected", "name: x\nlevels: {a: 1}\n", "levels", 2, 9, "expected a list"},
		{"bad window", "name: x\ncalendars:\n  - {name: o, kind: working_hours, windows: [\"9-12\"]}\n", "calendars[0].windows[0]", 3, 46, "HH:MM"},
		{"bad percent", minimal + "availability: {target: ninety}\n", "availability.target", 8, 24, "percentage"},
		{"alias", minimal + "x: &a 1\n", "x", 8, 1, ""},
		{"syntax", "name: [\n", "document", 1, 1, "syntax"},
		{"duplicate key", "name: a\nname: b\n", "name", 2, 1, "duplicate"},
		{"missing name", "calendars: []\n", "name", 0, 0, "missing"},
		{"breach item unknown", strings.Replace(minimal, "calendar: 7x24}", "calendar: 7x24, breach: {item: nope}}", 1), "levels[0].targets[0].breach.item", 7, 70, "no scorecard item"},
		{"working days on 7x24", strings.Replace(minimal, "within: 10m", "within: 2 working days", 1), "levels[0].targets[0].calendar", 7, 60, "working_hours"},
		{"empty", "", "document", 0, 0, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseContract([]byte(tc.doc))
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalid)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			if tc.field != "x" {
				require.Equal(t, tc.field, fe.Field, "%v", err)
			}
			if tc.line > 0 {
				require.Equal(t, tc.line, fe.Line, "%v", err)
				require.Equal(t, tc.col, fe.Column, "%v", err)
			}
			require.Contains(t, err.Error(), tc.msgContain)
			require.True(t, strings.HasPrefix(err.Error(), "sla: "), err.Error())
		})
	}
}

// The embedded holiday data round-trips through the same strict loader,
// and a bad holiday file is refused with a position.
func TestParseHolidaysErrors(t *testing.T) {
	_, err := ParseHolidays([]byte("- year: 2030\n  holidays:\n    - {name: x, off: [2030-02-30]}\n"))
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, 3, fe.Line)
	_, err = ParseHolidays([]byte("- year: 2030\n- year: 2032\n"))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = ParseHolidays([]byte("- {year: 2030, holidays: [{name: x, off: [2030-05-01], work: [2030-05-01]}]}\n"))
	require.ErrorContains(t, err, "both off and worked")
}

// FuzzParseContract: any input either parses into a contract whose policy
// evaluates, or fails with a positioned *FieldError; it never panics.
func FuzzParseContract(f *testing.F) {
	for _, name := range PresetNames() {
		b, err := PresetYAML(name)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("name: x\nlevels: [{name: a, targets: [{kind: report, within: 3 working days, calendar: o}]}]\ncalendars: [{name: o, kind: working_hours}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseContract(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FieldError: %T %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "sla: ") {
				t.Fatalf("message without package prefix: %v", err)
			}
			return
		}
		for _, name := range c.Policy().Levels() {
			_, err := c.Policy().Evaluate(Incident{ID: "F", Level: name, Events: []Event{{Kind: Opened, At: at(2024, 5, 6, 9, 0)}}}, at(2024, 5, 6, 10, 0))
			if err != nil && !errors.Is(err, ErrNoCalendarData) {
				t.Fatalf("level %s: %v", name, err)
			}
		}
	})
}

// The committed corpus exists for every fuzzer (CI runs the seeds).
func TestFuzzCorpusCommitted(t *testing.T) {
	for _, fz := range []string{"FuzzParseContract", "FuzzParseHolidays"} {
		ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", fz))
		require.NoError(t, err, fz)
		require.NotEmpty(t, ents, fz)
	}
}

func FuzzParseHolidays(f *testing.F) {
	f.Add(holidaysCN)
	f.Add([]byte("- {year: 2030, holidays: [{name: x, off: [2030-01-01..2030-01-03], work: [2030-01-05]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHolidays(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FieldError: %T %v", err, err)
			}
			if lines := strings.Count(string(data), "\n") + 1; fe.Line > lines {
				t.Fatalf("line %d outside the input's %d lines: %v", fe.Line, lines, err)
			}
			return
		}
		// Merged over the shipped years, it either fits or is refused at
		// one of its own years.
		if _, err := ChinaMainland().Merge(h); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "holidays[") {
				t.Fatalf("merge error: %T %v", err, err)
			}
		}
		first, last := h.Years()
		if first > last {
			t.Fatalf("years %d > %d", first, last)
		}
		if _, _, err := h.Lookup(Date{first, 1, 1}); err != nil {
			t.Fatal(err)
		}
	})
}
