// Package contacttrace finds the contacts of an index case: people who
// scanned the same venue within the case's visit windows, and people who
// travelled near the case on the same trip, to a chosen depth, with
// exclusions, fan-out caps and the provenance of every contact ("precise
// people-finding", Sichuan tender 2.3.1).
//
// Persons, venues and trips are identified by dense integers the caller
// maps to its own identifiers; the package never sees ID numbers, phones
// or names.
//
// # Usage
//
//	ix, err := contacttrace.Build(ctx, scans, contacttrace.Config{})
//	trips, err := contacttrace.NewTrips(tripList, contacttrace.Config{})
//	tr, err := contacttrace.NewTracer(ix, trips, contacttrace.Config{})
//	res, err := tr.Trace(ctx, contacttrace.Query{
//		Cases:  []uint32{caseID},
//		Since:  onset.Add(-4 * 24 * time.Hour),
//		Before: 2 * time.Hour, After: 2 * time.Hour,
//		Depth:  2,
//	})
//	for _, c := range res.Contacts { ... c.Person, c.Hop, c.Via, c.Venue, c.Time ... }
//
// A server ingesting day after day keeps [Segments]: one immutable index
// per day, so appending a day costs that day's scans alone, days past the
// retention window (21 by default) are dropped at once, and
// [Segments.WriteDir] and [ReadDir] keep a snapshot directory with a file
// per day (written once, read only when missing) and the caller's id maps,
// all checksummed; [NewSegmentTracer] queries them as one index. A single
// [Index] is built with [Build] and grown with [Index.Append] (which
// copies it whole); [Index.WriteTo] and [ReadIndex] snapshot it. Many cases
// run together with [Tracer.TraceBatch] or, streaming their results,
// [Tracer.TraceEach]; a [Task] keeps a query's result so later tasks can
// exclude it. [VenueNames] finds venues by partial, out-of-order names
// ("太古里 春熙路"). Times in scans and contacts are unix seconds.
//
// Every contact carries its provenance (hop, venue or trip and seat, the
// person it came through and when), and every hop reports how many people
// the fan-out caps left out: a two-hop search from a crowded venue can
// otherwise reach millions.
//
// Windows are inclusive at both ends, to the second: with Before = 2 h, a
// scan exactly 2 h before the visit is a contact, one a second earlier is
// not.
//
// # Concurrency
//
// [Index], [Segments], [Trips], [Tracer] and [VenueNames] are immutable once built and
// safe for concurrent use. [PersonSet] and [Task] are plain values: not
// safe for concurrent modification. A [ProximityPolicy] shared by queries
// run together must be safe for concurrent use (the built-in ones are).
//
// The reference server examples/healthcoded shows the package behind an
// HTTP API.
package contacttrace
