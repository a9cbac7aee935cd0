package dedupe

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// Config tunes a Resolver's use of memory, disk and cores. The zero value
// is DefaultConfig; a zero field means its default. A Config is a plain
// value; the Resolver copies it.
type Config struct {
	// MemoryBudget is roughly how many bytes Stream holds in memory for
	// the records it has read (compactly encoded, about 150-250 bytes a
	// registry record) before it spills them to partitions, and how much
	// the partitions being resolved at once may take. Default 1 GiB.
	MemoryBudget int64
	// Partitions is the fan-out of a spill: records are split into this
	// many partitions by a hash of their suspicious key, and each is
	// resolved in memory. A partition still over budget is split again.
	// Default 64; at most 4096.
	Partitions int
	// Workers is how many goroutines hash records and resolve partitions.
	// Default runtime.GOMAXPROCS(0).
	Workers int
	// Spill stores partitions. Default DirSpill("") (the OS temp dir).
	Spill SpillStore
	// Logger receives one line per spill (counts only, never personal
	// data). Nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{MemoryBudget: 1 << 30, Partitions: 64, Workers: runtime.GOMAXPROCS(0), Spill: DirSpill("")}
}

// Validate reports the first bad field of c, by name.
func (c Config) Validate() error {
	switch {
	case c.MemoryBudget < 0:
		return fmt.Errorf("%w: MemoryBudget: must not be negative", ErrInvalidConfig)
	case c.Partitions < 0 || c.Partitions == 1 || c.Partitions > 4096:
		return fmt.Errorf("%w: Partitions: must be 0 (default) or 2..4096, got %d", ErrInvalidConfig, c.Partitions)
	case c.Workers < 0:
		return fmt.Errorf("%w: Workers: must not be negative", ErrInvalidConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MemoryBudget == 0 {
		c.MemoryBudget = d.MemoryBudget
	}
	if c.Partitions == 0 {
		c.Partitions = d.Partitions
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Spill == nil {
		c.Spill = d.Spill
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Action is what happens to a record. A plain value, safe for concurrent
// use.
type Action uint8

// Actions. Resolve decides ActionKeep and ActionDrop; reviewers may also
// ActionMerge.
const (
	ActionKeep Action = iota + 1
	ActionDrop
	ActionMerge
)

var actionNames = map[Action]string{ActionKeep: "keep", ActionDrop: "drop", ActionMerge: "merge"}

func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText writes "keep", "drop" or "merge".
func (a Action) MarshalText() ([]byte, error) {
	s, ok := actionNames[a]
	if !ok {
		return nil, fmt.Errorf("%w: unknown action %d", ErrInvalidDecision, int(a))
	}
	return []byte(s), nil
}

// UnmarshalText parses "keep", "drop" or "merge".
func (a *Action) UnmarshalText(b []byte) error {
	for v, s := range actionNames {
		if s == string(b) {
			*a = v
			return nil
		}
	}
	return fmt.Errorf("%w: unknown action %q", ErrInvalidDecision, b)
}

// Decision is the automatic resolution of one record of an identical
// duplicate group. The output types (Decision, DuplicateGroup,
// ReviewGroup, FieldDiff, Stats) are plain values: safe to share for
// reading once returned, not for concurrent modification.
type Decision struct {
	Record   int64
	Action   Action // ActionKeep for the survivor, ActionDrop for the others
	Survivor int64  // the record the group keeps
	Group    string // the DuplicateGroup's ID
	Reason   string // why, in words; never personal data
}

// DuplicateGroup is a set of records equal on the policy's DuplicateKey.
type DuplicateGroup struct {
	ID       string  // "dup-" + the lowest record id
	Records  []int64 // ascending
	Survivor int64   // the record the keep rule picks
	// Identical groups are equal on every Identical field too and are
	// resolved automatically (Decisions). Others are left to review.
	Identical bool
	Decisions []Decision // one per record, in Records order; nil unless Identical
}

// ReviewKind says why records went to review. A plain value, safe for
// concurrent use.
type ReviewKind uint8

// Review kinds.
const (
	// ReviewSuspicious: records share the suspicious key (the ID number)
	// but are not all duplicates of each other.
	ReviewSuspicious ReviewKind = iota + 1
	// ReviewConflict: records are duplicates (equal on the duplicate key)
	// but differ in another Identical field, so they are not resolved
	// automatically.
	ReviewConflict
)

func (k ReviewKind) String() string {
	switch k {
	case ReviewSuspicious:
		return "suspicious"
	case ReviewConflict:
		return "conflict"
	}
	return "ReviewKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes "suspicious" or "conflict".
func (k ReviewKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ReviewGroup is a set of records a person must look at, with what
// differs between them.
type ReviewGroup struct {
	ID      string // "rev-" + the lowest record id
	Kind    ReviewKind
	Records []Record // as read (not normalised), ascending by ID
	// AutoDropped lists members already dropped as identical duplicates.
	AutoDropped []int64
	// Proposed is the record the keep rule would keep among the members
	// not AutoDropped: a suggestion for the reviewer.
	Proposed int64
	// Diffs has one entry per field whose normalised values differ, in
	// Field order.
	Diffs []FieldDiff
}

// FieldDiff shows one field across a review group's records.
type FieldDiff struct {
	Field Field
	// Values are the normalised values, aligned with ReviewGroup.Records.
	Values []string
	// Similarity is each value's Jaro-Winkler similarity to the Proposed
	// record's value (1 for the Proposed record itself), aligned with
	// Records.
	Similarity []float64
	// Min is the lowest Similarity.
	Min float64
}

// Stats counts what a resolve did.
type Stats struct {
	Records         int64 // records read
	DuplicateGroups int64
	Dropped         int64 // records dropped automatically
	Suspicious      int64 // ReviewSuspicious groups
	Conflicts       int64 // ReviewConflict groups
	Partitions      int   // spill partitions used; 0 when resolved in memory
}

// Sink receives the output of Resolver.Stream, one group at a time. The
// order is deterministic for a given input, policy and partition count,
// but is not sorted; Result sorts. Stream calls a Sink from the goroutine
// that called Stream, never concurrently, so a Sink need not be safe for
// concurrent use.
type Sink interface {
	Duplicate(DuplicateGroup) error
	Review(ReviewGroup) error
}

// Result is the whole output of a resolve, sorted by group ID's record
// id. It implements Sink. A Result is not safe for concurrent use.
type Result struct {
	Stats      Stats
	Duplicates []DuplicateGroup
	Reviews    []ReviewGroup
}

var _ Sink = (*Result)(nil)

// Duplicate appends g.
func (r *Result) Duplicate(g DuplicateGroup) error {
	r.Duplicates = append(r.Duplicates, g)
	return nil
}

// Review appends g.
func (r *Result) Review(g ReviewGroup) error {
	r.Reviews = append(r.Reviews, g)
	return nil
}

func (r *Result) sort() {
	slices.SortFunc(r.Duplicates, func(a, b DuplicateGroup) int { return cmp.Compare(a.Records[0], b.Records[0]) })
	slices.SortFunc(r.Reviews, func(a, b ReviewGroup) int { return cmp.Compare(a.Records[0].ID, b.Records[0].ID) })
}

// Decisions returns the decisions of every identical duplicate group, in
// group order.
func (r *Result) Decisions() []Decision {
	var out []Decision
	for _, g := range r.Duplicates {
		out = append(out, g.Decisions...)
	}
	return out
}

// Changes returns the change set of the automatic decisions: one
// ChangeDelete per dropped record.
func (r *Result) Changes() []Change {
	var out []Change
	for _, d := range r.Decisions() {
		if d.Action == ActionDrop {
			out = append(out, Change{Op: ChangeDelete, Record: d.Record, MergedInto: d.Survivor, Group: d.Group, Reason: d.Reason})
		}
	}
	return out
}

// RecordReader yields records one at a time; Read returns io.EOF after the
// last. The CSV Reader is one. Stream may call Read from a goroutine of
// its own (to read ahead), but never concurrently and never after Stream
// has returned, so a RecordReader need not be safe for concurrent use.
type RecordReader interface {
	Read() (Record, error)
}

// SliceReader returns a RecordReader over recs.
func SliceReader(recs []Record) RecordReader { return &sliceReader{recs: recs} }

type sliceReader struct {
	recs []Record
	i    int
}

func (s *sliceReader) Read() (Record, error) {
	if s.i >= len(s.recs) {
		return Record{}, io.EOF
	}
	s.i++
	return s.recs[s.i-1], nil
}

// Resolver finds duplicate and suspicious records under one Policy. It
// holds only its immutable configuration and is safe for concurrent use.
type Resolver struct {
	policy Policy
	cfg    Config
	ident  []Field
}

// NewResolver validates p and cfg and returns a Resolver.
func NewResolver(p Policy, cfg Config) (*Resolver, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	return &Resolver{policy: p, cfg: cfg.withDefaults(), ident: p.identicalFields()}, nil
}

// Resolve resolves recs under p with the default Config, in memory. It is
// NewResolver followed by Resolver.Resolve.
func Resolve(ctx context.Context, recs []Record, p Policy) (*Result, error) {
	r, err := NewResolver(p, Config{})
	if err != nil {
		return nil, err
	}
	return r.Resolve(ctx, recs)
}

// Resolve resolves recs in memory (they are already there) and returns
// the sorted result. recs is not modified. Record IDs must be unique among
// records that share a key; a repeat is ErrDuplicateID.
func (r *Resolver) Resolve(ctx context.Context, recs []Record) (*Result, error) {
	res := &Result{}
	st, err := r.resolveSlice(ctx, recs, r.cfg.Workers, res)
	if err != nil {
		return nil, err
	}
	st.Records = int64(len(recs))
	res.Stats = st
	res.sort()
	return res, nil
}

// Stream resolves the records src yields, handing groups to sink as they
// are found, within the memory budget: records are buffered, encoded in
// pointer-free chunks with the hash of their key, until the budget is
// reached, then spilled to Config.Partitions partitions by a
// hash of their suspicious key, and each partition is resolved in memory
// (external partitioning). Records with the same key always land in the
// same partition, so the result equals Resolve's (in another order). As
// for Resolve, a repeated record id within a key is ErrDuplicateID. src's
// first error other than io.EOF stops the run and is returned.
func (r *Resolver) Stream(ctx context.Context, src RecordReader, sink Sink) (Stats, error) {
	var st Stats
	mem := &memTable{}
	var parts *partitioner
	defer func() {
		if parts != nil {
			parts.close()
		}
	}()
	next, stop := r.prefetch(ctx, src)
	defer stop()
	h := hasher{p: &r.policy}
	var enc, body []byte
	for {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		st.Records++
		hv, ok := h.hash(&rec)
		if !ok {
			continue // matches nothing
		}
		enc, body = encodeRecord(enc[:0], body, &rec)
		if parts != nil {
			if err := parts.write(hv, enc); err != nil {
				return st, err
			}
			continue
		}
		mem.add(hv, enc)
		if mem.bytes > r.cfg.MemoryBudget {
			parts, err = r.newPartitioner(0, r.cfg.Partitions)
			if err != nil {
				return st, err
			}
			for _, e := range mem.es {
				b, err := mem.encoded(e.i)
				if err != nil {
					return st, err
				}
				if err := parts.write(e.h, b); err != nil {
					return st, err
				}
			}
			mem = nil
		}
	}
	if parts == nil {
		got, err := r.resolveMem(ctx, mem, sink)
		got.Records = st.Records
		return got, err
	}
	if err := parts.flush(); err != nil {
		return st, err
	}
	r.cfg.Logger.Info("dedupe: spilled", "records", st.Records, "partitions", len(parts.files))
	got, err := r.resolvePartitions(ctx, parts, sink)
	got.Records = st.Records
	return got, err
}

// prefetchBatch is how many records the reading goroutine hands over at
// a time.
const prefetchBatch = 1024

// prefetch returns a function that yields src's records in order. With
// more than one worker, a goroutine reads ahead in batches, so that
// parsing the input overlaps with hashing and spilling; it stops when ctx
// is cancelled. The function returns io.EOF after the last record, or the
// first error (including ctx.Err()). stop ends the read-ahead and waits for
// the goroutine, so that src is not read after Stream returns.
func (r *Resolver) prefetch(ctx context.Context, src RecordReader) (next func() (Record, error), stop func()) {
	if r.cfg.Workers < 2 {
		n := 0
		return func() (Record, error) {
			if n++; n&4095 == 0 {
				if err := ctx.Err(); err != nil {
					return Record{}, err
				}
			}
			return src.Read()
		}, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	type batch struct {
		recs []Record
		err  error
	}
	ch := make(chan batch, 4)
	free := make(chan []Record, 8) // consumed batches, for reuse
	go func() {
		defer close(done)
		defer close(ch)
		for {
			var b batch
			select {
			case recs := <-free:
				b.recs = recs[:0]
			default:
				b.recs = make([]Record, 0, prefetchBatch)
			}
			for len(b.recs) < prefetchBatch {
				rec, err := src.Read()
				if err != nil {
					b.err = err
					break
				}
				b.recs = append(b.recs, rec)
			}
			select {
			case ch <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	var cur batch
	i := 0
	return func() (Record, error) {
			for i >= len(cur.recs) {
				if cur.err != nil {
					return Record{}, cur.err
				}
				if cur.recs != nil {
					select {
					case free <- cur.recs:
					default:
					}
					cur.recs = nil
				}
				var ok bool
				select {
				case cur, ok = <-ch:
				case <-ctx.Done():
					return Record{}, ctx.Err()
				}
				if !ok {
					return Record{}, ctx.Err()
				}
				i = 0
			}
			i++
			return cur.recs[i-1], nil
		}, func() {
			cancel()
			<-done
		}
}

// ---- hashing ----

// entry pairs a record's key hash with its index (or, in a memTable,
// its position).
type entry struct {
	h uint64
	i uint64
}

// fnv1a hashes b (64-bit FNV-1a) and finishes with the SplitMix64 mixer so
// that every bit depends on every byte. Deterministic across runs.
func fnv1a(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const fnvOffset = 14695981039346656037

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// hasher computes a record's grouping hash: the hash of its normalised
// suspicious key or, when every suspicious-key field is empty, of its
// duplicate key (see Policy). ok is false when both keys are empty: such a
// record matches nothing.
type hasher struct {
	p   *Policy
	buf []byte
}

func (h *hasher) hash(r *Record) (uint64, bool) {
	h.buf = h.buf[:0]
	empty := true
	for _, f := range h.p.SuspiciousKey {
		v := normalizeField(f, r.Get(f))
		empty = empty && v == ""
		h.buf = append(h.buf, v...)
		h.buf = append(h.buf, 0x1f)
	}
	if !empty {
		return mix(fnv1a(fnvOffset, h.buf)), true
	}
	h.buf = h.buf[:0]
	for _, f := range h.p.DuplicateKey {
		v := normalizeField(f, r.Get(f))
		empty = empty && v == ""
		h.buf = append(h.buf, v...)
		h.buf = append(h.buf, 0x1f)
	}
	if empty {
		return 0, false
	}
	return mix(fnv1a(fnvOffset^0x5bd1e995, h.buf)), true
}

// radixSort sorts es by h (LSD, 8 bits a pass, skipping passes where every
// key has the same byte).
func radixSort(es []entry) {
	if len(es) < 256 {
		slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.h, b.h) })
		return
	}
	tmp := make([]entry, len(es))
	src, dst := es, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, e := range src {
			count[byte(e.h>>shift)]++
		}
		if count[byte(src[0].h>>shift)] == len(src) {
			continue
		}
		pos := 0
		for i, c := range count {
			count[i] = pos
			pos += c
		}
		for _, e := range src {
			b := byte(e.h >> shift)
			dst[count[b]] = e
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &es[0] {
		copy(es, src)
	}
}

// resolveSlice resolves recs in memory and hands the groups to sink. It
// hashes with up to workers goroutines.
func (r *Resolver) resolveSlice(ctx context.Context, recs []Record, workers int, sink Sink) (Stats, error) {
	var st Stats
	if len(recs) > 1<<31-1 {
		return st, fmt.Errorf("%w: more than 2^31-1 records; use Stream", ErrInvalidConfig)
	}
	es := make([]entry, len(recs))
	keep := make([]bool, len(recs))
	chunk := (len(recs) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	var ctxErr error
	var mu sync.Mutex
	for w := 0; w < workers && w*chunk < len(recs); w++ {
		lo, hi := w*chunk, min(len(recs), (w+1)*chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hasher{p: &r.policy}
			for i := lo; i < hi; i++ {
				if (i-lo)&8191 == 0 && ctx.Err() != nil {
					mu.Lock()
					ctxErr = ctx.Err()
					mu.Unlock()
					return
				}
				es[i].h, keep[i] = h.hash(&recs[i])
				es[i].i = uint64(i)
			}
		}()
	}
	wg.Wait()
	if ctxErr != nil {
		return st, ctxErr
	}
	// Drop records that match nothing.
	n := 0
	for i := range es {
		if keep[i] {
			es[n] = es[i]
			n++
		}
	}
	es = es[:n]
	radixSort(es)
	c := clusterer{r: r}
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].h == es[i].h {
			j++
		}
		if j-i > 1 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			c.members = c.members[:0]
			for _, e := range es[i:j] {
				c.members = append(c.members, member{rec: &recs[e.i]})
			}
			if err := c.resolve(&st, sink); err != nil {
				return st, err
			}
		}
		i = j
	}
	return st, nil
}

// ---- clusters: records with equal hashes ----

type member struct {
	rec *Record
	n   Record // normalised
	gk  string // group key: "S"+suspicious key, or "D"+duplicate key when the suspicious key is empty
	dk  string // duplicate key
}

type clusterer struct {
	r       *Resolver
	members []member
	buf     []byte
}

func (c *clusterer) key(n *Record, fs []Field) (string, bool) {
	c.buf = c.buf[:0]
	empty := true
	for _, f := range fs {
		v := n.Get(f)
		empty = empty && v == ""
		c.buf = append(c.buf, v...)
		c.buf = append(c.buf, 0x1f)
	}
	return string(c.buf), empty
}

// resolve splits a cluster into suspicious-key groups and duplicate
// groups, decides the identical duplicates and emits the groups.
func (c *clusterer) resolve(st *Stats, sink Sink) error {
	p := &c.r.policy
	ms := c.members
	for i := range ms {
		m := &ms[i]
		m.n = Normalize(*m.rec)
		m.dk, _ = c.key(&m.n, p.DuplicateKey)
		sk, empty := c.key(&m.n, p.SuspiciousKey)
		if empty {
			m.gk = "D" + m.dk
		} else {
			m.gk = "S" + sk
		}
	}
	slices.SortFunc(ms, func(a, b member) int {
		return cmp.Or(cmp.Compare(a.gk, b.gk), cmp.Compare(a.dk, b.dk), cmp.Compare(a.rec.ID, b.rec.ID))
	})
	for i := 1; i < len(ms); i++ {
		if ms[i].gk == ms[i-1].gk && ms[i].dk == ms[i-1].dk && ms[i].rec.ID == ms[i-1].rec.ID {
			return fmt.Errorf("%w: %d", ErrDuplicateID, ms[i].rec.ID)
		}
	}
	for i := 0; i < len(ms); {
		j := i + 1
		for j < len(ms) && ms[j].gk == ms[i].gk {
			j++
		}
		if j-i > 1 {
			if err := c.group(ms[i:j], st, sink); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// group handles one suspicious-key group (two or more records).
func (c *clusterer) group(g []member, st *Stats, sink Sink) error {
	r := c.r
	dropped := map[int64]bool{}
	keys := 0
	conflict := false
	for i := 0; i < len(g); {
		j := i + 1
		for j < len(g) && g[j].dk == g[i].dk {
			j++
		}
		keys++
		if j-i > 1 {
			d := r.duplicateGroup(g[i:j])
			if d.Identical {
				for _, dec := range d.Decisions {
					if dec.Action == ActionDrop {
						dropped[dec.Record] = true
					}
				}
			} else {
				conflict = true
			}
			st.DuplicateGroups++
			st.Dropped += int64(len(d.Decisions))
			if len(d.Decisions) > 0 {
				st.Dropped-- // the survivor
			}
			if err := sink.Duplicate(d); err != nil {
				return err
			}
		}
		i = j
	}
	var kind ReviewKind
	switch {
	case keys > 1:
		kind = ReviewSuspicious
		st.Suspicious++
	case conflict:
		kind = ReviewConflict
		st.Conflicts++
	default:
		return nil
	}
	return sink.Review(r.reviewGroup(kind, g, dropped))
}

// better reports whether a should survive rather than b under the keep
// rule.
func (r *Resolver) better(a, b *Record) bool {
	ta, tb := a.activity(), b.activity()
	if !ta.Equal(tb) {
		if r.policy.Keep == KeepEarliest {
			return ta.Before(tb)
		}
		return ta.After(tb)
	}
	if r.policy.Tie == TieHighestID {
		return a.ID > b.ID
	}
	return a.ID < b.ID
}

func (r *Resolver) duplicateGroup(d []member) DuplicateGroup {
	// d is sorted by ID.
	g := DuplicateGroup{ID: "dup-" + strconv.FormatInt(d[0].rec.ID, 10), Identical: true}
	best := d[0].rec
	for i := range d {
		g.Records = append(g.Records, d[i].rec.ID)
		if r.better(d[i].rec, best) {
			best = d[i].rec
		}
		for _, f := range r.ident {
			if d[i].n.Get(f) != d[0].n.Get(f) {
				g.Identical = false
			}
		}
	}
	g.Survivor = best.ID
	if !g.Identical {
		return g
	}
	for i := range d {
		dec := Decision{Record: d[i].rec.ID, Survivor: best.ID, Group: g.ID}
		if d[i].rec == best {
			dec.Action = ActionKeep
			dec.Reason = "survivor of identical duplicates: " + r.keepWords()
		} else {
			dec.Action = ActionDrop
			dec.Reason = r.dropReason(d[i].rec, best)
		}
		g.Decisions = append(g.Decisions, dec)
	}
	return g
}

func (r *Resolver) keepWords() string {
	w := "latest registration or update"
	if r.policy.Keep == KeepEarliest {
		w = "earliest registration or update"
	}
	t := "lowest id"
	if r.policy.Tie == TieHighestID {
		t = "highest id"
	}
	return w + ", then " + t
}

func (r *Resolver) dropReason(d, best *Record) string {
	s := strconv.FormatInt(best.ID, 10)
	if !d.activity().Equal(best.activity()) {
		if r.policy.Keep == KeepEarliest {
			return "identical duplicate of record " + s + ", which was registered or updated earlier"
		}
		return "identical duplicate of record " + s + ", which was registered or updated later"
	}
	if r.policy.Tie == TieHighestID {
		return "identical duplicate of record " + s + ", same registration/update time and a higher id"
	}
	return "identical duplicate of record " + s + ", same registration/update time and a lower id"
}

func (r *Resolver) reviewGroup(kind ReviewKind, g []member, dropped map[int64]bool) ReviewGroup {
	ms := slices.Clone(g)
	slices.SortFunc(ms, func(a, b member) int { return cmp.Compare(a.rec.ID, b.rec.ID) })
	rg := ReviewGroup{ID: "rev-" + strconv.FormatInt(ms[0].rec.ID, 10), Kind: kind}
	var best *member
	for i := range ms {
		m := &ms[i]
		rg.Records = append(rg.Records, *m.rec)
		if dropped[m.rec.ID] {
			rg.AutoDropped = append(rg.AutoDropped, m.rec.ID)
			continue
		}
		if best == nil || r.better(m.rec, best.rec) {
			best = m
		}
	}
	rg.Proposed = best.rec.ID
	for _, f := range AllFields() {
		ref := best.n.Get(f)
		same := true
		for i := range ms {
			if ms[i].n.Get(f) != ref {
				same = false
				break
			}
		}
		if same {
			continue
		}
		fd := FieldDiff{Field: f, Min: 1}
		for i := range ms {
			v := ms[i].n.Get(f)
			s := JaroWinkler(v, ref)
			fd.Values = append(fd.Values, v)
			fd.Similarity = append(fd.Similarity, s)
			fd.Min = min(fd.Min, s)
		}
		rg.Diffs = append(rg.Diffs, fd)
	}
	return rg
}
