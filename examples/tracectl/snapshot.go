package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// A snapshot on disk is the contacttrace index (S, written by
// Index.WriteTo) and three CSV files beside it that give the dense integers
// their meaning:
//
//	S.persons.csv  person          row i is dense person i
//	S.venues.csv   venue,name      row i is dense venue i, with its name if known
//	S.trips.csv    mode,number,date,person,car,row,seat (persons as given)
//
// The package never sees the caller's identifiers; only these files do.
type snapshot struct {
	ix         *contacttrace.Index
	persons    []string
	personIdx  map[string]uint32
	venues     []string
	venueNames []string
	venueIdx   map[string]uint32
	trips      []contacttrace.Trip
}

func newSnapshot() *snapshot {
	return &snapshot{personIdx: map[string]uint32{}, venueIdx: map[string]uint32{}}
}

// person returns the dense id of a person id, assigning the next one.
func (s *snapshot) person(id string) uint32 {
	if d, ok := s.personIdx[id]; ok {
		return d
	}
	d := uint32(len(s.persons))
	s.persons = append(s.persons, id)
	s.personIdx[id] = d
	return d
}

// venue returns the dense id of a venue id, assigning the next one.
func (s *snapshot) venue(id string) uint32 {
	if d, ok := s.venueIdx[id]; ok {
		return d
	}
	d := uint32(len(s.venues))
	s.venues = append(s.venues, id)
	s.venueNames = append(s.venueNames, "")
	s.venueIdx[id] = d
	return d
}

func (s *snapshot) hasNames() bool {
	for _, n := range s.venueNames {
		if n != "" {
			return true
		}
	}
	return false
}

func sidecar(path, kind string) string { return path + "." + kind + ".csv" }

// save writes the index and its mappings; every file is written beside
// its target and renamed into place only when all are written.
func (s *snapshot) save(path string) (int64, error) {
	var outs []*cli.OutFile
	defer func() {
		for _, o := range outs {
			o.Abort()
		}
	}()
	create := func(target string) (*bufio.Writer, error) {
		o, err := cli.CreateOut(target)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
		return bufio.NewWriterSize(o, 1<<20), nil
	}
	w, err := create(path)
	if err != nil {
		return 0, err
	}
	n, err := s.ix.WriteTo(w)
	if err != nil {
		return 0, err
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	writeCSV := func(target string, header []string, rows func(*csv.Writer)) error {
		w, err := create(target)
		if err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		cw.Write(header)
		rows(cw)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return w.Flush()
	}
	err = writeCSV(sidecar(path, "persons"), []string{"person"}, func(cw *csv.Writer) {
		for _, p := range s.persons {
			cw.Write([]string{p})
		}
	})
	if err == nil {
		err = writeCSV(sidecar(path, "venues"), []string{"venue", "name"}, func(cw *csv.Writer) {
			for i, v := range s.venues {
				cw.Write([]string{v, s.venueNames[i]})
			}
		})
	}
	if err == nil {
		err = writeCSV(sidecar(path, "trips"), tripColumns, func(cw *csv.Writer) {
			for _, t := range s.trips {
				for _, p := range t.Passengers {
					seat := ""
					if p.Seat != 0 {
						seat = string(rune(p.Seat))
					}
					cw.Write([]string{t.Mode.String(), t.Number, t.Date.Format(time.RFC3339), s.persons[p.Person], strconv.Itoa(p.Car), strconv.Itoa(p.Row), seat})
				}
			}
		})
	}
	if err != nil {
		return 0, err
	}
	for _, o := range outs {
		if err := o.Commit(); err != nil {
			return 0, err
		}
	}
	outs = nil
	return n, nil
}

// loadSnapshot reads a snapshot and its mappings, and checks that they
// agree.
func loadSnapshot(path string) (*snapshot, error) {
	s := newSnapshot()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s.ix, err = contacttrace.ReadIndex(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	read := func(kind string, cols []string, row func(t *cli.Table) error) error {
		name := sidecar(path, kind)
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w (written by tracectl ingest beside the snapshot)", path, err)
		}
		defer f.Close()
		t, err := cli.OpenTable(name, bufio.NewReaderSize(f, 1<<20), cols, nil)
		if err != nil {
			return err
		}
		for {
			ok, err := t.Next()
			if err != nil || !ok {
				return err
			}
			if err := row(t); err != nil {
				return err
			}
		}
	}
	err = read("persons", []string{"person"}, func(t *cli.Table) error {
		id := t.Get("person")
		if _, dup := s.personIdx[id]; dup || id == "" {
			return t.Errf("person", errors.New("empty or repeated id"))
		}
		s.person(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read("venues", []string{"venue", "name"}, func(t *cli.Table) error {
		id := t.Get("venue")
		if _, dup := s.venueIdx[id]; dup || id == "" {
			return t.Errf("venue", errors.New("empty or repeated id"))
		}
		s.venueNames[s.venue(id)] = t.Get("name")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.ix.NumPersons() > len(s.persons) || s.ix.NumVenues() > len(s.venues) {
		return nil, fmt.Errorf("snapshot %s: index has %d persons and %d venues, the mappings %d and %d: files from different ingests?",
			path, s.ix.NumPersons(), s.ix.NumVenues(), len(s.persons), len(s.venues))
	}
	name := sidecar(path, "trips")
	tf, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer tf.Close()
	t, err := cli.OpenTable(name, bufio.NewReader(tf), tripColumns, nil)
	if err != nil {
		return nil, err
	}
	np := len(s.persons)
	if s.trips, err = readTrips(t, s, nil); err != nil {
		return nil, err
	}
	if len(s.persons) != np {
		return nil, fmt.Errorf("snapshot %s: %s names persons missing from %s", path, name, sidecar(path, "persons"))
	}
	return s, nil
}

var tripColumns = []string{"mode", "number", "date", "person", "car", "row", "seat"}

func parseMode(s string) (contacttrace.Mode, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "_", "-") {
	case "plane", "flight":
		return contacttrace.ModePlane, nil
	case "train-sealed":
		return contacttrace.ModeTrainSealed, nil
	case "train-unsealed":
		return contacttrace.ModeTrainUnsealed, nil
	case "bus", "coach":
		return contacttrace.ModeBus, nil
	}
	return 0, fmt.Errorf("mode %q: want plane, train-sealed, train-unsealed or bus", clip(s))
}

// maxSeatNumber bounds a car or row: no train has 10,000 carriages, and a
// larger number is a shifted column or a ticket number.
const maxSeatNumber = 9999

// readTrips reads one row per passenger; rows of a trip (same mode,
// number and date) may be anywhere in the file.
func readTrips(t *cli.Table, s *snapshot, prog *cli.Progress) ([]contacttrace.Trip, error) {
	type key struct {
		mode   contacttrace.Mode
		number string
		date   int64
	}
	idx := map[key]int{}
	var trips []contacttrace.Trip
	for {
		ok, err := t.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return trips, nil
		}
		if prog != nil {
			prog.Row()
		}
		mode, err := parseMode(t.Get("mode"))
		if err != nil {
			return nil, t.Errf("mode", err)
		}
		num := t.Get("number")
		if num == "" {
			return nil, t.Errf("number", errors.New("empty"))
		}
		if err := checkText(num, maxID); err != nil {
			return nil, t.Errf("number", err)
		}
		date, err := parseTime(t.Get("date"))
		if err != nil {
			return nil, t.Errf("date", err)
		}
		p := t.Get("person")
		if p == "" {
			return nil, t.Errf("person", errors.New("empty"))
		}
		if err := checkText(p, maxID); err != nil {
			return nil, t.Errf("person", err)
		}
		seat := contacttrace.Seat{Person: s.person(p)}
		for _, c := range []struct {
			col string
			dst *int
		}{{"car", &seat.Car}, {"row", &seat.Row}} {
			if v := t.Get(c.col); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > maxSeatNumber {
					return nil, t.Errf(c.col, fmt.Errorf("%q: want a whole number from 0 to %d", clip(v), maxSeatNumber))
				}
				*c.dst = n
			}
		}
		if v := t.Get("seat"); v != "" {
			if len(v) != 1 || v[0] < 'A' || v[0] > 'Z' {
				return nil, t.Errf("seat", fmt.Errorf("%q: want one letter A-Z", clip(v)))
			}
			seat.Seat = v[0]
		}
		k := key{mode, num, date.Unix()}
		i, seen := idx[k]
		if !seen {
			i = len(trips)
			idx[k] = i
			trips = append(trips, contacttrace.Trip{Mode: mode, Number: num, Date: date})
		}
		trips[i].Passengers = append(trips[i].Passengers, seat)
	}
}

// readScans reads person,venue,time rows.
func readScans(ctx context.Context, t *cli.Table, s *snapshot, prog *cli.Progress) ([]contacttrace.Scan, error) {
	var scans []contacttrace.Scan
	for {
		ok, err := t.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return scans, nil
		}
		prog.Row()
		if len(scans)%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, v := t.Get("person"), t.Get("venue")
		if p == "" {
			return nil, t.Errf("person", errors.New("empty"))
		}
		if v == "" {
			return nil, t.Errf("venue", errors.New("empty"))
		}
		if err := checkText(p, maxID); err != nil {
			return nil, t.Errf("person", err)
		}
		if err := checkText(v, maxID); err != nil {
			return nil, t.Errf("venue", err)
		}
		at, err := parseTime(t.Get("time"))
		if err != nil {
			return nil, t.Errf("time", err)
		}
		scans = append(scans, contacttrace.Scan{Person: s.person(p), Venue: s.venue(v), Time: at.Unix()})
	}
}

// readVenueNames reads venue,name rows into the snapshot's mapping. A
// venue named twice in the file is refused: which name is right?
func readVenueNames(t *cli.Table, s *snapshot) error {
	seen := map[string]int{} // venue -> line
	for {
		ok, err := t.Next()
		if err != nil || !ok {
			return err
		}
		v, name := t.Get("venue"), t.Get("name")
		if v == "" {
			return t.Errf("venue", errors.New("empty"))
		}
		if err := checkText(v, maxID); err != nil {
			return t.Errf("venue", err)
		}
		if err := checkText(name, maxName); err != nil {
			return t.Errf("name", err)
		}
		if l, dup := seen[v]; dup {
			return t.Errf("venue", fmt.Errorf("%s named twice (line %d)", clip(v), l))
		}
		seen[v] = t.Line()
		s.venueNames[s.venue(v)] = name
	}
}
