// Package boltstore is the default persistent codes.Store, codes.LinkStore
// and codes.AuditTrail: one bbolt file, pure Go, with every Apply committed
// (and fsynced) before it returns, so an acknowledged change survives
// kill -9 and power loss.
//
// # Usage
//
//	s, err := boltstore.Open("codes.db", boltstore.DefaultConfig())
//	if err != nil { ... }
//	defer s.Close()
//	reg, err := codes.Open(ctx, s, codes.Config{Links: s})
//
// # Layout
//
// Keys are HMAC outputs, so writes by key land at random places in a B+tree,
// and bbolt rewrites every page a transaction touches. The layout keeps the
// randomly written part small and makes the bulky part append-only:
//
//   - log: 8-byte big-endian log position -> entry (codes.AppendEntry, the
//     encoding the hash chain covers) + 8-byte position of the key's
//     previous entry. Positions only grow, so appends fill the last page.
//   - heads: key -> 8-byte position of the key's last entry + its colour
//     (25 bytes a key with the key itself), the only randomly written bucket.
//   - requests: key + Change.RequestID -> 8-byte big-endian Seq of the entry
//     the change appended (all ones if it appended nothing), written in the
//     transaction of the change. Apply looks a change up here only when it
//     has a RequestID, so batches without them pay nothing.
//   - links indexed both ways (phone + person, person + phone -> role, time).
//   - audit: 8-byte big-endian Seq -> the record's codes.AppendAuditRecord
//     bytes, kept as they are so that a byte changed in the file is a broken
//     link codes.VerifyAudit names. Append-only, written by AppendAudit in
//     one transaction a batch. Open creates the bucket in a file written
//     before it existed.
//
// Get reads heads then log; History walks a key's entries backwards through
// the previous-position links; Scan reads heads alone. Pages are 16 KiB
// (fewer, fuller pages per transaction than bbolt's 4 KiB default).
//
// # Concurrency
//
// A Store is safe for concurrent use. bbolt runs one write transaction at a
// time; readers never block and see the last committed state. Apply sorts a
// batch by key and writes it in transactions of Config.BatchSize changes,
// each atomic and holding whole keys, preparing the next while the last is
// written (see Apply for what a failure part-way leaves).
//
// Load (codes.Loader) is the bulk path: a stream too large for one Apply
// is sorted on disk first, then written in key order in the same
// transactions, so each page of the heads bucket is written about once
// rather than by every batch.
//
// The reference server examples/healthcoded opens one Store per process.
package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketHeads    = []byte("heads")
	bucketLog      = []byte("log")
	bucketRequests = []byte("requests")
	bucketByPhone  = []byte("links_by_phone")
	bucketByPerson = []byte("links_by_person")
	bucketAudit    = []byte("audit")
)

// Config configures a Store. Zero fields mean their default.
type Config struct {
	// BatchSize is the most changes Apply writes in one transaction.
	// Default 200 000. Larger batches amortise the fsync and the rewrite of
	// the heads pages; each costs memory for its dirty pages until commit
	// (about 300 bytes a change), twice over while Apply prepares the next
	// transaction during the write of the last.
	BatchSize int
	// LoadRun is the most changes Load sorts in memory and spills as one
	// run. Default 4 000 000: about 1 GiB of memory at its peak for rule
	// decisions with short texts.
	LoadRun int
	// LoadDir is where Load spills its runs, in a directory of its own
	// removed when it returns. Default the database file's directory. It
	// needs room for the stream: about 45 bytes a change plus its texts.
	LoadDir string
	// LockTimeout bounds the wait for the file lock held by another
	// process. Default 1 s.
	LockTimeout time.Duration
	// Logger receives open and close events; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BatchSize: 200_000, LoadRun: 4_000_000, LockTimeout: time.Second}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.BatchSize < 0 {
		return fmt.Errorf("boltstore: Config.BatchSize %d is negative", c.BatchSize)
	}
	if c.LoadRun < 0 {
		return fmt.Errorf("boltstore: Config.LoadRun %d is negative", c.LoadRun)
	}
	if c.LockTimeout < 0 {
		return fmt.Errorf("boltstore: Config.LockTimeout %v is negative", c.LockTimeout)
	}
	return nil
}

// Store is a bbolt-backed codes.Store, codes.LinkStore and
// codes.AuditTrail, safe for concurrent use.
type Store struct {
	db  *bolt.DB
	cfg Config
	mu  sync.Mutex // serialises Apply's transactions so pos is read and advanced by one writer
	pos uint64     // last log position committed; guarded by mu
}

var (
	_ codes.Store     = (*Store)(nil)
	_ codes.LinkStore = (*Store)(nil)
)

// Open opens or creates the database file at path.
func Open(path string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := DefaultConfig()
	if cfg.BatchSize == 0 {
		cfg.BatchSize = d.BatchSize
	}
	if cfg.LoadRun == 0 {
		cfg.LoadRun = d.LoadRun
	}
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = d.LockTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: cfg.LockTimeout,
		// The freelist is rebuilt from the pages on open instead of being
		// written on every commit: cheaper commits, slower open.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		PageSize:       16 << 10,
		// Address space only: reserving it up front saves the remaps (and
		// the re-dereferencing of every live node) while the file grows.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketHeads, bucketLog, bucketRequests, bucketByPhone, bucketByPerson, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	var pos uint64
	if err == nil {
		err = db.View(func(tx *bolt.Tx) error {
			if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
				if len(k) != 8 {
					return codes.ErrCorrupt
				}
				pos = binary.BigEndian.Uint64(k)
			}
			return nil
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: create buckets: %w", err)
	}
	cfg.Logger.Info("boltstore: opened", "path", path)
	return &Store{db: db, cfg: cfg, pos: pos}, nil
}

// Close closes the database file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// A head is the value of the heads bucket: the log position of the key's
// last entry, its colour and its expiry (Unix nanoseconds, 0 for none). The
// colour and expiry are all codes.Advance needs to see that a rule decision
// changes nothing, so unchanged decisions never read the log.
const headLen = 17

func putHead(hv []byte, pos uint64, st codes.State) {
	binary.BigEndian.PutUint64(hv, pos)
	hv[8] = byte(st.Colour)
	var exp int64
	if !st.Expires.IsZero() {
		exp = st.Expires.UnixNano()
	}
	binary.BigEndian.PutUint64(hv[9:], uint64(exp))
}

// headState is the part of a head's state stored in the heads bucket.
func headState(v []byte) codes.State {
	st := codes.State{Colour: codes.Colour(v[8])}
	if exp := int64(binary.BigEndian.Uint64(v[9:])); exp != 0 {
		st.Expires = time.Unix(0, exp).UTC()
	}
	return st
}

func posKey(pos uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), pos) }

func corrupt(k codes.Key, what string) error {
	return fmt.Errorf("boltstore: key %s: %s: %w", k.String()[:12], what, codes.ErrCorrupt)
}

// readEntry reads the log record at pos: the entry and the position of the
// key's previous entry (0: none).
func readEntry(log *bolt.Bucket, k codes.Key, pos uint64) (codes.Entry, uint64, error) {
	v := log.Get(posKey(pos))
	if len(v) < 8 {
		return codes.Entry{}, 0, corrupt(k, "log record missing")
	}
	e, err := codes.DecodeEntry(v[:len(v)-8])
	if err != nil {
		return e, 0, corrupt(k, "log record")
	}
	if e.Key != k {
		return e, 0, corrupt(k, "log record of another key")
	}
	return e, binary.BigEndian.Uint64(v[len(v)-8:]), nil
}

func getHead(tx *bolt.Tx, k codes.Key) (codes.Entry, uint64, bool, error) {
	v := tx.Bucket(bucketHeads).Get(k[:])
	if v == nil {
		return codes.Entry{}, 0, false, nil
	}
	if len(v) != headLen {
		return codes.Entry{}, 0, false, corrupt(k, "head")
	}
	pos := binary.BigEndian.Uint64(v)
	e, _, err := readEntry(tx.Bucket(bucketLog), k, pos)
	return e, pos, err == nil, err
}

// reader reads heads and log records through two cursors, which keep their
// stacks between calls: cheaper than Bucket.Get for many sorted keys.
type reader struct {
	heads, log *bolt.Cursor
}

func newReader(tx *bolt.Tx) *reader {
	return &reader{heads: tx.Bucket(bucketHeads).Cursor(), log: tx.Bucket(bucketLog).Cursor()}
}

// peek returns the head value of k, or nil.
func (r *reader) peek(k codes.Key) ([]byte, error) {
	hk, v := r.heads.Seek(k[:])
	if hk == nil || !bytes.Equal(hk, k[:]) {
		return nil, nil
	}
	if len(v) != headLen {
		return nil, corrupt(k, "head")
	}
	return v, nil
}

func (r *reader) head(k codes.Key) (codes.Entry, uint64, bool, error) {
	v, err := r.peek(k)
	if v == nil || err != nil {
		return codes.Entry{}, 0, false, err
	}
	pos := binary.BigEndian.Uint64(v)
	var pk [8]byte
	binary.BigEndian.PutUint64(pk[:], pos)
	lk, rec := r.log.Seek(pk[:])
	if lk == nil || !bytes.Equal(lk, pk[:]) || len(rec) < 8 {
		return codes.Entry{}, 0, false, corrupt(k, "log record missing")
	}
	e, err := codes.DecodeEntry(rec[:len(rec)-8])
	if err != nil {
		return e, 0, false, corrupt(k, "log record")
	}
	if e.Key != k {
		return e, 0, false, corrupt(k, "log record of another key")
	}
	return e, pos, true, nil
}

// Get implements codes.Store.
func (s *Store) Get(_ context.Context, key codes.Key) (codes.Entry, bool, error) {
	var e codes.Entry
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, _, ok, err = getHead(tx, key)
		return err
	})
	return e, ok, err
}

// arena hands out value slices that stay valid until the transaction
// commits (bbolt keeps references to them), without one allocation a value.
type arena struct{ buf []byte }

func (a *arena) alloc(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, 1<<20))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	return a.buf[start : start+n : start+n]
}

// Apply implements codes.Store. It returns when every transaction has been
// committed and synced to disk.
//
// Apply sorts the batch by key (a key's changes keep their order) and cuts
// it into transactions of at most Config.BatchSize changes at key
// boundaries, so no key spans two transactions. Each transaction's changes
// go through two phases: prepare (read the committed heads, codes.Advance,
// encode the entries) on all cores in read transactions, and write (put the
// prepared entries in key order in one write transaction). The phases are
// pipelined: transaction i+1 is prepared while transaction i is written and
// synced, which is correct because the two hold different keys and Apply
// holds the store's write lock throughout, so what prepare reads is what
// write builds on.
//
// Each transaction is atomic, the batch as a whole is not: a failure or a
// cancelled ctx part-way leaves the keys of the committed transactions
// applied (each with all of its changes in the batch) and the others
// untouched. Retrying the batch is safe when a key's changes repeat
// nothing: a repeated rule decision alone changes nothing and a repeated
// change with a RequestID is a duplicate, but a key's decisions that
// alternate its colour append again.
// A key's RequestIDs are checked against the committed ones and the earlier
// changes of the key in the batch; a repeat appends nothing and counts in
// Applied.Duplicate.
func (s *Store) Apply(ctx context.Context, changes []codes.Change) (codes.Applied, error) {
	if err := codes.ValidateChanges(changes); err != nil {
		return codes.Applied{}, err
	}
	if err := ctx.Err(); err != nil || len(changes) == 0 {
		return codes.Applied{}, err
	}
	order := sortedOrder(changes)
	var txs [][]int
	for rest := order; len(rest) > 0; {
		cut := min(len(rest), s.cfg.BatchSize)
		for cut < len(rest) && changes[rest[cut]].Key == changes[rest[cut-1]].Key {
			cut++ // a key's changes stay in one transaction
		}
		txs = append(txs, rest[:cut])
		rest = rest[cut:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	return s.pipeline(ctx, func() (batch, bool, error) {
		if i == len(txs) {
			return batch{}, false, nil
		}
		i++
		return batch{changes, txs[i-1]}, true, nil
	}, 0, nil)
}

// batch is one transaction's changes: changes[order[0]], changes[order[1]]
// and so on, in key order, holding whole keys.
type batch struct {
	changes []codes.Change
	order   []int
}

// pipeline writes the transactions next returns, one after another,
// preparing transaction i+1 while transaction i is written and synced (see
// Apply), and calls committed, if set, after each commit with the changes
// the transaction held and what they did. headsFill, if not zero, is the
// heads bucket's FillPercent (Load's append-ordered fill of an empty
// bucket). s.mu is held.
func (s *Store) pipeline(ctx context.Context, next func() (batch, bool, error), headsFill float64, committed func(n int, a codes.Applied)) (codes.Applied, error) {
	var total codes.Applied
	prep := func(b batch) <-chan []prepared {
		c := make(chan []prepared, 1) // buffered: an abandoned prepare never blocks
		go func() { c <- s.prepareTx(b.changes, b.order) }()
		return c
	}
	b, ok, err := next()
	if !ok || err != nil {
		return total, err
	}
	pending := prep(b)
	for pending != nil {
		out, n := <-pending, len(b.order)
		pending = nil
		b, ok, err = next()
		if err != nil {
			return total, err
		}
		if ok {
			pending = prep(b)
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		a, err := s.write(out, headsFill)
		if err != nil {
			return total, fmt.Errorf("boltstore: apply: %w", err)
		}
		total.Changed += a.Changed
		total.Unchanged += a.Unchanged
		total.Duplicate += a.Duplicate
		if committed != nil {
			committed(n, a)
		}
	}
	return total, nil
}

// sortKey is a key as two big-endian words (comparing them compares the
// key's bytes) and the change's index, the tie-break that keeps a key's
// changes in batch order.
type sortKey struct {
	hi, lo uint64
	i      int
}

func compareSortKeys(a, b sortKey) int {
	if a.hi != b.hi {
		return cmp.Compare(a.hi, b.hi)
	}
	if a.lo != b.lo {
		return cmp.Compare(a.lo, b.lo)
	}
	return cmp.Compare(a.i, b.i)
}

// sortedOrder returns the indexes of changes ordered by key, then by index.
// Parts are sorted on all cores and merged.
func sortedOrder(changes []codes.Change) []int {
	ks := make([]sortKey, len(changes))
	for i := range changes {
		k := &changes[i].Key
		ks[i] = sortKey{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:]), i}
	}
	parts := min(runtime.GOMAXPROCS(0), 1+len(ks)/(1<<16))
	size := (len(ks) + parts - 1) / parts
	var runs [][]sortKey
	var wg sync.WaitGroup
	for start := 0; start < len(ks); start += size {
		run := ks[start:min(start+size, len(ks))]
		runs = append(runs, run)
		wg.Go(func() { slices.SortFunc(run, compareSortKeys) })
	}
	wg.Wait()
	for len(runs) > 1 { // pairwise merges, log2(parts) rounds
		var merged [][]sortKey
		for j := 0; j < len(runs); j += 2 {
			if j+1 == len(runs) {
				merged = append(merged, runs[j])
				continue
			}
			merged = append(merged, mergeRuns(runs[j], runs[j+1]))
		}
		runs = merged
	}
	order := make([]int, len(ks))
	if len(runs) == 1 {
		for i, k := range runs[0] {
			order[i] = k.i
		}
	}
	return order
}

func mergeRuns(a, b []sortKey) []sortKey {
	out := make([]sortKey, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if compareSortKeys(a[0], b[0]) <= 0 {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// record is an entry prepared for the log.
type record struct {
	key     *codes.Key
	val     []byte      // encoded entry followed by 8 bytes for the previous position
	state   codes.State // colour and expiry go to the heads bucket
	prevPos uint64      // committed position of the key's last entry; 0 if none
}

type prepared struct {
	recs      []record
	reqs      []request // RequestIDs to record, with or without an entry
	unchanged int
	duplicate int
	err       error
}

// request is a row of the requests bucket prepared for writing: the key
// followed by the RequestID, and the Seq of the entry the change appended
// (noEntry if none).
type request struct{ key, val []byte }

// noEntry is the Seq of a request row whose change appended nothing.
const noEntry = ^uint64(0)

// prepareTx prepares one transaction's changes, given in key order, on all
// cores: each worker owns a run of whole keys.
func (s *Store) prepareTx(changes []codes.Change, order []int) []prepared {
	workers := min(runtime.GOMAXPROCS(0), 1+len(order)/4096)
	segs := make([][]int, 0, workers)
	for rest := order; len(rest) > 0; {
		cut := min(len(rest), (len(order)+workers-1)/workers)
		for cut < len(rest) && changes[rest[cut]].Key == changes[rest[cut-1]].Key {
			cut++ // a key's changes stay in one segment
		}
		segs = append(segs, rest[:cut])
		rest = rest[cut:]
	}
	out := make([]prepared, len(segs))
	var wg sync.WaitGroup
	for w := range segs {
		wg.Go(func() { out[w] = s.prepare(changes, segs[w]) })
	}
	wg.Wait()
	return out
}

// write commits prepared records in one transaction; s.mu is held.
// headsFill, if not zero, is the heads bucket's FillPercent.
func (s *Store) write(out []prepared, headsFill float64) (codes.Applied, error) {
	var a codes.Applied
	for _, p := range out {
		if p.err != nil {
			return a, p.err
		}
		a.Unchanged += p.unchanged
		a.Duplicate += p.duplicate
	}
	pos := s.pos
	err := s.db.Update(func(tx *bolt.Tx) error {
		heads, log := tx.Bucket(bucketHeads), tx.Bucket(bucketLog)
		log.FillPercent = 1 // append-only
		if headsFill != 0 {
			heads.FillPercent = headsFill
		}
		var mem arena
		var lastKey *codes.Key
		var lastPos uint64
		for _, p := range out {
			for _, r := range p.recs {
				pos++
				prev := r.prevPos
				if lastKey != nil && *lastKey == *r.key {
					prev = lastPos // chained to an entry of this same batch
				}
				binary.BigEndian.PutUint64(r.val[len(r.val)-8:], prev)
				pk := mem.alloc(8 + headLen)
				binary.BigEndian.PutUint64(pk, pos)
				if err := log.Put(pk[:8], r.val); err != nil {
					return err
				}
				hv := pk[8:]
				putHead(hv, pos, r.state)
				if err := heads.Put(r.key[:], hv); err != nil {
					return err
				}
				lastKey, lastPos = r.key, pos
				a.Changed++
			}
		}
		var reqs *bolt.Bucket // opened at the first RequestID
		for _, p := range out {
			for _, r := range p.reqs {
				if reqs == nil {
					reqs = tx.Bucket(bucketRequests)
				}
				if err := reqs.Put(r.key, r.val); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return codes.Applied{}, err
	}
	s.pos = pos
	return a, nil
}

// prepare advances the keys of one segment from their committed heads.
// A change with a RequestID that the key already holds, committed or
// earlier in the segment (a key's changes are all in one segment), is a
// duplicate; the others have their RequestID recorded whether or not they
// append an entry, as codes.MemStore does.
func (s *Store) prepare(changes []codes.Change, seg []int) prepared {
	p := prepared{recs: make([]record, 0, len(seg))}
	p.err = s.db.View(func(tx *bolt.Tx) error {
		rd := newReader(tx)
		var mem arena
		var buf []byte
		var cur codes.Entry
		var curKey *codes.Key
		var exists bool
		var committed uint64
		var reqs *bolt.Bucket        // opened at the first RequestID
		var seen map[string]struct{} // RequestIDs of seenKey earlier in the segment
		var seenKey codes.Key
		for _, i := range seg {
			ch := &changes[i]
			var req []byte // key + RequestID, if the change has one
			if ch.RequestID != "" {
				if reqs == nil {
					reqs, seen = tx.Bucket(bucketRequests), map[string]struct{}{}
				}
				if seenKey != ch.Key {
					clear(seen)
					seenKey = ch.Key
				}
				req = mem.alloc(len(ch.Key) + len(ch.RequestID))
				copy(req[copy(req, ch.Key[:]):], ch.RequestID)
				if _, dup := seen[ch.RequestID]; dup || reqs.Get(req) != nil {
					p.duplicate++
					continue
				}
				seen[ch.RequestID] = struct{}{}
			}
			if curKey == nil || *curKey != ch.Key {
				v, err := rd.peek(ch.Key)
				if err != nil {
					return err
				}
				if v != nil && !ch.State.Cause.Manual() {
					// Colour and expiry decide whether a rule decision
					// changes anything; only a change needs the full entry.
					if _, changed := codes.Advance(codes.Entry{State: headState(v)}, true, *ch); !changed {
						p.unchanged++
						p.addRequest(&mem, req, noEntry)
						continue
					}
				}
				cur, committed, exists, err = rd.head(ch.Key)
				if err != nil {
					return err
				}
				curKey = &ch.Key
			}
			next, changed := codes.Advance(cur, exists, *ch)
			if !changed {
				p.unchanged++
				p.addRequest(&mem, req, noEntry)
				continue
			}
			buf = codes.AppendEntry(buf[:0], &next)
			val := mem.alloc(len(buf) + 8)
			copy(val, buf)
			p.recs = append(p.recs, record{key: &ch.Key, val: val, state: next.State, prevPos: committed})
			p.addRequest(&mem, req, next.Seq)
			cur, exists = next, true
		}
		return nil
	})
	return p
}

// addRequest records req (nil: the change has no RequestID) as made by the
// entry with Seq seq.
func (p *prepared) addRequest(mem *arena, req []byte, seq uint64) {
	if req == nil {
		return
	}
	val := mem.alloc(8)
	binary.BigEndian.PutUint64(val, seq)
	p.reqs = append(p.reqs, request{key: req, val: val})
}

// History implements codes.Store.
func (s *Store) History(_ context.Context, key codes.Key) ([]codes.Entry, error) {
	var out []codes.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		head, pos, ok, err := getHead(tx, key)
		if !ok || err != nil {
			return err
		}
		out = make([]codes.Entry, 0, head.Seq+1)
		log := tx.Bucket(bucketLog)
		for pos != 0 {
			e, prev, err := readEntry(log, key, pos)
			if err != nil {
				return err
			}
			if prev >= pos || len(out) > int(head.Seq) {
				return corrupt(key, "history links out of order")
			}
			out = append(out, e)
			pos = prev
		}
		slices.Reverse(out)
		return nil
	})
	return out, err
}

// Scan implements codes.Store; it reads the heads bucket only. fn runs
// inside a read transaction, which does not block writers.
func (s *Store) Scan(ctx context.Context, fn func(codes.Key, codes.Colour) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHeads).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var key codes.Key
			if len(k) != len(key) || len(v) != headLen {
				return fmt.Errorf("boltstore: heads: %w", codes.ErrCorrupt)
			}
			copy(key[:], k)
			if err := fn(key, codes.Colour(v[8])); err != nil {
				return err
			}
		}
		return nil
	})
}

func linkVal(l codes.Link) []byte {
	b := []byte{byte(l.Role)}
	return binary.BigEndian.AppendUint64(b, uint64(l.Since.UnixNano()))
}

func linkFrom(phone, person codes.Key, v []byte) (codes.Link, error) {
	if len(v) != 9 {
		return codes.Link{}, fmt.Errorf("boltstore: link: %w", codes.ErrCorrupt)
	}
	return codes.Link{Phone: phone, Person: person, Role: codes.Role(v[0]),
		Since: time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))).UTC()}, nil
}

func pair(a, b codes.Key) []byte { return append(append(make([]byte, 0, 32), a[:]...), b[:]...) }

// Link implements codes.LinkStore.
func (s *Store) Link(_ context.Context, l codes.Link) error {
	if err := codes.ValidateLink(l); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return putLink(tx, l) })
}

// LinkAll records many links in one transaction (one fsync), as a first
// load of a registry's phones needs: Link per row would fsync per row. It
// is all or nothing: an invalid link, or a second owner of a phone (in the
// store or earlier in links), refuses the whole batch with an error naming
// its index, and nothing is written.
func (s *Store) LinkAll(_ context.Context, links []codes.Link) error {
	for i, l := range links {
		if err := codes.ValidateLink(l); err != nil {
			return fmt.Errorf("boltstore: link %d: %w", i, err)
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for i, l := range links {
			if err := putLink(tx, l); err != nil {
				return fmt.Errorf("boltstore: link %d: %w", i, err)
			}
		}
		return nil
	})
}

// putLink writes l in both directions, refusing a second owner of a phone.
func putLink(tx *bolt.Tx, l codes.Link) error {
	byPhone := tx.Bucket(bucketByPhone)
	if l.Role == codes.RoleOwner {
		c := byPhone.Cursor()
		for k, v := c.Seek(l.Phone[:]); k != nil && bytes.HasPrefix(k, l.Phone[:]); k, v = c.Next() {
			if len(v) > 0 && codes.Role(v[0]) == codes.RoleOwner && !bytes.Equal(k[16:], l.Person[:]) {
				return codes.ErrPhoneOwned
			}
		}
	}
	v := linkVal(l)
	if err := byPhone.Put(pair(l.Phone, l.Person), v); err != nil {
		return err
	}
	return tx.Bucket(bucketByPerson).Put(pair(l.Person, l.Phone), slices.Clone(v))
}

// Unlink implements codes.LinkStore.
func (s *Store) Unlink(_ context.Context, phone, person codes.Key) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketByPhone).Delete(pair(phone, person)); err != nil {
			return err
		}
		return tx.Bucket(bucketByPerson).Delete(pair(person, phone))
	})
}

// PhonesOf implements codes.LinkStore.
func (s *Store) PhonesOf(_ context.Context, person codes.Key) ([]codes.Link, error) {
	return s.links(bucketByPerson, person, func(other codes.Key) (codes.Key, codes.Key) { return other, person })
}

// PersonsOf implements codes.LinkStore.
func (s *Store) PersonsOf(_ context.Context, phone codes.Key) ([]codes.Link, error) {
	return s.links(bucketByPhone, phone, func(other codes.Key) (codes.Key, codes.Key) { return phone, other })
}

func (s *Store) links(bucket []byte, key codes.Key, split func(other codes.Key) (phone, person codes.Key)) ([]codes.Link, error) {
	var out []codes.Link
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(key[:]); k != nil && bytes.HasPrefix(k, key[:]); k, v = c.Next() {
			var other codes.Key
			copy(other[:], k[16:])
			ph, pe := split(other)
			l, err := linkFrom(ph, pe, v)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	if out == nil {
		out = []codes.Link{}
	}
	return out, err
}
