package tracesnap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// sample is a small snapshot: three persons, two venues (one named), a
// train with seats and a bus without, scans on 2022-01-05 (UTC+8).
func sample(t *testing.T) *Snapshot {
	t.Helper()
	s := New(-1)
	at := time.Date(2022, 1, 5, 10, 0, 0, 0, CST)
	scans := []contacttrace.Scan{
		{Person: s.Person("51010419900101123X"), Venue: s.Venue("V-TGL"), Time: at.Unix()},
		{Person: s.Person("P002"), Venue: s.Venue("V-TGL"), Time: at.Add(-2 * time.Hour).Unix()},
		{Person: s.Person("P002"), Venue: s.Venue("V-CXL"), Time: at.Add(time.Hour).Unix()},
	}
	s.VenueNames[0] = "成都市锦江区春熙路太古里某咖啡, \"A\""
	s.Trips = []contacttrace.Trip{
		{Mode: contacttrace.ModeTrainSealed, Number: "G1234", Date: at.Add(6 * time.Hour), Passengers: []contacttrace.Seat{
			{Person: 0, Car: 3, Row: 1, Seat: 'A'}, {Person: s.Person("P009"), Car: 3, Row: 2, Seat: 'F'},
		}},
		{Mode: contacttrace.ModeBus, Number: "川A·12345", Date: at.Add(-10 * time.Hour), Passengers: []contacttrace.Seat{{Person: 1}}},
	}
	var err error
	s.Segments, err = s.Segments.Append(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	return s
}

// allScans is every scan of s, venue by venue.
func allScans(s *Snapshot) []contacttrace.Scan {
	var out []contacttrace.Scan
	for v := range uint32(len(s.Venues)) {
		out = s.Segments.VenueScans(out, v, time.Time{}, time.Unix(1<<40, 0))
	}
	return out
}

// requireSame checks that got holds what want held.
func requireSame(t *testing.T, want, got *Snapshot) {
	t.Helper()
	require.Equal(t, want.Persons, got.Persons)
	require.Equal(t, want.Venues, got.Venues)
	require.Equal(t, want.VenueNames, got.VenueNames)
	require.Len(t, got.Trips, len(want.Trips))
	for i, tr := range got.Trips {
		require.True(t, want.Trips[i].Date.Equal(tr.Date), "trip %d date %v", i, tr.Date)
		tr.Date = want.Trips[i].Date
		require.Equal(t, want.Trips[i], tr)
	}
	require.Equal(t, want.Segments.Days(), got.Segments.Days())
	require.Equal(t, allScans(want), allScans(got))
}

// Load gives back what Save wrote: the ids, names, trips and days, and
// lookups that assign nothing. Every file is private.
func TestSaveLoadRoundTrip(t *testing.T) {
	want := sample(t)
	dir := filepath.Join(t.TempDir(), "case.snap")
	wrote, err := want.Save(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"2022-01-05.3.hct"}, wrote)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if runtime.GOOS != "windows" {
			fi, err := e.Info()
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s holds who went where", e.Name())
		}
	}
	require.Equal(t, []string{"2022-01-05.3.hct", contacttrace.ManifestName, PersonsFile, TripsFile, VenuesFile}, names)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	}

	got, err := Load(dir)
	require.NoError(t, err)
	requireSame(t, want, got)
	require.Equal(t, filepath.Join(dir, PersonsFile), got.File(PersonsFile))

	p, ok := got.PersonID("P009")
	require.True(t, ok)
	require.Equal(t, uint32(2), p)
	v, ok := got.VenueID("V-CXL")
	require.True(t, ok)
	require.Equal(t, uint32(1), v)
	_, ok = got.PersonID("P404")
	require.False(t, ok)
	_, ok = got.VenueID("V-404")
	require.False(t, ok)
	require.Len(t, got.Persons, 3, "a lookup assigns no id")
	require.Equal(t, uint32(3), got.Person("P404"), "Person assigns the next id")
	require.Equal(t, uint32(0), got.Person("51010419900101123X"))
}

// A loaded snapshot that gains a day writes that day's file alone (and
// the id maps and MANIFEST); the old day's file is left as it was. A
// snapshot not loaded from the directory replaces it whole.
func TestSaveAppendWritesNewDay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	_, err := sample(t).Save(dir)
	require.NoError(t, err)
	day1 := filepath.Join(dir, "2022-01-05.3.hct")
	before, err := os.Stat(day1)
	require.NoError(t, err)

	s, err := Load(dir)
	require.NoError(t, err)
	next := time.Date(2022, 1, 6, 9, 0, 0, 0, CST).Unix()
	s.Segments, err = s.Segments.Append(context.Background(), []contacttrace.Scan{
		{Person: s.Person("P002"), Venue: s.Venue("V-NEW"), Time: next},
		{Person: s.Person("P010"), Venue: s.Venue("V-NEW"), Time: next + 60},
	}, contacttrace.Config{})
	require.NoError(t, err)
	wrote, err := s.Save(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"2022-01-06.2.hct"}, wrote, "only the new day")
	after, err := os.Stat(day1)
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after) && before.ModTime().Equal(after.ModTime()), "the old day's file is not rewritten")

	got, err := Load(dir)
	require.NoError(t, err)
	requireSame(t, s, got)
	require.Equal(t, 5, got.Segments.Len())

	// A snapshot of its own replaces the directory: no day of the old one
	// survives.
	fresh := New(-1)
	fresh.Segments, err = fresh.Segments.Append(context.Background(), []contacttrace.Scan{{Person: fresh.Person("X"), Venue: fresh.Venue("V"), Time: next}}, contacttrace.Config{})
	require.NoError(t, err)
	wrote, err = fresh.Save(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"2022-01-06.1.hct"}, wrote)
	require.NoFileExists(t, day1)
	got, err = Load(dir)
	require.NoError(t, err)
	requireSame(t, fresh, got)
	left, err := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*"))
	require.NoError(t, err)
	require.Empty(t, left, "no temporary directory is left behind")
}

// A day file, an id map or MANIFEST that does not match the manifest is
// refused, naming the file.
func TestLoadRefusesCorruptFile(t *testing.T) {
	for _, name := range []string{"2022-01-05.3.hct", PersonsFile, VenuesFile, TripsFile, contacttrace.ManifestName} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			_, err := sample(t).Save(dir)
			require.NoError(t, err)
			path := filepath.Join(dir, name)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			raw[len(raw)/2] ^= 0x20 // a flipped bit, same size
			require.NoError(t, os.WriteFile(path, raw, 0o600))
			_, err = Load(dir)
			require.ErrorIs(t, err, contacttrace.ErrCorrupt)
			require.ErrorContains(t, err, "snapshot "+dir+": contacttrace: snapshot section "+name+" ")
		})
	}
	dir := filepath.Join(t.TempDir(), "s")
	_, err := sample(t).Save(dir)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, contacttrace.ManifestName)))
	_, err = Load(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, filepath.Join(dir, contacttrace.ManifestName))
}

// Save writes a new snapshot only where it would lose nothing: not over
// a file (a snapshot of the previous format, ErrSingleFile, or any
// other) nor a directory of other files.
func TestSaveRefusesTarget(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.snap")
	saveSingleFile(t, sample(t), old)
	_, err := sample(t).Save(old)
	require.ErrorIs(t, err, ErrSingleFile)
	require.ErrorContains(t, err, old)

	other := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(other, []byte("x"), 0o600))
	_, err = sample(t).Save(other)
	require.ErrorContains(t, err, "snapshot "+other+": a file, not a directory")

	home := filepath.Join(dir, "home")
	require.NoError(t, os.Mkdir(home, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, "thesis.tex"), []byte("x"), 0o600))
	_, err = sample(t).Save(home)
	require.ErrorContains(t, err, "a directory with other files (no MANIFEST)")
	require.FileExists(t, filepath.Join(home, "thesis.tex"))

	require.NoError(t, os.Mkdir(filepath.Join(dir, "empty"), 0o700))
	_, err = sample(t).Save(filepath.Join(dir, "empty"))
	require.NoError(t, err)
}

// Owns names the files a snapshot is made of, in either format.
func TestOwns(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "s")
	_, err := sample(t).Save(snap)
	require.NoError(t, err)
	require.True(t, Owns(snap, snap))
	require.True(t, Owns(snap, filepath.Join(snap, PersonsFile)))
	require.True(t, Owns(snap, filepath.Join(snap, "new.json")))
	require.False(t, Owns(snap, filepath.Join(dir, "task.json")))
	require.False(t, Owns(snap, snap+"2"))
	old := filepath.Join(dir, "old.snap")
	saveSingleFile(t, sample(t), old)
	require.True(t, Owns(old, sidecar(old, "trips")))
	require.False(t, Owns(old, filepath.Join(dir, "task.json")))
}

// saveSingleFile writes s in the previous format: the index as one file
// and the id maps beside it.
func saveSingleFile(t *testing.T, s *Snapshot, path string) {
	t.Helper()
	ix, err := contacttrace.Build(context.Background(), allScans(s), contacttrace.Config{})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ix.WriteTo(&b)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o600))
	for name, write := range s.extras() {
		var b bytes.Buffer
		require.NoError(t, write(&b))
		require.NoError(t, os.WriteFile(sidecar(path, strings.TrimSuffix(name, ".csv")), b.Bytes(), 0o600))
	}
}

// A snapshot of the previous format still loads, its scans cut into days.
func TestLoadSingleFile(t *testing.T) {
	want := sample(t)
	path := filepath.Join(t.TempDir(), "case.snap")
	saveSingleFile(t, want, path)
	got, err := Load(path)
	require.NoError(t, err)
	requireSame(t, want, got)
	require.Equal(t, sidecar(path, "persons"), got.File(PersonsFile))
}

// A mapping that does not agree with the index, or has a bad row, is
// refused; a bad row with its file and line. (The rows of a snapshot
// directory are checked the same way, once their checksums pass; the
// previous format has none, so the rows are damaged there.)
func TestLoadRefusesCorruptSidecar(t *testing.T) {
	const (
		persons = "person\n51010419900101123X\nP002\nP009\n"
		venues  = "venue,name\nV-TGL,咖啡\nV-CXL,\n"
		trips   = "mode,number,date,person,car,row,seat\ntrain-sealed,G1234,2022-01-05T16:00:00+08:00,P009,3,2,F\n"
	)
	tests := []struct {
		name, kind, body string
		line             int // of the *cli.RowError; 0 for none
		want             string
	}{
		{"repeated person", "persons", "person\nA\nB\nA\n", 4, `.persons.csv:4: field "person": empty or repeated id`},
		{"empty venue", "venues", "venue,name\nV-TGL,x\n,y\n", 3, `.venues.csv:3: field "venue": empty or repeated id`},
		{"bad mode", "trips", trips + "ship,X1,2022-01-05,P002,,,\n", 3, `.trips.csv:3: field "mode": mode "ship"`},
		{"bad seat", "trips", "mode,number,date,person,car,row,seat\nplane,CA1,2022-01-05,P002,0,12,12F\n", 2, `.trips.csv:2: field "seat": "12F"`},
		{"missing column", "trips", "mode,number,date,person\n", 1, `.trips.csv:1: field "car": missing column`},
		{"too few persons", "persons", "person\nP002\n", 0, "index has 2 persons and 2 venues, the mappings 1 and 2: files from different ingests?"},
		{"stranger on a trip", "trips", trips + "bus,1,2022-01-05,P404,,,\n", 0, ".trips.csv names persons missing from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.snap")
			saveSingleFile(t, sample(t), path)
			for kind, body := range map[string]string{"persons": persons, "venues": venues, "trips": trips} {
				if kind == tt.kind {
					body = tt.body
				}
				require.NoError(t, os.WriteFile(sidecar(path, kind), []byte(body), 0o600))
			}
			_, err := Load(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			var re *cli.RowError
			if tt.line == 0 {
				require.False(t, errors.As(err, &re), "%v", err)
				return
			}
			require.True(t, errors.As(err, &re), "%v", err)
			require.Equal(t, sidecar(path, tt.kind), re.File)
			require.Equal(t, tt.line, re.Line)
		})
	}
}

// A missing mapping or a damaged index of the previous format is refused
// naming the snapshot.
func TestLoadRefusesMissingFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.snap")
	saveSingleFile(t, sample(t), path)
	require.NoError(t, os.Remove(sidecar(path, "venues")))
	_, err := Load(path)
	require.ErrorContains(t, err, "written by tracectl ingest with the snapshot")
	require.ErrorIs(t, err, os.ErrNotExist)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw[:len(raw)/2], 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, path+": contacttrace:")
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]contacttrace.Mode{
		"plane": contacttrace.ModePlane, "Flight": contacttrace.ModePlane,
		"train-sealed": contacttrace.ModeTrainSealed, "TRAIN_UNSEALED": contacttrace.ModeTrainUnsealed,
		"bus": contacttrace.ModeBus, "coach": contacttrace.ModeBus,
	} {
		got, err := ParseMode(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		back, err := ParseMode(got.String())
		require.NoError(t, err)
		require.Equal(t, got, back, "String reads back")
	}
	_, err := ParseMode("ship")
	require.EqualError(t, err, `mode "ship": want plane, train-sealed, train-unsealed or bus`)
}
