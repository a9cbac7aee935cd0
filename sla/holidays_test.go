package sla

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A holiday file is checked as strictly as a contract: each mistake a
// hand-written year can carry is refused with the field and the line and
// column of the offending value.
func TestParseHolidaysStrict(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		field     string
		line, col int
		msg       string
	}{
		{"year twice", "- {year: 2030, holidays: [{name: a, off: [2030-01-01]}]}\n- {year: 2030, holidays: [{name: b, off: [2030-05-01]}]}\n",
			"holidays[2030].year", 2, 10, "year 2030 given twice (first on line 1)"},
		{"date after its year", "- {year: 2030, holidays: [{name: a, off: [2031-01-01]}]}\n",
			"holidays[2030].holidays[0].off[0]", 1, 43, "2031-01-01 is outside 2030"},
		{"date early in the year before", "- {year: 2030, holidays: [{name: a, off: [2029-06-01]}]}\n",
			"holidays[2030].holidays[0].off[0]", 1, 43, "2029-06-01 is outside 2030"},
		{"off and worked in one holiday", "- year: 2030\n  holidays:\n    - name: a\n      off: [2030-05-01..2030-05-03]\n      work: [2030-05-02]\n",
			"holidays[2030].holidays[0].work[0]", 5, 14, "2030-05-02 is both off and worked (off in holidays[0] a)"},
		{"off and worked across holidays", "- year: 2030\n  holidays:\n    - {name: a, off: [2030-05-01]}\n    - {name: b, work: [2030-05-01], off: [2030-06-01]}\n",
			"holidays[2030].holidays[1].work[0]", 4, 24, "both off and worked"},
		{"off twice", "- year: 2030\n  holidays:\n    - {name: a, off: [2030-05-01..2030-05-03]}\n    - {name: b, off: [2030-05-03]}\n",
			"holidays[2030].holidays[1].off[0]", 4, 23, "2030-05-03 is listed twice"},
		{"empty year", "- year: 2030\n  notice: x\n", "holidays[2030].holidays", 1, 3, "no holidays"},
		{"holiday without days off", "- {year: 2030, holidays: [{name: a, work: [2030-01-05]}]}\n",
			"holidays[2030].holidays[0].off", 1, 27, "no days off"},
		{"holiday without a name", "- {year: 2030, holidays: [{off: [2030-01-01]}]}\n",
			"holidays[2030].holidays[0].name", 1, 27, "missing"},
		{"unknown key", "- year: 2030\n  holiday: []\n", "[0].holiday", 2, 3, "unknown field"},
		{"year out of range", "- {year: 1800, holidays: [{name: a, off: [1800-01-01]}]}\n", "holidays[1800].year", 1, 10, "out of range"},
		{"range too long", "- {year: 2030, holidays: [{name: a, off: [2030-01-01..2030-03-01]}]}\n",
			"holidays[2030].holidays[0].off[0]", 1, 43, "longer than 31 days"},
		{"gap", "- {year: 2030, holidays: [{name: a, off: [2030-01-01]}]}\n- {year: 2032, holidays: [{name: a, off: [2032-01-01]}]}\n",
			"holidays[2032].year", 2, 10, "2031 is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHolidays([]byte(tc.doc))
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.ErrorIs(t, err, ErrInvalid)
			require.Equal(t, tc.field, fe.Field, "%v", err)
			require.Equal(t, [2]int{tc.line, tc.col}, [2]int{fe.Line, fe.Column}, "%v", err)
			require.Contains(t, fe.Msg, tc.msg)
		})
	}
	// The embedded data passes the same checks, including its New Year
	// holidays that begin in the last days of the year before.
	_, err := ParseHolidays(holidaysCN)
	require.NoError(t, err)
}

// A user's year is merged over the shipped ones: a new year extends the
// set, a year the set already has is replaced (how a corrected notice is
// applied), and neither input changes.
func TestMergeHolidays(t *testing.T) {
	base := ChinaMainland()
	data, err := os.ReadFile("testdata/holidays-2027-synthetic.yaml")
	require.NoError(t, err)
	user, err := ParseHolidays(data)
	require.NoError(t, err)

	m, err := base.Merge(user)
	require.NoError(t, err)
	first, last := m.Years()
	require.Equal(t, [2]int{2020, 2027}, [2]int{first, last})
	for _, tc := range []struct {
		d    Date
		want DayKind
	}{
		{Date{2027, 2, 8}, Off}, {Date{2027, 2, 14}, Workday}, {Date{2027, 3, 1}, Ordinary},
		{Date{2026, 10, 1}, Off}, {Date{2026, 9, 20}, Workday},
	} {
		kind, _, err := m.Lookup(tc.d)
		require.NoError(t, err, tc.d)
		require.Equal(t, tc.want, kind, tc.d)
	}
	require.Contains(t, m.Notice(2027), "synthetic")
	_, last = base.Years()
	require.Equal(t, 2026, last, "the base set is unchanged")

	// A clock that crosses 1 January 2027 now has a deadline: Thu 31 Dec
	// 2026 17:00 + 1 h is 30 min that day, then 1-3 Jan off, Mon 4 Jan 09:30.
	cal, err := NewWorkingCalendar(WorkingConfig{Holidays: m})
	require.NoError(t, err)
	due, err := cal.Add(time.Date(2026, 12, 31, 17, 0, 0, 0, cst), time.Hour)
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 1, 4, 9, 30, 0, 0, cst), due)

	// Replacing a shipped year: 2026 with only a made-up 1 May off.
	fix, err := ParseHolidays([]byte("- {year: 2026, notice: corrected, holidays: [{name: x, off: [2026-05-01]}]}\n"))
	require.NoError(t, err)
	m2, err := base.Merge(fix)
	require.NoError(t, err)
	kind, _, err := m2.Lookup(Date{2026, 10, 1})
	require.NoError(t, err)
	require.Equal(t, Ordinary, kind, "the replaced year's days are gone")
	require.Equal(t, "corrected", m2.Notice(2026))
	kind, _, err = base.Lookup(Date{2026, 10, 1})
	require.NoError(t, err)
	require.Equal(t, Off, kind)

	// A year that leaves a gap is refused at the user's year.
	far, err := ParseHolidays([]byte("\n- {year: 2028, holidays: [{name: x, off: [2028-05-01]}]}\n"))
	require.NoError(t, err)
	_, err = base.Merge(far)
	var fe *FieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "holidays[2028].year", fe.Field)
	require.Equal(t, [2]int{2, 10}, [2]int{fe.Line, fe.Column})
	require.Contains(t, fe.Msg, "2027 is missing")

	// A day the user's year marks that the year before marks otherwise.
	clash, err := ParseHolidays([]byte("- {year: 2026, holidays: [{name: x, off: [2026-12-31]}]}\n"))
	require.NoError(t, err)
	next, err := ParseHolidays([]byte("- {year: 2027, holidays: [{name: y, work: [2026-12-31], off: [2027-01-01]}]}\n"))
	require.NoError(t, err)
	_, err = clash.Merge(next)
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "holidays[2027].holidays[0].work[0]", fe.Field)
	require.Equal(t, 1, fe.Line)
	require.Contains(t, fe.Msg, "both off and worked")

	_, err = base.Merge(nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// The message of a missing year says how to add it.
func TestNoCalendarDataSaysHowToAddTheYear(t *testing.T) {
	cal, err := NewWorkingCalendar(WorkingConfig{Name: "office"})
	require.NoError(t, err)
	_, err = cal.Add(time.Date(2026, 12, 31, 17, 0, 0, 0, cst), time.Hour)
	require.ErrorIs(t, err, ErrNoCalendarData)
	require.Contains(t, err.Error(), "HolidaySet.Merge")
	_, err = cal.Between(time.Date(2027, 1, 4, 9, 0, 0, 0, cst), time.Date(2027, 1, 5, 9, 0, 0, 0, cst))
	require.ErrorIs(t, err, ErrNoCalendarData)
	require.Contains(t, err.Error(), "holidays:")
}

// Between on a 7x24 calendar refuses a span a time.Duration cannot hold
// instead of returning the saturated maximum.
func TestAlwaysBetweenOverflow(t *testing.T) {
	c := Always("")
	_, err := c.Between(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, ErrInvalid)
	d, err := c.Between(time.Date(2024, 1, 1, 0, 0, 0, 0, cst), time.Date(2024, 1, 2, 0, 0, 0, 0, cst))
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, d)
}

// A contract's holidays: key names a file, read through the caller's
// ReadFile and merged over the base set; errors in it name the file.
func TestContractHolidaysFile(t *testing.T) {
	data, err := os.ReadFile("testdata/holidays-2027-synthetic.yaml")
	require.NoError(t, err)
	files := map[string][]byte{
		"h2027.yaml": data,
		"bad.yaml":   []byte("- year: 2027\n  holidays:\n    - {name: a, off: [2027-05-01], work: [2027-05-01]}\n"),
	}
	read := func(name string) ([]byte, error) {
		b, ok := files[name]
		if !ok {
			return nil, os.ErrNotExist
		}
		return b, nil
	}
	doc := func(file string) []byte {
		return []byte("name: x\nholidays: " + file + "\ncalendars:\n  - {name: office, kind: working_hours}\nlevels:\n  - {name: L1, targets: [{kind: resolution, within: 1h, calendar: office}]}\n")
	}
	c, err := ParseContractWith(doc("h2027.yaml"), ContractOptions{ReadFile: read})
	require.NoError(t, err)
	require.Equal(t, "h2027.yaml", c.Holidays)
	cal, _ := c.Calendar("office")
	due, err := cal.Add(time.Date(2026, 12, 31, 17, 0, 0, 0, cst), time.Hour)
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 1, 4, 9, 30, 0, 0, cst), due)

	var fe *FieldError
	_, err = ParseContractWith(doc("bad.yaml"), ContractOptions{ReadFile: read})
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "bad.yaml", fe.File)
	require.Equal(t, [2]int{3, 43}, [2]int{fe.Line, fe.Column})
	require.True(t, strings.HasPrefix(err.Error(), "sla: bad.yaml:3:43: "), err.Error())

	_, err = ParseContractWith(doc("missing.yaml"), ContractOptions{ReadFile: read})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "holidays", fe.Field)
	require.Equal(t, [2]int{2, 11}, [2]int{fe.Line, fe.Column})

	_, err = ParseContract(doc("h2027.yaml"))
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "holidays", fe.Field)
	require.Contains(t, fe.Msg, "ReadFile")

	// The base set is the caller's: a -holidays flag reaches presets too.
	base, err := ChinaMainland().Merge(mustParseHolidays(t, data))
	require.NoError(t, err)
	b, err := PresetYAML("sichuan")
	require.NoError(t, err)
	c, err = ParseContractWith(b, ContractOptions{Holidays: base})
	require.NoError(t, err)
	cal, _ = c.Calendar("office")
	_, err = cal.Add(time.Date(2026, 12, 31, 17, 0, 0, 0, cst), time.Hour)
	require.NoError(t, err)
}

func mustParseHolidays(t *testing.T, b []byte) *HolidaySet {
	t.Helper()
	h, err := ParseHolidays(b)
	require.NoError(t, err)
	return h
}
