package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

func runVenues(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tracectl venues", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapPath := fs.String("snapshot", "", "snapshot directory whose venue names to search (ingested with -venues)")
	venuesPath := fs.String("venues", "", "venue names CSV (venue,name) to search instead of a snapshot's")
	query := fs.String("q", "", `partial names, any order, space-separated: "太古里 春熙路" (required)`)
	k := fs.Int("k", 10, "how many matches")
	onceFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("venues: unexpected argument %q", fs.Arg(0))
	}
	if *query == "" {
		return errors.New("venues: -q is required")
	}
	if strings.TrimSpace(*query) == "" {
		return errors.New("venues: -q: blank: want partial names")
	}
	if (*snapPath == "") == (*venuesPath == "") {
		return errors.New("venues: give one of -snapshot and -venues")
	}
	if *k <= 0 {
		return fmt.Errorf("venues: -k %d: want at least 1", *k)
	}
	s := tracesnap.New(0)
	if *snapPath != "" {
		var err error
		if s, err = tracesnap.Load(*snapPath); err != nil {
			return fmt.Errorf("venues: %w", err)
		}
		if !hasNames(s.VenueNames) {
			return fmt.Errorf("venues: snapshot %s has no venue names (ingest with -venues, or search a -venues file)", *snapPath)
		}
	} else {
		f, err := os.Open(*venuesPath)
		if err != nil {
			return fmt.Errorf("venues: %w", err)
		}
		defer f.Close()
		t, err := cli.OpenTable(*venuesPath, bufio.NewReader(f), []string{"venue", "name"}, nil)
		if err != nil {
			return fmt.Errorf("venues: %w", err)
		}
		if err := tracesnap.ReadVenueNames(t, s); err != nil {
			return fmt.Errorf("venues: %w", err)
		}
	}
	names := make([]contacttrace.VenueName, 0, len(s.Venues))
	for i, n := range s.VenueNames {
		if n != "" {
			names = append(names, contacttrace.VenueName{ID: uint32(i), Name: n})
		}
	}
	vn, err := contacttrace.NewVenueNames(ctx, names, contacttrace.Config{})
	if err != nil {
		return fmt.Errorf("venues: %w", err)
	}
	cw := csv.NewWriter(stdout)
	cw.Write([]string{"venue", "name", "score"})
	for _, m := range vn.Search(*query, *k) {
		cw.Write([]string{s.Venues[m.ID], m.Name, strconv.Itoa(m.Score)})
	}
	cw.Flush()
	return cw.Error()
}

// hasNames reports whether any venue has a name.
func hasNames(names []string) bool {
	for _, n := range names {
		if n != "" {
			return true
		}
	}
	return false
}
