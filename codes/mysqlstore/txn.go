package mysqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// script is SQL text built from values the store encodes itself: keys,
// hashes, entries, RequestIDs and note topics as hexadecimal literals
// (X'...'), numbers in decimal. Nothing is quoted or escaped, so the text
// means the same whatever the connection's character set or sql_mode
// (NO_BACKSLASH_ESCAPES), and a statement may carry as many rows as
// max_allowed_packet allows: placeholders would stop at 65 535 per
// statement and cost a prepare round trip each. Hexadecimal doubles the
// bytes on the wire; the server decodes it at memory speed.
type script struct{ b []byte }

func (q *script) str(s string) *script { q.b = append(q.b, s...); return q }

func (q *script) hex(p []byte) *script {
	q.b = append(q.b, "X'"...)
	q.b = hex.AppendEncode(q.b, p)
	q.b = append(q.b, '\'')
	return q
}

// hexOrNull writes s as a hexadecimal literal, or NULL if it is empty.
func (q *script) hexOrNull(s string) *script {
	if s == "" {
		return q.str("NULL")
	}
	q.b = append(q.b, "X'"...)
	q.b = hex.AppendEncode(q.b, []byte(s))
	q.b = append(q.b, '\'')
	return q
}

func (q *script) int(v int64) *script { q.b = strconv.AppendInt(q.b, v, 10); return q }

func (q *script) String() string { return string(q.b) }

func (q *script) reset() { q.b = q.b[:0] }

// beginTx starts a transaction: READ COMMITTED, so that every statement
// reads the latest committed rows (a locking read does under REPEATABLE
// READ as well) and InnoDB takes no gap locks on keys that have no head
// yet. It goes in front of a transaction's first statements, in the same
// round trip.
const beginTx = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED;START TRANSACTION;"

// nowMicros is the database's clock in Unix microseconds (every
// connection's time_zone is UTC).
const nowMicros = "CAST(UNIX_TIMESTAMP(NOW(6))*1000000 AS SIGNED)"

// tx is one connection of the pool taken for a transaction. The store
// sends START TRANSACTION itself (beginTx), with the first statements, to
// save a round trip; close makes sure the connection goes back to the
// pool outside a transaction, or not at all.
type tx struct {
	s    *Store
	conn *sql.Conn
	open bool // a transaction may be open on conn
}

// takeConn takes a connection from the pool.
func (s *Store) takeConn(ctx context.Context) (*tx, error) {
	c, cancel := s.bound(ctx)
	defer cancel()
	conn, err := s.db.Conn(c)
	if err != nil {
		return nil, err
	}
	return &tx{s: s, conn: conn}, nil
}

// exec sends sql (one or more statements) in one round trip, bounded by
// QueryTimeout per 100 000 rows it carries.
func (t *tx) exec(ctx context.Context, rows int, sql string) error {
	if len(sql) > t.s.maxPacket+64<<10 {
		return fmt.Errorf("mysqlstore: a round trip of %d bytes, over max_allowed_packet: %w", len(sql), errOversize)
	}
	t.open = true
	c, cancel := t.s.boundRows(ctx, rows)
	defer cancel()
	_, err := t.conn.ExecContext(c, sql)
	return err
}

// commit sends sql, which ends with COMMIT, in one round trip.
func (t *tx) commit(ctx context.Context, rows int, sql string) error {
	if err := t.exec(ctx, rows, sql); err != nil {
		return err
	}
	t.open = false
	return nil
}

// query sends sql in one round trip and hands each of its result sets
// (the statements that return rows, in order) to the next of sets, which
// reads its rows. Statements that return no rows (START TRANSACTION,
// INSERT, COMMIT) may stand anywhere; an error of any statement is
// returned, and the statements after it did not run.
func (t *tx) query(ctx context.Context, rows int, sql string, sets ...func(*sql.Rows) error) error {
	if len(sql) > t.s.maxPacket+64<<10 {
		return fmt.Errorf("mysqlstore: a round trip of %d bytes, over max_allowed_packet: %w", len(sql), errOversize)
	}
	t.open = true
	c, cancel := t.s.boundRows(ctx, rows)
	defer cancel()
	return queryConn(c, t.conn, sql, sets...)
}

// querier is a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryConn(ctx context.Context, q querier, sql string, sets ...func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for i, read := range sets {
		if i > 0 && !rows.NextResultSet() {
			if err := rows.Err(); err != nil {
				return err
			}
			return fmt.Errorf("mysqlstore: %d result sets, want %d", i, len(sets))
		}
		if err := read(rows); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for rows.NextResultSet() { // the statements after the last result set
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// close ends a transaction that did not commit and hands the connection
// back; a connection that cannot roll back (its round trip timed out, or
// the server went away) is dropped from the pool instead.
func (t *tx) close() {
	if t.open {
		c, cancel := t.s.bound(context.Background())
		_, err := t.conn.ExecContext(c, "ROLLBACK")
		cancel()
		if err != nil {
			_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}
	_ = t.conn.Close()
}

// errOversize: a bug, a round trip the store built too long.
var errOversize = errors.New("statement too long")

// writer builds a transaction's writes into round trips of at most
// Store.maxPacket bytes, each holding whole statements of at most
// Store.maxStmt bytes. A multi-row statement is begun with its prefix and
// suffix, its rows added one by one, and cut in several when it grows too
// long.
//
// A full round trip goes to a sender goroutine, which runs it on the
// transaction's connection while the caller builds the next one, so a
// bulk Apply computes entries and encodes rows while the server inserts
// the previous ones. The caller touches the connection again only after
// wait, which stops the sender; commit sends the last round trip itself.
type writer struct {
	s   *Store
	t   *tx
	ctx context.Context

	q    script // the round trip being built
	rows int    // rows in q

	prefix, suffix string
	stmtStart      int // offset in q.b of the statement being built
	stmtRows       int // its rows; 0: none begun

	scratch script // a row being rendered

	trips chan roundTrip // to the sender; nil until the first send
	free  chan []byte    // buffers the sender is done with
	done  chan error     // the sender's outcome, once it stops
	err   error          // the sender's error, once known
}

type roundTrip struct {
	sql  []byte
	rows int
}

func (s *Store) newWriter(ctx context.Context, t *tx) *writer {
	return &writer{s: s, t: t, ctx: ctx}
}

// begin starts a multi-row statement: prefix, rows separated by commas,
// suffix.
func (w *writer) begin(prefix, suffix string) {
	w.end()
	w.prefix, w.suffix = prefix, suffix
}

// row adds one row (its text, as "(...)") to the statement begun.
func (w *writer) row(r []byte) error {
	if w.stmtRows > 0 && (len(w.q.b)-w.stmtStart+1+len(r)+len(w.suffix) > w.s.maxStmt ||
		len(w.q.b)+1+len(r)+len(w.suffix)+1 > w.s.maxPacket) {
		w.end()
	}
	if w.stmtRows == 0 {
		if len(w.q.b)+len(w.prefix)+len(r)+len(w.suffix)+1 > w.s.maxPacket {
			if err := w.send(); err != nil {
				return err
			}
			if len(w.prefix)+len(r)+len(w.suffix)+1 > w.s.maxPacket {
				return fmt.Errorf("mysqlstore: a row of %d bytes does not fit the server's max_allowed_packet", len(r))
			}
		}
		w.stmtStart = len(w.q.b)
		w.q.str(w.prefix)
	} else {
		w.q.b = append(w.q.b, ',')
	}
	w.q.b = append(w.q.b, r...)
	w.stmtRows++
	w.rows++
	return nil
}

// end finishes the statement begun, if it has rows.
func (w *writer) end() {
	if w.stmtRows > 0 {
		w.q.str(w.suffix).str(";")
		w.stmtRows = 0
	}
}

// values adds a row of values to the statement begun: []byte as a
// hexadecimal literal, int64 in decimal, nil as NULL.
func (w *writer) values(vals ...any) error {
	w.scratch.reset()
	renderRow(&w.scratch, vals)
	return w.row(w.scratch.b)
}

// renderRow writes a row of values as text.
func renderRow(q *script, vals []any) {
	q.str("(")
	for i, v := range vals {
		if i > 0 {
			q.str(",")
		}
		switch v := v.(type) {
		case nil:
			q.str("NULL")
		case []byte:
			q.hex(v)
		case int64:
			q.int(v)
		default:
			panic(fmt.Sprintf("mysqlstore: value of type %T", v))
		}
	}
	q.str(")")
}

// stmt adds a whole statement.
func (w *writer) stmt(sql string) error {
	w.end()
	if len(w.q.b)+len(sql)+1 > w.s.maxPacket {
		if err := w.send(); err != nil {
			return err
		}
	}
	w.q.str(sql).str(";")
	return nil
}

// send hands the round trip built so far to the sender, and takes a
// buffer for the next. It returns the sender's error, if it has failed.
func (w *writer) send() error {
	w.end()
	if w.err != nil {
		return w.err
	}
	if len(w.q.b) == 0 {
		return nil
	}
	if err := w.hand(roundTrip{sql: w.q.b, rows: w.rows}); err != nil {
		return err
	}
	select {
	case b := <-w.free:
		w.q.b = b[:0]
	default:
		w.q.b = make([]byte, 0, cap(w.q.b))
	}
	w.rows = 0
	return nil
}

// hand gives rt to the sender, starting it if need be.
func (w *writer) hand(rt roundTrip) error {
	if w.err != nil {
		return w.err
	}
	if w.trips == nil {
		w.trips, w.free, w.done = make(chan roundTrip), make(chan []byte, 2), make(chan error, 1)
		go w.sender()
	}
	select {
	case w.trips <- rt:
		return nil
	case err := <-w.done:
		w.err, w.trips = err, nil
		return err
	}
}

func (w *writer) sender() {
	for rt := range w.trips {
		if err := w.t.exec(w.ctx, rt.rows, string(rt.sql)); err != nil {
			w.done <- err
			return
		}
		w.free <- rt.sql
	}
	w.done <- nil
}

// wait stops the sender, once every round trip handed to it has run or
// one has failed, and returns its error. The caller may use the
// connection after it.
func (w *writer) wait() error {
	if w.trips != nil {
		close(w.trips)
		w.trips = nil
		if err := <-w.done; err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}

// commit adds COMMIT and sends the last round trip, once the sender has
// sent the others.
func (w *writer) commit() error {
	if err := w.stmt("COMMIT"); err != nil {
		return err
	}
	w.end()
	if err := w.wait(); err != nil {
		return err
	}
	err := w.t.commit(w.ctx, w.rows, w.q.String())
	w.q.reset()
	w.rows = 0
	return err
}
