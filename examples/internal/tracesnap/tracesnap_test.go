package tracesnap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// sample is a small snapshot: three persons, two venues (one named), a
// train with seats and a bus without.
func sample(t *testing.T) *Snapshot {
	t.Helper()
	s := New()
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
	s.Index, err = contacttrace.Build(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	return s
}

// Load gives back what Save wrote: the ids, names, trips and index, and
// lookups that assign nothing.
func TestSaveLoadRoundTrip(t *testing.T) {
	want := sample(t)
	path := filepath.Join(t.TempDir(), "case.snap")
	n, err := want.Save(path)
	require.NoError(t, err)
	for _, f := range Files(path) {
		st, err := os.Stat(f)
		require.NoError(t, err)
		if runtime.GOOS != "windows" {
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "%s holds who went where", f)
		}
		if f == path {
			require.Equal(t, n, st.Size())
		}
	}

	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, want.Persons, got.Persons)
	require.Equal(t, want.Venues, got.Venues)
	require.Equal(t, want.VenueNames, got.VenueNames)
	require.Len(t, got.Trips, len(want.Trips))
	for i, tr := range got.Trips {
		require.True(t, want.Trips[i].Date.Equal(tr.Date), "trip %d date %v", i, tr.Date)
		tr.Date = want.Trips[i].Date
		require.Equal(t, want.Trips[i], tr)
	}
	require.Equal(t, want.Index.Len(), got.Index.Len())
	for v := range uint32(len(want.Venues)) {
		require.Equal(t, want.Index.VenueScans(nil, v, time.Time{}, time.Unix(1<<40, 0)), got.Index.VenueScans(nil, v, time.Time{}, time.Unix(1<<40, 0)))
	}

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

// A sidecar that does not agree with the index, or has a bad row, is
// refused; a bad row with its file and line.
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
			_, err := sample(t).Save(path)
			require.NoError(t, err)
			for kind, body := range map[string]string{"persons": persons, "venues": venues, "trips": trips} {
				if kind == tt.kind {
					body = tt.body
				}
				require.NoError(t, os.WriteFile(Sidecar(path, kind), []byte(body), 0o600))
			}
			_, err = Load(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			var re *cli.RowError
			if tt.line == 0 {
				require.False(t, errors.As(err, &re), "%v", err)
				return
			}
			require.True(t, errors.As(err, &re), "%v", err)
			require.Equal(t, Sidecar(path, tt.kind), re.File)
			require.Equal(t, tt.line, re.Line)
		})
	}
}

// A missing sidecar or a damaged index is refused naming the snapshot.
func TestLoadRefusesMissingFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.snap")
	_, err := sample(t).Save(path)
	require.NoError(t, err)
	require.NoError(t, os.Remove(Sidecar(path, "venues")))
	_, err = Load(path)
	require.ErrorContains(t, err, "written by tracectl ingest beside the snapshot")
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
