package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadTripsFile: any trips file is either refused with an error or
// read into trips the contacttrace index accepts, every passenger a
// person of the state and every seat a letter or none.
func FuzzReadTripsFile(f *testing.F) {
	key := "00112233445566778899aabbccddeeff"
	f.Add([]byte("mode,number,date,person,car,row,seat\nplane,CA4193,2022-05-14T08:00:00+08:00," + key + ",0,12,C\n"))
	f.Add([]byte("train-sealed,G1234,2022-05-14T00:00:00+08:00," + key + ",3,12,F\ntrain-sealed,G1234,2022-05-14T00:00:00+08:00," + key + ",3,13,\n"))
	f.Add([]byte("bus,川A·12345,2022-05-14T00:00:00Z," + key + ",,,\n"))
	f.Add([]byte("rocket,X1,2022-05-14T00:00:00Z," + key + ",0,0,A\n"))
	f.Add([]byte("plane,,2022-05-14T00:00:00Z,nobody,0,99999,AB\n"))
	dir := f.TempDir()
	person := func(id string) (string, error) {
		if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
			return "", errNotAPerson
		}
		return id, nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "trips.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st := &traceState{personIdx: map[string]uint32{}, venueIdx: map[string]uint32{}, named: map[string]string{}}
		trips, err := readTripsFile(path, st, person)
		if err != nil {
			return // refused, with the file and line
		}
		for _, tr := range trips {
			if tr.Number == "" || tr.Date.IsZero() || len(tr.Passengers) == 0 {
				t.Fatalf("trip %+v read without number, date or passengers", tr)
			}
			for _, s := range tr.Passengers {
				if int(s.Person) >= len(st.persons) || (s.Seat != 0 && (s.Seat < 'A' || s.Seat > 'Z')) {
					t.Fatalf("bad seat %+v", s)
				}
			}
		}
		if err := st.indexTrips(trips); err != nil {
			t.Fatalf("trips read but not indexed: %v", err)
		}
	})
}
