package pgstore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/internal/chain"
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

// batch is a validated batch in key order, with its keys and its
// (key, RequestID) pairs as the statements' array parameters.
type batch struct {
	*chain.Batch
	keys    [][]byte
	ridKeys [][]byte
	rids    []string
}

func newBatch(changes []codes.Change) *batch {
	b := &batch{Batch: chain.NewBatch(changes)}
	b.keys = make([][]byte, len(b.Keys))
	for i := range b.Keys {
		b.keys[i] = b.Keys[i][:]
	}
	for i := range b.RIDs {
		b.ridKeys = append(b.ridKeys, b.RIDs[i].Key[:])
		b.rids = append(b.rids, b.RIDs[i].ID)
	}
	return b
}

func (v *advancer) readHeads(rows pgx.Rows) error {
	var err error
	v.Heads, err = readHeads(rows)
	return err
}

func (v *advancer) readDups(rows pgx.Rows) error {
	v.Dups = map[chain.ReqKey]struct{}{}
	for rows.Next() {
		var k []byte
		var id string
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		v.Dups[chain.ReqKey{Key: codes.Key(k), ID: id}] = struct{}{}
	}
	return rows.Err()
}

func readHeads(rows pgx.Rows) ([]chain.Head, error) {
	var out []chain.Head
	raw := false
	for n := 0; rows.Next(); n++ {
		if n == 0 {
			raw = binaryFormat(rows)
		}
		var h chain.Head
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
		if len(key) != len(h.Key) || len(hash) != len(h.Hash) || seq < 0 {
			return nil, fmt.Errorf("pgstore: heads: %w", codes.ErrCorrupt)
		}
		copy(h.Key[:], key)
		copy(h.Hash[:], hash)
		h.Seq, h.Colour, h.Expires = uint64(seq), codes.Colour(col), exp
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

// advancer is one attempt's walk of the batch (chain.Walker) and the
// heads it leaves to write, column by column.
type advancer struct {
	chain.Walker
	newHeads, updHeads headCols
}

func newAdvancer(b *batch) *advancer {
	v := &advancer{}
	v.B, v.Prefix = b.Batch, "pgstore"
	v.OnHead = func(key *codes.Key, last *codes.Entry, existed bool) {
		if existed {
			v.updHeads.add(key[:], last)
		} else {
			v.newHeads.add(key[:], last)
		}
	}
	return v
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
	v := newAdvancer(b)
	bulk := len(b.Changes) >= bulkChanges
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
	v.newHeads.grow(len(b.keys) - len(v.Heads))
	v.updHeads.grow(len(v.Heads))
	v.Feed = make([]byte, 0, 17*len(b.keys))
	write := &pgx.Batch{}
	if !bulk {
		s.queueSmall(write, v)
	} else if err := s.copyBulk(ctx, conn, write, v); err != nil {
		return codes.Applied{}, err
	}
	if v.Err != nil {
		return codes.Applied{}, v.Err
	}
	if len(v.Reqs) > 0 {
		keys, ids := make([][]byte, len(v.Reqs)), make([]string, len(v.Reqs))
		for i := range v.Reqs {
			keys[i], ids[i] = v.Reqs[i].Key[:], v.Reqs[i].ID
		}
		write.Queue(s.q.insRequests, keys, ids)
	}
	if v.Applied.Changed > 0 {
		write.Queue(s.q.feedChanges, v.Feed)
	}
	write.Queue("COMMIT")
	c2, cancel2 := s.bound(ctx, len(v.updHeads.keys)+len(v.Reqs))
	defer cancel2()
	if err := conn.SendBatch(c2, write).Close(); err != nil {
		return codes.Applied{}, err
	}
	return v.Applied, nil
}

// queueSmall computes every entry and queues the writes as statements
// with array parameters.
func (s *Store) queueSmall(write *pgx.Batch, v *advancer) {
	var keys, entries [][]byte
	var seqs []int64
	var rids []pgtype.Text
	var arena []byte
	for v.Next() {
		arena = append(arena, v.RowEntry...)
		n := len(arena)
		keys = append(keys, v.RowKey[:])
		seqs = append(seqs, v.RowSeq)
		entries = append(entries, arena[n-len(v.RowEntry):n:n])
		rids = append(rids, text(v.RowRID))
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
	n := len(v.B.Changes)
	c, cancel := s.bound(ctx, n)
	defer cancel()
	if _, err := conn.CopyFrom(c, pgx.Identifier{s.cfg.Schema, "history"}, []string{"key", "seq", "entry", "request_id"}, &historySource{v: v}); err != nil {
		return err
	}
	if v.Err != nil {
		return v.Err
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

func (h *historySource) Next() bool { return h.v.Next() }

func (h *historySource) Values() ([]any, error) {
	v := h.v
	h.vals = [4]any{v.RowKey[:], v.RowSeq, v.RowEntry, nil}
	if v.RowRID != "" {
		h.vals[3] = v.RowRID
	}
	return h.vals[:], nil
}

func (h *historySource) Err() error { return h.v.Err }

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
