package mysqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/internal/chain"
)

// Apply implements codes.Store. The batch is one transaction: either every
// change of it is applied, or (on an error) none is.
//
// Apply sorts the batch by key (a key's changes keep their batch order),
// locks the heads of its keys in key order (SELECT ... ORDER BY key FOR
// UPDATE, 4096 keys a statement, several statements a round trip), reads which of its RequestIDs the store
// already holds, chains the entries with codes.Advance in Go, and writes
// history rows, heads and the feed record in multi-row statements sized
// to the server's max_allowed_packet. A small batch takes two round
// trips: BEGIN with the reads, then every write with COMMIT.
//
// A conflict with another writer (two creating the same key, a deadlock,
// TiDB's write conflict) rolls the transaction back and runs it again
// from the reads, up to Config.Retries times; see the package
// documentation for why the chains cannot fork.
func (s *Store) Apply(ctx context.Context, changes []codes.Change) (codes.Applied, error) {
	if err := codes.ValidateChanges(changes); err != nil {
		return codes.Applied{}, err
	}
	if err := ctx.Err(); err != nil || len(changes) == 0 {
		return codes.Applied{}, err
	}
	b := newBatch(changes)
	var a codes.Applied
	err := s.retry(ctx, "apply", func() error {
		var err error
		a, err = s.applyOnce(ctx, b)
		return err
	})
	if err != nil {
		return codes.Applied{}, s.fail(ctx, "apply", err)
	}
	return a, nil
}

// batch is a validated batch in key order (chain.Batch).
type batch = chain.Batch

func newBatch(changes []codes.Change) *batch { return chain.NewBatch(changes) }

// inChunk is how many keys one SELECT's IN list names: 4096, or fewer
// if statements must be shorter.
func (s *Store) inChunk() int { return max(16, min(4096, s.maxStmt/40)) }

// ridChunk is how many (key, RequestID) pairs one SELECT names.
func (s *Store) ridChunk() int { return max(8, min(2048, s.maxStmt/600)) }

// reader builds SELECTs into round trips of at most Store.maxPacket
// bytes, each with the function that reads its result set, and sends a
// round trip when the next statement would not fit.
type reader struct {
	t     *tx
	ctx   context.Context
	q     script
	sets  []func(*sql.Rows) error
	rows  int
	first bool // the next round trip begins the transaction
}

func (r *reader) add(stmt []byte, rows int, read func(*sql.Rows) error) error {
	if len(r.q.b)+len(stmt)+1 > r.t.s.maxPacket && len(r.sets) > 0 {
		if err := r.send(); err != nil {
			return err
		}
	}
	if r.first {
		r.q.str(beginTx)
		r.first = false
	}
	r.q.b = append(append(r.q.b, stmt...), ';')
	r.sets = append(r.sets, read)
	r.rows += rows
	return nil
}

func (r *reader) send() error {
	if len(r.sets) == 0 {
		return nil
	}
	err := r.t.query(r.ctx, r.rows, r.q.String(), r.sets...)
	r.q.reset()
	r.sets, r.rows = r.sets[:0], 0
	return err
}

// readBatch begins the transaction, locks the heads of the batch's keys
// in key order and reads which of its RequestIDs the store holds.
func (s *Store) readBatch(ctx context.Context, t *tx, b *batch, v *advancer) error {
	r := &reader{t: t, ctx: ctx, first: true}
	var q script
	readHeads := func(rows *sql.Rows) error {
		for rows.Next() {
			var h chain.Head
			var key, hash sql.RawBytes
			var seq, exp int64
			var col uint8
			if err := rows.Scan(&key, &seq, &col, &exp, &hash); err != nil {
				return err
			}
			if len(key) != len(h.Key) || len(hash) != len(h.Hash) || seq < 0 {
				return fmt.Errorf("mysqlstore: heads: %w", codes.ErrCorrupt)
			}
			copy(h.Key[:], key)
			copy(h.Hash[:], hash)
			h.Seq, h.Colour, h.Expires = uint64(seq), codes.Colour(col), exp
			v.Heads = append(v.Heads, h)
		}
		return nil
	}
	for keys := range slices.Chunk(b.Keys, s.inChunk()) {
		q.reset()
		q.str("SELECT `key`, seq, colour, expires, hash FROM ").str(s.t.heads).str(" WHERE `key` IN (")
		for i := range keys {
			if i > 0 {
				q.str(",")
			}
			q.hex(keys[i][:])
		}
		q.str(") ORDER BY `key` FOR UPDATE")
		if err := r.add(q.b, len(keys), readHeads); err != nil {
			return err
		}
	}
	readDups := func(rows *sql.Rows) error {
		for rows.Next() {
			var key, id sql.RawBytes
			if err := rows.Scan(&key, &id); err != nil {
				return err
			}
			if len(key) != 16 {
				return fmt.Errorf("mysqlstore: request ids: %w", codes.ErrCorrupt)
			}
			v.Dups[chain.ReqKey{Key: codes.Key(key), ID: string(id)}] = struct{}{}
		}
		return nil
	}
	for rids := range slices.Chunk(b.RIDs, s.ridChunk()) {
		if v.Dups == nil {
			v.Dups = map[chain.ReqKey]struct{}{}
		}
		var in script
		in.str(" WHERE (`key`, request_id) IN (")
		for i := range rids {
			if i > 0 {
				in.str(",")
			}
			in.str("(").hex(rids[i].Key[:]).str(",").hexOrNull(rids[i].ID).str(")")
		}
		in.str(")")
		q.reset()
		q.str("SELECT `key`, request_id FROM ").str(s.t.history).str(in.String()).
			str(" UNION ALL SELECT `key`, request_id FROM ").str(s.t.requests).str(in.String())
		if err := r.add(q.b, len(rids), readDups); err != nil {
			return err
		}
	}
	return r.send()
}

// advancer is one attempt's walk of the batch (chain.Walker) and the
// heads it leaves to write: the last entry of each changed key, State
// only as far as heads keep it.
type advancer struct {
	chain.Walker
	newHeads, updHeads []codes.Entry
}

func newAdvancer(b *batch) *advancer {
	v := &advancer{}
	v.B, v.Prefix = b, "mysqlstore"
	v.OnHead = func(key *codes.Key, last *codes.Entry, existed bool) {
		e := codes.Entry{Key: *key, Seq: last.Seq, Hash: last.Hash,
			State: codes.State{Colour: last.State.Colour, Expires: last.State.Expires}}
		if existed {
			v.updHeads = append(v.updHeads, e)
		} else {
			v.newHeads = append(v.newHeads, e)
		}
	}
	return v
}

// applyOnce runs one attempt of Apply's transaction.
func (s *Store) applyOnce(ctx context.Context, b *batch) (codes.Applied, error) {
	t, err := s.takeConn(ctx)
	if err != nil {
		return codes.Applied{}, err
	}
	defer t.close()
	v := newAdvancer(b)
	if err := s.readBatch(ctx, t, b, v); err != nil {
		return codes.Applied{}, err
	}
	w := s.newWriter(ctx, t)
	defer w.wait()
	if n := len(b.Changes); n > 64 {
		w.q.b = make([]byte, 0, min(s.maxPacket, n*512))
	}
	w.begin("INSERT INTO "+s.t.history+" (`key`, seq, entry, request_id) VALUES ", "")
	for v.Next() {
		var rid any
		if v.RowRID != "" {
			rid = []byte(v.RowRID)
		}
		if err := w.values(v.RowKey[:], v.RowSeq, v.RowEntry, rid); err != nil {
			return codes.Applied{}, err
		}
	}
	if v.Err != nil {
		return codes.Applied{}, v.Err
	}
	// New keys get a plain INSERT, which fails on a duplicate key if
	// another writer created the key meanwhile; the heads this
	// transaction locked are updated in place by a multi-row upsert.
	const headCols = " (`key`, seq, colour, expires, hash) VALUES "
	for _, heads := range []struct {
		rows   []codes.Entry
		suffix string
	}{
		{v.newHeads, ""},
		{v.updHeads, " ON DUPLICATE KEY UPDATE seq = VALUES(seq), colour = VALUES(colour), expires = VALUES(expires), hash = VALUES(hash)"},
	} {
		w.begin("INSERT INTO "+s.t.heads+headCols, heads.suffix)
		for i := range heads.rows {
			e := &heads.rows[i]
			var exp int64
			if !e.State.Expires.IsZero() {
				exp = e.State.Expires.UnixNano()
			}
			if err := w.values(e.Key[:], int64(e.Seq), int64(e.State.Colour), exp, e.Hash[:]); err != nil {
				return codes.Applied{}, err
			}
		}
	}
	w.begin("INSERT INTO "+s.t.requests+" (`key`, request_id) VALUES ", "")
	for i := range v.Reqs {
		if err := w.values(v.Reqs[i].Key[:], []byte(v.Reqs[i].ID)); err != nil {
			return codes.Applied{}, err
		}
	}
	w.end()
	if s.beforeFeed != nil {
		if err := w.send(); err != nil {
			return codes.Applied{}, err
		}
		if err := w.wait(); err != nil {
			return codes.Applied{}, err
		}
		s.beforeFeed()
	}
	if v.Applied.Changed > 0 {
		if err := s.writeFeed(w, "changes", v.Feed, 17); err != nil {
			return codes.Applied{}, err
		}
	}
	if err := w.commit(); err != nil {
		return codes.Applied{}, err
	}
	return v.Applied, nil
}

// maxRecordItems bounds the changes (or persons) of one feed record: a
// write naming more is told in consecutive records, committed together.
const maxRecordItems = 1 << 16

// writeFeed adds to w the statements that take the next positions of the
// feed and append packed (items of unit bytes) in as many records as it
// needs. The counter's row lock, taken by the UPDATE and held to COMMIT,
// is what orders the records: see the package documentation.
func (s *Store) writeFeed(w *writer, col string, packed []byte, unit int) error {
	per := min(maxRecordItems, (s.maxStmt-256)/(2*unit)) * unit
	k := (len(packed) + per - 1) / per
	if err := w.stmt("UPDATE " + s.t.meta + " SET value = LAST_INSERT_ID(value + " + strconv.Itoa(k) + ") WHERE name = 'feed_pos'"); err != nil {
		return err
	}
	w.begin("INSERT INTO "+s.t.feed+" (pos, at, "+col+") VALUES ", "")
	var row script
	for i := range k {
		row.reset()
		row.str("(LAST_INSERT_ID()-").int(int64(k - 1 - i)).str(",").str(nowMicros).str(",").hex(packed[i*per : min(len(packed), (i+1)*per)]).str(")")
		if err := w.row(row.b); err != nil {
			return err
		}
	}
	w.end()
	return nil
}
