package dedupe

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
)

// ReconcileConfig configures Reconcile. The zero value compares by
// document type, document number, name and phone (Sichuan's code-data
// check), normalised. ReconcileConfig and Reconciliation are plain
// values, safe to share read-only.
type ReconcileConfig struct {
	// Key lists the fields two records must agree on (after Normalize) to
	// match. Default: doc_type, doc_number, name, phone.
	Key []Field
}

// Validate reports an unknown or repeated key field.
func (c ReconcileConfig) Validate() error {
	seen := map[Field]bool{}
	for _, f := range c.Key {
		if !f.valid() {
			return fmt.Errorf("%w: Key: unknown field %d", ErrInvalidConfig, int(f))
		}
		if seen[f] {
			return fmt.Errorf("%w: Key: field %s listed twice", ErrInvalidConfig, f)
		}
		seen[f] = true
	}
	return nil
}

func (c ReconcileConfig) withDefaults() ReconcileConfig {
	if len(c.Key) == 0 {
		c.Key = []Field{FieldDocType, FieldDocNumber, FieldName, FieldPhone}
	}
	return c
}

// Reconciliation is the outcome of comparing a source dataset with the
// dataset issued from it.
//
// Counting with duplicates: for a key held by s source records and i
// issued records, min(s, i) pairs are matched (the lowest source ids with
// the lowest issued ids), the other s-min(s, i) source records are
// missing and the other i-min(s, i) issued records are extra. So every
// record is counted exactly once and the identities
//
//	Source = Matched + len(Missing)
//	Issued = Matched + len(Extra)
//
// hold; Reconcile checks them against the number of records it read and
// fails with ErrIdentity if they do not. A record whose key fields are
// all empty matches nothing (it is missing or extra).
type Reconciliation struct {
	Key     []Field
	Source  int64 // records read from the source
	Issued  int64 // records read from the issued data
	Matched int64 // matched pairs
	// Missing are source record ids with no issued counterpart,
	// ascending; Extra are issued record ids with no source counterpart.
	Missing []int64
	Extra   []int64
	// DuplicatedSource and DuplicatedIssued are groups of two or more
	// records of one side sharing a key (ascending ids, groups by first
	// id): data that was duplicated.
	DuplicatedSource [][]int64
	DuplicatedIssued [][]int64
}

// OK reports whether nothing is missing, extra or duplicated.
func (r *Reconciliation) OK() bool {
	return len(r.Missing) == 0 && len(r.Extra) == 0 && len(r.DuplicatedSource) == 0 && len(r.DuplicatedIssued) == 0
}

// rentry is one reconciled record: its key's hash, where the key sits in
// the key arena, its id and side.
type rentry struct {
	h      uint64
	id     int64
	off    uint64
	n      uint32
	issued bool
}

// Reconcile reads both datasets to the end and compares them by
// cfg.Key. It holds each record's normalised key in one pointer-free
// arena plus 40 bytes of bookkeeping, groups keys by hash (radix sort)
// and compares keys exactly within a hash. The first reader error other
// than io.EOF stops it (wrap readers with GoodRows to skip bad rows).
func Reconcile(ctx context.Context, source, issued RecordReader, cfg ReconcileConfig) (*Reconciliation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rep := &Reconciliation{Key: cfg.Key}
	var arena []byte
	var ents []rentry
	read := func(r RecordReader, issuedSide bool, n *int64) error {
		for {
			if *n&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rec, err := r.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			*n++
			// Grow by doubling: append's 1.25x growth on large slices
			// copies (and faults in) the arena many times over.
			arena = doubleCap(arena, 256)
			ents = doubleCap(ents, 1)
			off := len(arena)
			empty := true
			for _, f := range cfg.Key {
				v := normalizeField(f, rec.Get(f))
				empty = empty && v == ""
				arena = append(arena, v...)
				arena = append(arena, 0x1f)
			}
			if empty {
				arena = arena[:off]
				if issuedSide {
					rep.Extra = append(rep.Extra, rec.ID)
				} else {
					rep.Missing = append(rep.Missing, rec.ID)
				}
				continue
			}
			ents = append(ents, rentry{h: mix(fnv1a(fnvOffset, arena[off:])), id: rec.ID, off: uint64(off),
				n: uint32(len(arena) - off), issued: issuedSide})
		}
	}
	if err := read(source, false, &rep.Source); err != nil {
		return nil, err
	}
	if err := read(issued, true, &rep.Issued); err != nil {
		return nil, err
	}
	key := func(e *rentry) []byte { return arena[e.off : e.off+uint64(e.n)] }
	order := make([]entry, len(ents))
	for i := range ents {
		order[i] = entry{h: ents[i].h, i: uint64(i)}
	}
	radixSort(order)
	var run []*rentry
	var src, iss []int64
	for i := 0; i < len(order); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j := i + 1
		for j < len(order) && order[j].h == order[i].h {
			j++
		}
		run = run[:0]
		same := true
		for _, o := range order[i:j] {
			e := &ents[o.i]
			same = same && (len(run) == 0 || bytes.Equal(key(e), key(run[0])))
			run = append(run, e)
		}
		if !same { // a hash collision: bring equal keys together
			slices.SortFunc(run, func(a, b *rentry) int { return bytes.Compare(key(a), key(b)) })
		}
		for k := 0; k < len(run); {
			l := k + 1
			for l < len(run) && bytes.Equal(key(run[l]), key(run[k])) {
				l++
			}
			src, iss = src[:0], iss[:0]
			for _, e := range run[k:l] {
				if e.issued {
					iss = append(iss, e.id)
				} else {
					src = append(src, e.id)
				}
			}
			slices.Sort(src)
			slices.Sort(iss)
			m := min(len(src), len(iss))
			rep.Matched += int64(m)
			rep.Missing = append(rep.Missing, src[m:]...)
			rep.Extra = append(rep.Extra, iss[m:]...)
			if len(src) > 1 {
				rep.DuplicatedSource = append(rep.DuplicatedSource, slices.Clone(src))
			}
			if len(iss) > 1 {
				rep.DuplicatedIssued = append(rep.DuplicatedIssued, slices.Clone(iss))
			}
			k = l
		}
		i = j
	}
	slices.Sort(rep.Missing)
	slices.Sort(rep.Extra)
	byFirst := func(a, b []int64) int { return cmp.Compare(a[0], b[0]) }
	slices.SortFunc(rep.DuplicatedSource, byFirst)
	slices.SortFunc(rep.DuplicatedIssued, byFirst)
	if rep.Source != rep.Matched+int64(len(rep.Missing)) {
		return nil, fmt.Errorf("%w: source has %d records, matched %d + missing %d", ErrIdentity, rep.Source, rep.Matched, len(rep.Missing))
	}
	if rep.Issued != rep.Matched+int64(len(rep.Extra)) {
		return nil, fmt.Errorf("%w: issued has %d records, matched %d + extra %d", ErrIdentity, rep.Issued, rep.Matched, len(rep.Extra))
	}
	return rep, nil
}

// doubleCap returns s with room for at least n more elements, doubling
// its capacity when it has to grow.
func doubleCap[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), max(2*cap(s), len(s)+n, 1024))
	copy(out, s)
	return out
}
