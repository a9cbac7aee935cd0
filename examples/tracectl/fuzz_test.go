package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

// FuzzReadCSV feeds arbitrary bytes to the scans, trips and venue-name
// readers: they never panic, every refusal names the file and a line
// inside it, and every dense id they hand out maps back to an id.
func FuzzReadCSV(f *testing.F) {
	for _, name := range []string{"testdata/case-scans.csv", "testdata/case-trips.csv", "testdata/case-venues.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("person,venue,time\nA,V,1641348000\nB,V,2022-01-05T10:00:00Z\n"))
	f.Add([]byte("mode,number,date,person,car,row,seat\nbus,川A·12345,2022-01-05,A,0,3,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		s := tracesnap.New(0)
		check := func(err error) {
			if err == nil {
				return
			}
			var re *cli.RowError
			if !errors.As(err, &re) {
				t.Fatalf("error without a position: %v", err)
			}
			if re.File != "f.csv" || re.Line < 1 || re.Line > lines {
				t.Fatalf("position %s:%d outside the input's %d lines: %v", re.File, re.Line, lines, err)
			}
		}
		if tb, err := cli.OpenTable("f.csv", bytes.NewReader(data), []string{"person", "venue", "time"}, nil); err != nil {
			check(err)
		} else {
			scans, err := tracesnap.ReadScans(context.Background(), tb, s, &cli.Progress{})
			check(err)
			for _, sc := range scans {
				if int(sc.Person) >= len(s.Persons) || int(sc.Venue) >= len(s.Venues) {
					t.Fatalf("scan %+v outside the mappings", sc)
				}
			}
		}
		if tb, err := cli.OpenTable("f.csv", bytes.NewReader(data), tracesnap.TripColumns[:4], tracesnap.TripColumns[4:]); err != nil {
			check(err)
		} else {
			trips, err := tracesnap.ReadTrips(tb, s, nil)
			check(err)
			for _, tr := range trips {
				for _, p := range tr.Passengers {
					if int(p.Person) >= len(s.Persons) {
						t.Fatalf("passenger %d outside the mapping", p.Person)
					}
				}
			}
		}
		if tb, err := cli.OpenTable("f.csv", bytes.NewReader(data), []string{"venue", "name"}, nil); err != nil {
			check(err)
		} else {
			check(tracesnap.ReadVenueNames(tb, s))
		}
		if len(s.Venues) != len(s.VenueNames) {
			t.Fatalf("%d venues, %d names", len(s.Venues), len(s.VenueNames))
		}
	})
}
