package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
)

// finder keeps a contacttrace index of the scan log for the console's
// person finder. It starts from a tracectl snapshot when given one, adds
// scans.csv (the demo scans and those recorded by POST /v1/scans) and is
// brought up to date before each query: the scans appended since are read
// from where the last read stopped and merged in. Trips (co-travel) come
// from the snapshot and trips.csv, read at start. Queries run on an
// immutable snapshot, so they never wait for a merge, and merges are
// serialised. Safe for concurrent use.
type finder struct {
	scansPath string
	segCfg    contacttrace.SegmentConfig
	log       *slog.Logger

	mu  sync.Mutex // serialises refresh
	cur atomic.Pointer[traceState]
}

// finderSources are where the finder's data comes from.
type finderSources struct {
	Scans    string // the scan log (time,venue,person), read and followed
	Venues   string // venue names (venue,name); "" or missing: none
	Trips    string // trips (tracectl's trips CSV, persons as keys); "" or missing: none
	Snapshot string // a tracectl snapshot to start from; "" for none
	// RetainDays is how many days of scans the index keeps, counted back
	// from the latest day it holds (Beijing days); zero keeps all.
	RetainDays int
	// Person maps a person id of the snapshot or trips file (a key in
	// hex, a document number or a phone) to its key in hex.
	Person func(id string) (string, error)
}

// traceState is one immutable snapshot: the scans (a segment a day, so a
// refresh rebuilds today's alone and old days drop out of the window), the
// trips, a tracer per search, and the mappings between the log's strings
// and the index's dense ids.
type traceState struct {
	segs    *contacttrace.Segments
	trips   *contacttrace.Trips
	byTrip  map[tripName][]int32 // trips by mode and number, in date order
	tracers map[string]*contacttrace.Tracer
	names   *contacttrace.VenueNames
	offset  int64 // bytes of scans.csv read

	persons   []string          // dense id -> key (hex)
	personIdx map[string]uint32 // key (hex) -> dense id
	venues    []string          // dense id -> venue code
	venueIdx  map[string]uint32
	venueName []string // dense id -> display name (the code when unnamed)
	named     map[string]string
}

// tripName is a trip's mode and number, without its date.
type tripName struct {
	mode   contacttrace.Mode
	number string
}

// person returns the dense id of key, assigning the next.
func (st *traceState) person(key string) uint32 {
	p, ok := st.personIdx[key]
	if !ok {
		p = uint32(len(st.persons))
		st.persons = append(st.persons, key)
		st.personIdx[key] = p
	}
	return p
}

// venue returns the dense id of a venue code, assigning the next.
func (st *traceState) venue(code string) uint32 {
	v, ok := st.venueIdx[code]
	if !ok {
		v = uint32(len(st.venues))
		st.venues = append(st.venues, code)
		st.venueIdx[code] = v
		name := st.named[code]
		if name == "" {
			name = code
		}
		st.venueName = append(st.venueName, name)
	}
	return v
}

func newFinder(ctx context.Context, src finderSources, log *slog.Logger) (*finder, error) {
	named, err := readVenueNames(src.Venues)
	if err != nil {
		return nil, err
	}
	retain := src.RetainDays
	if retain == 0 {
		retain = -1 // contacttrace: negative keeps every day
	}
	f := &finder{scansPath: src.Scans, log: log, segCfg: contacttrace.SegmentConfig{Location: shanghai, RetainDays: retain}}
	st := &traceState{personIdx: map[string]uint32{}, venueIdx: map[string]uint32{}, named: named,
		segs: contacttrace.NewSegments(f.segCfg)}
	var trips []contacttrace.Trip
	if src.Snapshot != "" {
		if trips, err = st.loadSnapshot(ctx, src.Snapshot, src.Person); err != nil {
			return nil, err
		}
	}
	more, err := readTripsFile(src.Trips, st, src.Person)
	if err != nil {
		return nil, err
	}
	trips = append(trips, more...)
	if err := st.indexTrips(trips); err != nil {
		return nil, err
	}
	f.cur.Store(st)
	if _, err := f.refresh(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// indexTrips indexes the trips (one per mode, number and date: a repeat
// in a later source is dropped) and by name.
func (st *traceState) indexTrips(trips []contacttrace.Trip) error {
	type key struct {
		tripName
		date int64
	}
	seen := map[key]bool{}
	kept := trips[:0]
	for _, t := range trips {
		k := key{tripName{t.Mode, t.Number}, t.Date.Unix()}
		if !seen[k] {
			seen[k] = true
			kept = append(kept, t)
		}
	}
	ts, err := contacttrace.NewTrips(kept, contacttrace.Config{})
	if err != nil {
		return fmt.Errorf("finder: trips: %w", err)
	}
	st.trips, st.byTrip = ts, map[tripName][]int32{}
	for i, t := range kept {
		n := tripName{t.Mode, t.Number}
		st.byTrip[n] = append(st.byTrip[n], int32(i))
	}
	return nil
}

// refresh merges the scans appended to the log since the last read and
// returns the current snapshot.
func (f *finder) refresh(ctx context.Context) (*traceState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.cur.Load()
	file, err := os.Open(f.scansPath)
	if errors.Is(err, os.ErrNotExist) {
		if st.tracers == nil {
			return f.publish(ctx, st, st, nil)
		}
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() <= st.offset && st.tracers != nil {
		return st, nil
	}
	buf := make([]byte, fi.Size()-st.offset)
	if _, err := file.ReadAt(buf, st.offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// A line still being written is left for the next read.
	buf = buf[:bytes.LastIndexByte(buf, '\n')+1]
	next := &traceState{offset: st.offset + int64(len(buf)), persons: st.persons, venues: st.venues, venueName: st.venueName,
		personIdx: maps.Clone(st.personIdx), venueIdx: maps.Clone(st.venueIdx), named: st.named, names: st.names,
		segs: st.segs, trips: st.trips, byTrip: st.byTrip}
	var scans []contacttrace.Scan
	bad := 0
	rd := csv.NewReader(bytes.NewReader(buf))
	rd.FieldsPerRecord = -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) != 3 {
			bad++
			continue
		}
		t, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			if rec[0] != "time" {
				bad++
			}
			continue
		}
		scans = append(scans, contacttrace.Scan{Person: next.person(rec[2]), Venue: next.venue(rec[1]), Time: t})
	}
	if bad > 0 {
		f.log.Warn("finder: unreadable lines in the scan log", "lines", bad)
	}
	return f.publish(ctx, st, next, scans)
}

// publish merges scans into next's index, builds its tracers and venue
// names, and makes it current.
func (f *finder) publish(ctx context.Context, st, next *traceState, scans []contacttrace.Scan) (*traceState, error) {
	cfg := contacttrace.Config{Logger: f.log}
	var err error
	if len(scans) > 0 {
		if next.segs, err = next.segs.Append(ctx, scans, cfg); err != nil {
			return nil, fmt.Errorf("finder: index: %w", err)
		}
	}
	next.tracers = map[string]*contacttrace.Tracer{}
	if next.tracers[searchAll], err = contacttrace.NewSegmentTracer(next.segs, next.trips, cfg); err == nil {
		if next.tracers[searchVenues], err = contacttrace.NewSegmentTracer(next.segs, nil, cfg); err == nil {
			next.tracers[searchTrips], err = contacttrace.NewTracer(nil, next.trips, cfg)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("finder: %w", err)
	}
	if next.names == nil || len(next.venues) != len(st.venues) {
		list := make([]contacttrace.VenueName, len(next.venues))
		for i, n := range next.venueName {
			list[i] = contacttrace.VenueName{ID: uint32(i), Name: n}
		}
		if next.names, err = contacttrace.NewVenueNames(ctx, list, cfg); err != nil {
			return nil, fmt.Errorf("finder: venue names: %w", err)
		}
	}
	f.cur.Store(next)
	return next, nil
}

// What a finder query searches (console.SearchAll, ...).
const (
	searchAll    = "all"
	searchVenues = "venues"
	searchTrips  = "trips"
)

// readTripsFile reads a trips CSV (mode,number,date,person,car,row,seat,
// one row per passenger, as tracectl ingests) whose persons are keys, or
// ids Person maps to keys. A missing file is no trips.
func readTripsFile(path string, st *traceState, person func(string) (string, error)) ([]contacttrace.Trip, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.FieldsPerRecord = 7
	type key struct {
		tripName
		date int64
	}
	idx := map[key]int{}
	var trips []contacttrace.Trip
	for line := 1; ; line++ {
		rec, err := rd.Read()
		if err == io.EOF {
			return trips, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && rec[0] == "mode" {
			continue
		}
		bad := func(col string, err error) error { return fmt.Errorf("%s:%d: %s: %w", path, line, col, err) }
		mode, err := parseTripMode(rec[0])
		if err != nil {
			return nil, bad("mode", err)
		}
		date, err := time.Parse(time.RFC3339, rec[2])
		if err != nil {
			return nil, bad("date", errors.New("want RFC 3339"))
		}
		k, err := person(rec[3])
		if err != nil {
			return nil, bad("person", err)
		}
		seat := contacttrace.Seat{Person: st.person(k)}
		if seat.Car, err = seatNumber(rec[4]); err != nil {
			return nil, bad("car", err)
		}
		if seat.Row, err = seatNumber(rec[5]); err != nil {
			return nil, bad("row", err)
		}
		if s := rec[6]; s != "" {
			if len(s) != 1 || s[0] < 'A' || s[0] > 'Z' {
				return nil, bad("seat", errors.New("want one letter A-Z"))
			}
			seat.Seat = s[0]
		}
		if rec[1] == "" {
			return nil, bad("number", errors.New("empty"))
		}
		tk := key{tripName{mode, rec[1]}, date.Unix()}
		i, ok := idx[tk]
		if !ok {
			i = len(trips)
			idx[tk] = i
			trips = append(trips, contacttrace.Trip{Mode: mode, Number: rec[1], Date: date})
		}
		trips[i].Passengers = append(trips[i].Passengers, seat)
	}
}

func seatNumber(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 9999 {
		return 0, errors.New("want a whole number from 0 to 9999")
	}
	return n, nil
}

// tripModes are the console's names of the transport modes.
var tripModes = map[string]contacttrace.Mode{
	"plane": contacttrace.ModePlane, "train-sealed": contacttrace.ModeTrainSealed,
	"train-unsealed": contacttrace.ModeTrainUnsealed, "bus": contacttrace.ModeBus,
}

func parseTripMode(s string) (contacttrace.Mode, error) {
	if m, ok := tripModes[s]; ok {
		return m, nil
	}
	return 0, fmt.Errorf("mode %q: want plane, train-sealed, train-unsealed or bus", s)
}

// maskKey shows enough of a pseudonym to tell rows apart, not to look it
// up: "3fa2c1…9e0b".
func maskKey(k string) string {
	if len(k) < 12 {
		return "…"
	}
	return k[:6] + "…" + k[len(k)-4:]
}
