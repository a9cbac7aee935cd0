// Package chain is what the database-backed stores (codes/pgstore,
// codes/mysqlstore) share of Apply: a batch in key order, and a walk that
// chains its changes from the heads the store locked, with codes.Advance,
// yielding one history row at a time and collecting the new heads, the
// RequestIDs of changes that appended nothing and the feed record. The
// stores keep their SQL; the chaining, the thing that must not differ
// between them, is here once. Feed records' packing is here too.
package chain

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// ReqKey is a change's key and RequestID.
type ReqKey struct {
	Key codes.Key
	ID  string
}

// Batch is a validated batch in key order.
type Batch struct {
	Changes []codes.Change
	Order   []int       // indexes of Changes by key, then by index
	Keys    []codes.Key // distinct keys, in order
	RIDs    []ReqKey    // distinct (key, RequestID) pairs, in key order
}

// NewBatch orders changes by key.
func NewBatch(changes []codes.Change) *Batch {
	b := &Batch{Changes: changes, Order: SortedOrder(changes)}
	var seen map[ReqKey]struct{}
	for n, i := range b.Order {
		ch := &changes[i]
		if n == 0 || ch.Key != changes[b.Order[n-1]].Key {
			b.Keys = append(b.Keys, ch.Key)
		}
		if ch.RequestID == "" {
			continue
		}
		if seen == nil {
			seen = map[ReqKey]struct{}{}
		}
		rk := ReqKey{ch.Key, ch.RequestID}
		if _, ok := seen[rk]; !ok {
			seen[rk] = struct{}{}
			b.RIDs = append(b.RIDs, rk)
		}
	}
	return b
}

// sortKey is a key as two big-endian words (comparing them compares the
// key's bytes, as databases compare bytea and VARBINARY) and the change's
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

// SortedOrder returns the indexes of changes ordered by key, then by
// index. Keys are HMAC outputs, uniform over their range: a stable
// counting sort on their top 16 bits leaves buckets of a few changes each
// (at a million changes), which a comparison sort then finishes.
func SortedOrder(changes []codes.Change) []int {
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

// Head is a locked head row: all codes.Advance reads of a key's last
// entry (its Seq, Hash, Colour and Expires).
type Head struct {
	Key     codes.Key
	Seq     uint64
	Colour  codes.Colour
	Expires int64 // Unix nanoseconds; 0: none
	Hash    [32]byte
}

// Walker walks a Batch in key order from its heads (those that exist, in
// key order), producing one history row per Next. Set B, Heads, Dups and
// OnHead, then call Next until it returns false; Err says why it stopped
// early.
type Walker struct {
	B     *Batch
	Heads []Head
	Dups  map[ReqKey]struct{} // (key, RequestID) pairs the store already holds
	// OnHead is called once per key the batch changed, after its last
	// entry: existed says whether the key had a committed head (update it)
	// or not (insert it). last is valid only during the call.
	OnHead func(key *codes.Key, last *codes.Entry, existed bool)
	// Prefix starts error messages ("pgstore").
	Prefix string

	// The history row Next produced, valid until the next call.
	RowKey   *codes.Key
	RowSeq   int64
	RowEntry []byte
	RowRID   string

	Applied codes.Applied
	Reqs    []ReqKey // RequestIDs of changes that appended nothing, to record
	Feed    []byte   // PackChange of each changed key
	Err     error

	seen    map[ReqKey]struct{}
	at, hi  int
	key     *codes.Key
	cur     codes.Entry
	exists  bool // the key has an entry (committed or of this batch)
	existed bool // the key had a committed head
	changed bool // the batch appended to the key
}

// Next advances to the next history row; false at the end of the batch
// or on an error (Err).
func (v *Walker) Next() bool {
	for v.at < len(v.B.Order) && v.Err == nil {
		ch := &v.B.Changes[v.B.Order[v.at]]
		if v.key == nil || *v.key != ch.Key {
			v.flush()
			v.start(&ch.Key)
		}
		v.at++
		if ch.RequestID != "" {
			rk := ReqKey{ch.Key, ch.RequestID}
			_, dup := v.Dups[rk]
			if _, again := v.seen[rk]; dup || again {
				v.Applied.Duplicate++
				continue
			}
			if v.seen == nil {
				v.seen = map[ReqKey]struct{}{}
			}
			v.seen[rk] = struct{}{}
		}
		next, changed := codes.Advance(v.cur, v.exists, *ch)
		if !changed {
			v.Applied.Unchanged++
			if ch.RequestID != "" {
				v.Reqs = append(v.Reqs, ReqKey{ch.Key, ch.RequestID})
			}
			continue
		}
		v.Applied.Changed++
		v.cur, v.exists, v.changed = next, true, true
		v.RowEntry = codes.AppendEntry(v.RowEntry[:0], &next)
		v.RowKey, v.RowSeq, v.RowRID = &ch.Key, int64(next.Seq), ch.RequestID
		return true
	}
	if v.Err == nil && v.key != nil {
		v.flush()
		v.key = nil
		if v.hi != len(v.Heads) {
			v.Err = fmt.Errorf("%s: heads came back out of key order: %w", v.Prefix, codes.ErrCorrupt)
		}
	}
	return false
}

func (v *Walker) start(k *codes.Key) {
	v.key, v.changed = k, false
	if v.hi < len(v.Heads) && v.Heads[v.hi].Key == *k {
		h := &v.Heads[v.hi]
		v.hi++
		v.cur = codes.Entry{Key: *k, Seq: h.Seq, Hash: h.Hash, State: codes.State{Colour: h.Colour}}
		if h.Expires != 0 {
			v.cur.State.Expires = time.Unix(0, h.Expires).UTC()
		}
		v.exists, v.existed = true, true
		return
	}
	v.cur, v.exists, v.existed = codes.Entry{}, false, false
}

func (v *Walker) flush() {
	if v.key == nil || !v.changed {
		return
	}
	if v.OnHead != nil {
		v.OnHead(v.key, &v.cur, v.existed)
	}
	v.Feed = append(append(v.Feed, v.key[:]...), byte(v.cur.State.Colour))
}

// changeLen is a packed FeedChange: key and colour.
const changeLen = 17

// UnpackRecord builds a feed record from its columns: a note if hasTopic,
// else changes packed as key (16 bytes) + colour (1 byte) and links as
// person keys (16 bytes each). prefix starts error messages.
func UnpackRecord(prefix string, pos uint64, at time.Time, hasTopic bool, topic string, body, changes, links []byte) (codes.FeedRecord, error) {
	r := codes.FeedRecord{Pos: pos, At: at}
	if hasTopic {
		r.Topic, r.Body = topic, body
		if r.Body == nil {
			r.Body = []byte{}
		}
		return r, nil
	}
	if len(changes)%changeLen != 0 || len(links)%16 != 0 {
		return r, fmt.Errorf("%s: feed record %d: %w", prefix, pos, codes.ErrCorrupt)
	}
	if len(changes) > 0 {
		r.Changes = make([]codes.FeedChange, len(changes)/changeLen)
		for i := range r.Changes {
			b := changes[i*changeLen:]
			r.Changes[i] = codes.FeedChange{Key: codes.Key(b[:16]), Colour: codes.Colour(b[16])}
		}
	}
	if len(links) > 0 {
		r.Links = make([]codes.Key, len(links)/16)
		for i := range r.Links {
			r.Links[i] = codes.Key(links[i*16:])
		}
	}
	return r, nil
}
