package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, stderr, err := runCLI(t, args...)
	require.NoError(t, err, stderr)
	return out, stderr
}

func ingestCase(t *testing.T) string {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "case.snap")
	mustRun(t, "ingest", "-scans", "testdata/case-scans.csv", "-trips", "testdata/case-trips.csv", "-venues", "testdata/case-venues.csv", "-snapshot", snap)
	return snap
}

// rows returns the CSV output without its header, as person/hop/via
// triples and whole rows.
func csvRows(t *testing.T, out string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, contactColumns, rows[0])
	return rows[1:]
}

const caseID = "51010419900101123X"

// testdata/case-*.csv, worked by hand with windows of 2 h either side of the
// case's visit to V-TGL at 10:00 (inclusive, to the second):
//
//	hop 1: P002 at 08:00 (exactly 2 h before: in), P004 at 12:00 (exactly
//	       2 h after: in), P009 in the same carriage of G1234; not P003
//	       (07:59:59), P005 (12:30) or P010 (another carriage).
//	hop 2: from P002's 08:00 scan [06:00, 10:00]: P003; from P004's scans
//	       at 12:00 [10:00, 14:00] and at V-CXL 14:00 [12:00, 16:00]: P005,
//	       P007, P006. Not P008: P002's 07:00 hospital scan predates its
//	       exposure, so it is not followed.
func TestContactsHandChecked(t *testing.T) {
	snap := ingestCase(t)
	out, stderr := mustRun(t, "contacts", "-snapshot", snap, "-person", caseID, "-before", "2h", "-after", "2h", "-depth", "2")
	tgl, cxl := "成都市锦江区春熙路太古里某咖啡", "成都市锦江区春熙路地铁站"
	require.Equal(t, [][]string{
		{"1", "P002", "venue", "2022-01-05T08:00:00+08:00", "V-TGL", tgl, "", "", caseID, "2022-01-05T10:00:00+08:00"},
		{"1", "P004", "venue", "2022-01-05T12:00:00+08:00", "V-TGL", tgl, "", "", caseID, "2022-01-05T10:00:00+08:00"},
		{"1", "P009", "trip", "2022-01-05T16:00:00+08:00", "", "", "train-sealed G1234 2022-01-05 16:00", "car 3 1A", caseID, "2022-01-05T16:00:00+08:00"},
		{"2", "P003", "venue", "2022-01-05T07:59:59+08:00", "V-TGL", tgl, "", "", "P002", "2022-01-05T08:00:00+08:00"},
		{"2", "P005", "venue", "2022-01-05T12:30:00+08:00", "V-TGL", tgl, "", "", "P004", "2022-01-05T12:00:00+08:00"},
		{"2", "P007", "venue", "2022-01-05T13:00:00+08:00", "V-CXL", cxl, "", "", "P004", "2022-01-05T14:00:00+08:00"},
		{"2", "P006", "venue", "2022-01-05T15:30:00+08:00", "V-CXL", cxl, "", "", "P004", "2022-01-05T14:00:00+08:00"},
	}, csvRows(t, out))
	require.Contains(t, stderr, "case 510***********123X: 7 contacts")
	require.NotContains(t, stderr, caseID, "logs mask the case's id")

	// Depth 1, and the whole train instead of the national plan's carriage.
	out, _ = mustRun(t, "contacts", "-snapshot", snap, "-person", caseID, "-proximity", "whole")
	var people []string
	for _, r := range csvRows(t, out) {
		people = append(people, r[1])
	}
	require.Equal(t, []string{"P002", "P004", "P009", "P010"}, people)

	// A task that identified P004 excludes it: P004 is neither reported nor
	// followed, so P005, P006 and P007 are not reached.
	dir := t.TempDir()
	earlier := filepath.Join(dir, "task-1.json")
	require.NoError(t, os.WriteFile(earlier, []byte(`{"id":"task-1","cases":["P004"],"contacts":[]}`), 0o644))
	saved := filepath.Join(dir, "task-2.json")
	out, stderr = mustRun(t, "contacts", "-snapshot", snap, "-person", caseID, "-depth", "2", "-exclude", earlier, "-save", saved, "-format", "json")
	var js []contactJSON
	require.NoError(t, json.Unmarshal([]byte(out), &js))
	people = nil
	for _, c := range js {
		people = append(people, c.Person)
	}
	require.Equal(t, []string{"P002", "P009", "P003"}, people)
	require.Contains(t, stderr, "1 excluded from 1 earlier tasks")
	tf, err := readTask(saved)
	require.NoError(t, err)
	require.Equal(t, taskFile{ID: "task-2", Cases: []string{caseID}, Contacts: []string{"P002", "P009", "P003"}, Excluded: []string{"task-1"}}, tf)
}

type contactKey struct {
	hop               int
	person, kind, via string
	time              int64
	venue             string
}

// Contacts over the synthetic sample, ingested as two days (the second with
// -append), equal the package's own answer over all the scans at once.
func TestContactsMatchPackage(t *testing.T) {
	s := newSample()
	snap := filepath.Join(t.TempDir(), "s.snap")
	mustRun(t, "ingest", "-scans", "testdata/scans-day1.csv", "-trips", "testdata/trips.csv", "-venues", "testdata/venues.csv", "-snapshot", snap)
	_, stderr := mustRun(t, "ingest", "-append", "-scans", "testdata/scans-day2.csv", "-snapshot", snap)
	require.Contains(t, stderr, "1800 scans of")

	scans := make([]contacttrace.Scan, len(s.scans))
	for i, sc := range s.scans {
		scans[i] = contacttrace.Scan{Person: sc.Person, Venue: sc.Venue, Time: sc.Time}
	}
	ix, err := contacttrace.Build(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	var trips []contacttrace.Trip
	for _, tr := range s.trips {
		ct := contacttrace.Trip{Mode: modeOf(tr.Mode), Number: tr.Number, Date: tr.Date}
		for _, p := range tr.Passengers {
			ct.Passengers = append(ct.Passengers, contacttrace.Seat{Person: p.Person, Car: p.Car, Row: p.Row, Seat: p.Seat})
		}
		trips = append(trips, ct)
	}
	tix, err := contacttrace.NewTrips(trips, contacttrace.Config{})
	require.NoError(t, err)
	tr, err := contacttrace.NewTracer(ix, tix, contacttrace.Config{})
	require.NoError(t, err)

	cases := []uint32{s.scans[0].Person, s.scans[len(s.scans)/2].Person, s.trips[0].Passengers[0].Person}
	for _, c := range cases {
		for _, depth := range []int{1, 3} {
			res, err := tr.Trace(context.Background(), contacttrace.Query{Cases: []uint32{c}, Before: 90 * time.Minute, After: 30 * time.Minute, Depth: depth})
			require.NoError(t, err)
			var want []contactKey
			for _, k := range res.Contacts {
				ck := contactKey{hop: int(k.Hop), person: personID(k.Person), kind: k.Kind.String(), via: personID(k.Via), time: k.Time}
				if k.Kind == contacttrace.KindVenue {
					ck.venue = venueID(k.Venue)
				}
				want = append(want, ck)
			}
			out, _ := mustRun(t, "contacts", "-snapshot", snap, "-person", personID(c), "-before", "90m", "-after", "30m", "-depth", itoa(depth), "-format", "json")
			var js []contactJSON
			require.NoError(t, json.Unmarshal([]byte(out), &js))
			var got []contactKey
			for _, k := range js {
				at, err := time.Parse(time.RFC3339, k.Time)
				require.NoError(t, err)
				got = append(got, contactKey{hop: int(k.Hop), person: k.Person, kind: k.Kind, via: k.Via, time: at.Unix(), venue: k.Venue})
			}
			// Ties in time are ordered by dense id, which differs between the
			// two numberings: compare as sorted lists. For the same reason,
			// when two people of hop k expose someone with the same scan,
			// "the lowest Via" may name either: Via is compared at hop 1 only.
			for _, l := range [][]contactKey{want, got} {
				for i := range l {
					if l[i].hop > 1 {
						l[i].via = ""
					}
				}
			}
			cmp := func(a, b contactKey) int { return strings.Compare(a.person, b.person) }
			slices.SortFunc(want, cmp)
			slices.SortFunc(got, cmp)
			require.NotEmpty(t, want)
			require.Equal(t, want, got, "case %s depth %d", personID(c), depth)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestVenues(t *testing.T) {
	snap := ingestCase(t)
	out, _ := mustRun(t, "venues", "-snapshot", snap, "-q", "太古里 春熙路")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"venue", "name", "score"}, rows[0])
	require.Equal(t, []string{"V-TGL", "成都市锦江区春熙路太古里某咖啡"}, rows[1][:2], "the only name with both terms ranks first")
	require.Len(t, rows, 3, "the hospital shares no n-gram with the query")

	out, _ = mustRun(t, "venues", "-venues", "testdata/venues.csv", "-q", "麦当劳", "-k", "3")
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 1)
	for _, r := range rows[1:] {
		require.Contains(t, r[1], "麦当劳")
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	snap := ingestCase(t)
	noNames := filepath.Join(dir, "nonames.snap")
	mustRun(t, "ingest", "-scans", "testdata/case-scans.csv", "-snapshot", noNames)
	raw, err := os.ReadFile(snap)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "trunc.snap")
	require.NoError(t, os.WriteFile(truncated, raw[:len(raw)/2], 0o644))
	for _, kind := range []string{"persons", "venues", "trips"} {
		b, err := os.ReadFile(tracesnap.Sidecar(snap, kind))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(tracesnap.Sidecar(truncated, kind), b, 0o644))
	}
	out := filepath.Join(dir, "out.snap")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"trace"}, `unknown command "trace"`},
		{"ingest without scans", []string{"ingest", "-snapshot", out}, "-scans is required"},
		{"ingest without snapshot", []string{"ingest", "-scans", "testdata/case-scans.csv"}, "-snapshot is required"},
		{"bad time", []string{"ingest", "-snapshot", out, "-scans", write("t.csv", "person,venue,time\nA,V,2022-01-05 10:00\nB,V,yesterday\n")}, `t.csv:3: field "time": time "yesterday"`},
		{"empty venue", []string{"ingest", "-snapshot", out, "-scans", write("v.csv", "person,venue,time\nA,,2022-01-05 10:00\n")}, `v.csv:2: field "venue": empty`},
		{"missing column", []string{"ingest", "-snapshot", out, "-scans", write("m.csv", "person,time\n")}, `m.csv:1: field "venue": missing column`},
		{"short row", []string{"ingest", "-snapshot", out, "-scans", write("s.csv", "person,venue,time\nA,V\n")}, "s.csv:2: 2 fields, header has 3"},
		{"bad mode", []string{"ingest", "-snapshot", out, "-scans", "testdata/case-scans.csv", "-trips", write("tr.csv", "mode,number,date,person\nplane,CA1,2022-01-05,A\nship,X1,2022-01-05,B\n")}, `tr.csv:3: field "mode": mode "ship"`},
		{"bad seat", []string{"ingest", "-snapshot", out, "-scans", "testdata/case-scans.csv", "-trips", write("ts.csv", "mode,number,date,person,seat\nplane,CA1,2022-01-05,A,12F\n")}, `ts.csv:2: field "seat": "12F"`},
		{"contacts without person", []string{"contacts", "-snapshot", snap}, "-person is required"},
		{"unknown person is masked", []string{"contacts", "-snapshot", snap, "-person", "110105194912310021"}, "-person 110***********0021: not in snapshot"},
		{"bad depth", []string{"contacts", "-snapshot", snap, "-person", caseID, "-depth", "9"}, "-depth 9: want 1 to 8"},
		{"bad format", []string{"contacts", "-snapshot", snap, "-person", caseID, "-format", "xml"}, `-format "xml"`},
		{"bad exclude", []string{"contacts", "-snapshot", snap, "-person", caseID, "-exclude", write("x.json", "{")}, "x.json"},
		{"truncated snapshot", []string{"contacts", "-snapshot", truncated, "-person", caseID}, "trunc.snap: contacttrace: snapshot section"},
		{"missing mapping", []string{"contacts", "-snapshot", write("lonely.snap", string(raw)), "-person", caseID}, "written by tracectl ingest beside the snapshot"},
		{"venues without q", []string{"venues", "-snapshot", snap}, "-q is required"},
		{"venues without names", []string{"venues", "-snapshot", noNames, "-q", "太古里"}, "has no venue names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.NoFileExists(t, out, "nothing is written on a refusal")
		})
	}
}
