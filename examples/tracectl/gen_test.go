package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

var gen = flag.Bool("gen", false, "regenerate testdata/scans-day*.csv, trips.csv and venues.csv from internal/synth")

// sample is a small synthetic population: 300 people, 60 venues, two days
// of scans (one file per day), a few trips.
type sample struct {
	venues []synth.Venue
	scans  []synth.Scan
	trips  []synth.Trip
	start  time.Time
}

func newSample() sample {
	g := synth.New(5)
	start := time.Date(2022, 1, 5, 0, 0, 0, 0, tracesnap.CST)
	return sample{
		venues: g.Venues(60),
		scans:  g.Scans(synth.ScanConfig{Persons: 300, Venues: 60, Days: 2, PerDay: 900, Start: start}),
		trips:  g.Trips(synth.TripConfig{Trips: 8, Persons: 300, Days: 2, Start: start, MaxPassengers: 12}),
		start:  start,
	}
}

func personID(p uint32) string { return fmt.Sprintf("u%04d", p) }
func venueID(v uint32) string  { return fmt.Sprintf("v%03d", v) }

func modeOf(m synth.Mode) contacttrace.Mode {
	switch m {
	case synth.ModePlane:
		return contacttrace.ModePlane
	case synth.ModeTrainSealed:
		return contacttrace.ModeTrainSealed
	case synth.ModeTrainUnsealed:
		return contacttrace.ModeTrainUnsealed
	}
	return contacttrace.ModeBus
}

func (s sample) files(t *testing.T) map[string][]byte {
	t.Helper()
	write := func(header []string, rows [][]string) []byte {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		require.NoError(t, w.Write(header))
		require.NoError(t, w.WriteAll(rows))
		return b.Bytes()
	}
	var day1, day2, trips, venues [][]string
	split := s.start.Add(24 * time.Hour).Unix()
	for _, sc := range s.scans {
		row := []string{personID(sc.Person), venueID(sc.Venue), time.Unix(sc.Time, 0).In(tracesnap.CST).Format(time.DateTime)}
		if sc.Time < split {
			day1 = append(day1, row)
		} else {
			day2 = append(day2, row)
		}
	}
	for _, tr := range s.trips {
		for _, p := range tr.Passengers {
			trips = append(trips, []string{modeOf(tr.Mode).String(), tr.Number, tr.Date.In(tracesnap.CST).Format(time.DateOnly), personID(p.Person),
				strconv.Itoa(p.Car), strconv.Itoa(p.Row), string(rune(p.Seat))})
		}
	}
	for _, v := range s.venues {
		venues = append(venues, []string{venueID(v.ID), v.Name})
	}
	return map[string][]byte{
		"testdata/scans-day1.csv": write([]string{"person", "venue", "time"}, day1),
		"testdata/scans-day2.csv": write([]string{"person", "venue", "time"}, day2),
		"testdata/trips.csv":      write(tracesnap.TripColumns, trips),
		"testdata/venues.csv":     write([]string{"venue", "name"}, venues),
	}
}

// The committed samples are what the generator gives; -gen rewrites them.
func TestSampleFiles(t *testing.T) {
	for name, want := range newSample().files(t) {
		if *gen {
			require.NoError(t, os.WriteFile(name, want, 0o644))
			continue
		}
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s differs from the generator: go test ./examples/tracectl -run TestSampleFiles -gen", name)
		require.Less(t, len(got), 100<<10, name)
	}
}
