package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

func runIngest(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("tracectl ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scansPath := fs.String("scans", "", "venue scans CSV: person,venue,time (required)")
	tripsPath := fs.String("trips", "", "trips CSV, one row per passenger: mode,number,date,person[,car,row,seat]")
	venuesPath := fs.String("venues", "", "venue names CSV: venue,name (kept with the snapshot for tracectl venues)")
	snapPath := fs.String("snapshot", "", "output snapshot directory: a file per day, the id mappings and a MANIFEST (required)")
	appendTo := fs.Bool("append", false, "add to the existing -snapshot (writes only the days the scans fall on) instead of replacing it")
	retain := fs.Int("retain-days", contacttrace.DefaultRetainDays, "days kept, counted back from the latest; older ones are dropped (0 keeps all; set at the first ingest)")
	every := fs.Duration("progress", time.Second, "progress line interval on stderr; 0 disables")
	workers := fs.Int("workers", 0, "build goroutines (default GOMAXPROCS)")
	onceFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("ingest: unexpected argument %q", fs.Arg(0))
	}
	if *scansPath == "" {
		return errors.New("ingest: -scans is required")
	}
	if *snapPath == "" {
		return errors.New("ingest: -snapshot is required")
	}
	retainSet := false
	fs.Visit(func(f *flag.Flag) { retainSet = retainSet || f.Name == "retain-days" })
	if *retain < 0 {
		return fmt.Errorf("ingest: -retain-days %d: want 0 (keep all) or more", *retain)
	}
	if *appendTo && retainSet {
		return errors.New("ingest: -retain-days with -append: the snapshot keeps the window of its first ingest (ingest again without -append to change it)")
	}
	// The snapshot is written over: no input may be in it.
	for _, in := range []struct{ flag, path string }{{"scans", *scansPath}, {"trips", *tripsPath}, {"venues", *venuesPath}} {
		if in.path != "" && tracesnap.Owns(*snapPath, in.path) {
			return fmt.Errorf("ingest: -snapshot %s would overwrite -%s %s", *snapPath, in.flag, in.path)
		}
	}
	if err := tracesnap.CheckTarget(*snapPath); err != nil {
		return fmt.Errorf("ingest: -snapshot: %w", err)
	}
	cfg := contacttrace.Config{Workers: *workers}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	days := *retain
	if days == 0 {
		days = -1 // contacttrace: negative keeps every day
	}
	s := tracesnap.New(days)
	if *appendTo {
		var err error
		if s, err = tracesnap.Load(*snapPath); err != nil {
			return fmt.Errorf("ingest: -append: %w", err)
		}
	}
	start := time.Now()

	f, err := os.Open(*scansPath)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	cr := &cli.CountingReader{R: bufio.NewReaderSize(f, 1<<20)}
	t, err := cli.OpenTable(*scansPath, cr, []string{"person", "venue", "time"}, nil)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	scans, err := tracesnap.ReadScans(ctx, t, s, cli.NewProgress(stderr, "ingest "+*scansPath, *every, f, cr))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if len(scans) == 0 {
		// An export that failed halfway writes the header alone; taking it
		// would replace the snapshot with an empty one.
		return fmt.Errorf("ingest: %s: no scans (only a header): nothing to ingest, the snapshot is unchanged", *scansPath)
	}
	if *tripsPath != "" {
		tf, err := os.Open(*tripsPath)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer tf.Close()
		tcr := &cli.CountingReader{R: bufio.NewReader(tf)}
		tt, err := cli.OpenTable(*tripsPath, tcr, tracesnap.TripColumns[:4], tracesnap.TripColumns[4:])
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		trips, err := tracesnap.ReadTrips(tt, s, cli.NewProgress(stderr, "ingest "+*tripsPath, *every, tf, tcr))
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		s.Trips = append(s.Trips, trips...)
	}
	if _, err := contacttrace.NewTrips(s.Trips, cfg); err != nil {
		return fmt.Errorf("ingest: %s: %w", *tripsPath, err)
	}
	if *venuesPath != "" {
		vf, err := os.Open(*venuesPath)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer vf.Close()
		vt, err := cli.OpenTable(*venuesPath, bufio.NewReader(vf), []string{"venue", "name"}, nil)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if err := tracesnap.ReadVenueNames(vt, s); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	s.Segments, err = s.Segments.Append(ctx, scans, cfg)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	held := s.Segments.Days()
	ignored := 0
	for _, sc := range scans {
		if len(held) == 0 || sc.Time < held[0].Unix() {
			ignored++
		}
	}
	if ignored == len(scans) {
		return fmt.Errorf("ingest: %s: every scan is older than the snapshot's retention window: nothing to ingest, the snapshot is unchanged", *scansPath)
	}
	wrote, err := s.Save(*snapPath)
	if err != nil {
		return fmt.Errorf("ingest: write snapshot: %w", err)
	}
	read := fmt.Sprintf("%d scans read", len(scans))
	if ignored > 0 {
		read += fmt.Sprintf(" (%d older than the retention window, ignored)", ignored)
	}
	fmt.Fprintf(stderr, "ingest: %s; snapshot %s: %d scans of %d persons at %d venues, %d days %s .. %s, %d trips; wrote %s, in %v\n",
		read, *snapPath, s.Segments.Len(), len(s.Persons), len(s.Venues), len(held), held[0].Format(time.DateOnly), held[len(held)-1].Format(time.DateOnly),
		len(s.Trips), wroteList(wrote), time.Since(start).Round(time.Millisecond))
	return nil
}

// wroteList describes the day files an ingest wrote.
func wroteList(names []string) string {
	if len(names) == 0 {
		return "no day files"
	}
	return fmt.Sprintf("%d day files (%s)", len(names), strings.Join(names, ", "))
}
