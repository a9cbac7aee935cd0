// Package healthcode is a library-first Go SDK for the platforms that run
// public-health digital codes ("health codes") and for the IT-service
// contracts that keep those platforms running.
//
// The SDK is five independent packages. Each is usable on its own, has its
// own tests, fuzz targets and benchmarks, and none imports another:
//
//   - [github.com/healthcode-sdk/healthcode/rules]: a CEL-based evaluator
//     that assigns a code colour from a person's facts, with versioned,
//     hot-swappable rule sets, explanations, dry runs and batch evaluation.
//   - [github.com/healthcode-sdk/healthcode/codes]: identity parsing
//     (resident IDs, permits, passports, mobile numbers), keyed pseudonyms,
//     the code keyed by ID document else by phone, a state store with a
//     hash-chained history, authorised manual transcoding, a cached lookup
//     and offline-verifiable signed tokens.
//   - [github.com/healthcode-sdk/healthcode/contacttrace]: time-window
//     matching of venue scans and co-travel at provincial scale.
//   - [github.com/healthcode-sdk/healthcode/dedupe]: duplicate-record
//     resolution and dataset reconciliation for population registries.
//   - [github.com/healthcode-sdk/healthcode/sla]: SLA calendars and timers,
//     availability budgets, penalty clauses, scorecards and payments, exact
//     to the fen.
//
// # Design
//
// Packages compute; callers do the I/O. Persistence sits behind small
// interfaces with an in-memory implementation in the package and real
// backends in subpackages. Time is an input: every deadline or window
// computation takes a time.Time, so tests never sleep. Calls that block take
// a context.Context first. Errors are values: sentinels for the conditions
// callers branch on, typed errors carrying the field, line and column where
// a position matters. No package holds global mutable state or logs on its
// own; an optional *slog.Logger is passed in through a Config.
//
// Personal data never leaves a package in the clear: identities are keyed
// into HMAC pseudonyms before they reach a store, cache, log or metric, and
// every identity type has a Masked form for display.
//
// # Where the packages meet
//
// Only the reference servers and CLIs under examples/ wire packages
// together; they live in their own Go module so that their dependencies
// (HTTP, metrics, rate limiting) never reach an importer of, say, sla alone.
// Workload benchmarks and their peers (expr, SQLite) live in the benchmarks/
// module for the same reason. A committed go.work lets `go test ./...` and
// `go run` work across all three modules from the repository root.
//
// The numbers the packages are built and benchmarked against come from the
// public tender and contract documents of Sichuan, Chengdu and Shaanxi and
// from the 2021-2022 incidents in Xi'an and Henan; see the repository's
// README and DESIGN notes.
package healthcode
