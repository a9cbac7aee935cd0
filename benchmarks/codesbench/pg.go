package codesbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
	"github.com/jackc/pgx/v5"
)

// The Registry configurations of codes/lookup-pg. sizedConfig is the
// package's default, as codes/lookup runs it: its cache (1 Mi states)
// holds the whole non-green set, as an operator sizes it for a
// population. smallConfig is healthcoded's default for its 10 000 demo
// people (examples/healthcoded/app.go): at 2 M people its 64 Ki states
// hold a third of the non-green set, so the share of lookups that miss
// the cache, and what a miss costs on each store, shows.
var (
	sizedConfig = codes.Config{}
	smallConfig = codes.Config{CacheEntries: 1 << 16, ExpectedNonGreen: 1_000_000}
)

type pgSizes struct {
	people    int // keyed population of codes/lookup-pg (as codes/lookup)
	batch     int // changes in one Apply of codes/bulk-apply-pg
	load      int // people of one initial load (codes/load-pg)
	loadBatch int // changes per Apply of the initial load
}

func pgSizesFor(s bench.Scale) pgSizes {
	if s == bench.Full {
		return pgSizes{people: sizesFor(s).people, batch: 1_000_000, load: 10_000_000, loadBatch: 1_000_000}
	}
	return pgSizes{people: sizesFor(s).people, batch: 20_000, load: 50_000, loadBatch: 10_000}
}

// PostgresWorkloads returns the codes workloads over PostgreSQL
// (codes/pgstore) at scale s, against the database dsn names. Every
// subject works in a schema of its own with a random name, created in its
// Setup and dropped when it closes, so runs never see each other's rows.
// The workloads can be listed with an empty dsn; their Setup then fails.
func PostgresWorkloads(s bench.Scale, dsn string) []bench.Workload {
	sz := pgSizesFor(s)
	return []bench.Workload{
		{
			Name: "codes/lookup-pg",
			Unit: "lookup",
			Doc: fmt.Sprintf("codes/lookup's key stream (%d keyed synth people, 10 %% non-green, each key once a pass in a fixed shuffled order, all cores) through codes.Registry.Lookup over pgstore vs over boltstore: with the package's default Registry config, whose cache holds the non-green set (as codes/lookup), and with healthcoded's demo config (cache of 64 Ki states, -small), which holds a third of it; population bulk-loaded through Apply and every key looked up once before the clock starts. store-reads: share of the timed lookups that missed filter and cache (goal < 5 %%)",
				sz.people),
			Subjects: []bench.Subject{
				{Name: "pgstore", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, pgOpener(dsn), sizedConfig)
				}},
				{Name: "boltstore", Role: bench.Baseline, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, openBolt, sizedConfig)
				}},
				{Name: "pgstore-small", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, pgOpener(dsn), smallConfig)
				}},
				{Name: "boltstore-small", Role: bench.Peer, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, openBolt, smallConfig)
				}},
			},
		},
		{
			Name: "codes/bulk-apply-pg",
			Unit: "batch",
			Doc: fmt.Sprintf("one pgstore.Apply of %d rule decisions (a batch): new keys (a head and a history entry each), or existing keys whose every colour changes (a re-evaluation: head updated, entry appended), vs the floor: pgx CopyFrom of the same history rows (key, seq, codes.AppendEntry bytes, computed before the clock) into a plain table without indexes; and, to tell the database's index upkeep from the store's own work, the same COPY into a table whose primary key is history's (key, seq)",
				sz.batch),
			Subjects: []bench.Subject{
				{Name: "pgstore-new-keys", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newPGApply(ctx, dsn, sz.batch, applyNewKeys)
				}},
				{Name: "pgstore-existing-keys", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newPGApply(ctx, dsn, sz.batch, applyExisting)
				}},
				{Name: "COPY-plain-table", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newPGApply(ctx, dsn, sz.batch, applyCopy)
				}},
				{Name: "COPY-keyed-table", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newPGApply(ctx, dsn, sz.batch, applyCopyKeyed)
				}},
			},
		},
		{
			Name: "codes/load-pg",
			Unit: "load",
			Doc: fmt.Sprintf("an initial load: %d people's first codes (10 %% red or yellow, 90 %% green valid 72 h, so each appends a history entry and a head) into a fresh schema through pgstore.Apply in batches of %d; load = Apply time of the whole load",
				sz.load, sz.loadBatch),
			Subjects: []bench.Subject{
				{Name: "pgstore", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return &pgLoadRunner{dsn: dsn, people: sz.load, batch: sz.loadBatch}, nil
				}},
			},
		},
	}
}

// ---- a schema of one's own ----

// pgSchema is a fresh schema on the database at dsn, dropped by drop.
type pgSchema struct {
	dsn, name string
}

func newPGSchema(dsn string) (pgSchema, error) {
	if dsn == "" {
		return pgSchema{}, errors.New("codesbench: no PostgreSQL: set HEALTHCODE_TEST_POSTGRES or hcbench -postgres")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return pgSchema{dsn: dsn, name: "hcb_" + hex.EncodeToString(b[:])}, nil
}

// open opens a pgstore in the schema (pgstore creates it).
func (s pgSchema) open(ctx context.Context) (*pgstore.Store, error) {
	return pgstore.Open(ctx, s.dsn, pgstore.Config{Schema: s.name, QueryTimeout: 30 * time.Second})
}

// exec runs one statement on a connection of its own.
func (s pgSchema) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s pgSchema) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s.name}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("codesbench: drop schema %s: %w", s.name, err)
	}
	return nil
}

// ---- codes/lookup-pg ----

// storeLookup is Registry.Lookup over a real store; it reports how the
// timed lookups were answered.
type storeLookup struct {
	*lookupRunner
	base    codes.LookupStats // counters after the warm-up
	cleanup []func() error
}

// storeOpener opens a fresh, empty store for one subject and returns it
// with what closes it and removes its data.
type storeOpener func(ctx context.Context) (codes.Store, func() error, error)

// pgOpener opens pgstores, each in a schema of its own.
func pgOpener(dsn string) storeOpener {
	return func(ctx context.Context) (codes.Store, func() error, error) {
		sch, err := newPGSchema(dsn)
		if err != nil {
			return nil, nil, err
		}
		ps, err := sch.open(ctx)
		if err != nil {
			return nil, nil, errors.Join(err, sch.drop())
		}
		return ps, func() error { ps.Close(); return sch.drop() }, nil
	}
}

// openBolt opens a boltstore in a temporary directory.
func openBolt(context.Context) (codes.Store, func() error, error) {
	dir, err := os.MkdirTemp("", "codesbench-")
	if err != nil {
		return nil, nil, err
	}
	bs, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	return bs, func() error { return errors.Join(bs.Close(), os.RemoveAll(dir)) }, nil
}

func newStoreLookup(ctx context.Context, n int, open storeOpener, cfg codes.Config) (_ *storeLookup, err error) {
	keys, want, changes, err := lookupPopulation(n)
	if err != nil {
		return nil, err
	}
	r := &storeLookup{lookupRunner: &lookupRunner{mode: lookupState, keys: keys, want: want}}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	store, closeStore, err := open(ctx)
	if err != nil {
		return nil, err
	}
	r.cleanup = append(r.cleanup, closeStore)
	// Every person's decision, as a seeding evaluation sends them: the
	// green ones append nothing.
	a, err := store.Apply(ctx, changes)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if ng := len(nonGreen(changes)); a.Changed != ng || a.Unchanged != n-ng {
		return nil, wrong("load: %d changed and %d unchanged, want %d and %d", a.Changed, a.Unchanged, ng, n-ng)
	}
	if r.reg, err = codes.Open(ctx, store, cfg); err != nil {
		return nil, err
	}
	if err := r.warm(ctx); err != nil {
		return nil, err
	}
	r.base = r.reg.LookupStats()
	return r, nil
}

// warm looks every key up once from several goroutines, as a running
// service's cache would have been filled.
func (r *storeLookup) warm(ctx context.Context) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(r.keys) {
					return
				}
				st, err := r.reg.Lookup(ctx, r.keys[i])
				if err == nil && st.Colour != r.want[i] {
					err = wrong("warm-up: key %d: got %v, want %v", i, st.Colour, r.want[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (r *storeLookup) Metrics() []bench.Metric {
	s := r.reg.LookupStats()
	d := codes.LookupStats{FilterGreen: s.FilterGreen - r.base.FilterGreen, CacheHits: s.CacheHits - r.base.CacheHits, StoreReads: s.StoreReads - r.base.StoreReads}
	if d.Total() == 0 {
		return nil
	}
	pct := func(v uint64) float64 { return 100 * float64(v) / float64(d.Total()) }
	return []bench.Metric{
		{Name: "store-reads", Value: pct(d.StoreReads), Unit: "%"},
		{Name: "cache-hits", Value: pct(d.CacheHits), Unit: "%"},
		{Name: "filter-green", Value: pct(d.FilterGreen), Unit: "%"},
	}
}

func (r *storeLookup) Close() error {
	if r.reg != nil {
		r.reg.Close()
	}
	var errs []error
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, r.cleanup[i]())
	}
	return errors.Join(errs...)
}

// ---- codes/bulk-apply-pg ----

type pgApplyKind int

const (
	applyNewKeys pgApplyKind = iota
	applyExisting
	applyCopy
	applyCopyKeyed // COPY into a table with history's primary key
)

// pgApply runs one Apply (or one COPY) of a whole batch per operation.
type pgApply struct {
	kind    pgApplyKind
	schema  pgSchema
	store   *pgstore.Store
	conn    *pgx.Conn // the COPY floor's
	changes []codes.Change
	rows    [][]any // the COPY floor's rows
	gen     int     // batches run
	first   uint64  // key number of the next new key
}

var floorTable = []string{"key", "seq", "entry"}

func newPGApply(ctx context.Context, dsn string, n int, kind pgApplyKind) (_ *pgApply, err error) {
	sch, err := newPGSchema(dsn)
	if err != nil {
		return nil, err
	}
	r := &pgApply{kind: kind, schema: sch, changes: redChanges(n)}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	if kind == applyCopy || kind == applyCopyKeyed {
		r.rows = make([][]any, n)
		for i := range r.changes {
			e := firstEntry(r.changes[i])
			r.rows[i] = []any{e.Key[:], int64(e.Seq), codes.AppendEntry(nil, &e)}
		}
		pk := ""
		if kind == applyCopyKeyed {
			pk = ", PRIMARY KEY (key, seq)"
		}
		if err := sch.exec(ctx, "CREATE SCHEMA "+pgx.Identifier{sch.name}.Sanitize()+"; CREATE TABLE "+r.table().Sanitize()+" (key bytea, seq bigint, entry bytea"+pk+")"); err != nil {
			return nil, err
		}
		if r.conn, err = pgx.Connect(ctx, dsn); err != nil {
			return nil, err
		}
		return r, nil
	}
	if r.store, err = sch.open(ctx); err != nil {
		return nil, err
	}
	if kind == applyExisting {
		// The keys exist, red, before the clock starts.
		a, err := r.store.Apply(ctx, r.changes)
		if err != nil {
			return nil, err
		}
		if a.Changed != n {
			return nil, wrong("setup: %d of %d changed", a.Changed, n)
		}
	}
	r.first = uint64(n)
	return r, nil
}

// redChanges returns n rule decisions turning keys 0..n-1 red: the batch
// of the bulk-apply workloads.
func redChanges(n int) []codes.Change {
	changes := make([]codes.Change, n)
	for i := range changes {
		changes[i] = codes.Change{Key: benchKey(uint64(i)), State: codes.State{Colour: codes.Red, Reason: "close contact",
			Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "2022.06.1"}, Since: t0}}
	}
	return changes
}

// firstEntry is the history entry a change appends to a new key: the
// floors' rows.
func firstEntry(ch codes.Change) codes.Entry {
	e, _ := codes.Advance(codes.Entry{}, false, ch)
	return e
}

// nextNewKeys gives changes the keys first.. (never used before).
func nextNewKeys(changes []codes.Change, first uint64) {
	for i := range changes {
		changes[i].Key = benchKey(first + uint64(i))
	}
}

// checkApplied checks that an Apply of changes changed every key, and
// reads key changes[gen%len] back: its head is the entry just written.
func checkApplied(ctx context.Context, s codes.Store, changes []codes.Change, a codes.Applied, gen int, want codes.Colour, wantSeq uint64) error {
	nc := len(changes)
	if a.Changed != nc || a.Unchanged != 0 {
		return wrong("%d changed and %d unchanged, want %d and 0", a.Changed, a.Unchanged, nc)
	}
	e, ok, err := s.Get(ctx, changes[gen%nc].Key)
	if err != nil {
		return err
	}
	if !ok || e.State.Colour != want || e.Seq != wantSeq {
		return wrong("key read back: found %v, %v at seq %d, want %v at seq %d", ok, e.State.Colour, e.Seq, want, wantSeq)
	}
	return nil
}

func (r *pgApply) table() pgx.Identifier { return pgx.Identifier{r.schema.name, "copy_floor"} }

// benchKey is key number i: uniform over the key space, as HMAC keys are.
func benchKey(i uint64) codes.Key {
	var k codes.Key
	a, b := splitmix(i*2+0x5bd1e995), splitmix(i*2+1+0x5bd1e995)
	for j := range 8 {
		k[j], k[8+j] = byte(a>>(8*j)), byte(b>>(8*j))
	}
	return k
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Run applies n batches. Preparing a batch rewrites one field per change
// (new keys, or the colour), a few milliseconds against the seconds a
// batch of a million takes; the floor's rows are computed in Setup.
func (r *pgApply) Run(ctx context.Context, n int) error {
	for range n {
		if err := r.batch(ctx); err != nil {
			return err
		}
		r.gen++
	}
	return nil
}

func (r *pgApply) batch(ctx context.Context) error {
	nc := len(r.changes)
	if r.kind == applyCopy || r.kind == applyCopyKeyed {
		if r.kind == applyCopyKeyed {
			for _, row := range r.rows { // batch g is seq g: new rows for the key
				row[1] = int64(r.gen)
			}
		}
		got, err := r.conn.CopyFrom(ctx, r.table(), floorTable, pgx.CopyFromRows(r.rows))
		if err != nil {
			return err
		}
		if got != int64(nc) {
			return wrong("COPY wrote %d rows, want %d", got, nc)
		}
		return nil
	}
	var wantSeq uint64
	want := codes.Red
	switch r.kind {
	case applyNewKeys:
		nextNewKeys(r.changes, r.first)
		r.first += uint64(nc)
	case applyExisting:
		// Setup made every key red (seq 0); batch g turns them yellow
		// (odd) or red (even) again, seq g+1.
		if r.gen%2 == 0 {
			want = codes.Yellow
		}
		for i := range r.changes {
			r.changes[i].State.Colour = want
			r.changes[i].State.Since = t0.Add(time.Duration(r.gen+1) * time.Second)
		}
		wantSeq = uint64(r.gen + 1)
	}
	a, err := r.store.Apply(ctx, r.changes)
	if err != nil {
		return err
	}
	return checkApplied(ctx, r.store, r.changes, a, r.gen, want, wantSeq)
}

func (r *pgApply) Metrics() []bench.Metric {
	return []bench.Metric{{Name: "batch", Value: float64(len(r.changes)), Unit: "changes"}}
}

func (r *pgApply) Close() error {
	if r.conn != nil {
		_ = r.conn.Close(context.Background())
	}
	if r.store != nil {
		r.store.Close()
	}
	return r.schema.drop()
}

// ---- codes/load-pg ----

// pgLoadRunner loads a population into a fresh schema per operation.
type pgLoadRunner struct {
	dsn           string
	people, batch int
	metrics       []bench.Metric
}

func (r *pgLoadRunner) Run(ctx context.Context, n int) error {
	for range n {
		if err := r.load(ctx); err != nil {
			return err
		}
	}
	return nil
}

// loadChange is person i's first code: one in ten red or yellow, the rest
// green for 72 hours (a negative test), so that every person gets a head
// and an entry.
func loadChange(i int, ch *codes.Change) {
	since := t0.Add(time.Duration(i%3600) * time.Second)
	st := codes.State{Colour: codes.Green, Reason: "negative test", Since: since, Expires: since.Add(72 * time.Hour),
		Cause: codes.Cause{RuleID: "test-negative", RuleVersion: "2022.06.1"}}
	switch i % 20 {
	case 3:
		st = codes.State{Colour: codes.Red, Reason: "positive test", Since: since, Cause: codes.Cause{RuleID: "test-positive", RuleVersion: "2022.06.1"}}
	case 11:
		st = codes.State{Colour: codes.Yellow, Reason: "close contact", Since: since, Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "2022.06.1"}}
	}
	*ch = codes.Change{Key: benchKey(1<<40 + uint64(i)), State: st}
}

func (r *pgLoadRunner) load(ctx context.Context) (err error) {
	sch, err := newPGSchema(r.dsn)
	if err != nil {
		return err
	}
	s, err := sch.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		s.Close()
		err = errors.Join(err, sch.drop())
	}()
	changes := make([]codes.Change, r.batch)
	var applyTime, firstBatch, lastBatch time.Duration
	for start := 0; start < r.people; start += r.batch {
		part := changes[:min(r.batch, r.people-start)]
		for i := range part {
			loadChange(start+i, &part[i])
		}
		t := time.Now()
		a, err := s.Apply(ctx, part)
		el := time.Since(t)
		if err != nil {
			return fmt.Errorf("batch at %d: %w", start, err)
		}
		if a.Changed != len(part) {
			return wrong("batch at %d: %d of %d changed", start, a.Changed, len(part))
		}
		applyTime += el
		if start == 0 {
			firstBatch = el
		}
		lastBatch = el
	}
	// Every person is there: one head each, and the last one's colour.
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var heads, history, bytes int64
	q := fmt.Sprintf("SELECT (SELECT count(*) FROM %[1]s.heads), (SELECT count(*) FROM %[1]s.history), pg_total_relation_size('%[2]s.heads') + pg_total_relation_size('%[2]s.history')",
		pgx.Identifier{sch.name}.Sanitize(), sch.name)
	if err := conn.QueryRow(ctx, q).Scan(&heads, &history, &bytes); err != nil {
		return err
	}
	if heads != int64(r.people) || history != int64(r.people) {
		return wrong("%d heads and %d history rows after loading %d people", heads, history, r.people)
	}
	var last codes.Change
	loadChange(r.people-1, &last)
	e, ok, err := s.Get(ctx, last.Key)
	if err != nil {
		return err
	}
	if !ok || e.State.Colour != last.State.Colour {
		return wrong("last person: found %v, colour %v, want %v", ok, e.State.Colour, last.State.Colour)
	}
	lastN := r.people - (r.people-1)/r.batch*r.batch
	r.metrics = []bench.Metric{
		{Name: "population", Value: float64(r.people), Unit: "people"},
		{Name: "load", Value: applyTime.Seconds(), Unit: "s"},
		{Name: "rate", Value: float64(r.people) / applyTime.Seconds(), Unit: "people/s"},
		{Name: "first-batch", Value: float64(min(r.batch, r.people)) / firstBatch.Seconds(), Unit: "people/s"},
		{Name: "last-batch", Value: float64(lastN) / lastBatch.Seconds(), Unit: "people/s"},
		{Name: "on-disk", Value: float64(bytes) / (1 << 20), Unit: "MiB"},
	}
	return nil
}

func (r *pgLoadRunner) Metrics() []bench.Metric { return r.metrics }
