// Package tracesnap is the on-disk snapshot of tracectl, and of healthcoded
// when it starts from one: a contacttrace scan index, a segment per day,
// and the CSV files that give its dense integers their meaning. It is the
// one definition of the format; tracectl writes and reads it, healthcoded
// reads it.
//
// A snapshot is a directory written by contacttrace's Segments.WriteDir:
//
//	2022-01-05.1800.hct  one day's index (Index.WriteTo), named by day and scan count
//	persons.csv          person          row i is dense person i
//	venues.csv           venue,name      row i is dense venue i, with its name if known
//	trips.csv            mode,number,date,person,car,row,seat (persons as given)
//	MANIFEST             every file above with its size and CRC-32C, and its own checksum
//
// Days begin at midnight UTC+8. A day's file never changes: appending
// scans writes the days they fall on, the id maps and MANIFEST, nothing
// else, and days past the retention window are dropped. Load refuses a
// file that does not match MANIFEST, naming it. Load also reads the
// previous format, one index file S with S.persons.csv, S.venues.csv and
// S.trips.csv beside it, but Save does not update one (ErrSingleFile).
//
// The contacttrace package never sees the caller's identifiers; only the
// CSV files do. The package also reads the CSV files a snapshot is
// ingested from (ReadScans, ReadTrips, ReadVenueNames): their ids, times
// and modes follow the same rules, and every refusal is a *cli.RowError
// naming file, line and column.
//
// # Usage
//
//	s := tracesnap.New(21) // days kept
//	scans, err := tracesnap.ReadScans(ctx, table, s, nil) // assigns dense ids
//	s.Segments, err = s.Segments.Append(ctx, scans, cfg)
//	_, err = s.Save("case.snap") // a directory
//	...
//	s, err = tracesnap.Load("case.snap")
//	s.Segments, err = s.Segments.Append(ctx, nextDay, cfg)
//	_, err = s.Save("case.snap") // writes the new day only
//	p, ok := s.PersonID("P002") // then s.Persons[c.Person] for each contact
//
// # Concurrency
//
// A Snapshot is not safe for concurrent use while ids are assigned
// (Person, Venue, the Read functions); one that is only read may be shared.
// Two Saves to one directory at once are not safe.
//
// The reference user is examples/tracectl (ingest, contacts, venues).
package tracesnap
