package mysqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/healthcode-sdk/healthcode/codes"
)

// Config configures a Store. Zero fields mean their default.
type Config struct {
	// TablePrefix is put before the name of every table of the store, so
	// that stores (or other applications) can share one database. Default
	// "hc_". Lower-case ASCII letters, digits and underscores, starting
	// with a letter or an underscore, at most 32 bytes.
	TablePrefix string
	// MaxConns bounds the connection pool, the feed poller's connection
	// included. Default 8.
	MaxConns int
	// QueryTimeout bounds each round trip to the database that the
	// caller's ctx does not bound sooner: a statement, or the statements
	// sent together in one round trip. Scan gets it per page of keys. It
	// is also the session's innodb_lock_wait_timeout (rounded up to whole
	// seconds), so the server gives up a lock wait about when the client
	// does. When it passes, the call fails with an error matching
	// codes.ErrUnavailable and context.DeadlineExceeded instead of
	// hanging. Default 5 s.
	QueryTimeout time.Duration
	// Retries bounds how often Apply, Link and LinkAll run their
	// transaction again after a conflict with another writer (deadlock
	// 1213, lock wait timeout 1205, duplicate key 1062 when two writers
	// create the same key at once, and TiDB's write conflict 9007 and
	// retryable errors 8002, 8022, 8028), with jittered exponential
	// backoff from 5 ms to 500 ms. A lock wait timeout is retried once at
	// most: it has already waited QueryTimeout. Default 10; negative:
	// never retry.
	Retries int
	// FeedPollInterval is how often the Store's one feed poller reads the
	// feed's counter while any WaitFeed waits (MySQL has no LISTEN/NOTIFY).
	// Default 20 ms.
	FeedPollInterval time.Duration
	// FeedRetention, if positive, is how long code and link records stay
	// in the feed: a background task prunes older ones (notes are kept),
	// and a reader behind the pruned range gets codes.ErrFeedGap. Default
	// 0: keep every record.
	FeedRetention time.Duration
	// Logger receives open, migration, retry, poller and pruning events;
	// nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{TablePrefix: "hc_", MaxConns: 8, QueryTimeout: 5 * time.Second, Retries: 10,
		FeedPollInterval: 20 * time.Millisecond}
}

var prefixName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,31}$`)

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.TablePrefix != "" && !prefixName.MatchString(c.TablePrefix) {
		return fmt.Errorf("mysqlstore: Config.TablePrefix %q is not a lower-case identifier of at most 32 bytes", c.TablePrefix)
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("mysqlstore: Config.MaxConns %d is negative", c.MaxConns)
	}
	if c.QueryTimeout < 0 {
		return fmt.Errorf("mysqlstore: Config.QueryTimeout %v is negative", c.QueryTimeout)
	}
	if c.FeedPollInterval < 0 {
		return fmt.Errorf("mysqlstore: Config.FeedPollInterval %v is negative", c.FeedPollInterval)
	}
	if c.FeedRetention < 0 {
		return fmt.Errorf("mysqlstore: Config.FeedRetention %v is negative", c.FeedRetention)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.TablePrefix == "" {
		c.TablePrefix = d.TablePrefix
	}
	if c.MaxConns == 0 {
		c.MaxConns = d.MaxConns
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
	if c.FeedPollInterval == 0 {
		c.FeedPollInterval = d.FeedPollInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors of opening.
var (
	// ErrSchemaTooNew: the tables were migrated by a newer version of this
	// package. Open refuses them rather than write in a layout it does not
	// know; run the newer code, or restore a backup.
	ErrSchemaTooNew = errors.New("mysqlstore: schema is newer than this code")
)

// Store is a codes.Store, codes.LinkStore, codes.Feed and
// codes.AuditTrail over a MySQL-wire database, safe for concurrent use by
// any number of goroutines, and by any number of Stores (in this process
// or others) on the same tables.
type Store struct {
	db        *sql.DB
	cfg       Config
	log       *slog.Logger
	addr      string // host:port (or socket path), for messages
	t         tables
	maxPacket int // bytes a round trip may send: the server's max_allowed_packet less a margin
	maxStmt   int // bytes a multi-row statement is cut at

	poll poller

	ctx    context.Context // ends at Close; background tasks run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once

	// beforeFeed, if set (by tests), runs in Apply after the history and
	// heads are written and before the feed position is taken.
	beforeFeed func()
}

var (
	_ codes.Store     = (*Store)(nil)
	_ codes.LinkStore = (*Store)(nil)
	_ codes.Feed      = (*Store)(nil)
)

// Open connects to the database named by dsn and migrates the store's
// tables to the layout this code writes. dsn is a go-sql-driver/mysql DSN
// (user:password@tcp(host:port)/db?param=value), optionally prefixed
// with mysql://, or a URL mysql://user:password@host:port/db?param=value.
// The DSN must name a database. Open sets multiStatements and
// interpolateParams, whatever the DSN says: the store sends several
// statements per round trip, all built from values it encodes itself.
//
// The migration runs under a named lock (GET_LOCK), so Stores opening at
// once on several nodes take turns. Open fails with an error naming host
// and port, never the password, if the database cannot be reached within
// cfg.QueryTimeout (or ctx's deadline).
func Open(ctx context.Context, dsn string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	mc, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if mc.DBName == "" {
		return nil, fmt.Errorf("mysqlstore: DSN names no database (want .../dbname)")
	}
	mc.MultiStatements = true
	mc.InterpolateParams = true
	if mc.Timeout == 0 {
		mc.Timeout = cfg.QueryTimeout
	}
	mc.Logger = driverLogger{cfg.Logger}
	addr := mc.Addr
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: DSN: %s", scrub(err.Error(), mc.Passwd))
	}
	lockWait := int((cfg.QueryTimeout + time.Second - 1) / time.Second)
	db := sql.OpenDB(&connector{inner: inner, init: []string{
		"SET time_zone = '+00:00'",
		"SET SESSION innodb_lock_wait_timeout = " + strconv.Itoa(max(lockWait, 1)),
	}})
	db.SetMaxOpenConns(cfg.MaxConns)
	db.SetMaxIdleConns(cfg.MaxConns)
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{db: db, cfg: cfg, log: cfg.Logger, addr: addr, t: newTables(cfg.TablePrefix), ctx: sctx, cancel: cancel}
	s.poll.init()
	if err := s.connect(ctx, mc.MaxAllowedPacket); err != nil {
		cancel()
		_ = db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		cancel()
		_ = db.Close()
		return nil, err
	}
	if cfg.FeedRetention > 0 {
		s.wg.Go(s.pruneLoop)
	}
	return s, nil
}

// connect checks that the database answers and reads its
// max_allowed_packet, which sizes every statement the store sends.
func (s *Store) connect(ctx context.Context, driverPacket int) error {
	c, cancel := s.bound(ctx)
	defer cancel()
	var packet int64
	var version string
	err := s.db.QueryRowContext(c, "SELECT @@max_allowed_packet, VERSION()").Scan(&packet, &version)
	if err != nil {
		return s.failConnect(ctx, err)
	}
	if driverPacket > 0 {
		packet = min(packet, int64(driverPacket))
	}
	// Leave room for the packet header and the statement text around the
	// values; cut multi-row statements at a quarter of it (at most 8 MiB),
	// so that no statement comes near the limit and a round trip's work
	// stays well under QueryTimeout.
	s.maxPacket = int(max(packet-64<<10, 64<<10))
	s.maxStmt = min(s.maxPacket/4, 8<<20)
	s.log.Debug("mysqlstore: connected", "addr", s.addr, "version", version, "max_allowed_packet", packet)
	return nil
}

// failConnect wraps an error of Open's first statements, naming the
// server.
func (s *Store) failConnect(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("mysqlstore: connect %s: %w", s.addr, ctx.Err())
	case isTimeout(err):
		return fmt.Errorf("mysqlstore: connect %s: no answer within QueryTimeout (%v): %w: %w: %w", s.addr, s.cfg.QueryTimeout, codes.ErrUnavailable, context.DeadlineExceeded, err)
	case unreachable(err):
		return fmt.Errorf("mysqlstore: connect %s: %w: %w", s.addr, codes.ErrUnavailable, err)
	}
	return fmt.Errorf("mysqlstore: connect %s: %w", s.addr, err)
}

// Close stops the feed poller and the pruner and closes every
// connection. Calls in flight fail; the Store must not be used after.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		s.cancel()
		s.wg.Wait()
		err = s.db.Close()
	})
	return err
}

// TablePrefix returns the prefix of the store's tables.
func (s *Store) TablePrefix() string { return s.cfg.TablePrefix }

// parseDSN reads the DSN forms Open accepts. Its errors never carry the
// password.
func parseDSN(dsn string) (*mysql.Config, error) {
	rest, isURL := strings.CutPrefix(dsn, "mysql://")
	if isURL && !strings.Contains(dsnAddr(rest), "(") {
		return parseURL(dsn)
	}
	mc, err := mysql.ParseDSN(rest)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: DSN: %s", scrub(err.Error(), dsnPassword(rest)))
	}
	return mc, nil
}

// dsnAddr returns the part of a DSN between its user and its database.
func dsnAddr(dsn string) string {
	slash := strings.LastIndex(dsn, "/")
	if slash < 0 {
		slash = len(dsn)
	}
	head := dsn[:slash]
	if at := strings.LastIndex(head, "@"); at >= 0 {
		head = head[at+1:]
	}
	return head
}

// dsnPassword returns the password of a DSN, if it has one.
func dsnPassword(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(dsn[:at], ":")
	if !ok {
		return ""
	}
	return pw
}

// parseURL reads mysql://user:password@host:port/db?param=value.
func parseURL(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("mysqlstore: DSN: %s", scrub(err.Error(), dsnPassword(strings.TrimPrefix(dsn, "mysql://"))))
	}
	pw, _ := u.User.Password()
	db := strings.TrimPrefix(u.Path, "/")
	mc, err := mysql.ParseDSN("/" + db + "?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("mysqlstore: DSN: %s", scrub(err.Error(), pw))
	}
	mc.User, mc.Passwd, mc.Net, mc.Addr = u.User.Username(), pw, "tcp", u.Host
	if u.Port() == "" {
		mc.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	if u.Hostname() == "" {
		mc.Addr = "127.0.0.1:3306"
	}
	return mc, nil
}

// scrub removes pw from msg.
func scrub(msg, pw string) string {
	if pw == "" {
		return msg
	}
	return strings.ReplaceAll(msg, pw, "xxxxx")
}

// connector runs the store's session settings on every new connection,
// ignoring a variable the server does not know (innodb_lock_wait_timeout
// on engines without it), and hands back the driver's own connection.
type connector struct {
	inner driver.Connector
	init  []string
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("mysqlstore: driver connection cannot execute statements")
	}
	for _, q := range c.init {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil && errorNumber(err) != erUnknownSystemVariable {
			_ = conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

// driverLogger passes the driver's complaints (a connection lost between
// two calls, say) to the store's logger.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) { d.l.Debug("mysqlstore: driver: " + fmt.Sprint(v...)) }

// Server error numbers the store branches on.
const (
	erDupEntry              = 1062
	erLockWaitTimeout       = 1205
	erLockDeadlock          = 1213
	erUnknownSystemVariable = 1193
	erRecordChanged         = 1020 // MariaDB with innodb_snapshot_isolation
	erTooManyConns          = 1040
	erServerShutdown        = 1053
	erQueryInterrupted      = 1317
	erConnKilled            = 1927 // MariaDB
	erStatementTimeout      = 1969 // MariaDB max_statement_time
	erExecutionTimeout      = 3024 // MySQL max_execution_time
	erFunctionMissing       = 1305
	tidbRetryForUpdate      = 8002
	tidbRetryKV             = 8022
	tidbSchemaChanged       = 8028
	tidbWriteConflict       = 9007
	tidbPDTimeout           = 9001
	tidbTiKVTimeout         = 9002
	tidbRegionUnavailable   = 9005
)

func errorNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// timeoutRows is how many rows a round trip may carry per QueryTimeout.
const timeoutRows = 100_000

// bound returns ctx bounded by QueryTimeout; a deadline ctx already has
// that is sooner stays.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

// boundRows returns ctx bounded by QueryTimeout for every 100 000 rows
// a round trip carries.
func (s *Store) boundRows(ctx context.Context, rows int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout*time.Duration(1+rows/timeoutRows))
}

// fail wraps err for op, saying when the deadline came from QueryTimeout
// (or the server's own timeouts) rather than from the caller; the result
// matches context.DeadlineExceeded then.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn)) {
		return fmt.Errorf("mysqlstore: %s: %w", op, ctx.Err())
	}
	if isTimeout(err) {
		return fmt.Errorf("mysqlstore: %s: no answer from %s within QueryTimeout (%v): %w: %w: %w", op, s.addr, s.cfg.QueryTimeout, codes.ErrUnavailable, context.DeadlineExceeded, err)
	}
	if unreachable(err) {
		return fmt.Errorf("mysqlstore: %s: %s: %w: %w", op, s.addr, codes.ErrUnavailable, err)
	}
	return fmt.Errorf("mysqlstore: %s: %w", op, err)
}

// unreachable reports whether err says the database could not be reached
// or went away (refused, reset, shutting down, too many connections), as
// against a statement it refused: the call may succeed once it is back.
func unreachable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	switch errorNumber(err) {
	case erTooManyConns, erServerShutdown, erConnKilled, tidbPDTimeout, tidbTiKVTimeout, tidbRegionUnavailable:
		return true
	}
	return strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "sql: database is closed")
}

// isTimeout reports whether err is a deadline: ours (QueryTimeout), a
// lock wait the server gave up, or a statement time limit.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch errorNumber(err) {
	case erLockWaitTimeout, erStatementTimeout, erExecutionTimeout, erQueryInterrupted:
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// conflict reports whether err is a conflict with another writer that a
// new attempt of the transaction resolves.
func conflict(err error) (uint16, bool) {
	switch n := errorNumber(err); n {
	case erLockDeadlock, erLockWaitTimeout, erDupEntry, erRecordChanged,
		tidbWriteConflict, tidbRetryForUpdate, tidbRetryKV, tidbSchemaChanged:
		return n, true
	}
	return 0, false
}

// retry runs attempt until it succeeds, fails other than by a conflict
// or a dead pooled connection, or has been retried cfg.Retries times (a
// lock wait timeout once).
//
// A dead connection (driver.ErrBadConn: the server closed it while it
// sat in the pool, or it broke before the round trip was sent) is
// retried on another: the server rolls back the transaction of a
// connection it lost, and the driver reports ErrBadConn only when
// nothing of the failing round trip was sent, so nothing was committed.
func (s *Store) retry(ctx context.Context, op string, attempt func() error) error {
	waits := 0
	for n := 0; ; n++ {
		err := attempt()
		code, ok := conflict(err)
		if err != nil && !ok && errors.Is(err, driver.ErrBadConn) {
			ok = true
		}
		if err == nil || !ok {
			return err
		}
		if code == erLockWaitTimeout {
			if waits++; waits > 1 {
				return err
			}
		}
		if n >= s.cfg.Retries {
			return fmt.Errorf("conflict with another writer persisted over %d retries: %w", n, err)
		}
		d := min(5*time.Millisecond<<n, 500*time.Millisecond)
		d = d/2 + rand.N(d/2+1)
		s.log.Debug("mysqlstore: conflict with another writer; retrying", "op", op, "error", code, "attempt", n+1, "wait", d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
