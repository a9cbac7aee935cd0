// Package tracesnap is the on-disk snapshot of tracectl, and of healthcoded
// when it starts from one: a contacttrace index and the CSV files that give
// its dense integers their meaning. It is the one definition of the format;
// tracectl writes and reads it, healthcoded reads it.
//
// A snapshot S is four files:
//
//	S              the index (contacttrace Index.WriteTo)
//	S.persons.csv  person          row i is dense person i
//	S.venues.csv   venue,name      row i is dense venue i, with its name if known
//	S.trips.csv    mode,number,date,person,car,row,seat (persons as given)
//
// The contacttrace package never sees the caller's identifiers; only these
// files do. The package also reads the CSV files a snapshot is ingested
// from (ReadScans, ReadTrips, ReadVenueNames): their ids, times and modes
// follow the same rules, and every refusal is a *cli.RowError naming file,
// line and column.
//
// # Usage
//
//	s := tracesnap.New()
//	scans, err := tracesnap.ReadScans(ctx, table, s, nil) // assigns dense ids
//	s.Index, err = contacttrace.Build(ctx, scans, cfg)
//	_, err = s.Save("case.snap")
//	...
//	s, err = tracesnap.Load("case.snap")
//	p, ok := s.PersonID("P002") // then s.Persons[c.Person] for each contact
//
// # Concurrency
//
// A Snapshot is not safe for concurrent use while ids are assigned
// (Person, Venue, the Read functions); one that is only read may be shared.
//
// The reference user is examples/tracectl (ingest, contacts, venues).
package tracesnap
