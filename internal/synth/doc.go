// Package synth generates deterministic synthetic data for the tests and
// benchmarks of the healthcode SDK: people with valid identity documents,
// venues, venue scans, trips, registry records with known duplicates,
// health facts, risk areas, incidents and outages.
//
// # Usage
//
//	g := synth.New(42)
//	people := g.People(1000)
//	scans := g.Scans(synth.ScanConfig{Persons: 1000, Venues: 100, Days: 7, PerDay: 5000})
//
// # Concurrency
//
// A Gen is not safe for concurrent use. Package functions (CheckDigit,
// Upgrade15, Regions, LookupRegion) are safe for concurrent use.
package synth
