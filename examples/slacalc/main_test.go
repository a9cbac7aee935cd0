package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/sla"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

var chengduArgs = []string{"report", "-contract", "chengdu",
	"-incidents", "testdata/incidents.csv", "-outages", "testdata/outages.csv", "-events", "testdata/events.csv",
	"-period", "2024-01-01..2024-12-31", "-asof", "2024-07-01 00:00", "-total", "5950000.00", "-surveys", "86,91"}

// The CLI's report is the package's report for the same input, built here
// by hand from the rows of the testdata files.
func TestReportMatchesPackage(t *testing.T) {
	out, _, err := runCLI(t, "", chengduArgs...)
	require.NoError(t, err)

	cst := sla.ChinaStandardTime()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
		require.NoError(t, err)
		return v
	}
	ev := func(k sla.EventKind, s string) sla.Event { return sla.Event{Kind: k, At: at(s)} }
	c, err := sla.Preset("chengdu")
	require.NoError(t, err)
	g, err := sla.ParseYuan("5950000.00")
	require.NoError(t, err)
	rep, err := c.Assess(sla.Input{
		AsOf: at("2024-07-01 00:00"), Total: g,
		From: at("2024-01-01 00:00"), To: at("2025-01-01 00:00"),
		Incidents: []sla.AssessedIncident{
			{MajorEvent: true, Incident: sla.Incident{ID: "INC-1", Level: "L1", Events: []sla.Event{
				ev(sla.Opened, "2024-03-04 10:00"), ev(sla.Responded, "2024-03-04 10:15"), ev(sla.Resolved, "2024-03-05 11:30")}}},
			{Incident: sla.Incident{ID: "INC-2", Level: "L2", Events: []sla.Event{
				ev(sla.Opened, "2024-04-10 14:00"), ev(sla.Responded, "2024-04-10 14:20"), ev(sla.Paused, "2024-04-10 14:30"),
				ev(sla.Resumed, "2024-04-10 15:30"), ev(sla.Resolved, "2024-04-10 16:45")}}},
			{Incident: sla.Incident{ID: "REQ-1", Level: "default", Events: []sla.Event{
				ev(sla.Opened, "2024-05-06 09:00"), ev(sla.Responded, "2024-05-06 09:47"), ev(sla.Resolved, "2024-05-09 09:00")}}},
		},
		Outages: []sla.Outage{
			{ID: "V1", Kind: sla.Vendor, Start: at("2024-03-04 10:00"), End: at("2024-03-04 11:20")},
			{ID: "P1", Kind: sla.Planned, Start: at("2024-02-01 01:00"), End: at("2024-02-01 09:30")},
		},
		Occurrences: []sla.Occurrence{
			{Item: "key_staff_missing", Event: "2024-H1", Quantity: sla.MustNum("1.5"), Note: "DBA post vacant six weeks"},
			{Item: "complaint_public", Event: "V1"},
			{Item: "complaint_public", Event: "V1", Note: "second complaint about the same outage"},
		},
		Surveys: []sla.Num{sla.MustNum("86"), sla.MustNum("91")},
	})
	require.NoError(t, err)
	require.Equal(t, rep.Markdown(), out)

	// Hand computation (see README): 15.89 points lost, score 84.11; year 1
	// pays 30 % G + 40 % G × 0.8411 = 1,785,000 + 2,001,818.
	require.Contains(t, out, "100 - 15.89 = 84.11")
	require.Contains(t, out, "paid: ¥3,786,818.00; withheld: ¥378,182.00")
	require.Contains(t, out, "targets breached: 4")
}

func TestReportJSON(t *testing.T) {
	out, _, err := runCLI(t, "", append(chengduArgs, "-format", "json")...)
	require.NoError(t, err)
	var rep struct {
		Contract string `json:"contract"`
		Summary  struct {
			Breaches int    `json:"breaches"`
			Score    string `json:"score"`
			Paid     int64  `json:"paid_fen"`
		} `json:"summary"`
		Incidents []struct {
			ID string `json:"id"`
		} `json:"incidents"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "chengdu", rep.Contract)
	require.Equal(t, 4, rep.Summary.Breaches)
	require.Equal(t, "84.11", rep.Summary.Score)
	require.Equal(t, int64(378681800), rep.Summary.Paid)
	require.Len(t, rep.Incidents, 3)
}

// shaanxi, checked by hand: T-101 (P2) resolved after 5h15m of 4h and T-102
// (P3) answered after 45m of 30m are the two breaches; 17 days late is 3
// whole 5-day periods × 0.01 % × 292,000 = 87.60 and 17 × 0.3 % × 292,000 =
// 14,892 capped at 5 % = 14,600; the 10 % fixed clause is 29,200.
func TestReportShaanxiPenalties(t *testing.T) {
	out, _, err := runCLI(t, "", "report", "-contract", "shaanxi",
		"-incidents", "testdata/shaanxi-incidents.csv", "-outages", "testdata/shaanxi-outages.csv",
		"-period", "2022-01-01..2022-12-31", "-late", "vendor_delivery:17::delivery", "-breach", "no_response_24h:T-099")
	require.NoError(t, err)
	for _, want := range []string{"targets breached: 2", "¥87.60", "¥14,600.00 | capped", "¥29,200.00", "vendor downtime 7h15m (excluded: non-vendor 4h"} {
		require.Contains(t, out, want)
	}
}

// sichuan, checked by hand: the same fault F1 is deducted once (1), two
// person-months of a key post (0.6), three late sign-ins (0.06), surveys 80
// and 85 (N = 82.5: 1.75) and two of four surveys missing (6): 9.41 points,
// of which 4.41 beyond the free 5 cost 1 % each of ¥10,000,000.
func TestReportSichuanDeduction(t *testing.T) {
	out, _, err := runCLI(t, "", "report", "-contract", "sichuan", "-events", "testdata/sichuan-events.csv",
		"-surveys", "80,85", "-total", "10000000.00", "-period", "2024-01-01..2024-03-31")
	require.NoError(t, err)
	for _, want := range []string{"100 - 9.41 = 90.59", "same event as occurrence 1: counted once", "score deduction ¥441,000.00"} {
		require.Contains(t, out, want)
	}
}

func TestReportStdin(t *testing.T) {
	csv, err := os.ReadFile("testdata/outages.csv")
	require.NoError(t, err)
	out, _, err := runCLI(t, string(csv), "report", "-contract", "chengdu", "-total", "5950000", "-outages", "-", "-period", "2024-01-01..2024-12-31")
	require.NoError(t, err)
	require.Contains(t, out, "budget (1 - 99.95%) × 366d = 263.52 min; vendor downtime 1h20m")
}

func TestPresetsAndCalendar(t *testing.T) {
	out, _, err := runCLI(t, "", "presets")
	require.NoError(t, err)
	for _, name := range sla.PresetNames() {
		require.Contains(t, out, "\n"+name+" ")
	}
	require.Contains(t, out, "¥292,000.00")

	out, _, err = runCLI(t, "", "presets", "-show", "sichuan")
	require.NoError(t, err)
	want, err := sla.PresetYAML("sichuan")
	require.NoError(t, err)
	require.Equal(t, string(want), out)

	tests := []struct {
		args []string
		want string
	}{
		// Friday 16:00 + 4 working hours: 1.5 h that day, then the Spring
		// Festival (10-17 Feb) and the make-up Sunday 18 Feb: 09:00 + 2.5 h.
		{[]string{"-from", "2024-02-09 16:00", "-add", "4h"}, "= Sun 2024-02-18 11:30"},
		// Thursday 17:00 to Monday 10:00 over an ordinary weekend: 30 min + 7 h + 1 h.
		{[]string{"-from", "2024-03-07 17:00", "-to", "2024-03-11 10:00"}, ": 8h30m0s"},
		{[]string{"-contract", "sichuan", "-calendar", "7x24", "-from", "2024-03-07 17:00", "-to", "2024-03-11 10:00"}, ": 89h0m0s"},
	}
	for _, tt := range tests {
		out, _, err := runCLI(t, "", append([]string{"calendar"}, tt.args...)...)
		require.NoError(t, err, tt.args)
		require.Contains(t, out, tt.want, tt.args)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	badYAML := write("bad.yaml", "name: x\ntitle: y\nsource: z\ncalendars:\n  - {name: c, kind: 7x25}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"missing contract", []string{"report", "-period", "2024-01-01..2024-12-31"}, "-contract is required"},
		{"missing period", []string{"report", "-contract", "chengdu"}, "-period is required"},
		{"bad period", []string{"report", "-contract", "chengdu", "-period", "2024"}, `-period "2024"`},
		{"bad format", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-01-31", "-format", "xml"}, `-format "xml"`},
		{"unknown preset", []string{"report", "-contract", "beijing", "-period", "2024-01-01..2024-01-31"}, "presets: chengdu, shaanxi, sichuan"},
		{"bad contract yaml", []string{"report", "-contract", badYAML, "-period", "2024-01-01..2024-01-31"}, badYAML + ":5:"},
		{"bad time", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-incidents", "testdata/bad-incidents.csv"},
			`testdata/bad-incidents.csv:3: field "at": time "2024-03-04 25:15"`},
		{"unknown level", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-incidents",
			write("lvl.csv", "id,level,event,at\nA,L1,opened,2024-01-02 10:00\nB,P1,opened,2024-01-02 10:00\n")}, `lvl.csv:3: field "level": unknown level "P1"`},
		{"level changes", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-incidents",
			write("chg.csv", "id,level,event,at\nA,L1,opened,2024-01-02 10:00\nA,L2,resolved,2024-01-02 11:00\n")}, `chg.csv:3: field "level": incident A is level L1 on line 2, L2 here`},
		{"unknown event", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-incidents",
			write("ev.csv", "id,level,event,at\nA,L1,closed,2024-01-02 10:00\n")}, `ev.csv:2: field "event": unknown event "closed"`},
		{"missing column", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-outages",
			write("o.csv", "id,kind,start\nV,vendor,2024-01-02 10:00\n")}, `o.csv:1: field "end": missing column`},
		{"unknown column", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-outages",
			write("o2.csv", "id,kind,start,end,stop\n")}, `o2.csv:1: field "stop": unknown column`},
		{"short row", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-outages",
			write("o3.csv", "id,kind,start,end\nV,vendor,2024-01-02 10:00,2024-01-02 11:00\nW,vendor\n")}, "o3.csv:3: 2 fields, header has 4"},
		{"outage ends first", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-outages",
			write("o4.csv", "id,kind,start,end\nV,vendor,2024-01-02 10:00,2024-01-02 09:00\n")}, `o4.csv:2: field "end": end 2024-01-02 09:00 is not after start`},
		{"unknown item", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-events",
			write("e.csv", "item,event\nkey_staff_missing,Q1\ncoffee_cold,Q1\n")}, `e.csv:3: field "item": unknown scorecard item "coffee_cold"`},
		{"bad quantity", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-events",
			write("q.csv", "item,event,quantity\nkey_staff_missing,Q1,-2\n")}, `q.csv:2: field "quantity"`},
		{"bad quote", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-events",
			write("bq.csv", "item,event\nkey_staff_missing,Q1\nkey_staff_missing,\"Q2\n")}, "bq.csv:3:"},
		{"two stdins", []string{"report", "-contract", "chengdu", "-period", "2024-01-01..2024-12-31", "-outages", "-", "-events", "-"}, "more than one input"},
		{"bad late", []string{"report", "-contract", "shaanxi", "-period", "2022-01-01..2022-12-31", "-late", "vendor_delivery:soon"}, `days "soon"`},
		{"calendar without from", []string{"calendar", "-add", "4h"}, "-from is required"},
		{"calendar both", []string{"calendar", "-from", "2024-01-02 09:00", "-add", "4h", "-to", "2024-01-03 09:00"}, "exactly one of -add and -to"},
		{"calendar no data", []string{"calendar", "-from", "2031-01-02 09:00", "-add", "4h"}, "no calendar data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCLI(t, "id,kind,start,end\n", tt.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.Empty(t, out, "nothing is written on a refusal")
		})
	}
}
