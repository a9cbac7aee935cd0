// Package dedupe resolves duplicate records in population registries and
// reconciles source data against issued data.
//
// It implements two jobs from the source contracts: the duplicate rules of
// a population registry's quality control (records with the same name, ID
// number, birth date and ethnicity are duplicates; fully identical ones
// are resolved automatically, keeping the latest registration or update;
// the same ID number with other fields differing is suspicious and goes to
// a reviewer), and the data check of a health-code platform (compare
// source and issued data by document type, number, name and phone so that
// nothing is duplicated and nothing missed; validate rows on ingest).
//
// The rules are exact-key, so the resolver hashes a normalised key and
// compares only records whose keys collide; fuzzy similarity
// (JaroWinkler) is used only to explain differences to reviewers.
//
// # Usage
//
// Resolve records held in memory under the default policy:
//
//	res, err := dedupe.Resolve(ctx, records, dedupe.Policy{})
//	for _, d := range res.Decisions() { ... }   // keep/drop with reason and survivor
//	q := dedupe.NewQueue(res.Reviews)           // suspicious and conflicting groups
//	changes, err := q.Apply(verdicts)           // reviewers' decisions -> change set
//
// Stream a registry larger than memory from CSV, spilling to partitions
// on disk past the memory budget:
//
//	r, err := dedupe.NewResolver(policy, dedupe.Config{MemoryBudget: 2 << 30})
//	in, err := dedupe.NewReader(file, dedupe.CSVConfig{})
//	stats, err := r.Stream(ctx, dedupe.GoodRows(in, report), sink)
//
// Reconcile issued data against its source:
//
//	rep, err := dedupe.Reconcile(ctx, source, issued, dedupe.ReconcileConfig{})
//
// Normalize, NormalizeName, NormalizeDocNumber and NormalizeDate are
// exported for callers that want the same canonical forms; Validate checks
// one record on ingest.
//
// # Concurrency
//
// Resolver is safe for concurrent use; Resolve and Stream use
// Config.Workers goroutines internally. Result, Queue, Reader and Writer
// are not safe for concurrent use. The Normalize functions and
// JaroWinkler are pure.
//
// # Personal data
//
// Errors and log lines never carry a raw name, ID number or phone; Mask
// shows how such values are shortened where one must be shown.
//
// A reference server that exposes resolution and reconciliation over HTTP
// lives in examples/healthcoded.
package dedupe
