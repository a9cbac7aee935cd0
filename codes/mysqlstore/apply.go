package mysqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
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

type reqKey struct {
	key codes.Key
	id  string
}

// batch is a validated batch in key order.
type batch struct {
	changes []codes.Change
	order   []int       // indexes of changes by key, then by index
	keys    []codes.Key // distinct keys, in order
	rids    []reqKey    // distinct (key, RequestID) pairs of the batch, in key order
}

func newBatch(changes []codes.Change) *batch {
	b := &batch{changes: changes, order: sortedOrder(changes)}
	var seen map[reqKey]struct{}
	for n, i := range b.order {
		ch := &changes[i]
		if n == 0 || ch.Key != changes[b.order[n-1]].Key {
			b.keys = append(b.keys, ch.Key)
		}
		if ch.RequestID == "" {
			continue
		}
		if seen == nil {
			seen = map[reqKey]struct{}{}
		}
		rk := reqKey{ch.Key, ch.RequestID}
		if _, ok := seen[rk]; !ok {
			seen[rk] = struct{}{}
			b.rids = append(b.rids, rk)
		}
	}
	return b
}

// sortKey is a key as two big-endian words (comparing them compares the
// key's bytes, as the database compares VARBINARY) and the change's
// index.
type sortKey struct {
	hi, lo uint64
	i      int
}

func compareSortKeys(a, b sortKey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	return cmp.Compare(a.i, b.i)
}

// sortedOrder returns the indexes of changes ordered by key, then by
// index. Keys are HMAC outputs, uniform over their range: a stable
// counting sort on their top 16 bits leaves buckets of a few changes
// each (at a million changes), which a comparison sort then finishes.
func sortedOrder(changes []codes.Change) []int {
	ks := make([]sortKey, len(changes))
	for i := range changes {
		k := &changes[i].Key
		ks[i] = sortKey{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:]), i}
	}
	order := make([]int, len(ks))
	if len(ks) < 1<<12 {
		slices.SortFunc(ks, compareSortKeys)
		for i, k := range ks {
			order[i] = k.i
		}
		return order
	}
	const bits = 16
	var start [1<<bits + 1]int
	for i := range ks {
		start[ks[i].hi>>(64-bits)+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	sorted := make([]sortKey, len(ks))
	next := start
	for _, k := range ks {
		b := k.hi >> (64 - bits)
		sorted[next[b]] = k
		next[b]++
	}
	for b := range 1 << bits {
		if run := sorted[start[b]:start[b+1]]; len(run) > 1 {
			slices.SortFunc(run, compareSortKeys)
		}
	}
	for i, k := range sorted {
		order[i] = k.i
	}
	return order
}

// head is a locked row of heads: all codes.Advance reads of a key's last
// entry (its Seq, Hash, Colour and Expires).
type head struct {
	key     codes.Key
	seq     uint64
	colour  codes.Colour
	expires int64
	hash    [32]byte
}

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
			var h head
			var key, hash sql.RawBytes
			var seq, exp int64
			var col uint8
			if err := rows.Scan(&key, &seq, &col, &exp, &hash); err != nil {
				return err
			}
			if len(key) != len(h.key) || len(hash) != len(h.hash) || seq < 0 {
				return fmt.Errorf("mysqlstore: heads: %w", codes.ErrCorrupt)
			}
			copy(h.key[:], key)
			copy(h.hash[:], hash)
			h.seq, h.colour, h.expires = uint64(seq), codes.Colour(col), exp
			v.heads = append(v.heads, h)
		}
		return nil
	}
	for keys := range slices.Chunk(b.keys, s.inChunk()) {
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
			v.dups[reqKey{codes.Key(key), string(id)}] = struct{}{}
		}
		return nil
	}
	for rids := range slices.Chunk(b.rids, s.ridChunk()) {
		if v.dups == nil {
			v.dups = map[reqKey]struct{}{}
		}
		var in script
		in.str(" WHERE (`key`, request_id) IN (")
		for i := range rids {
			if i > 0 {
				in.str(",")
			}
			in.str("(").hex(rids[i].key[:]).str(",").hexOrNull(rids[i].id).str(")")
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

// advancer walks a batch in key order from the locked heads, producing
// one history row at a time (next) and collecting the new heads, the
// RequestIDs of changes that appended nothing and the feed record.
type advancer struct {
	b     *batch
	heads []head
	dups  map[reqKey]struct{} // pairs the store holds
	seen  map[reqKey]struct{} // pairs met in this batch

	at      int        // next index into b.order
	hi      int        // next head
	key     *codes.Key // key of the current run
	cur     codes.Entry
	exists  bool // the key has an entry (committed or of this batch)
	existed bool // the key had a committed head
	changed bool // the batch appended to the key

	// the history row next produced, valid until the next call
	rowKey   *codes.Key
	rowSeq   int64
	rowEntry []byte
	rowRID   string

	a                  codes.Applied
	newHeads, updHeads []codes.Entry // the last entry of each changed key, State only as far as heads keep it
	reqs               []reqKey      // RequestIDs of changes that appended nothing
	feed               []byte        // key + colour of each changed key
	err                error
}

// next advances to the next history row; false at the end of the batch
// or on an error (v.err).
func (v *advancer) next() bool {
	for v.at < len(v.b.order) && v.err == nil {
		ch := &v.b.changes[v.b.order[v.at]]
		if v.key == nil || *v.key != ch.Key {
			v.flush()
			v.start(&ch.Key)
		}
		v.at++
		if ch.RequestID != "" {
			rk := reqKey{ch.Key, ch.RequestID}
			_, dup := v.dups[rk]
			if _, again := v.seen[rk]; dup || again {
				v.a.Duplicate++
				continue
			}
			if v.seen == nil {
				v.seen = map[reqKey]struct{}{}
			}
			v.seen[rk] = struct{}{}
		}
		next, changed := codes.Advance(v.cur, v.exists, *ch)
		if !changed {
			v.a.Unchanged++
			if ch.RequestID != "" {
				v.reqs = append(v.reqs, reqKey{ch.Key, ch.RequestID})
			}
			continue
		}
		v.a.Changed++
		v.cur, v.exists, v.changed = next, true, true
		v.rowEntry = codes.AppendEntry(v.rowEntry[:0], &next)
		v.rowKey, v.rowSeq, v.rowRID = &ch.Key, int64(next.Seq), ch.RequestID
		return true
	}
	if v.err == nil && v.key != nil {
		v.flush()
		v.key = nil
		if v.hi != len(v.heads) {
			v.err = fmt.Errorf("mysqlstore: heads came back out of key order: %w", codes.ErrCorrupt)
		}
	}
	return false
}

func (v *advancer) start(k *codes.Key) {
	v.key, v.changed = k, false
	if v.hi < len(v.heads) && v.heads[v.hi].key == *k {
		h := &v.heads[v.hi]
		v.hi++
		v.cur = codes.Entry{Key: *k, Seq: h.seq, Hash: h.hash, State: codes.State{Colour: h.colour}}
		if h.expires != 0 {
			v.cur.State.Expires = time.Unix(0, h.expires).UTC()
		}
		v.exists, v.existed = true, true
		return
	}
	v.cur, v.exists, v.existed = codes.Entry{}, false, false
}

func (v *advancer) flush() {
	if v.key == nil || !v.changed {
		return
	}
	e := codes.Entry{Key: *v.key, Seq: v.cur.Seq, Hash: v.cur.Hash,
		State: codes.State{Colour: v.cur.State.Colour, Expires: v.cur.State.Expires}}
	if v.existed {
		v.updHeads = append(v.updHeads, e)
	} else {
		v.newHeads = append(v.newHeads, e)
	}
	v.feed = append(append(v.feed, v.key[:]...), byte(v.cur.State.Colour))
}

// applyOnce runs one attempt of Apply's transaction.
func (s *Store) applyOnce(ctx context.Context, b *batch) (codes.Applied, error) {
	t, err := s.takeConn(ctx)
	if err != nil {
		return codes.Applied{}, err
	}
	defer t.close()
	v := &advancer{b: b}
	if err := s.readBatch(ctx, t, b, v); err != nil {
		return codes.Applied{}, err
	}
	w := s.newWriter(ctx, t)
	defer w.wait()
	if n := len(b.changes); n > 64 {
		w.q.b = make([]byte, 0, min(s.maxPacket, n*512))
	}
	w.begin("INSERT INTO "+s.t.history+" (`key`, seq, entry, request_id) VALUES ", "")
	for v.next() {
		var rid any
		if v.rowRID != "" {
			rid = []byte(v.rowRID)
		}
		if err := w.values(v.rowKey[:], v.rowSeq, v.rowEntry, rid); err != nil {
			return codes.Applied{}, err
		}
	}
	if v.err != nil {
		return codes.Applied{}, v.err
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
	for i := range v.reqs {
		if err := w.values(v.reqs[i].key[:], []byte(v.reqs[i].id)); err != nil {
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
	if v.a.Changed > 0 {
		if err := s.writeFeed(w, "changes", v.feed, 17); err != nil {
			return codes.Applied{}, err
		}
	}
	if err := w.commit(); err != nil {
		return codes.Applied{}, err
	}
	return v.a, nil
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
