package tracesnap

import (
	"context"
	"fmt"
	"os"

	"github.com/healthcode-sdk/healthcode/contacttrace"
)

// The previous format, read but no longer written: a snapshot S was four
// files,
//
//	S              the index (contacttrace Index.WriteTo)
//	S.persons.csv  as PersonsFile
//	S.venues.csv   as VenuesFile
//	S.trips.csv    as TripsFile

// sidecar is the name of one of the CSV files beside a single-file
// snapshot: kind is "persons", "venues" or "trips".
func sidecar(path, kind string) string { return path + "." + kind + ".csv" }

// loadFile reads a snapshot of the previous format and cuts its scans
// into days, keeping every day: its index is built again, a day at a
// time.
func loadFile(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ix, err := contacttrace.ReadIndex(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := New(-1)
	if first, last, ok := ix.Span(); ok {
		var scans []contacttrace.Scan
		for v := range uint32(ix.NumVenues()) {
			scans = ix.VenueScans(scans, v, first, last)
		}
		if s.Segments, err = s.Segments.Append(context.Background(), scans, contacttrace.Config{}); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	s.files = map[string]string{PersonsFile: sidecar(path, "persons"), VenuesFile: sidecar(path, "venues"), TripsFile: sidecar(path, "trips")}
	if err := s.readMappings(path); err != nil {
		return nil, err
	}
	return s, nil
}
