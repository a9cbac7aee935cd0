package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 20 item 5: every subcommand fed what a careless user gives it.
// A refusal names the flag, or the file, line and field.

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func refused(t *testing.T, want string, args ...string) {
	t.Helper()
	_, _, err := runCLI(t, args...)
	require.Error(t, err, "%v", args)
	require.Contains(t, err.Error(), want, "%v", args)
	require.Less(t, len(err.Error()), 400, "the message quotes at most a prefix of a value")
}

func TestInputOutputsNeverOverwriteInputs(t *testing.T) {
	snap := ingestCase(t)
	before := snapshotFiles(t, snap)
	refused(t, "-save", "contacts", "-snapshot", snap, "-person", caseID, "-save", snap)
	refused(t, "-save", "contacts", "-snapshot", snap, "-person", caseID, "-save", filepath.Join(snap, "persons.csv"))
	refused(t, "-save", "contacts", "-snapshot", snap, "-person", caseID, "-save", filepath.Join(snap, "task.json"))
	refused(t, "-snapshot", "ingest", "-append", "-scans", "testdata/case-scans.csv", "-venues", filepath.Join(snap, "venues.csv"), "-snapshot", snap)
	require.Equal(t, before, snapshotFiles(t, snap))

	scans := write(t, "s.csv", "person,venue,time\nA,V,1641348000\n")
	refused(t, "-snapshot", "ingest", "-scans", scans, "-snapshot", scans)
	named := write(t, "persons.csv", "person,venue,time\nA,V,1641348000\n")
	refused(t, "-snapshot", "ingest", "-scans", named, "-snapshot", filepath.Dir(named))
	for _, in := range []string{scans, named} {
		b, err := os.ReadFile(in)
		require.NoError(t, err)
		require.Equal(t, "person,venue,time\nA,V,1641348000\n", string(b))
	}
}

func TestInputFlagsGivenTwice(t *testing.T) {
	snap := ingestCase(t)
	refused(t, "-person given twice", "contacts", "-snapshot", snap, "-person", caseID, "-person", "P002")
	refused(t, "-scans given twice", "ingest", "-scans", "testdata/case-scans.csv", "-scans", "testdata/scans-day1.csv", "-snapshot", snap)
	refused(t, "-k given twice", "venues", "-snapshot", snap, "-q", "x", "-k", "1", "-k", "2")
	refused(t, "-person: P*** given twice", "contacts", "-snapshot", snap, "-person", "P002, P002")
	refused(t, "-person: empty id", "contacts", "-snapshot", snap, "-person", caseID+",,")
	refused(t, "-exclude: empty file name", "contacts", "-snapshot", snap, "-person", caseID, "-exclude", ",")
	refused(t, "-depth 0: want 1 to 8", "contacts", "-snapshot", snap, "-person", caseID, "-depth", "0")
	refused(t, "-q: blank", "venues", "-snapshot", snap, "-q", "  ")
}

func TestInputEmptyAndHeaderOnly(t *testing.T) {
	snap := ingestCase(t)
	before := snapshotFiles(t, snap)
	refused(t, "empty file", "ingest", "-scans", write(t, "e.csv", ""), "-snapshot", snap)
	refused(t, "h.csv: no scans", "ingest", "-scans", write(t, "h.csv", "person,venue,time\r\n"), "-snapshot", snap)
	refused(t, "h.csv: no scans", "ingest", "-append", "-scans", write(t, "h.csv", "\ufeffperson,venue,time\n\n"), "-snapshot", snap)
	require.Equal(t, before, snapshotFiles(t, snap), "a refused ingest keeps the snapshot")
	// BOM and CRLF are read as any other file.
	mustRun(t, "ingest", "-scans", write(t, "b.csv", "\ufeffperson,venue,time\r\nA,V,1641348000\r\n"), "-snapshot", filepath.Join(t.TempDir(), "b.snap"))
}

func TestInputValuesOutOfRange(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "x.snap")
	for _, c := range []struct{ row, want string }{
		{"A,V,0000-01-01", `x.csv:2: field "time": 0000-01-01 is out of range`},
		{"A,V,99999999999999999", `x.csv:2: field "time": 99999999999999999 is out of range`},
		{"A,V,9999-12-31T23:59:59Z", `x.csv:2: field "time": 9999-12-31T23:59:59Z is out of range`},
		{"A,V,0", `field "time": 0 is out of range`},
		{"A,V," + strings.Repeat("1", 10<<20), `field "time": time "1111111111111111111111111111111111111111`},
		{strings.Repeat("A", 10<<20) + ",V,1641348000", `x.csv:2: field "person": 10485760 bytes: want at most 256`},
		{"A\xff,V,1641348000", `field "person": not valid UTF-8`},
	} {
		refused(t, c.want, "ingest", "-scans", write(t, "x.csv", "person,venue,time\n"+c.row+"\n"), "-snapshot", snap)
	}
	scans := write(t, "s.csv", "person,venue,time\nA,V,1641348000\n")
	for _, c := range []struct{ row, want string }{
		{"plane,X1,2022-01-05,A,0,2147483648,A", `t.csv:2: field "row": "2147483648": want a whole number from 0 to 9999`},
		{"bus,X1,2022-02-30,A,0,1,", `t.csv:2: field "date": time "2022-02-30"`},
		{"bus,X1,1900-01-01,A,0,1,", `t.csv:2: field "date": 1900-01-01 is out of range`},
	} {
		refused(t, c.want, "ingest", "-scans", scans, "-trips", write(t, "t.csv", "mode,number,date,person,car,row,seat\n"+c.row+"\n"), "-snapshot", snap)
	}
	refused(t, `field "name": not valid UTF-8`, "venues", "-venues", write(t, "v.csv", "venue,name\nV1,\xb3\xc9\xb6\xbc\n"), "-q", "x")
	refused(t, `v.csv:3: field "venue": V1 named twice (line 2)`, "venues", "-venues", write(t, "v.csv", "venue,name\nV1,a\nV1,b\n"), "-q", "x")

	s := ingestCase(t)
	refused(t, "-since: 0000-01-01 is out of range", "contacts", "-snapshot", s, "-person", caseID, "-since", "0000-01-01")
	refused(t, `-until: time "2022-02-30"`, "contacts", "-snapshot", s, "-person", caseID, "-until", "2022-02-30")
}

func TestInputTaskFiles(t *testing.T) {
	snap := ingestCase(t)
	refused(t, "e.json: empty file", "contacts", "-snapshot", snap, "-person", caseID, "-exclude", write(t, "e.json", ""))
	refused(t, `u.json:1:36: unknown field "extra"`, "contacts", "-snapshot", snap, "-person", caseID, "-exclude", write(t, "u.json", `{"id":"t","cases":[],"contacts":[],"extra":1}`))
	refused(t, `w.json:2:9: field "cases": want an array of strings`, "contacts", "-snapshot", snap, "-person", caseID, "-exclude", write(t, "w.json", "{\"id\":\"t\",\r\n\"cases\":\"P004\"}"))
	// A BOM is the encoding's signature, not part of the JSON.
	_, stderr := mustRun(t, "contacts", "-snapshot", snap, "-person", caseID, "-exclude", write(t, "b.json", "\ufeff{\"id\":\"t\",\"cases\":[\"P004\"],\"contacts\":[]}"))
	require.Contains(t, stderr, "1 excluded from 1 earlier tasks")
}
