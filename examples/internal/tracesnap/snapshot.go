package tracesnap

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// The id maps of a snapshot directory, written beside the day files and
// checksummed by its MANIFEST like them. Do not modify.
const (
	PersonsFile = "persons.csv" // person: row i is dense person i
	VenuesFile  = "venues.csv"  // venue,name: row i is dense venue i
	TripsFile   = "trips.csv"   // TripColumns, one row per passenger
)

// ErrSingleFile means a path holds a snapshot of the previous format (one
// index file with its CSV files beside it): Load reads it, but Save
// cannot update it. Ingest every day again into a directory.
var ErrSingleFile = errors.New("the previous single-file format, which is read but not updated: ingest every day again into a new snapshot directory")

// Snapshot is a scan index, a segment per day, and the mappings that give
// its dense ids meaning.
//
// Make one with New or Load. Person and Venue assign dense ids and keep
// the mappings in step; callers read Persons, Venues and VenueNames but
// never append to them, and set Segments and Trips. Not safe for
// concurrent use while ids are assigned; a Snapshot that is only read
// (PersonID, VenueID and the fields) may be shared.
type Snapshot struct {
	// Segments holds the scans, one segment per day; days begin at
	// midnight UTC+8 (CST). Never nil in a Snapshot from New or Load.
	Segments   *contacttrace.Segments
	Persons    []string // dense person id -> the caller's id
	Venues     []string // dense venue id -> venue id
	VenueNames []string // dense venue id -> name ("" when unknown)
	Trips      []contacttrace.Trip

	personIdx map[string]uint32 // Persons inverted
	venueIdx  map[string]uint32 // Venues inverted

	dir   string            // the directory Load read (absolute), which Save updates in place
	files map[string]string // PersonsFile, ... -> the path Load read it from
}

// New returns an empty snapshot, no scans and no ids, keeping retainDays
// days (as contacttrace.SegmentConfig.RetainDays: 0 means
// contacttrace.DefaultRetainDays, negative keeps every day).
func New(retainDays int) *Snapshot {
	return &Snapshot{
		Segments:  contacttrace.NewSegments(contacttrace.SegmentConfig{Location: CST, RetainDays: retainDays}),
		personIdx: map[string]uint32{}, venueIdx: map[string]uint32{},
	}
}

// Person returns the dense id of a person id, assigning the next one.
func (s *Snapshot) Person(id string) uint32 {
	if d, ok := s.personIdx[id]; ok {
		return d
	}
	d := uint32(len(s.Persons))
	s.Persons = append(s.Persons, id)
	s.personIdx[id] = d
	return d
}

// Venue returns the dense id of a venue id, assigning the next one (with
// no name).
func (s *Snapshot) Venue(id string) uint32 {
	if d, ok := s.venueIdx[id]; ok {
		return d
	}
	d := uint32(len(s.Venues))
	s.Venues = append(s.Venues, id)
	s.VenueNames = append(s.VenueNames, "")
	s.venueIdx[id] = d
	return d
}

// PersonID returns the dense id of a person id; false when it has none.
func (s *Snapshot) PersonID(id string) (uint32, bool) {
	d, ok := s.personIdx[id]
	return d, ok
}

// VenueID returns the dense id of a venue id; false when it has none.
func (s *Snapshot) VenueID(id string) (uint32, bool) {
	d, ok := s.venueIdx[id]
	return d, ok
}

// File returns the path Load read a mapping from (name is PersonsFile,
// VenuesFile or TripsFile), for messages about its rows; "" for a
// snapshot not loaded.
func (s *Snapshot) File(name string) string { return s.files[name] }

// Owns reports whether path is the snapshot at snap or one of its files,
// in either format: what a command must not overwrite with an output.
func Owns(snap, path string) bool {
	if cli.SamePath(snap, path) {
		return true
	}
	if fi, err := os.Stat(snap); err == nil && !fi.IsDir() {
		for _, kind := range []string{"persons", "venues", "trips"} {
			if cli.SamePath(sidecar(snap, kind), path) {
				return true
			}
		}
		return false
	}
	// A directory, or none yet: anything inside it.
	ds, err1 := filepath.Abs(snap)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	if rd, err := filepath.EvalSymlinks(ds); err == nil {
		ds = rd
	}
	if rp, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		p = filepath.Join(rp, filepath.Base(p))
	}
	rel, err := filepath.Rel(ds, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator))
}

// CheckTarget reports why Save cannot write a new snapshot at dir: dir is
// a file (ErrSingleFile when it is a snapshot of the previous format), or
// a directory that is neither empty nor a snapshot, which Save would
// replace. A missing dir, an empty one or a snapshot directory is fine.
func CheckTarget(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if _, err := os.Stat(sidecar(dir, "persons")); err == nil {
			return fmt.Errorf("snapshot %s: %w", dir, ErrSingleFile)
		}
		return fmt.Errorf("snapshot %s: a file, not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, contacttrace.ManifestName)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("snapshot %s: a directory with other files (no %s): give a new or empty directory", dir, contacttrace.ManifestName)
	}
	return nil
}

// Save writes s to the snapshot directory dir and returns the names of
// the day files it wrote. When s was loaded from dir, only the days dir
// lacks are written (a day that gained scans is a new file), with the id
// maps and MANIFEST; a reader sees the old snapshot or the new one. Else
// dir must pass CheckTarget, and s is written to a new directory beside
// it that then replaces it by rename, so a Save that fails while writing
// leaves the previous snapshot intact. Every file is mode 0600 in a 0700
// directory: they hold who went where.
func (s *Snapshot) Save(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if s.dir != "" && s.dir == abs {
		wrote, err := s.Segments.WriteDir(abs, s.extras())
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", dir, err)
		}
		return wrote, nil
	}
	if err := CheckTarget(abs); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".new-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // gone already once renamed into place
	wrote, err := s.Segments.WriteDir(tmp, s.extras())
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	old := ""
	if _, err := os.Stat(abs); err == nil {
		old = tmp + ".old"
		if err := os.Rename(abs, old); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, abs); err != nil {
		if old != "" {
			os.Rename(old, abs)
		}
		return nil, err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	s.dir = abs
	return wrote, nil
}

// extras are the id maps' writers, for WriteDir.
func (s *Snapshot) extras() map[string]func(io.Writer) error {
	writeCSV := func(header []string, rows func(*csv.Writer)) func(io.Writer) error {
		return func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Write(header)
			rows(cw)
			cw.Flush()
			return cw.Error()
		}
	}
	return map[string]func(io.Writer) error{
		PersonsFile: writeCSV([]string{"person"}, func(cw *csv.Writer) {
			for _, p := range s.Persons {
				cw.Write([]string{p})
			}
		}),
		VenuesFile: writeCSV([]string{"venue", "name"}, func(cw *csv.Writer) {
			for i, v := range s.Venues {
				cw.Write([]string{v, s.VenueNames[i]})
			}
		}),
		TripsFile: writeCSV(TripColumns, func(cw *csv.Writer) {
			for _, t := range s.Trips {
				for _, p := range t.Passengers {
					seat := ""
					if p.Seat != 0 {
						seat = string(rune(p.Seat))
					}
					cw.Write([]string{t.Mode.String(), t.Number, t.Date.Format(time.RFC3339), s.Persons[p.Person], strconv.Itoa(p.Car), strconv.Itoa(p.Row), seat})
				}
			}
		}),
	}
}

// Load reads the snapshot at path: a directory written by Save, or a
// file of the previous format (see ErrSingleFile), whose scans are cut
// into days as it is read, every day kept. Every file of a directory must
// match its size and checksum in MANIFEST: a mismatch is refused naming
// the file (a *contacttrace.SnapshotError wrapping
// contacttrace.ErrCorrupt). The mappings must agree with the index: every
// dense id of the index and the trips has an id. A bad row of a mapping
// is a *cli.RowError naming its file and line.
func Load(path string) (*Snapshot, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return loadFile(path)
	}
	segs, extras, err := contacttrace.ReadDir(path, nil)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	s := New(0)
	s.Segments = segs
	s.files = map[string]string{}
	for _, name := range []string{PersonsFile, VenuesFile, TripsFile} {
		p, ok := extras[name]
		if !ok {
			return nil, fmt.Errorf("snapshot %s: %s lists no %s (not written by tracectl ingest?)", path, contacttrace.ManifestName, name)
		}
		s.files[name] = p
	}
	if err := s.readMappings(path); err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		s.dir = abs
	}
	return s, nil
}

// readMappings reads the id maps from s.files and checks them against
// s.Segments; path names the snapshot in errors.
func (s *Snapshot) readMappings(path string) error {
	read := func(name string, cols []string, row func(t *cli.Table) error) error {
		file := s.files[name]
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w (written by tracectl ingest with the snapshot)", path, err)
		}
		defer f.Close()
		t, err := cli.OpenTable(file, bufio.NewReaderSize(f, 1<<20), cols, nil)
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
	err := read(PersonsFile, []string{"person"}, func(t *cli.Table) error {
		id := t.Get("person")
		if _, dup := s.PersonID(id); dup || id == "" {
			return t.Errf("person", errors.New("empty or repeated id"))
		}
		s.Person(id)
		return nil
	})
	if err != nil {
		return err
	}
	err = read(VenuesFile, []string{"venue", "name"}, func(t *cli.Table) error {
		id := t.Get("venue")
		if _, dup := s.VenueID(id); dup || id == "" {
			return t.Errf("venue", errors.New("empty or repeated id"))
		}
		s.VenueNames[s.Venue(id)] = t.Get("name")
		return nil
	})
	if err != nil {
		return err
	}
	nv := 0
	for _, d := range s.Segments.Days() {
		ix, _ := s.Segments.Day(d)
		nv = max(nv, ix.NumVenues())
	}
	if np := s.Segments.NumPersons(); np > len(s.Persons) || nv > len(s.Venues) {
		return fmt.Errorf("snapshot %s: index has %d persons and %d venues, the mappings %d and %d: files from different ingests?",
			path, np, nv, len(s.Persons), len(s.Venues))
	}
	np := len(s.Persons)
	name := s.files[TripsFile]
	tf, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w (written by tracectl ingest with the snapshot)", path, err)
	}
	defer tf.Close()
	t, err := cli.OpenTable(name, bufio.NewReader(tf), TripColumns, nil)
	if err != nil {
		return err
	}
	if s.Trips, err = ReadTrips(t, s, nil); err != nil {
		return err
	}
	if len(s.Persons) != np {
		return fmt.Errorf("snapshot %s: %s names persons missing from %s", path, name, s.files[PersonsFile])
	}
	return nil
}
