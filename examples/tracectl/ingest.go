package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	snapPath := fs.String("snapshot", "", "output snapshot file; its id mappings are written beside it (required)")
	appendTo := fs.Bool("append", false, "add to the existing -snapshot (a new day) instead of replacing it")
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
	// The snapshot and its mappings are written over their targets: none
	// of them may be an input.
	for _, out := range tracesnap.Files(*snapPath) {
		for _, in := range []struct{ flag, path string }{{"scans", *scansPath}, {"trips", *tripsPath}, {"venues", *venuesPath}} {
			if in.path != "" && samePath(out, in.path) {
				return fmt.Errorf("ingest: -snapshot %s would overwrite -%s %s (the snapshot writes %s)", *snapPath, in.flag, in.path, out)
			}
		}
	}
	cfg := contacttrace.Config{Workers: *workers}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	s := tracesnap.New()
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
	if s.Index == nil {
		s.Index, err = contacttrace.Build(ctx, scans, cfg)
	} else {
		s.Index, err = s.Index.Append(ctx, scans, cfg)
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	n, err := s.Save(*snapPath)
	if err != nil {
		return fmt.Errorf("ingest: write snapshot: %w", err)
	}
	first, last, _ := s.Index.Span()
	fmt.Fprintf(stderr, "ingest: %d scans read; snapshot %s: %d scans of %d persons at %d venues, %s .. %s, %d trips, %d bytes, in %v\n",
		len(scans), *snapPath, s.Index.Len(), len(s.Persons), len(s.Venues), first.In(tracesnap.CST).Format(time.DateTime), last.In(tracesnap.CST).Format(time.DateTime),
		len(s.Trips), n, time.Since(start).Round(time.Millisecond))
	return nil
}
