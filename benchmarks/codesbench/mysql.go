package codesbench

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/internal/benchdb"
	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/mysqlstore"
)

type mysqlSizes struct {
	people int // keyed population of codes/lookup-mysql (as codes/lookup)
	batch  int // changes in one Apply of codes/bulk-apply-mysql
}

func mysqlSizesFor(s bench.Scale) mysqlSizes {
	if s == bench.Full {
		return mysqlSizes{people: sizesFor(s).people, batch: 1_000_000}
	}
	return mysqlSizes{people: sizesFor(s).people, batch: 20_000}
}

// mysqlQueryTimeout bounds each round trip of the stores under test: a
// bulk Apply sends statements of megabytes.
const mysqlQueryTimeout = time.Minute

// MySQLWorkloads returns the codes workloads over a MySQL-wire database
// (codes/mysqlstore) at scale s, against the server dsn names
// (go-sql-driver form, with or without mysql://). Every subject works in a
// database of its own with a random name, created in its Setup and
// dropped when it closes, so dsn's user must be allowed to create
// databases. The workloads can be listed with an empty dsn; their Setup
// then fails.
func MySQLWorkloads(s bench.Scale, dsn string) []bench.Workload {
	sz := mysqlSizesFor(s)
	return []bench.Workload{
		{
			Name: "codes/lookup-mysql",
			Unit: "lookup",
			Doc: fmt.Sprintf("codes/lookup-pg's workload over mysqlstore: codes/lookup's key stream (%d keyed synth people, 10 %% non-green, each key once a pass in a fixed shuffled order, all cores) through codes.Registry.Lookup over mysqlstore vs over boltstore, with the package's default Registry config (cache holds the non-green set) and with healthcoded's demo config (64 Ki states, -small); population bulk-loaded through Apply and every key looked up once before the clock starts. store-reads: share of the timed lookups that missed filter and cache (goal < 5 %%)",
				sz.people),
			Subjects: []bench.Subject{
				{Name: "mysqlstore", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, mysqlOpener(dsn), sizedConfig)
				}},
				{Name: "boltstore", Role: bench.Baseline, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, openBolt, sizedConfig)
				}},
				{Name: "mysqlstore-small", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, mysqlOpener(dsn), smallConfig)
				}},
				{Name: "boltstore-small", Role: bench.Peer, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newStoreLookup(ctx, sz.people, openBolt, smallConfig)
				}},
			},
		},
		{
			Name: "codes/bulk-apply-mysql",
			Unit: "batch",
			Doc: fmt.Sprintf("one mysqlstore.Apply of %d rule decisions for new keys (a head and a history entry each; fresh keys every batch) vs the floor: plain multi-row INSERTs of the same history rows (key VARBINARY(16), seq BIGINT, entry BLOB of codes.AppendEntry bytes computed before the clock; hex literals, statements under max_allowed_packet and at most 8 MiB) in one transaction into an InnoDB table without indexes (InnoDB still clusters it on a hidden 6-byte row id, so its rows go in at the end); and, to tell the database's index upkeep from the store's own work, the same INSERTs into a table whose primary key is history's (key, seq), in the batch's order (random keys) and sorted by key (as mysqlstore sends its rows)",
				sz.batch),
			Subjects: []bench.Subject{
				{Name: "mysqlstore-new-keys", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newMySQLApply(ctx, dsn, sz.batch, mysqlApplyStore)
				}},
				{Name: "INSERT-plain-table", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newMySQLApply(ctx, dsn, sz.batch, mysqlInsertPlain)
				}},
				{Name: "INSERT-keyed-table", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newMySQLApply(ctx, dsn, sz.batch, mysqlInsertKeyed)
				}},
				{Name: "INSERT-keyed-sorted", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newMySQLApply(ctx, dsn, sz.batch, mysqlInsertKeyedSorted)
				}},
			},
		},
	}
}

// mysqlOpener opens mysqlstores, each in a database of its own.
func mysqlOpener(dsn string) storeOpener {
	return func(ctx context.Context) (codes.Store, func() error, error) {
		db, err := benchdb.CreateMySQL(ctx, dsn, "hcb_codes_")
		if err != nil {
			return nil, nil, err
		}
		s, err := mysqlstore.Open(ctx, db.DSN(), mysqlstore.Config{QueryTimeout: mysqlQueryTimeout})
		if err != nil {
			return nil, nil, errors.Join(err, db.Drop())
		}
		return s, func() error { return errors.Join(s.Close(), db.Drop()) }, nil
	}
}

// ---- codes/bulk-apply-mysql ----

type mysqlApplyKind int

const (
	mysqlApplyStore        mysqlApplyKind = iota // mysqlstore.Apply of new keys
	mysqlInsertPlain                             // the floor: INSERTs into an unindexed table
	mysqlInsertKeyed                             // INSERTs into a table keyed like history
	mysqlInsertKeyedSorted                       // the same, rows sorted by key
)

// mysqlApply runs one Apply (or one transaction of INSERTs) of a whole
// batch per operation.
type mysqlApply struct {
	kind    mysqlApplyKind
	db      *benchdb.MySQLDB
	store   *mysqlstore.Store
	conns   *sql.DB // the floors'
	changes []codes.Change
	keys    []string // the floors' rows, hex: key
	entries []string // and entry
	maxStmt int      // bytes of one floor statement
	stmt    []byte
	gen     int    // batches run
	first   uint64 // key number of the next new key
}

func newMySQLApply(ctx context.Context, dsn string, n int, kind mysqlApplyKind) (_ *mysqlApply, err error) {
	db, err := benchdb.CreateMySQL(ctx, dsn, "hcb_codes_")
	if err != nil {
		return nil, err
	}
	r := &mysqlApply{kind: kind, db: db, changes: redChanges(n), first: uint64(n)}
	defer func() {
		if err != nil {
			_ = r.Close()
		}
	}()
	if kind == mysqlApplyStore {
		r.store, err = mysqlstore.Open(ctx, db.DSN(), mysqlstore.Config{QueryTimeout: mysqlQueryTimeout})
		return r, err
	}
	r.keys, r.entries = make([]string, n), make([]string, n)
	for i := range r.changes {
		e := firstEntry(r.changes[i])
		r.keys[i], r.entries[i] = hex.EncodeToString(e.Key[:]), hex.EncodeToString(codes.AppendEntry(nil, &e))
	}
	if kind == mysqlInsertKeyedSorted {
		// Hex sorts as the bytes do.
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(r.keys[a], r.keys[b]) })
		keys, entries := make([]string, n), make([]string, n)
		for j, i := range idx {
			keys[j], entries[j] = r.keys[i], r.entries[i]
		}
		r.keys, r.entries = keys, entries
	}
	if r.conns, err = db.Open(); err != nil {
		return nil, err
	}
	pk := ""
	if kind != mysqlInsertPlain {
		pk = ", PRIMARY KEY (`key`, seq)"
	}
	if _, err := r.conns.ExecContext(ctx, "CREATE TABLE insert_floor (`key` VARBINARY(16) NOT NULL, seq BIGINT NOT NULL, entry BLOB NOT NULL"+pk+") ENGINE=InnoDB"); err != nil {
		return nil, err
	}
	var packet int
	if err := r.conns.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return nil, err
	}
	r.maxStmt = min(packet-64<<10, 8<<20)
	r.stmt = make([]byte, 0, r.maxStmt)
	return r, nil
}

// Run applies n batches. Preparing a batch of the store's rewrites the
// keys (new ones); the floors' statements are written in the clock, from
// rows encoded in Setup, as a client of a plain INSERT would.
func (r *mysqlApply) Run(ctx context.Context, n int) error {
	for range n {
		if err := r.batch(ctx); err != nil {
			return err
		}
		r.gen++
	}
	return nil
}

func (r *mysqlApply) batch(ctx context.Context) error {
	if r.kind == mysqlApplyStore {
		nextNewKeys(r.changes, r.first)
		r.first += uint64(len(r.changes))
		a, err := r.store.Apply(ctx, r.changes)
		if err != nil {
			return err
		}
		return checkApplied(ctx, r.store, r.changes, a, r.gen, codes.Red, 0)
	}
	seq := "0"
	if r.kind != mysqlInsertPlain {
		seq = strconv.Itoa(r.gen) // batch g is seq g: new rows for the key
	}
	return r.insert(ctx, seq)
}

// insert writes the floor's rows with seq in one transaction.
func (r *mysqlApply) insert(ctx context.Context, seq string) (err error) {
	tx, err := r.conns.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	const head = "INSERT INTO insert_floor (`key`, seq, entry) VALUES "
	var wrote int64
	flush := func() error {
		res, err := tx.ExecContext(ctx, string(r.stmt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		wrote += n
		r.stmt = r.stmt[:0]
		return err
	}
	for i := range r.keys {
		row := len(r.keys[i]) + len(r.entries[i]) + len(seq) + 12
		if len(r.stmt) > 0 && len(r.stmt)+row > r.maxStmt {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(r.stmt) == 0 {
			r.stmt = append(r.stmt, head...)
		} else {
			r.stmt = append(r.stmt, ',')
		}
		r.stmt = append(r.stmt, "(X'"...)
		r.stmt = append(r.stmt, r.keys[i]...)
		r.stmt = append(r.stmt, "',"...)
		r.stmt = append(r.stmt, seq...)
		r.stmt = append(r.stmt, ",X'"...)
		r.stmt = append(r.stmt, r.entries[i]...)
		r.stmt = append(r.stmt, "')"...)
	}
	if err := flush(); err != nil {
		return err
	}
	if wrote != int64(len(r.keys)) {
		return wrong("INSERTs wrote %d rows, want %d", wrote, len(r.keys))
	}
	return tx.Commit()
}

func (r *mysqlApply) Metrics() []bench.Metric {
	return []bench.Metric{{Name: "batch", Value: float64(len(r.changes)), Unit: "changes"}}
}

func (r *mysqlApply) Close() error {
	var errs []error
	if r.conns != nil {
		errs = append(errs, r.conns.Close())
	}
	if r.store != nil {
		errs = append(errs, r.store.Close())
	}
	return errors.Join(append(errs, r.db.Drop())...)
}
