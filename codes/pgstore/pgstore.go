package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures a Store. Zero fields mean their default.
type Config struct {
	// Schema is the PostgreSQL schema that holds the store's tables; Open
	// creates it if missing. Default "healthcode". Lower-case ASCII letters,
	// digits and underscores, not starting with a digit, at most 58 bytes:
	// the feed's NOTIFY channel is Schema + "_feed", and PostgreSQL cuts
	// names at 63 bytes.
	Schema string
	// MaxConns bounds the connection pool. Default: pool_max_conns from
	// the DSN if it has one, else 8. The feed listener (WaitFeed) holds one
	// more connection of its own.
	MaxConns int32
	// QueryTimeout bounds each round trip to the database that the
	// caller's ctx does not bound sooner: a statement, or the statements
	// Apply sends together in one pipeline. A COPY, and a statement that
	// carries many rows, gets QueryTimeout for every 100 000 rows; Scan
	// fails if no row arrives for QueryTimeout. So a call fails within
	// about QueryTimeout when the database is away, or when a row it needs
	// stays locked, instead of hanging. Default 5 s.
	QueryTimeout time.Duration
	// Retries bounds how often Apply and LinkAll run their transaction
	// again after a conflict with another writer (serialization_failure
	// 40001, deadlock_detected 40P01, or unique_violation 23505 when two
	// writers create the same key at once), with jittered exponential
	// backoff from 5 ms to 500 ms. Default 10; negative: never retry.
	Retries int
	// FeedRetention, if positive, is how long code and link records stay
	// in the feed: a background task prunes older ones (notes are kept),
	// and a reader behind the pruned range gets codes.ErrFeedGap. Default
	// 0: keep every record.
	FeedRetention time.Duration
	// Logger receives open, migration, retry, listener and pruning events;
	// nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Schema: "healthcode", MaxConns: 8, QueryTimeout: 5 * time.Second, Retries: 10}
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,57}$`)

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Schema != "" && !schemaName.MatchString(c.Schema) {
		return fmt.Errorf("pgstore: Config.Schema %q is not a lower-case identifier of at most 58 bytes", c.Schema)
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("pgstore: Config.MaxConns %d is negative", c.MaxConns)
	}
	if c.QueryTimeout < 0 {
		return fmt.Errorf("pgstore: Config.QueryTimeout %v is negative", c.QueryTimeout)
	}
	if c.FeedRetention < 0 {
		return fmt.Errorf("pgstore: Config.FeedRetention %v is negative", c.FeedRetention)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Schema == "" {
		c.Schema = d.Schema
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = d.QueryTimeout
	}
	switch {
	case c.Retries == 0:
		c.Retries = d.Retries
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors of opening.
var (
	// ErrSchemaTooNew: the schema was migrated by a newer version of this
	// package. Open refuses it rather than write in a layout it does not
	// know; run the newer code, or restore a backup.
	ErrSchemaTooNew = errors.New("pgstore: schema is newer than this code")
)

// Store is a codes.Store, codes.LinkStore, codes.Feed and
// codes.AuditTrail over PostgreSQL, safe for concurrent use by any number
// of goroutines, and by any number of Stores (in this process or others)
// on the same schema.
type Store struct {
	pool    *pgxpool.Pool
	cfg     Config
	log     *slog.Logger
	addr    string // host:port, for messages
	q       queries
	channel string // NOTIFY channel of the feed
	lisCfg  *pgx.ConnConfig
	lis     listener

	ctx    context.Context // ends at Close; background tasks run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	_ codes.Store     = (*Store)(nil)
	_ codes.LinkStore = (*Store)(nil)
	_ codes.Feed      = (*Store)(nil)
)

// Open connects to the database named by dsn (a URL or key=value string,
// as pgx.ParseConfig reads it), creates cfg.Schema if missing and migrates
// it to the layout this code writes. The migration runs in one
// transaction under an advisory lock, so Stores opening at once on several
// nodes take turns. Open fails with an error naming host and port if the
// database cannot be reached within cfg.QueryTimeout (or ctx's deadline).
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxConns == 0 && !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = DefaultConfig().MaxConns
	}
	cfg = cfg.withDefaults()
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: DSN: %w", err) // pgx masks the password
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	cc := pc.ConnConfig
	addr := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	// The listener waits with deadlines and keeps its connection; pool
	// connections ask the server to cancel a statement whose ctx ended,
	// so a timed-out statement stops holding its locks at once.
	lisCfg := cc.Copy()
	lisCfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{pool: pool, cfg: cfg, log: cfg.Logger, addr: addr, q: buildQueries(cfg.Schema),
		channel: cfg.Schema + "_feed", lisCfg: lisCfg, ctx: sctx, cancel: cancel}
	s.lis.wake = make(chan struct{})
	if err := s.migrate(ctx); err != nil {
		cancel()
		pool.Close()
		return nil, err
	}
	if cfg.FeedRetention > 0 {
		s.wg.Go(s.pruneLoop)
	}
	return s, nil
}

// Close stops the feed listener and the pruner and closes every
// connection. Calls in flight fail; the Store must not be used after.
func (s *Store) Close() {
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
}

// Schema returns the schema the store's tables are in.
func (s *Store) Schema() string { return s.cfg.Schema }

// timeoutRows is how many rows a statement may carry per QueryTimeout.
const timeoutRows = 100_000

// bound returns ctx bounded by QueryTimeout for a round trip carrying rows
// rows; a deadline ctx already has that is sooner stays.
func (s *Store) bound(ctx context.Context, rows int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout*time.Duration(1+rows/timeoutRows))
}

// fail wraps err for op, saying when the deadline came from QueryTimeout
// rather than the caller; the result matches context.DeadlineExceeded then.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() == nil && isTimeout(err) {
		return fmt.Errorf("pgstore: %s: no answer from %s within QueryTimeout (%v): %w: %w: %w", op, s.addr, s.cfg.QueryTimeout, codes.ErrUnavailable, context.DeadlineExceeded, err)
	}
	if unreachable(err) {
		return fmt.Errorf("pgstore: %s: %s: %w: %w", op, s.addr, codes.ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// unreachable reports whether err says the database could not be reached
// or went away (refused, reset, shutting down, starting up), as against a
// statement it refused: the call may succeed once it is back.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown,
		// crash shutdown, cannot connect now (starting up).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	// A connection the server closed: pgx reports it as "conn closed".
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014" // query_canceled: our cancel request
}

// conflict reports whether err is a conflict with another writer that a
// new attempt of the transaction resolves.
func conflict(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "23505":
			return pe.Code, true
		}
	}
	return "", false
}

// retry runs attempt until it succeeds, fails other than by a conflict,
// or has been retried cfg.Retries times.
func (s *Store) retry(ctx context.Context, op string, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		code, ok := conflict(err)
		if err == nil || !ok {
			return err
		}
		if n >= s.cfg.Retries {
			return fmt.Errorf("conflict with another writer persisted over %d retries: %w", n, err)
		}
		d := min(5*time.Millisecond<<n, 500*time.Millisecond)
		d = d/2 + rand.N(d/2+1)
		s.log.Debug("pgstore: conflict with another writer; retrying", "op", op, "sqlstate", code, "attempt", n+1, "wait", d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// rollback ends a transaction that did not commit and hands the
// connection back; the pool drops a connection still in a transaction.
func (s *Store) rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' && !conn.Conn().IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout)
		_, _ = conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	conn.Release()
}

// lockID is the advisory lock that serialises migrations of one schema.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("healthcode/pgstore/migrate/" + schema))
	return int64(h.Sum64())
}

func (s *Store) migrate(ctx context.Context) error {
	ctx, cancel := s.bound(ctx, 0)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: connect %s: %w", s.addr, err)
	}
	defer s.rollback(conn)
	var have int
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockID(s.cfg.Schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.q.bootstrap); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, s.q.version).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("%w: schema %s is at version %d, this code knows versions up to %d", ErrSchemaTooNew, s.cfg.Schema, have, len(migrations))
		}
		for v := have; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, fillSchema(migrations[v], s.cfg.Schema)); err != nil {
				return fmt.Errorf("migration to version %d: %w", v+1, err)
			}
		}
		if have < len(migrations) {
			_, err := tx.Exec(ctx, s.q.setVersion, len(migrations))
			return err
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrSchemaTooNew):
		return err
	case err != nil:
		return s.fail(ctx, "migrate schema "+s.cfg.Schema, err)
	}
	s.log.Info("pgstore: opened", "addr", s.addr, "schema", s.cfg.Schema, "version", len(migrations), "migrated_from", have)
	return nil
}
