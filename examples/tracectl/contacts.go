package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/healthcode-sdk/healthcode/contacttrace"
)

// taskFile is a saved task: the people it identified, by the caller's
// ids, so a later run can exclude them.
type taskFile struct {
	ID       string   `json:"id"`
	Cases    []string `json:"cases"`
	Contacts []string `json:"contacts"`
	Excluded []string `json:"excluded,omitempty"`
}

type contactJSON struct {
	Hop       int    `json:"hop"`
	Person    string `json:"person"`
	Kind      string `json:"kind"`
	Time      string `json:"time"`
	Venue     string `json:"venue,omitempty"`
	VenueName string `json:"venue_name,omitempty"`
	Trip      string `json:"trip,omitempty"`
	Seat      string `json:"seat,omitempty"`
	Via       string `json:"via"`
	ViaTime   string `json:"via_time"`
}

var contactColumns = []string{"hop", "person", "kind", "time", "venue", "venue_name", "trip", "seat", "via", "via_time"}

func runContacts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tracectl contacts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapPath := fs.String("snapshot", "", "snapshot directory written by tracectl ingest (or a single-file snapshot of the previous format) (required)")
	persons := fs.String("person", "", "index case(s), as the scans CSV names them; comma-separated (required)")
	before := fs.Duration("before", 2*time.Hour, "a scan up to this long before the case's visit is a contact")
	after := fs.Duration("after", 2*time.Hour, "a scan up to this long after the case's visit is a contact")
	depth := fs.Int("depth", 1, "hops: 1 direct contacts, 2 also their contacts (at most 8)")
	since := fs.String("since", "", "only the case's scans and trips from this time (e.g. onset minus 4 days)")
	until := fs.String("until", "", "only the case's scans and trips up to this time")
	exclude := fs.String("exclude", "", "task files (from -save) whose people are excluded; comma-separated")
	save := fs.String("save", "", "write this run as a task file, for a later -exclude")
	taskID := fs.String("task", "", "task id (default the -save file name without extension, else adhoc)")
	proximity := fs.String("proximity", "national", "co-travel rule: national (the national plan's seats) or whole (everyone on board)")
	maxWindow := fs.Int("max-per-window", 0, "cap on contacts from one venue window or trip (0: none)")
	maxHop := fs.Int("max-per-hop", 0, "cap on new contacts per hop (0: none)")
	format := fs.String("format", "csv", "output: csv or json")
	onceFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("contacts: unexpected argument %q", fs.Arg(0))
	}
	if *snapPath == "" {
		return errors.New("contacts: -snapshot is required")
	}
	if *persons == "" {
		return errors.New("contacts: -person is required")
	}
	if *depth < 1 || *depth > contacttrace.MaxDepth {
		return fmt.Errorf("contacts: -depth %d: want 1 to %d", *depth, contacttrace.MaxDepth)
	}
	caseIDs, err := splitList("person", "id", *persons, mask)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	var excludes []string
	if *exclude != "" {
		if excludes, err = splitList("exclude", "file name", *exclude, tracesnap.Clip); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
	}
	if *save != "" {
		// -save replaces its target: it must not be the snapshot, one of
		// its mappings or a task being excluded.
		if tracesnap.Owns(*snapPath, *save) {
			return fmt.Errorf("contacts: -save %s would overwrite an input (the snapshot %s)", *save, *snapPath)
		}
		for _, in := range excludes {
			if cli.SamePath(*save, in) {
				return fmt.Errorf("contacts: -save %s would overwrite an input (%s)", *save, in)
			}
		}
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("contacts: -format %q: want csv or json", *format)
	}
	q := contacttrace.Query{Before: *before, After: *after, Depth: *depth, MaxPerWindow: *maxWindow, MaxPerHop: *maxHop}
	switch *proximity {
	case "national":
	case "whole":
		q.Proximity = contacttrace.WholeTrip()
	default:
		return fmt.Errorf("contacts: -proximity %q: want national or whole", *proximity)
	}
	if *since != "" {
		if q.Since, err = tracesnap.ParseTime(*since); err != nil {
			return fmt.Errorf("contacts: -since: %w", err)
		}
	}
	if *until != "" {
		if q.Until, err = tracesnap.ParseTime(*until); err != nil {
			return fmt.Errorf("contacts: -until: %w", err)
		}
	}
	t0 := time.Now()
	s, err := tracesnap.Load(*snapPath)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	loaded := time.Since(t0)
	for _, p := range caseIDs {
		d, ok := s.PersonID(p)
		if !ok {
			return fmt.Errorf("contacts: -person %s: not in snapshot %s", mask(p), *snapPath)
		}
		q.Cases = append(q.Cases, d)
	}
	var excludedTasks []string
	if len(excludes) > 0 {
		q.Exclude = contacttrace.NewPersonSet()
		for _, name := range excludes {
			tf, err := readTask(name)
			if err != nil {
				return fmt.Errorf("contacts: -exclude: %w", err)
			}
			excludedTasks = append(excludedTasks, tf.ID)
			for _, p := range append(tf.Cases, tf.Contacts...) {
				if d, ok := s.PersonID(p); ok {
					q.Exclude.Add(d)
				}
			}
		}
	}
	if err := q.Validate(); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	cfg := contacttrace.Config{}
	var trips *contacttrace.Trips
	if len(s.Trips) > 0 {
		if trips, err = contacttrace.NewTrips(s.Trips, cfg); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
	}
	tr, err := contacttrace.NewSegmentTracer(s.Segments, trips, cfg)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	id := *taskID
	if id == "" && *save != "" {
		id = strings.TrimSuffix(filepath.Base(*save), filepath.Ext(*save))
	}
	if id == "" {
		id = "adhoc"
	}
	t1 := time.Now()
	task, err := tr.RunTask(ctx, id, q)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	traced := time.Since(t1)
	rows := make([]contactJSON, len(task.Result.Contacts))
	for i, c := range task.Result.Contacts {
		rows[i] = describe(s, c, trips)
	}
	if *format == "json" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		cw := csv.NewWriter(stdout)
		cw.Write(contactColumns)
		for _, r := range rows {
			cw.Write([]string{strconv.Itoa(r.Hop), r.Person, r.Kind, r.Time, r.Venue, r.VenueName, r.Trip, r.Seat, r.Via, r.ViaTime})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	if *save != "" {
		tf := taskFile{ID: id, Cases: caseIDs, Contacts: make([]string, len(rows)), Excluded: excludedTasks}
		for i, r := range rows {
			tf.Contacts[i] = r.Person
		}
		if err := writeTask(*save, tf); err != nil {
			return fmt.Errorf("contacts: -save: %w", err)
		}
	}
	var hops []string
	for _, h := range task.Result.Hops {
		hops = append(hops, fmt.Sprintf("hop %d: %d windows, %d contacts", h.Hop, h.Windows, h.Contacts))
	}
	masked := make([]string, len(caseIDs))
	for i, c := range caseIDs {
		masked[i] = mask(c)
	}
	fmt.Fprintf(stderr, "contacts: case %s: %d contacts (%s); %d excluded from %d earlier tasks; %d cut by caps; snapshot loaded in %v, traced in %v\n",
		strings.Join(masked, ","), len(rows), strings.Join(hops, "; "), q.Exclude.Len(), len(excludedTasks), task.Result.Cut(),
		loaded.Round(time.Millisecond), traced.Round(time.Millisecond))
	return nil
}

// describe maps a contact's dense ids back to the caller's.
func describe(s *tracesnap.Snapshot, c contacttrace.Contact, trips *contacttrace.Trips) contactJSON {
	r := contactJSON{Hop: int(c.Hop), Person: s.Persons[c.Person], Kind: c.Kind.String(), Time: fmtTime(c.Time), ViaTime: fmtTime(c.ViaTime)}
	if c.Via != contacttrace.NoPerson {
		r.Via = s.Persons[c.Via]
	}
	switch c.Kind {
	case contacttrace.KindVenue:
		r.Venue, r.VenueName = s.Venues[c.Venue], s.VenueNames[c.Venue]
	case contacttrace.KindTrip:
		t := trips.Trip(int(c.Trip))
		r.Trip = fmt.Sprintf("%s %s %s", t.Mode, t.Number, t.Date.In(tracesnap.CST).Format("2006-01-02 15:04"))
		if seat, ok := trips.Seat(c); ok {
			r.Seat = seatString(seat)
		}
	}
	return r
}

func seatString(s contacttrace.Seat) string {
	var b strings.Builder
	if s.Car > 0 {
		fmt.Fprintf(&b, "car %d ", s.Car)
	}
	fmt.Fprintf(&b, "%d", s.Row)
	if s.Seat != 0 {
		b.WriteByte(s.Seat)
	}
	return b.String()
}

// readTask reads a task file strictly: a byte order mark is skipped, an
// unknown field or a wrong type is refused with file:line:column.
func readTask(name string) (taskFile, error) {
	var tf taskFile
	b, err := os.ReadFile(name)
	if err != nil {
		return tf, err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	if len(bytes.TrimSpace(b)) == 0 {
		return tf, fmt.Errorf("%s: empty file: want a task file written by -save", name)
	}
	if err := jsonv2.Unmarshal(b, &tf, jsonv2.RejectUnknownMembers(true)); err != nil {
		return tf, taskError(name, b, err)
	}
	if tf.ID == "" {
		return tf, fmt.Errorf("%s: no task id", name)
	}
	return tf, nil
}

// taskError places a task file's decoding error at file:line:column.
func taskError(name string, b []byte, err error) error {
	var off int64 = -1
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		off, err = syn.ByteOffset, syn.Err
	case errors.As(err, &sem):
		off = sem.ByteOffset
		var path []string
		for tok := range sem.JSONPointer.Tokens() {
			path = append(path, tok)
		}
		field := strings.Join(path, ".")
		switch {
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			err = fmt.Errorf("unknown field %q (want id, cases, contacts, excluded)", field)
		case field == "id" || len(path) > 1:
			err = fmt.Errorf("field %q: want a string", field)
		default:
			err = fmt.Errorf("field %q: want an array of strings", field)
		}
	}
	if off < 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	off = min(off, int64(len(b)))
	line := bytes.Count(b[:off], []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
}

func writeTask(name string, tf taskFile) error {
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return err
	}
	o, err := cli.CreateOut(name)
	if err != nil {
		return err
	}
	defer o.Abort()
	if _, err := o.Write(append(b, '\n')); err != nil {
		return err
	}
	return o.Commit()
}
