package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// synthetic2027 is a test fixture with invented dates, not the State
// Council's 2027 notice.
const synthetic2027 = "testdata/holidays-2027-synthetic.yaml"

// A clock crossing 1 January of a year the release lacks fails with a
// message naming the way out; -holidays FILE or a contract's holidays: key
// adds the year, and a bad holiday file is refused with file:line:column.
func TestHolidaysFlagAndContractKey(t *testing.T) {
	_, _, err := runCLI(t, "", "calendar", "-from", "2026-12-31 17:00", "-add", "1h")
	require.ErrorContains(t, err, "no calendar data")
	require.ErrorContains(t, err, "-holidays FILE")
	require.ErrorContains(t, err, "holidays: key")

	// Thu 31 Dec 17:00 + 1 h: 30 min, then the synthetic 1-3 Jan off.
	out, _, err := runCLI(t, "", "calendar", "-holidays", synthetic2027, "-from", "2026-12-31 17:00", "-add", "1h")
	require.NoError(t, err)
	require.Contains(t, out, "= Mon 2027-01-04 09:30")
	require.Contains(t, out, "holidays 2020-2027")
	out, _, err = runCLI(t, "", "calendar", "-holidays", synthetic2027, "-contract", "sichuan", "-calendar", "office", "-from", "2026-12-31 17:00", "-add", "1h")
	require.NoError(t, err)
	require.Contains(t, out, "= Mon 2027-01-04 09:30")

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	fixture, err := os.ReadFile(synthetic2027)
	require.NoError(t, err)
	write("sub/h2027.yaml", string(fixture))
	bad := write("sub/bad.yaml", "- year: 2027\n  holidays:\n    - {name: a, off: [2027-05-01], work: [2027-05-01]}\n")
	contract := func(name, holidays string) string {
		return write(name, "name: mine\nholidays: "+holidays+"\ncalendars:\n  - {name: office, kind: working_hours}\nlevels:\n  - {name: L1, targets: [{kind: resolution, within: 4h, calendar: office}]}\n")
	}
	// holidays: is read relative to the contract's directory.
	good := contract("sub/good.yaml", "h2027.yaml")
	out, _, err = runCLI(t, "", "calendar", "-contract", good, "-from", "2026-12-31 17:00", "-add", "1h")
	require.NoError(t, err)
	require.Contains(t, out, "= Mon 2027-01-04 09:30")
	inc := write("inc.csv", "id,level,event,at\nA,L1,opened,2026-12-31 16:00\nA,L1,resolved,2027-01-04 11:00\n")
	out, _, err = runCLI(t, "", "report", "-contract", good, "-incidents", inc, "-period", "2026-12-01..2027-01-31")
	require.NoError(t, err)
	require.Contains(t, out, "targets breached: 0")

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"flag: bad file", []string{"calendar", "-holidays", bad, "-from", "2026-12-31 17:00", "-add", "1h"}, bad + `:3:43: field "holidays[2027].holidays[0].work[0]": 2027-05-01 is both off and worked`},
		{"flag: missing file", []string{"calendar", "-holidays", filepath.Join(dir, "nope.yaml"), "-from", "2026-12-31 17:00", "-add", "1h"}, "-holidays: open " + filepath.Join(dir, "nope.yaml")},
		{"flag: empty file", []string{"calendar", "-holidays", write("empty.yaml", ""), "-from", "2026-12-31 17:00", "-add", "1h"}, `empty.yaml: field "document": empty document`},
		{"flag: gap", []string{"calendar", "-holidays", write("y2028.yaml", "- {year: 2028, holidays: [{name: a, off: [2028-05-01]}]}\n"), "-from", "2026-12-31 17:00", "-add", "1h"}, `y2028.yaml:1:10: field "holidays[2028].year": years must be contiguous: 2027 is missing`},
		{"flag: report", []string{"report", "-contract", "chengdu", "-total", "1", "-holidays", bad, "-period", "2024-01-01..2024-12-31"}, bad + ":3:43:"},
		{"contract key: bad file", []string{"calendar", "-contract", contract("c-bad.yaml", "sub/bad.yaml"), "-from", "2026-12-31 17:00", "-add", "1h"}, filepath.Join(dir, "sub/bad.yaml") + `:3:43: field "holidays[2027]`},
		{"contract key: missing file", []string{"calendar", "-contract", contract("c-miss.yaml", "nope.yaml"), "-from", "2026-12-31 17:00", "-add", "1h"}, filepath.Join(dir, "c-miss.yaml") + `:2:11: field "holidays"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCLI(t, "", tc.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Empty(t, out)
		})
	}
}

// Numbers, dates and files out of range are refused with the flag, or the
// file, line and field, instead of producing a report.
func TestOutOfRangeRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	chengdu := []string{"report", "-contract", "chengdu", "-total", "5950000", "-period", "2024-01-01..2024-12-31"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	huge := strings.Repeat("x", 10<<20)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative total", with(chengdu, "-total", "-5"), `-total "-5": want an amount above 0`},
		{"zero total", with(chengdu, "-total", "0"), `-total "0": want an amount above 0`},
		{"no total where money is computed", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31"}, "contract chengdu states no total: give -total"},
		{"year zero", with(chengdu, "-year", "0"), "-year 0: want 1..100"},
		{"year huge", with(chengdu, "-year", "999"), "-year 999: want 1..100"},
		{"survey above 100", with(chengdu, "-surveys", "86,150"), `-surveys "150": want 0..100`},
		{"survey negative", with(chengdu, "-surveys", "-3"), `-surveys "-3": want 0..100`},
		{"prior score above 100", with(chengdu, "-prior-scores", "150"), `-prior-scores "150": want 0..100`},
		{"empty survey", with(chengdu, "-surveys", "86,"), `-surveys "": `},
		{"period out of range", []string{"report", "-contract", "sichuan", "-total", "1", "-period", "0001-01-01..9999-12-31"}, `-period "0001-01-01..9999-12-31": year 1 outside 1992..2200`},
		{"asof before the period", with(chengdu, "-asof", "2023-06-01 00:00"), `-asof "2023-06-01 00:00": before the period starts`},
		{"negative late portion", []string{"report", "-contract", "shaanxi", "-period", "2022-01-01..2022-12-31", "-late", "vendor_delivery:17:-100"}, `-late "vendor_delivery:17:-100" (CLAUSE:DAYS[:PORTION_YUAN[:EVENT]]): portion "-100": want an amount above 0`},
		{"late days huge", []string{"report", "-contract", "shaanxi", "-period", "2022-01-01..2022-12-31", "-late", "vendor_delivery:99999999999"}, `days "99999999999": want a whole number 0..36600`},
		{"quantity huge", with(chengdu, "-events", write("q.csv", "item,event,quantity\nkey_staff_missing,Q1,99999999999999999999\n")), `q.csv:2: field "quantity": 99999999999999999999: want at most 10000`},
		{"event after asof", with(chengdu, "-asof", "2024-07-01 00:00", "-incidents", write("late.csv", "id,level,event,at\nA,L1,opened,2030-01-02 10:00\n")), `late.csv:2: field "at": 2030-01-02 10:00 is after -asof 2024-07-01 00:00`},
		{"outage year out of range", with(chengdu, "-outages", write("o.csv", "id,kind,start,end\nV1,vendor,0001-01-01 10:00,9999-03-04 11:20\n")), `o.csv:2: field "start": time "0001-01-01 10:00": year 1 outside 1992..2200`},
		{"10 MB field", with(chengdu, "-outages", write("big.csv", "id,kind,start,end\nV1,vendor,2024-03-04 10:00,"+huge+"\n")), `big.csv:2: field "end": 10485760 bytes: longer than 4096`},
		{"10 MB id", with(chengdu, "-outages", write("big2.csv", "id,kind,start,end\n"+huge+",vendor,2024-03-04 10:00,2024-03-04 11:00\n")), `big2.csv:2: field "id": 10485760 bytes: longer than 4096`},
		{"missing csv", with(chengdu, "-incidents", filepath.Join(dir, "nope.csv")), "-incidents: open " + filepath.Join(dir, "nope.csv")},
		{"empty csv", with(chengdu, "-incidents", write("e.csv", "")), "e.csv:1: empty file"},
		{"missing contract", []string{"report", "-contract", filepath.Join(dir, "nope.yaml"), "-period", "2024-01-01..2024-12-31"}, "no such file"},
		{"empty contract", []string{"report", "-contract", write("e.yaml", ""), "-period", "2024-01-01..2024-12-31"}, `e.yaml: field "document": empty document`},
		{"wrong type year", with(chengdu, "-year", "abc"), `invalid value "abc" for flag -year`},
		{"calendar to before from", []string{"calendar", "-from", "2024-01-02 09:00", "-to", "2023-01-01 09:00"}, "-to 2023-01-01 09:00 is before -from"},
		{"calendar year out of range", []string{"calendar", "-contract", "sichuan", "-calendar", "7x24", "-from", "0001-01-02 09:00", "-to", "9999-01-01 09:00"}, `-from: time "0001-01-02 09:00": year 1 outside 1992..2200`},
		{"calendar wrong type", []string{"calendar", "-from", "2024-01-02 09:00", "-add", "4 hours"}, `invalid value "4 hours" for flag -add`},
		{"presets unknown", []string{"presets", "-show", "nope"}, `presets: no preset "nope" (have chengdu, shaanxi, sichuan)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCLI(t, "", tt.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.Less(t, len(err.Error()), 1000, "the message does not echo a huge value")
			require.Empty(t, out, "nothing is written on a refusal")
		})
	}
	_, _, err := runCLI(t, "", "presets", "-show", "nope")
	require.Equal(t, 1, strings.Count(err.Error(), "have chengdu"), err.Error())
	_, _, err = runCLI(t, "", "report", "-year", "abc")
	require.True(t, errors.As(err, new(usageError)), "a bad flag is a usage error (exit status 2): %v", err)
}

// A BOM and CRLF line endings, as spreadsheet exports write them, are read
// like plain files.
func TestBOMAndCRLF(t *testing.T) {
	plain, err := os.ReadFile("testdata/outages.csv")
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "win.csv")
	require.NoError(t, os.WriteFile(p, append([]byte("\ufeff"), strings.ReplaceAll(string(plain), "\n", "\r\n")...), 0o644))
	args := []string{"report", "-contract", "chengdu", "-total", "1", "-period", "2024-01-01..2024-12-31", "-outages"}
	want, _, err := runCLI(t, "", append(args, "testdata/outages.csv")...)
	require.NoError(t, err)
	got, _, err := runCLI(t, "", append(args, p)...)
	require.NoError(t, err)
	require.Equal(t, want, got)
}
