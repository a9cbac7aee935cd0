// Package tracebench holds the workload benchmarks of contacttrace: index
// build, a 30-visit index case, 1,000 cases batched, snapshot load and
// fuzzy venue-name search, each against a brute-force baseline and, for
// queries and ingest, SQLite with an index on (venue, time).
package tracebench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/internal/synth"

	_ "modernc.org/sqlite" // the SQLite peer
)

// Sizes is the data a run is built on.
type Sizes struct {
	Persons, Venues, Days, PerDay int
	Cases                         int // index cases prepared for the query workloads
	Batch                         int // cases per batch
	Names                         int // venue names for venue-search
}

// SizesFor returns the sizes of scale s. Full is one day of a province a
// little under half of Sichuan's peak (43 M scans, 5.2 M venues): 20 M
// scans over 2.4 M venues and 10 M people, which stays under 4 GiB with
// the SQLite peer loaded.
func SizesFor(s bench.Scale) Sizes {
	if s == bench.Full {
		return Sizes{Persons: 10_000_000, Venues: 2_400_000, Days: 1, PerDay: 20_000_000,
			Cases: 1000, Batch: 1000, Names: 1_000_000}
	}
	return Sizes{Persons: 20_000, Venues: 2_000, Days: 2, PerDay: 100_000,
		Cases: 200, Batch: 100, Names: 20_000}
}

const (
	visitsPerCase = 30
	window        = 2 * time.Hour
	// venueZipf is the Zipf exponent of venue popularity. synth's default
	// of 1.0 gives the busiest of 2.4 M venues 6.5 % of all scans (1.3 M a
	// day), and a 30-visit case ~900 k contacts, far beyond any real venue;
	// 0.8 gives it ~1 %, about a big railway station's share of a
	// province's daily scans.
	venueZipf = 0.8
	// warmup is how many cases query subjects run untimed in Setup.
	warmup = 64
)

// Workloads returns the contacttrace workloads at scale s.
func Workloads(s bench.Scale) []bench.Workload { return WorkloadsFor(SizesFor(s)) }

// WorkloadsFor returns the contacttrace workloads over data of size sz.
// The data is generated once, when the first subject needs it.
func WorkloadsFor(sz Sizes) []bench.Workload {
	d := &dataset{sz: sz}
	n := sz.Days * sz.PerDay
	return []bench.Workload{
		{
			Name: "contacttrace/build",
			Unit: "scan",
			Doc: fmt.Sprintf("index scans (prefixes of %d synth scans, %d venues, %d people, time order as ingested) on GOMAXPROCS cores; vs a single-threaded sort by (venue, time, person) and vs SQLite inserts into a table indexed on (venue, time, person)",
				n, sz.Venues, sz.Persons),
			Subjects: []bench.Subject{
				{Name: "index", Role: bench.Primary, Setup: d.setupBuild},
				{Name: "sort", Role: bench.Baseline, Setup: d.setupSortBuild},
				{Name: "sqlite", Role: bench.Peer, Setup: d.setupSQLiteInsert},
			},
		},
		{
			Name: "contacttrace/query",
			Unit: "case",
			Doc: fmt.Sprintf("one index case of %d visits (venues drawn like scans, Zipf %.1f), windows +-2 h, single hop, over %d scans; every answer checked against the brute-force oracle's",
				visitsPerCase, venueZipf, n),
			Subjects: []bench.Subject{
				{Name: "index", Role: bench.Primary, Setup: d.setupQuery},
				{Name: "brute-force", Role: bench.Baseline, Setup: d.setupBrute},
				{Name: "sqlite", Role: bench.Peer, Setup: d.setupSQLiteQuery},
			},
		},
		{
			Name: "contacttrace/batch",
			Unit: "case",
			Doc:  fmt.Sprintf("index cases run %d at a time with TraceEach (groups of 4 x GOMAXPROCS in flight, windows swept in venue order, hops in parallel; results streamed) vs one by one with Trace", sz.Batch),
			Subjects: []bench.Subject{
				{Name: "batch", Role: bench.Primary, Setup: d.setupBatch},
				{Name: "one-by-one", Role: bench.Baseline, Setup: d.setupQuery},
			},
		},
		{
			Name: "contacttrace/snapshot-load",
			Unit: "load",
			Doc:  fmt.Sprintf("restart: load a %d-scan index snapshot from a file (checksums and consistency checks included) vs rebuilding it from raw scans already in memory (which a real restart would first have to read); one untimed warm-up each", n),
			Subjects: []bench.Subject{
				{Name: "snapshot", Role: bench.Primary, Setup: d.setupLoad},
				{Name: "rebuild", Role: bench.Baseline, Setup: d.setupRebuild},
			},
		},
		{
			Name: "contacttrace/append-day",
			Unit: "day",
			Doc: fmt.Sprintf("a server's daily ingest: add %d day(s) of %d scans to an index holding %d copies of them before (the dataset's scans shifted by whole days): contacttrace.Segments builds the new days alone vs Index.Append merging them into one index, which copies everything held",
				sz.Days, n, heldDays),
			Subjects: []bench.Subject{
				{Name: "segments", Role: bench.Primary, Setup: d.setupAppendSegments},
				{Name: "merge", Role: bench.Baseline, Setup: d.setupAppendMerge},
			},
		},
		{
			Name: "contacttrace/venue-search",
			Unit: "search",
			Doc:  fmt.Sprintf("top-10 fuzzy search of two out-of-order name fragments over %d synth venue names: n-gram index vs a scan of every name for both fragments", sz.Names),
			Subjects: []bench.Subject{
				{Name: "ngram-index", Role: bench.Primary, Setup: d.setupVenueSearch},
				{Name: "scan-all", Role: bench.Baseline, Setup: d.setupVenueScan},
			},
		},
	}
}

// dataset is generated lazily and shared by the subjects of a run.
type dataset struct {
	sz      Sizes
	once    sync.Once
	err     error
	scans   []contacttrace.Scan
	ix      *contacttrace.Index
	cases   []contacttrace.Query
	truth   []caseTruth
	dbOnce  sync.Once
	db      *sql.DB
	dbDir   string
	dbErr   error
	nmOnce  sync.Once
	names   []contacttrace.VenueName
	queries []string
}

// caseTruth is the oracle's answer for one case: how many distinct people
// and an order-independent hash of their ids.
type caseTruth struct {
	n    int
	hash uint64
}

func mix(p uint32) uint64 {
	x := uint64(p) + 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func truthOf(persons []uint32) caseTruth {
	var t caseTruth
	for _, p := range persons {
		t.n++
		t.hash += mix(p)
	}
	return t
}

func (d *dataset) load(ctx context.Context) error {
	d.once.Do(func() {
		sz := d.sz
		d.scans = make([]contacttrace.Scan, 0, sz.Days*sz.PerDay)
		g := synth.New(42)
		cfg := synth.ScanConfig{Persons: sz.Persons, Venues: sz.Venues, Days: sz.Days, PerDay: sz.PerDay, ZipfS: venueZipf}
		for s := range g.ScanSeq(cfg) {
			d.scans = append(d.scans, contacttrace.Scan(s))
		}
		d.ix, d.err = contacttrace.Build(ctx, d.scans, contacttrace.Config{})
		if d.err != nil {
			return
		}
		// Index cases: 30 visits each at venues and times drawn like scans.
		rng := rand.New(rand.NewPCG(42, 1))
		for range sz.Cases {
			var q contacttrace.Query
			q.Before, q.After = window, window
			for range visitsPerCase {
				s := d.scans[rng.IntN(len(d.scans))]
				at := time.Unix(s.Time, 0)
				q.Visits = append(q.Visits, contacttrace.Visit{Venue: s.Venue, From: at, To: at.Add(time.Duration(rng.IntN(60)) * time.Minute)})
			}
			d.cases = append(d.cases, q)
		}
		d.truth = bruteAll(d.scans, d.cases)
	})
	return d.err
}

// bruteAll is the oracle: one pass over every scan, checking it against
// every window of every case at its venue.
func bruteAll(scans []contacttrace.Scan, cases []contacttrace.Query) []caseTruth {
	type win struct {
		c      int
		lo, hi int64
	}
	byVenue := map[uint32][]win{}
	for c, q := range cases {
		for _, v := range q.Visits {
			byVenue[v.Venue] = append(byVenue[v.Venue], win{c, v.From.Add(-q.Before).Unix(), v.To.Add(q.After).Unix()})
		}
	}
	sets := make([]map[uint32]struct{}, len(cases))
	for i := range sets {
		sets[i] = map[uint32]struct{}{}
	}
	for _, s := range scans {
		for _, w := range byVenue[s.Venue] {
			if s.Time >= w.lo && s.Time <= w.hi {
				sets[w.c][s.Person] = struct{}{}
			}
		}
	}
	out := make([]caseTruth, len(cases))
	for i, set := range sets {
		for p := range set {
			out[i].n++
			out[i].hash += mix(p)
		}
	}
	return out
}

func check(c int, got, want caseTruth) error {
	if got != want {
		return fmt.Errorf("%w: case %d: %d contacts (hash %x), oracle %d (hash %x)", bench.ErrWrongAnswer, c, got.n, got.hash, want.n, want.hash)
	}
	return nil
}

func resultTruth(r contacttrace.Result) caseTruth {
	var t caseTruth
	for _, c := range r.Contacts {
		t.n++
		t.hash += mix(c.Person)
	}
	return t
}

// runner adds Metrics to a RunFunc, including the process CPU time per
// operation of the last Run: on a shared machine wall time also counts
// time spent descheduled, CPU time does not.
type runner struct {
	run     bench.RunFunc
	metrics func() []bench.Metric
	close   func() error
	lastN   int
	lastCPU time.Duration
}

func (r *runner) Run(ctx context.Context, n int) error {
	c := cpuTime()
	err := r.run(ctx, n)
	r.lastN, r.lastCPU = n, cpuTime()-c
	return err
}

func (r *runner) Metrics() []bench.Metric {
	var ms []bench.Metric
	if r.lastN > 0 && r.lastCPU > 0 {
		ms = append(ms, bench.Metric{Name: "cpu/op", Value: float64(r.lastCPU.Nanoseconds()) / float64(r.lastN), Unit: "ns"})
	}
	if r.metrics != nil {
		ms = append(ms, r.metrics()...)
	}
	return ms
}

func (r *runner) Close() error {
	if r.close == nil {
		return nil
	}
	return r.close()
}

func (d *dataset) sizeMetrics() []bench.Metric {
	contacts := 0
	for _, t := range d.truth {
		contacts += t.n
	}
	return []bench.Metric{
		{Name: "bytes/scan", Value: float64(d.ix.Bytes()) / float64(d.ix.Len()), Unit: "B"},
		{Name: "scans", Value: float64(d.ix.Len()), Unit: "scans"},
		{Name: "contacts/case", Value: float64(contacts) / float64(max(len(d.truth), 1)), Unit: "people"},
	}
}

// --- build ---

// prefixes calls f on consecutive prefixes of the scans totalling n.
func (d *dataset) prefixes(n int, f func([]contacttrace.Scan) error) error {
	for n > 0 {
		k := min(n, len(d.scans))
		if err := f(d.scans[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func (d *dataset) setupBuild(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	return &runner{
		run: func(ctx context.Context, n int) error {
			return d.prefixes(n, func(s []contacttrace.Scan) error {
				ix, err := contacttrace.Build(ctx, s, contacttrace.Config{})
				if err != nil {
					return err
				}
				if ix.Len() != len(s) {
					return fmt.Errorf("%w: built %d scans of %d", bench.ErrWrongAnswer, ix.Len(), len(s))
				}
				return nil
			})
		},
		metrics: func() []bench.Metric {
			return []bench.Metric{{Name: "workers", Value: float64(runtime.GOMAXPROCS(0)), Unit: "cores"}}
		},
	}, nil
}

// setupSortBuild is the obvious single-threaded build: copy and sort by
// (venue, time, person).
func (d *dataset) setupSortBuild(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	return &runner{run: func(ctx context.Context, n int) error {
		return d.prefixes(n, func(s []contacttrace.Scan) error {
			c := slices.Clone(s)
			slices.SortFunc(c, func(a, b contacttrace.Scan) int {
				switch {
				case a.Venue != b.Venue:
					return int(a.Venue) - int(b.Venue)
				case a.Time != b.Time:
					if a.Time < b.Time {
						return -1
					}
					return 1
				}
				return int(a.Person) - int(b.Person)
			})
			if len(c) > 1 && c[0].Venue > c[len(c)-1].Venue {
				return fmt.Errorf("%w: not sorted", bench.ErrWrongAnswer)
			}
			return nil
		})
	}}, nil
}

// --- SQLite ---

// sqliteDB loads every scan into a file database indexed on
// (venue, time, person) (covering, so queries never touch the table).
func (d *dataset) sqliteDB(ctx context.Context) (*sql.DB, error) {
	d.dbOnce.Do(func() {
		d.dbDir, d.dbErr = os.MkdirTemp("", "tracebench-*")
		if d.dbErr != nil {
			return
		}
		d.db, d.dbErr = openSQLite(filepath.Join(d.dbDir, "scans.db"))
		if d.dbErr != nil {
			return
		}
		d.dbErr = insertScans(ctx, d.db, d.scans)
		if d.dbErr == nil {
			_, d.dbErr = d.db.ExecContext(ctx, "CREATE INDEX scans_vt ON scans(venue, time, person)")
		}
	})
	return d.db, d.dbErr
}

func openSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, p := range []string{"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144",
		"CREATE TABLE scans(person INTEGER, venue INTEGER, time INTEGER)"} {
		if _, err := db.Exec(p); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite %q: %w", p, err)
		}
	}
	return db, nil
}

func insertScans(ctx context.Context, db *sql.DB, scans []contacttrace.Scan) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	st, err := tx.PrepareContext(ctx, "INSERT INTO scans(person, venue, time) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for i, s := range scans {
		if i&65535 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := st.Exec(s.Person, s.Venue, s.Time); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (d *dataset) closeDB() error {
	var err error
	if d.db != nil {
		err = d.db.Close()
		d.db = nil
	}
	if d.dbDir != "" {
		err = errors.Join(err, os.RemoveAll(d.dbDir))
		d.dbDir = ""
	}
	d.dbOnce = sync.Once{}
	return err
}

// setupSQLiteInsert measures ingest into SQLite with the index maintained.
func (d *dataset) setupSQLiteInsert(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tracebench-ingest-*")
	if err != nil {
		return nil, err
	}
	db, err := openSQLite(filepath.Join(dir, "ingest.db"))
	if err == nil {
		_, err = db.Exec("CREATE INDEX scans_vt ON scans(venue, time, person)")
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &runner{
		run: func(ctx context.Context, n int) error {
			return d.prefixes(n, func(s []contacttrace.Scan) error { return insertScans(ctx, db, s) })
		},
		close: func() error { return errors.Join(db.Close(), os.RemoveAll(dir)) },
	}, nil
}

func (d *dataset) setupSQLiteQuery(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	db, err := d.sqliteDB(ctx)
	if err != nil {
		return nil, err
	}
	st, err := db.PrepareContext(ctx, "SELECT person FROM scans WHERE venue = ? AND time BETWEEN ? AND ?")
	if err != nil {
		return nil, err
	}
	next := 0
	set := map[uint32]struct{}{}
	return &runner{
		run: func(ctx context.Context, n int) error {
			for range n {
				c := next % len(d.cases)
				next++
				q := d.cases[c]
				clear(set)
				for _, v := range q.Visits {
					rows, err := st.QueryContext(ctx, v.Venue, v.From.Add(-q.Before).Unix(), v.To.Add(q.After).Unix())
					if err != nil {
						return err
					}
					for rows.Next() {
						var p uint32
						if err := rows.Scan(&p); err != nil {
							rows.Close()
							return err
						}
						set[p] = struct{}{}
					}
					if err := errors.Join(rows.Err(), rows.Close()); err != nil {
						return err
					}
				}
				if err := check(c, truthOf(slices.Collect(mapKeys(set))), d.truth[c]); err != nil {
					return err
				}
			}
			return nil
		},
		close: func() error { return errors.Join(st.Close(), d.closeDB()) },
	}, nil
}

func mapKeys(m map[uint32]struct{}) func(func(uint32) bool) {
	return func(yield func(uint32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// --- query and batch ---

func (d *dataset) setupQuery(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	tr, err := contacttrace.NewTracer(d.ix, nil, contacttrace.Config{})
	if err != nil {
		return nil, err
	}
	next := 0
	var res contacttrace.Result // reused: a server answering case after case
	// Warm up untimed, as a running server would be: the first queries
	// grow the tracer's scratch, and on this VM each first-touched page
	// costs ~10 us.
	for _, q := range d.cases[:min(len(d.cases), warmup)] {
		if err := tr.TraceInto(ctx, q, &res); err != nil {
			return nil, err
		}
	}
	return &runner{
		run: func(ctx context.Context, n int) error {
			for range n {
				c := next % len(d.cases)
				next++
				if err := tr.TraceInto(ctx, d.cases[c], &res); err != nil {
					return err
				}
				if err := check(c, resultTruth(res), d.truth[c]); err != nil {
					return err
				}
			}
			return nil
		},
		metrics: d.sizeMetrics,
	}, nil
}

func (d *dataset) setupBrute(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	next := 0
	return &runner{run: func(ctx context.Context, n int) error {
		for range n {
			c := next % len(d.cases)
			next++
			if err := check(c, bruteAll(d.scans, d.cases[c:c+1])[0], d.truth[c]); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

func (d *dataset) setupBatch(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	tr, err := contacttrace.NewTracer(d.ix, nil, contacttrace.Config{})
	if err != nil {
		return nil, err
	}
	next := 0
	warm := d.cases[:min(len(d.cases), warmup)] // untimed, as for one-by-one
	if err := tr.TraceEach(ctx, warm, func(int, contacttrace.Result) error { return nil }); err != nil {
		return nil, err
	}
	return &runner{run: func(ctx context.Context, n int) error {
		for n > 0 {
			k := min(n, d.sz.Batch)
			n -= k
			qs := make([]contacttrace.Query, k)
			idx := make([]int, k)
			for i := range qs {
				idx[i] = next % len(d.cases)
				qs[i] = d.cases[idx[i]]
				next++
			}
			// Results are checked and dropped as they come, as a server
			// streaming them out would.
			err := tr.TraceEach(ctx, qs, func(i int, r contacttrace.Result) error {
				return check(idx[i], resultTruth(r), d.truth[idx[i]])
			})
			if err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// --- snapshot ---

func (d *dataset) setupLoad(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "tracebench-*.snap")
	if err != nil {
		return nil, err
	}
	path := f.Name()
	size, err := d.ix.WriteTo(f)
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
		return nil, err
	}
	load := func() (*contacttrace.Index, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return contacttrace.ReadIndex(f)
	}
	// One untimed load first, as rebuild gets one untimed build: neither
	// then pays this VM's first-touch page faults (~10 us each here).
	if _, err := load(); err != nil {
		os.Remove(path)
		return nil, err
	}
	var el time.Duration
	loads := 0
	return &runner{
		run: func(ctx context.Context, n int) error {
			for range n {
				start := time.Now()
				ix, err := load()
				if err != nil {
					return err
				}
				el += time.Since(start)
				loads++
				if ix.Len() != d.ix.Len() || ix.NumVenues() != d.ix.NumVenues() {
					return fmt.Errorf("%w: loaded %d scans, want %d", bench.ErrWrongAnswer, ix.Len(), d.ix.Len())
				}
			}
			return nil
		},
		metrics: func() []bench.Metric {
			sec := el.Seconds() / float64(max(loads, 1))
			return []bench.Metric{
				{Name: "scans/s", Value: float64(d.ix.Len()) / sec, Unit: "scans/s"},
				{Name: "file", Value: float64(size) / float64(d.ix.Len()), Unit: "B/scan"},
				{Name: "load", Value: sec, Unit: "s"},
			}
		},
		close: func() error { return os.Remove(path) },
	}, nil
}

func (d *dataset) setupRebuild(ctx context.Context) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	if _, err := contacttrace.Build(ctx, d.scans, contacttrace.Config{}); err != nil { // warm-up, untimed
		return nil, err
	}
	return &runner{run: func(ctx context.Context, n int) error {
		for range n {
			ix, err := contacttrace.Build(ctx, d.scans, contacttrace.Config{})
			if err != nil {
				return err
			}
			if ix.Len() != d.ix.Len() {
				return fmt.Errorf("%w: rebuilt %d scans", bench.ErrWrongAnswer, ix.Len())
			}
		}
		return nil
	}}, nil
}

// --- daily append ---

// heldDays is how many copies of the dataset's days the index holds
// before contacttrace/append-day adds one more.
const heldDays = 3

// shiftedDays returns the dataset's scans moved by days whole days.
func (d *dataset) shiftedDays(days int) []contacttrace.Scan {
	out := make([]contacttrace.Scan, len(d.scans))
	for i, sc := range d.scans {
		sc.Time += int64(days) * 86400
		out[i] = sc
	}
	return out
}

// setupAppend prepares the held days and the new one; held builds what a
// subject holds from them and add appends the new day to it, returning
// the number of scans then held.
func (d *dataset) setupAppend(ctx context.Context, held func([]contacttrace.Scan) error,
	add func(context.Context, []contacttrace.Scan) (int, error)) (bench.Runner, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	var old []contacttrace.Scan
	for k := range heldDays {
		old = append(old, d.shiftedDays(k*d.sz.Days)...)
	}
	if err := held(old); err != nil {
		return nil, err
	}
	old = nil
	day := d.shiftedDays(heldDays * d.sz.Days)
	if _, err := add(ctx, day); err != nil { // warm-up, untimed
		return nil, err
	}
	want := (heldDays + 1) * len(d.scans)
	return &runner{run: func(ctx context.Context, n int) error {
		for range n {
			got, err := add(ctx, day)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%w: %d scans held after the append, want %d", bench.ErrWrongAnswer, got, want)
			}
		}
		return nil
	}}, nil
}

func (d *dataset) setupAppendSegments(ctx context.Context) (bench.Runner, error) {
	var segs *contacttrace.Segments
	return d.setupAppend(ctx, func(scans []contacttrace.Scan) error {
		var err error
		segs, err = contacttrace.NewSegments(contacttrace.SegmentConfig{RetainDays: -1}).Append(ctx, scans, contacttrace.Config{})
		return err
	}, func(ctx context.Context, day []contacttrace.Scan) (int, error) {
		next, err := segs.Append(ctx, day, contacttrace.Config{})
		if err != nil {
			return 0, err
		}
		return next.Len(), nil
	})
}

func (d *dataset) setupAppendMerge(ctx context.Context) (bench.Runner, error) {
	var ix *contacttrace.Index
	return d.setupAppend(ctx, func(scans []contacttrace.Scan) error {
		var err error
		ix, err = contacttrace.Build(ctx, scans, contacttrace.Config{})
		return err
	}, func(ctx context.Context, day []contacttrace.Scan) (int, error) {
		next, err := ix.Append(ctx, day, contacttrace.Config{})
		if err != nil {
			return 0, err
		}
		return next.Len(), nil
	})
}

// --- venue search ---

// venueData makes the names and queries: two fragments of a real name
// (a landmark or road, a business), given in the wrong order.
func (d *dataset) venueData() {
	d.nmOnce.Do(func() {
		vs := synth.New(7).Venues(d.sz.Names)
		d.names = make([]contacttrace.VenueName, len(vs))
		for i, v := range vs {
			d.names[i] = contacttrace.VenueName{ID: v.ID, Name: v.Name}
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for range 256 {
			name := []rune(vs[rng.IntN(len(vs))].Name)
			a := 6 + rng.IntN(max(1, len(name)-9))
			mid := min(len(name), a+3)
			end := len(name)
			b := max(mid, end-2)
			d.queries = append(d.queries, string(name[b:end])+" "+string(name[a:mid]))
		}
	})
}

func (d *dataset) setupVenueSearch(ctx context.Context) (bench.Runner, error) {
	d.venueData()
	vn, err := contacttrace.NewVenueNames(ctx, d.names, contacttrace.Config{})
	if err != nil {
		return nil, err
	}
	next := 0
	return &runner{run: func(ctx context.Context, n int) error {
		for range n {
			q := d.queries[next%len(d.queries)]
			next++
			hits := vn.Search(q, 10)
			// The query's fragments come from a real name, so the best hit
			// must contain every fragment.
			if len(hits) == 0 || !containsAll(hits[0].Name, strings.Fields(q)) {
				return fmt.Errorf("%w: top hit for %q lacks a fragment", bench.ErrWrongAnswer, q)
			}
		}
		return nil
	}}, nil
}

func (d *dataset) setupVenueScan(context.Context) (bench.Runner, error) {
	d.venueData()
	next := 0
	return &runner{run: func(ctx context.Context, n int) error {
		for range n {
			q := d.queries[next%len(d.queries)]
			next++
			terms := strings.Fields(q)
			found := 0
			for _, v := range d.names {
				if containsAll(v.Name, terms) {
					found++
				}
			}
			if found == 0 {
				return fmt.Errorf("%w: no name contains %q", bench.ErrWrongAnswer, q)
			}
		}
		return nil
	}}, nil
}

func containsAll(name string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(name, t) {
			return false
		}
	}
	return true
}
