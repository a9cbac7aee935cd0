package tracesnap

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// Snapshot is an index and the mappings that give its dense ids meaning.
//
// Make one with New or Load. Person and Venue assign dense ids and keep
// the mappings in step; callers read Persons, Venues and VenueNames but
// never append to them, and set Index and Trips. Not safe for concurrent
// use while ids are assigned; a Snapshot that is only read (PersonID,
// VenueID and the fields) may be shared.
type Snapshot struct {
	Index      *contacttrace.Index
	Persons    []string // dense person id -> the caller's id
	Venues     []string // dense venue id -> venue id
	VenueNames []string // dense venue id -> name ("" when unknown)
	Trips      []contacttrace.Trip

	personIdx map[string]uint32 // Persons inverted
	venueIdx  map[string]uint32 // Venues inverted
}

// New returns an empty snapshot: no index, no ids.
func New() *Snapshot {
	return &Snapshot{personIdx: map[string]uint32{}, venueIdx: map[string]uint32{}}
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

// Sidecar is the name of one of the CSV files beside the index file path:
// kind is "persons", "venues" or "trips".
func Sidecar(path, kind string) string { return path + "." + kind + ".csv" }

// Files are the four files of the snapshot at path, the index first:
// everything Save writes over.
func Files(path string) []string {
	return []string{path, Sidecar(path, "persons"), Sidecar(path, "venues"), Sidecar(path, "trips")}
}

// Save writes the index (Index.WriteTo) to path and the mappings and
// trips beside it, and returns the index's size in bytes. s.Index must be
// set. Every file is written to a temporary file beside its target (mode
// 0600: they hold who went where) and renamed into place only when all
// are written, so a Save that fails while writing leaves the previous
// snapshot intact.
func (s *Snapshot) Save(path string) (int64, error) {
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
	n, err := s.Index.WriteTo(w)
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
	err = writeCSV(Sidecar(path, "persons"), []string{"person"}, func(cw *csv.Writer) {
		for _, p := range s.Persons {
			cw.Write([]string{p})
		}
	})
	if err == nil {
		err = writeCSV(Sidecar(path, "venues"), []string{"venue", "name"}, func(cw *csv.Writer) {
			for i, v := range s.Venues {
				cw.Write([]string{v, s.VenueNames[i]})
			}
		})
	}
	if err == nil {
		err = writeCSV(Sidecar(path, "trips"), TripColumns, func(cw *csv.Writer) {
			for _, t := range s.Trips {
				for _, p := range t.Passengers {
					seat := ""
					if p.Seat != 0 {
						seat = string(rune(p.Seat))
					}
					cw.Write([]string{t.Mode.String(), t.Number, t.Date.Format(time.RFC3339), s.Persons[p.Person], strconv.Itoa(p.Car), strconv.Itoa(p.Row), seat})
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

// Load reads the snapshot at path and its mappings, and checks that they
// agree: every dense id of the index and the trips has an id. A bad row
// of a sidecar is a *cli.RowError naming its file and line.
func Load(path string) (*Snapshot, error) {
	s := New()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s.Index, err = contacttrace.ReadIndex(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	read := func(kind string, cols []string, row func(t *cli.Table) error) error {
		name := Sidecar(path, kind)
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
		if _, dup := s.PersonID(id); dup || id == "" {
			return t.Errf("person", errors.New("empty or repeated id"))
		}
		s.Person(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read("venues", []string{"venue", "name"}, func(t *cli.Table) error {
		id := t.Get("venue")
		if _, dup := s.VenueID(id); dup || id == "" {
			return t.Errf("venue", errors.New("empty or repeated id"))
		}
		s.VenueNames[s.Venue(id)] = t.Get("name")
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.Index.NumPersons() > len(s.Persons) || s.Index.NumVenues() > len(s.Venues) {
		return nil, fmt.Errorf("snapshot %s: index has %d persons and %d venues, the mappings %d and %d: files from different ingests?",
			path, s.Index.NumPersons(), s.Index.NumVenues(), len(s.Persons), len(s.Venues))
	}
	name := Sidecar(path, "trips")
	tf, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer tf.Close()
	t, err := cli.OpenTable(name, bufio.NewReader(tf), TripColumns, nil)
	if err != nil {
		return nil, err
	}
	np := len(s.Persons)
	if s.Trips, err = ReadTrips(t, s, nil); err != nil {
		return nil, err
	}
	if len(s.Persons) != np {
		return nil, fmt.Errorf("snapshot %s: %s names persons missing from %s", path, name, Sidecar(path, "persons"))
	}
	return s, nil
}
