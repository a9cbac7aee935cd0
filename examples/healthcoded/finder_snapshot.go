package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

// loadSnapshot starts st from a tracectl snapshot (a directory, or a file
// of the previous format): its scans, its venues (with their names where
// venues.csv has none) and its trips. The snapshot's persons are the ids
// its CSV files carried; each is mapped to a key by person, so that the
// finder matches them with the scans healthcoded records. Two ids of one
// person (a document number and its key) are refused: the index would
// hold them as two people.
func (st *traceState) loadSnapshot(ctx context.Context, path string, person func(string) (string, error)) ([]contacttrace.Trip, error) {
	s, err := tracesnap.Load(path)
	if err != nil {
		return nil, fmt.Errorf("-trace-snapshot: %w", err)
	}
	for i, id := range s.Persons {
		k, err := person(id)
		if err != nil {
			return nil, fmt.Errorf("-trace-snapshot %s: person %d (line %d of %s): %w", path, i, i+2, s.File(tracesnap.PersonsFile), err)
		}
		if _, dup := st.personIdx[k]; dup {
			return nil, fmt.Errorf("-trace-snapshot %s: person %d (line %d of %s) is the same person as an earlier line", path, i, i+2, s.File(tracesnap.PersonsFile))
		}
		st.person(k)
	}
	for i, v := range s.Venues {
		if st.named[v] == "" && s.VenueNames[i] != "" {
			st.named[v] = s.VenueNames[i]
		}
		st.venue(v)
	}
	// Into the day segments: every venue's scans over the snapshot's days.
	if days := s.Segments.Days(); len(days) > 0 {
		first, last := days[0], days[len(days)-1].AddDate(0, 0, 1)
		var scans []contacttrace.Scan
		for v := range uint32(len(s.Venues)) {
			scans = s.Segments.VenueScans(scans, v, first, last)
		}
		if st.segs, err = st.segs.Append(ctx, scans, contacttrace.Config{}); err != nil {
			return nil, fmt.Errorf("-trace-snapshot %s: %w", path, err)
		}
	}
	return s.Trips, nil
}

// personKey maps a person id from a snapshot or a trips file to its key in
// hex: a key already (32 hex digits), else a document number, else a
// phone. The error never carries the id.
func (a *App) personKey(id string) (string, error) {
	if len(id) == 32 {
		if _, err := hex.DecodeString(id); err == nil {
			return id, nil
		}
	}
	k, err := personKeyOf(a.keyer, id)
	if err != nil {
		return "", errNotAPerson
	}
	return k.String(), nil
}

var errNotAPerson = errors.New("neither a key (32 hex digits), a document number nor a phone")
