package pgstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// bulkChanges is the batch size from which Apply writes through COPY
// rather than through statements with array parameters.
const bulkChanges = 512

// Apply implements codes.Store. The batch is one transaction: either every
// change of it is applied, or (on an error) none is — stronger than the
// interface asks, and unlike boltstore, which commits large batches in
// parts.
//
// Apply sorts the batch by key (a key's changes keep their batch order),
// locks the heads of its keys in key order (SELECT ... FOR UPDATE), reads
// which of its RequestIDs the store already holds, chains the entries with
// codes.Advance in Go, and writes history rows, heads and one feed record.
// Batches of fewer than 512 changes go in two round trips: BEGIN with the
// reads, then every write with COMMIT, pipelined. Larger ones stream the
// history rows through COPY while they are computed, COPY the heads of new
// keys, and COPY the new heads of existing keys into a temporary table
// that one UPDATE then applies.
//
// A conflict with another writer (two creating the same key, a deadlock)
// rolls the transaction back and runs it again from the reads, up to
// Config.Retries times; see the package documentation for why the chains
// cannot fork.
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
	order   []int    // indexes of changes by key, then by index
	keys    [][]byte // distinct keys, in order
	ridKeys [][]byte // distinct (key, RequestID) pairs of the batch
	rids    []string
}

func newBatch(changes []codes.Change) *batch {
	b := &batch{changes: changes, order: sortedOrder(changes)}
	var seen map[reqKey]struct{}
	for n, i := range b.order {
		ch := &changes[i]
		if n == 0 || ch.Key != changes[b.order[n-1]].Key {
			b.keys = append(b.keys, ch.Key[:])
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
			b.ridKeys = append(b.ridKeys, ch.Key[:])
			b.rids = append(b.rids, ch.RequestID)
		}
	}
	return b
}

// sortKey is a key as two big-endian words (comparing them compares the
// key's bytes, as PostgreSQL compares bytea) and the change's index.
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

func (v *advancer) readHeads(rows pgx.Rows) error {
	var err error
	v.heads, err = readHeads(rows)
	return err
}

func (v *advancer) readDups(rows pgx.Rows) error {
	v.dups = map[reqKey]struct{}{}
	for rows.Next() {
		var k []byte
		var id string
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		v.dups[reqKey{codes.Key(k), id}] = struct{}{}
	}
	return rows.Err()
}

func readHeads(rows pgx.Rows) ([]head, error) {
	var out []head
	raw := false
	for n := 0; rows.Next(); n++ {
		if n == 0 {
			raw = binaryFormat(rows)
		}
		var h head
		var key, hash []byte
		var seq, exp int64
		var col int16
		if raw {
			v := rows.RawValues()
			if len(v[1]) != 8 || len(v[2]) != 2 || len(v[3]) != 8 {
				return nil, fmt.Errorf("pgstore: heads: %w", codes.ErrCorrupt)
			}
			key, hash = v[0], v[4]
			seq, col, exp = int64(binary.BigEndian.Uint64(v[1])), int16(binary.BigEndian.Uint16(v[2])), int64(binary.BigEndian.Uint64(v[3]))
		} else if err := rows.Scan(&key, &seq, &col, &exp, &hash); err != nil {
			return nil, err
		}
		if len(key) != len(h.key) || len(hash) != len(h.hash) || seq < 0 {
			return nil, fmt.Errorf("pgstore: heads: %w", codes.ErrCorrupt)
		}
		copy(h.key[:], key)
		copy(h.hash[:], hash)
		h.seq, h.colour, h.expires = uint64(seq), codes.Colour(col), exp
		out = append(out, h)
	}
	return out, rows.Err()
}

// headCols are heads to write, column by column.
type headCols struct {
	keys    [][]byte
	seqs    []int64
	colours []int16
	expires []int64
	hashes  [][]byte
	arena   []byte // backs hashes
}

// add appends e's head under key, which must outlive c (e's own Key
// field is a copy that the advancer overwrites).
func (c *headCols) add(key []byte, e *codes.Entry) {
	var exp int64
	if !e.State.Expires.IsZero() {
		exp = e.State.Expires.UnixNano()
	}
	c.arena = append(c.arena, e.Hash[:]...)
	c.keys = append(c.keys, key)
	c.seqs = append(c.seqs, int64(e.Seq))
	c.colours = append(c.colours, int16(e.State.Colour))
	c.expires = append(c.expires, exp)
	c.hashes = append(c.hashes, c.arena[len(c.arena)-32:len(c.arena):len(c.arena)])
}

func (c *headCols) grow(n int) {
	c.keys = make([][]byte, 0, n)
	c.seqs = make([]int64, 0, n)
	c.colours = make([]int16, 0, n)
	c.expires = make([]int64, 0, n)
	c.hashes = make([][]byte, 0, n)
	c.arena = make([]byte, 0, 32*n)
}

func (c *headCols) args() []any { return []any{c.keys, c.seqs, c.colours, c.expires, c.hashes} }

// row returns head i as COPY values, reusing vals.
func (c *headCols) row(i int, vals []any) []any {
	return append(vals[:0], c.keys[i], c.seqs[i], c.colours[i], c.expires[i], c.hashes[i])
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
	rowKey   []byte
	rowSeq   int64
	rowEntry []byte
	rowRID   string

	a                  codes.Applied
	newHeads, updHeads headCols
	reqKeys            [][]byte
	reqIDs             []string
	feed               []byte // key + colour of each changed key
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
				v.reqKeys = append(v.reqKeys, ch.Key[:])
				v.reqIDs = append(v.reqIDs, ch.RequestID)
			}
			continue
		}
		v.a.Changed++
		v.cur, v.exists, v.changed = next, true, true
		v.rowEntry = codes.AppendEntry(v.rowEntry[:0], &next)
		v.rowKey, v.rowSeq, v.rowRID = ch.Key[:], int64(next.Seq), ch.RequestID
		return true
	}
	if v.err == nil && v.key != nil {
		v.flush()
		v.key = nil
		if v.hi != len(v.heads) {
			v.err = fmt.Errorf("pgstore: heads came back out of key order: %w", codes.ErrCorrupt)
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
	if v.existed {
		v.updHeads.add(v.key[:], &v.cur)
	} else {
		v.newHeads.add(v.key[:], &v.cur)
	}
	v.feed = append(append(v.feed, v.key[:]...), byte(v.cur.State.Colour))
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// applyOnce runs one attempt of Apply's transaction.
func (s *Store) applyOnce(ctx context.Context, b *batch) (codes.Applied, error) {
	c, cancel := s.bound(ctx, len(b.keys))
	defer cancel()
	conn, err := s.pool.Acquire(c)
	if err != nil {
		return codes.Applied{}, err
	}
	defer s.rollback(conn)
	v := &advancer{b: b}
	bulk := len(b.changes) >= bulkChanges
	read := &pgx.Batch{}
	read.Queue("BEGIN")
	if bulk {
		// The lock query sorts the batch's heads; at the server's default
		// work_mem (4 MB) a million of them spill to disk.
		read.Queue(fmt.Sprintf("SET LOCAL work_mem = '%dkB'", min(max(4<<10, 96*len(b.keys)>>10), 1<<20)))
		// A million keys go faster through COPY than as an array
		// parameter (both to encode and to decode).
		read.Queue(s.q.stageKeys)
		read.Queue(s.q.stageHeads)
		if err := conn.SendBatch(c, read).Close(); err != nil {
			return codes.Applied{}, err
		}
		if _, err := conn.CopyFrom(c, pgx.Identifier{"pg_temp", "batch_keys"}, []string{"key"}, &keySource{keys: b.keys}); err != nil {
			return codes.Applied{}, err
		}
		read = &pgx.Batch{}
		read.Queue(s.q.lockStaged).Query(v.readHeads)
	} else {
		read.Queue(s.q.lockHeads, b.keys).Query(v.readHeads)
	}
	if len(b.rids) > 0 {
		read.Queue(s.q.dups, b.ridKeys, b.rids).Query(v.readDups)
	}
	if err := conn.SendBatch(c, read).Close(); err != nil {
		return codes.Applied{}, err
	}
	v.newHeads.grow(len(b.keys) - len(v.heads))
	v.updHeads.grow(len(v.heads))
	v.feed = make([]byte, 0, 17*len(b.keys))
	write := &pgx.Batch{}
	if !bulk {
		s.queueSmall(write, v)
	} else if err := s.copyBulk(ctx, conn, write, v); err != nil {
		return codes.Applied{}, err
	}
	if v.err != nil {
		return codes.Applied{}, v.err
	}
	if len(v.reqKeys) > 0 {
		write.Queue(s.q.insRequests, v.reqKeys, v.reqIDs)
	}
	if v.a.Changed > 0 {
		write.Queue(s.q.feedChanges, v.feed)
	}
	write.Queue("COMMIT")
	c2, cancel2 := s.bound(ctx, len(v.updHeads.keys)+len(v.reqKeys))
	defer cancel2()
	if err := conn.SendBatch(c2, write).Close(); err != nil {
		return codes.Applied{}, err
	}
	return v.a, nil
}

// queueSmall computes every entry and queues the writes as statements
// with array parameters.
func (s *Store) queueSmall(write *pgx.Batch, v *advancer) {
	var keys, entries [][]byte
	var seqs []int64
	var rids []pgtype.Text
	var arena []byte
	for v.next() {
		arena = append(arena, v.rowEntry...)
		n := len(arena)
		keys = append(keys, v.rowKey)
		seqs = append(seqs, v.rowSeq)
		entries = append(entries, arena[n-len(v.rowEntry):n:n])
		rids = append(rids, text(v.rowRID))
	}
	if len(keys) > 0 {
		write.Queue(s.q.insHistory, keys, seqs, entries, rids)
	}
	if len(v.newHeads.keys) > 0 {
		write.Queue(s.q.insHeads, v.newHeads.args()...)
	}
	if len(v.updHeads.keys) > 0 {
		write.Queue(s.q.updHeads, v.updHeads.args()...)
	}
}

// copyBulk streams the history rows into history through COPY while it
// computes them, COPYs the heads of new keys into heads and those of
// existing keys into a temporary table, and queues on write the UPDATE
// that applies the latter.
func (s *Store) copyBulk(ctx context.Context, conn *pgxpool.Conn, write *pgx.Batch, v *advancer) error {
	n := len(v.b.changes)
	c, cancel := s.bound(ctx, n)
	defer cancel()
	if _, err := conn.CopyFrom(c, pgx.Identifier{s.cfg.Schema, "history"}, []string{"key", "seq", "entry", "request_id"}, &historySource{v: v}); err != nil {
		return err
	}
	if v.err != nil {
		return v.err
	}
	if h := &v.newHeads; len(h.keys) > 0 {
		if _, err := conn.CopyFrom(c, pgx.Identifier{s.cfg.Schema, "heads"}, headColumns, &headSource{cols: h}); err != nil {
			return err
		}
	}
	h := &v.updHeads
	switch {
	case len(h.keys) >= bulkChanges:
		if _, err := conn.CopyFrom(c, pgx.Identifier{"pg_temp", "heads_stage"}, headColumns, &headSource{cols: h}); err != nil {
			return err
		}
		write.Queue(s.q.updFromStage)
	case len(h.keys) > 0:
		write.Queue(s.q.updHeads, h.args()...)
	}
	return nil
}

var headColumns = []string{"key", "seq", "colour", "expires", "hash"}

// historySource feeds the advancer's rows to COPY. pgx encodes a row's
// values before it asks for the next, so the advancer's buffers can be
// reused.
type historySource struct {
	v    *advancer
	vals [4]any
}

func (h *historySource) Next() bool { return h.v.next() }

func (h *historySource) Values() ([]any, error) {
	v := h.v
	h.vals = [4]any{v.rowKey, v.rowSeq, v.rowEntry, nil}
	if v.rowRID != "" {
		h.vals[3] = v.rowRID
	}
	return h.vals[:], nil
}

func (h *historySource) Err() error { return h.v.err }

type headSource struct {
	cols *headCols
	i    int
	vals []any
}

func (h *headSource) Next() bool { h.i++; return h.i <= len(h.cols.keys) }

func (h *headSource) Values() ([]any, error) {
	h.vals = h.cols.row(h.i-1, h.vals)
	return h.vals, nil
}

func (h *headSource) Err() error { return nil }

type keySource struct {
	keys [][]byte
	i    int
	vals [1]any
}

func (k *keySource) Next() bool { k.i++; return k.i <= len(k.keys) }

func (k *keySource) Values() ([]any, error) {
	k.vals[0] = k.keys[k.i-1]
	return k.vals[:], nil
}

func (k *keySource) Err() error { return nil }
