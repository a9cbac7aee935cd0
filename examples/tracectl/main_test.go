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
	require.Contains(t, stderr, "2 days 2022-01-05 .. 2022-01-06")

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
		{"venues without q", []string{"venues", "-snapshot", snap}, "-q is required"},
		{"negative retention", []string{"ingest", "-snapshot", out, "-scans", "testdata/case-scans.csv", "-retain-days", "-1"}, "-retain-days -1: want 0 (keep all) or more"},
		{"retention on append", []string{"ingest", "-append", "-snapshot", snap, "-scans", "testdata/case-scans.csv", "-retain-days", "7"}, "-retain-days with -append: the snapshot keeps the window of its first ingest"},
		{"append to nothing", []string{"ingest", "-append", "-snapshot", out, "-scans", "testdata/case-scans.csv"}, "ingest: -append: stat " + out},
		{"snapshot over other files", []string{"ingest", "-snapshot", dir, "-scans", "testdata/case-scans.csv"}, "a directory with other files (no MANIFEST)"},
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

// snapshotFiles is every file of a snapshot directory, by name.
func snapshotFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

// dayFiles are the names of a snapshot's day files.
func dayFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for name := range snapshotFiles(t, dir) {
		if strings.HasSuffix(name, ".hct") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ingest -append writes the day files of the days its scans fall on,
// and leaves the others as they were; the id maps grow with it.
func TestIngestAppendWritesNewDay(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "s")
	_, stderr := mustRun(t, "ingest", "-scans", "testdata/scans-day1.csv", "-trips", "testdata/trips.csv", "-venues", "testdata/venues.csv", "-snapshot", snap)
	day1 := dayFiles(t, snap)
	require.Len(t, day1, 1)
	require.Contains(t, stderr, "wrote 1 day files ("+day1[0]+")")
	before := snapshotFiles(t, snap)
	st1, err := os.Stat(filepath.Join(snap, day1[0]))
	require.NoError(t, err)

	_, stderr = mustRun(t, "ingest", "-append", "-scans", "testdata/scans-day2.csv", "-snapshot", snap)
	days := dayFiles(t, snap)
	require.Len(t, days, 2)
	require.Equal(t, day1[0], days[0])
	require.True(t, strings.HasPrefix(days[1], "2022-01-06."), days[1])
	require.Contains(t, stderr, "wrote 1 day files ("+days[1]+")", "only the new day")
	after := snapshotFiles(t, snap)
	require.Equal(t, before[day1[0]], after[day1[0]])
	st2, err := os.Stat(filepath.Join(snap, day1[0]))
	require.NoError(t, err)
	require.True(t, st1.ModTime().Equal(st2.ModTime()), "day 1's file is not rewritten")
	require.Equal(t, before["trips.csv"], after["trips.csv"], "no trips given: the same trips")
	require.NotEqual(t, before["MANIFEST"], after["MANIFEST"])

	// More scans of a day held: that day's file is replaced, the other kept.
	_, stderr = mustRun(t, "ingest", "-append", "-scans", write(t, "late.csv", "person,venue,time\nu9999,v001,2022-01-06 23:00\n"), "-snapshot", snap)
	again := dayFiles(t, snap)
	require.Equal(t, day1[0], again[0])
	require.NotEqual(t, days[1], again[1])
	require.Contains(t, stderr, "wrote 1 day files ("+again[1]+")")
	out, _ := mustRun(t, "contacts", "-snapshot", snap, "-person", "u9999")
	require.Empty(t, csvRows(t, out), "alone at 23:00")
}

// -retain-days keeps the latest days: the oldest drop out of the
// snapshot, and scans older than the window are ignored.
func TestIngestRetainDays(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "s")
	mustRun(t, "ingest", "-scans", "testdata/scans-day1.csv", "-snapshot", snap, "-retain-days", "1")
	_, stderr := mustRun(t, "ingest", "-append", "-scans", "testdata/scans-day2.csv", "-snapshot", snap)
	days := dayFiles(t, snap)
	require.Len(t, days, 1)
	require.True(t, strings.HasPrefix(days[0], "2022-01-06."), days[0])
	require.Contains(t, stderr, "1 days 2022-01-06 .. 2022-01-06")
	refused(t, "every scan is older than the snapshot's retention window", "ingest", "-append", "-scans", "testdata/scans-day1.csv", "-snapshot", snap)

	// 0 keeps all: both days of a single ingest.
	all := filepath.Join(t.TempDir(), "all")
	mustRun(t, "ingest", "-scans", write(t, "two.csv", "person,venue,time\nA,V,2021-01-05 10:00\nB,V,2022-01-05 10:00\n"), "-snapshot", all, "-retain-days", "0")
	require.Len(t, dayFiles(t, all), 2)
	def := filepath.Join(t.TempDir(), "def")
	_, stderr = mustRun(t, "ingest", "-scans", write(t, "two.csv", "person,venue,time\nA,V,2021-01-05 10:00\nB,V,2022-01-05 10:00\n"), "-snapshot", def)
	require.Len(t, dayFiles(t, def), 1, "21 days by default")
	require.Contains(t, stderr, "2 scans read (1 older than the retention window, ignored)")
}

// A snapshot file that does not match its MANIFEST, or is missing, is
// refused naming the file; a replacing ingest puts a good one back.
func TestSnapshotDamageRefused(t *testing.T) {
	snap := ingestCase(t)
	day := dayFiles(t, snap)[0]
	for _, name := range []string{day, "persons.csv", "venues.csv", "trips.csv", "MANIFEST"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(snap, name)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			bad := slices.Clone(raw)
			bad[len(bad)/2] ^= 0x20
			require.NoError(t, os.WriteFile(path, bad, 0o600))
			refused(t, "contacttrace: snapshot section "+name+" ", "contacts", "-snapshot", snap, "-person", caseID)
			refused(t, "contacttrace: snapshot section "+name+" ", "venues", "-snapshot", snap, "-q", "太古里")
			refused(t, "contacttrace: snapshot section "+name+" ", "ingest", "-append", "-scans", "testdata/case-scans.csv", "-snapshot", snap)
			require.NoError(t, os.WriteFile(path, raw, 0o600))
		})
	}
	require.NoError(t, os.Remove(filepath.Join(snap, "persons.csv")))
	refused(t, filepath.Join(snap, "persons.csv")+": no such file", "contacts", "-snapshot", snap, "-person", caseID)
	mustRun(t, "ingest", "-scans", "testdata/case-scans.csv", "-snapshot", snap)
	mustRun(t, "contacts", "-snapshot", snap, "-person", caseID)
}

// A snapshot of the previous format (one index file, the id maps beside
// it) is still read by contacts and venues; ingest refuses to update it.
func TestSingleFileSnapshot(t *testing.T) {
	dir := ingestCase(t)
	s, err := tracesnap.Load(dir)
	require.NoError(t, err)
	var scans []contacttrace.Scan
	for v := range uint32(len(s.Venues)) {
		scans = s.Segments.VenueScans(scans, v, time.Time{}, time.Unix(1<<40, 0))
	}
	ix, err := contacttrace.Build(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ix.WriteTo(&b)
	require.NoError(t, err)
	old := filepath.Join(t.TempDir(), "old.snap")
	require.NoError(t, os.WriteFile(old, b.Bytes(), 0o600))
	for _, kind := range []string{"persons", "venues", "trips"} {
		raw, err := os.ReadFile(filepath.Join(dir, kind+".csv"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(old+"."+kind+".csv", raw, 0o600))
	}

	for _, args := range [][]string{
		{"contacts", "-person", caseID, "-depth", "2"},
		{"venues", "-q", "太古里 春熙路"},
	} {
		want, _ := mustRun(t, append(args, "-snapshot", dir)...)
		got, _ := mustRun(t, append(args, "-snapshot", old)...)
		require.Equal(t, want, got, "%v", args)
	}
	for _, args := range [][]string{
		{"ingest", "-append", "-scans", "testdata/case-scans.csv", "-snapshot", old},
		{"ingest", "-scans", "testdata/case-scans.csv", "-snapshot", old},
	} {
		refused(t, "-snapshot: snapshot "+old+": the previous single-file format, which is read but not updated: ingest every day again into a new snapshot directory", args...)
	}
	refused(t, "-save", "contacts", "-snapshot", old, "-person", caseID, "-save", old+".trips.csv")
	require.FileExists(t, old)
}
