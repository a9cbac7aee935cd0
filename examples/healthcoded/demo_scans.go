package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// Demo venues and scans, for the console's person finder: demoVenues
// venues with Chinese names and about demoScansPerPerson scans per person
// over the demo days, deterministic in -demo-seed.
const (
	demoVenues         = 300
	demoScansPerPerson = 3
)

// demoVenueCode is the venue code of demo venue i, as a scanner would post
// it to /v1/scans.
func demoVenueCode(i uint32) string { return fmt.Sprintf("demo-%03d", i) }

// seedDemoScans writes the demo venues' names to venues.csv and appends
// the demo people's scans (keys[i] is person i's pseudonym) to the scan
// log, up to now. It runs once, on the first start.
func (a *App) seedDemoScans(keys []codes.Key, now time.Time) error {
	g := synth.New(a.cfg.DemoSeed ^ 0x5ca75)
	venues := g.Venues(demoVenues)
	if err := writeVenueNames(a.venuesPath(), venues); err != nil {
		return fmt.Errorf("venue names: %w", err)
	}
	y, m, d := now.AddDate(0, 0, -(demoDays - 1)).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	perDay := max(1, len(keys)*demoScansPerPerson/demoDays)
	scans := g.Scans(synth.ScanConfig{Persons: len(keys), Venues: demoVenues, Days: demoDays, PerDay: perDay, Start: start})
	return a.scans.appendAll(func(yield func(t int64, venue string, person codes.Key) error) error {
		for _, s := range scans {
			if s.Time > now.Unix() {
				continue
			}
			if err := yield(s.Time, demoVenueCode(s.Venue), keys[s.Person]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (a *App) venuesPath() string { return filepath.Join(a.cfg.DataDir, "venues.csv") }

// writeVenueNames writes venue code and name, a venue a line.
func writeVenueNames(path string, venues []synth.Venue) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"venue", "name"})
	for _, v := range venues {
		_ = w.Write([]string{demoVenueCode(v.ID), v.Name})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

// readVenueNames reads venues.csv (venue code -> name); a missing file is
// no names.
func readVenueNames(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	names := make(map[string]string, len(rows))
	for i, r := range rows {
		if i == 0 || len(r) < 2 {
			continue
		}
		names[r[0]] = r[1]
	}
	return names, nil
}

// appendAll writes many scans under one lock and one flush.
func (l *scanLog) appendAll(each func(yield func(t int64, venue string, person codes.Key) error) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := make([]string, 3)
	err := each(func(t int64, venue string, person codes.Key) error {
		rec[0], rec[1], rec[2] = strconv.FormatInt(t, 10), venue, person.String()
		return l.cw.Write(rec)
	})
	l.cw.Flush()
	return errors.Join(err, l.cw.Error())
}

// demoTrips is how many trips (flights, trains, coaches) the demo people
// took over the demo days, for the finder's co-travel search.
const demoTrips = 300

func (a *App) tripsPath() string { return filepath.Join(a.cfg.DataDir, "trips.csv") }

// demoModes maps synth's transport modes to the trips file's names.
var demoModes = map[synth.Mode]string{synth.ModePlane: "plane", synth.ModeTrainSealed: "train-sealed",
	synth.ModeTrainUnsealed: "train-unsealed", synth.ModeBus: "bus"}

// seedDemoTrips writes the demo trips to trips.csv, a row per passenger
// (the trips CSV tracectl ingests, persons as keys), deterministic in
// -demo-seed. It runs once, on the first start.
func (a *App) seedDemoTrips(keys []codes.Key, now time.Time) error {
	g := synth.New(a.cfg.DemoSeed ^ 0x7219)
	y, m, d := now.AddDate(0, 0, -(demoDays - 1)).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	trips := g.Trips(synth.TripConfig{Trips: demoTrips, Persons: len(keys), Days: demoDays, Start: start})
	f, err := os.OpenFile(a.tripsPath(), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"mode", "number", "date", "person", "car", "row", "seat"})
	for _, t := range trips {
		if t.Date.After(now) {
			continue
		}
		for _, s := range t.Passengers {
			seat := ""
			if s.Seat != 0 {
				seat = string(rune(s.Seat))
			}
			_ = w.Write([]string{demoModes[t.Mode], t.Number, t.Date.Format(time.RFC3339), keys[s.Person].String(),
				strconv.Itoa(s.Car), strconv.Itoa(s.Row), seat})
		}
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}
