package codes

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Config configures a Registry. The zero value of every field means its
// default (see DefaultConfig).
type Config struct {
	// ExpectedNonGreen sizes the filter: the number of keys expected to be
	// non-green at once. Default 1 000 000. Beyond it the false-positive
	// rate rises (answers stay correct, lookups get slower); Rebuild with a
	// larger figure.
	ExpectedNonGreen uint
	// FalsePositive is the target false-positive rate of the filter at
	// ExpectedNonGreen keys. Default 0.01. Must be in (0, 0.5).
	FalsePositive float64
	// CacheEntries is the number of states the cache keeps. Default 1 << 20.
	CacheEntries int64
	// Links, if set, lets Display follow a person's owned phones.
	Links LinkStore
	// Logger receives rebuild and feed events; nil discards.
	Logger *slog.Logger

	// FeedPoll bounds how long Follow waits for a wake-up from a Feed
	// store before it reads the feed anyway: the staleness bound should a
	// wake-up be lost (a dropped connection). Default 250 ms.
	FeedPoll time.Duration
	// OnFeed, if set, is called by Follow with every record of the feed
	// after the registry has applied it, in commit order, on Follow's
	// goroutine: notes to replay (rule sets, risk areas), link changes to
	// drop from a cache. It must not block for long; the next records
	// wait for it. Records of the registry's own writes come too.
	OnFeed func(FeedRecord)
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{ExpectedNonGreen: 1_000_000, FalsePositive: 0.01, CacheEntries: 1 << 20, FeedPoll: 250 * time.Millisecond}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.ExpectedNonGreen > 1<<32 {
		return fmt.Errorf("codes: Config.ExpectedNonGreen %d above 2^32", c.ExpectedNonGreen)
	}
	if c.FalsePositive < 0 || c.FalsePositive >= 0.5 || math.IsNaN(c.FalsePositive) {
		return fmt.Errorf("codes: Config.FalsePositive %v outside (0, 0.5)", c.FalsePositive)
	}
	if c.CacheEntries < 0 {
		return fmt.Errorf("codes: Config.CacheEntries %d is negative", c.CacheEntries)
	}
	if c.FeedPoll < 0 {
		return fmt.Errorf("codes: Config.FeedPoll %v is negative", c.FeedPoll)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ExpectedNonGreen == 0 {
		c.ExpectedNonGreen = d.ExpectedNonGreen
	}
	if c.FalsePositive == 0 {
		c.FalsePositive = d.FalsePositive
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = d.CacheEntries
	}
	if c.FeedPoll == 0 {
		c.FeedPoll = d.FeedPoll
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Registry is the lookup hot path: a Store behind a ristretto cache and a
// Bloom filter of the keys that have ever been non-green since the filter
// was built. A key the filter has not seen is green without touching the
// cache or the store.
//
// No false negatives, by construction: Apply adds every key whose new state
// is not green to the filter before the store acknowledges it, and Open and
// Rebuild fill the filter from the store while writers add to both the old
// and the new filter. All writes must go through the Registry; a write made
// to the store directly is invisible to the filter until the next Rebuild.
//
// The cache cannot serve a stale state after Apply returns: each cached
// state carries the epoch of its key's shard, Apply bumps the epoch of every
// key it touched after the store write, and a lookup uses a cached state only
// if its epoch is current. In front of ristretto sits a direct-mapped table
// of atomic pointers to recently used cached states (a power of two, up to
// twice ExpectedNonGreen, at most CacheEntries and 1<<20 slots, 8 bytes
// each): a hit there costs
// one atomic load, no lock and no admission bookkeeping; ristretto keeps the
// bounded working set behind it.
//
// A Registry is safe for concurrent use. Close releases the cache.
type Registry struct {
	store  Store
	cfg    Config
	cache  *ristretto.Cache[uint64, *cached]
	hot    []atomic.Pointer[cached] // direct-mapped, lock-free front of cache
	filter atomic.Pointer[filter]
	epochs []atomic.Uint64
	counts [countShards]lookupCounts

	// writeMu is held shared by writers for the whole of filter-add plus
	// store write, and exclusively by Rebuild while it installs next.
	writeMu sync.RWMutex
	next    *filter // guarded by writeMu; non-nil while a rebuild runs
	rebuild sync.Mutex

	follow follower // the change feed, if the store has one
}

type cached struct {
	key   Key
	epoch uint64
	state State
}

const epochShards = 1 << 14

// countShards spreads the lookup counters over cache lines, chosen by key
// bits, so that cores counting different keys rarely share a line.
const countShards = 64

type lookupCounts struct {
	filterGreen, cacheHits, storeReads atomic.Uint64
	_                                  [40]byte // pad to a 64-byte line
}

func (r *Registry) countsOf(k *Key) *lookupCounts { return &r.counts[k[3]&(countShards-1)] }

// LookupStats counts how Lookup, Colour and Display answered since Open:
// the filter's share is what never touched the cache or the store.
type LookupStats struct {
	FilterGreen uint64 // answered green by the filter alone
	CacheHits   uint64 // answered from the cache
	StoreReads  uint64 // read from the store (cache misses)
}

// Total returns the number of lookups counted.
func (s LookupStats) Total() uint64 { return s.FilterGreen + s.CacheHits + s.StoreReads }

// LookupStats returns the lookup counters. It is cheap enough for a metrics
// scrape; the counts are read one shard at a time, not as one snapshot.
func (r *Registry) LookupStats() LookupStats {
	var s LookupStats
	for i := range r.counts {
		c := &r.counts[i]
		s.FilterGreen += c.filterGreen.Load()
		s.CacheHits += c.cacheHits.Load()
		s.StoreReads += c.storeReads.Load()
	}
	return s
}

// Open returns a Registry over store, filling the filter from store.Scan.
// If store is a Feed, Open first notes the feed's position: Follow starts
// from there, so that no write committed during the scan is missed.
func Open(ctx context.Context, store Store, cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cache, err := ristretto.NewCache(&ristretto.Config[uint64, *cached]{
		NumCounters: cfg.CacheEntries * 10,
		MaxCost:     cfg.CacheEntries,
		BufferItems: 64,
		// Cost counts entries; without this ristretto adds its own per-item
		// overhead to every cost and keeps a fraction of CacheEntries.
		IgnoreInternalCost: true,
		KeyToHash:          func(k uint64) (uint64, uint64) { return k, 0 },
	})
	if err != nil {
		return nil, fmt.Errorf("codes: cache: %w", err)
	}
	hot := 1 << 10
	for hot < int(min(cfg.CacheEntries, 1<<20)) && hot < 2*int(cfg.ExpectedNonGreen) {
		hot <<= 1
	}
	r := &Registry{store: store, cfg: cfg, cache: cache, hot: make([]atomic.Pointer[cached], hot), epochs: make([]atomic.Uint64, epochShards)}
	r.filter.Store(newFilter(cfg.ExpectedNonGreen, cfg.FalsePositive))
	if err := r.follow.init(ctx, store); err != nil {
		cache.Close()
		return nil, err
	}
	if err := r.fill(ctx, r.filter.Load()); err != nil {
		cache.Close()
		return nil, err
	}
	return r, nil
}

// Close releases the cache. It does not close the store.
func (r *Registry) Close() { r.cache.Close() }

func (r *Registry) fill(ctx context.Context, f *filter) error {
	n := 0
	err := r.store.Scan(ctx, func(k Key, c Colour) error {
		if c != Green {
			f.add(&k)
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("codes: fill filter: %w", err)
	}
	r.cfg.Logger.Info("codes: filter filled", "nongreen", n, "bits", f.bits(), "k", f.k)
	return nil
}

// Rebuild replaces the filter with one built from the store, sized for
// expected non-green keys (0 keeps the configured size). It clears the bits
// of keys that have since gone back to green. Lookups and writes continue
// during the rebuild.
func (r *Registry) Rebuild(ctx context.Context, expected uint) error {
	r.rebuild.Lock()
	defer r.rebuild.Unlock()
	if expected == 0 {
		expected = r.cfg.ExpectedNonGreen
	}
	nf := newFilter(expected, r.cfg.FalsePositive)
	r.writeMu.Lock() // wait for in-flight writers; later ones add to nf too
	r.next = nf
	r.writeMu.Unlock()
	err := r.fill(ctx, nf)
	r.writeMu.Lock()
	if err == nil {
		r.filter.Store(nf)
	}
	r.next = nil
	r.writeMu.Unlock()
	return err
}

func (r *Registry) epoch(k *Key) *atomic.Uint64 {
	return &r.epochs[binary.LittleEndian.Uint16(k[8:10])%epochShards]
}

func cacheKey(k *Key) uint64 {
	return binary.LittleEndian.Uint64(k[0:8]) ^ binary.LittleEndian.Uint64(k[8:16])
}

// Lookup returns the current state of key. For a key that has never been
// non-green it returns the zero State (green, no record) without touching the
// store; otherwise it answers from the cache or the store. Use
// State.ColourAt to apply expiry.
func (r *Registry) Lookup(ctx context.Context, key Key) (State, error) {
	cnt := r.countsOf(&key)
	if !r.filter.Load().has(&key) {
		cnt.filterGreen.Add(1)
		return State{}, nil
	}
	ep := r.epoch(&key)
	e := ep.Load()
	ck := cacheKey(&key)
	slot := &r.hot[ck&uint64(len(r.hot)-1)]
	if c := slot.Load(); c != nil && c.key == key && c.epoch == e {
		cnt.cacheHits.Add(1)
		return c.state, nil
	}
	if c, ok := r.cache.Get(ck); ok && c.key == key && c.epoch == e {
		slot.Store(c)
		cnt.cacheHits.Add(1)
		return c.state, nil
	}
	cnt.storeReads.Add(1)
	ent, ok, err := r.store.Get(ctx, key)
	if err != nil {
		return State{}, err
	}
	var st State
	if ok {
		st = ent.State
	}
	if ep.Load() == e {
		c := &cached{key: key, epoch: e, state: st}
		r.cache.Set(ck, c, 1)
		slot.Store(c)
	}
	return st, nil
}

// Colour returns the colour of key in force at now: Lookup without copying
// the State out, for display paths that need only the colour.
func (r *Registry) Colour(ctx context.Context, key Key, now time.Time) (Colour, error) {
	if !r.filter.Load().has(&key) {
		r.countsOf(&key).filterGreen.Add(1)
		return Green, nil
	}
	ep := r.epoch(&key)
	e := ep.Load()
	slot := &r.hot[cacheKey(&key)&uint64(len(r.hot)-1)]
	if c := slot.Load(); c != nil && c.key == key && c.epoch == e {
		r.countsOf(&key).cacheHits.Add(1)
		return c.state.ColourAt(now), nil
	}
	st, err := r.Lookup(ctx, key)
	return st.ColourAt(now), err
}

// Apply validates changes, adds the keys of non-green states to the filter,
// writes the changes to the store and invalidates their cached states. An
// invalid change refuses the whole batch with a *ChangeError and nothing
// changes.
func (r *Registry) Apply(ctx context.Context, changes []Change) (Applied, error) {
	if err := ValidateChanges(changes); err != nil {
		return Applied{}, err
	}
	r.writeMu.RLock()
	f, nf := r.filter.Load(), r.next
	for i := range changes {
		if changes[i].State.Colour != Green {
			f.add(&changes[i].Key)
			if nf != nil {
				nf.add(&changes[i].Key)
			}
		}
	}
	a, err := r.store.Apply(ctx, changes)
	for i := range changes {
		r.epoch(&changes[i].Key).Add(1)
	}
	r.writeMu.RUnlock()
	return a, err
}

// Transcode is a manual change of one person's code.
type Transcode struct {
	Colour        Colour
	Actor         string // operator id; required
	Authorisation string // authorising document reference; required
	Reason        string // required
	At            time.Time
	Expires       time.Time // optional
	// RequestID, if set, makes the transcode safe to retry: a second
	// Transcode with the same key and RequestID appends nothing (see
	// Change.RequestID) and returns the key's current entry.
	RequestID string
}

// Transcode applies a manual change to key. Without an actor or an
// authorisation it fails with ErrUnauthorised, without a reason with
// ErrMissingReason, and nothing changes.
func (r *Registry) Transcode(ctx context.Context, key Key, t Transcode) (Entry, error) {
	if t.Actor == "" || t.Authorisation == "" {
		return Entry{}, &ChangeError{Key: key, Field: "Transcode.Actor/Authorisation", Err: ErrUnauthorised}
	}
	ch := Change{Key: key, RequestID: t.RequestID, State: State{
		Colour: t.Colour, Reason: t.Reason, Since: t.At, Expires: t.Expires,
		Cause: Cause{Actor: t.Actor, Authorisation: t.Authorisation},
	}}
	if _, err := r.Apply(ctx, []Change{ch}); err != nil {
		return Entry{}, err
	}
	e, _, err := r.store.Get(ctx, key)
	return e, err
}

// History returns the history of key and verifies its chain against the
// current state; a broken chain is returned with a *ChainError. The current
// state is read first, so a change applied meanwhile extends the history
// without failing the check.
func (r *Registry) History(ctx context.Context, key Key) ([]Entry, error) {
	head, ok, err := r.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	h, err := r.store.History(ctx, key)
	if err != nil {
		return nil, err
	}
	var hp *Entry
	if ok {
		hp = &head
	}
	return h, VerifyHistory(key, h, hp)
}

// Provenance is one source of a displayed code.
type Provenance struct {
	Source Source // FromDocument for the person's own key, FromPhone for an owned phone
	Key    Key
	State  State
}

// Display is the code shown to a person: the most severe colour in force of
// the states keyed by their document and by the phones they own, with every
// source. A plain value.
type Display struct {
	Colour  Colour
	Sources []Provenance
}

// Display computes the displayed code of person at now: its own state (src
// says what its key was derived from, as Keyer.Record returns it) and, for a
// person keyed by a document, the state of every phone it owns
// (Config.Links; phones it was registered through by proxy do not count).
func (r *Registry) Display(ctx context.Context, person Key, src Source, now time.Time) (Display, error) {
	var d Display
	err := r.DisplayTo(ctx, &d, person, src, now)
	return d, err
}

// DisplayTo is Display into d, reusing the array behind d.Sources: a
// server answering a lookup per request keeps its Displays (one per
// worker, or in a sync.Pool) and the registry allocates nothing for a
// cached answer. d is overwritten whole, its old sources cleared; on error
// it holds none.
func (r *Registry) DisplayTo(ctx context.Context, d *Display, person Key, src Source, now time.Time) error {
	clear(d.Sources)
	d.Colour, d.Sources = Green, d.Sources[:0]
	var links []Link
	if r.cfg.Links != nil && src == FromDocument {
		var err error
		if links, err = r.cfg.Links.PhonesOf(ctx, person); err != nil {
			return err
		}
	}
	st, err := r.Lookup(ctx, person)
	if err != nil {
		return err
	}
	if cap(d.Sources) == 0 {
		// One allocation of the final size: a display is on every lookup.
		owned := 0
		for _, l := range links {
			if l.Role == RoleOwner && l.Phone != person {
				owned++
			}
		}
		d.Sources = make([]Provenance, 0, 1+owned)
	}
	d.Colour = st.ColourAt(now)
	d.Sources = append(d.Sources, Provenance{Source: src, Key: person, State: st})
	for _, l := range links {
		if l.Role != RoleOwner || l.Phone == person {
			continue
		}
		ps, err := r.Lookup(ctx, l.Phone)
		if err != nil {
			clear(d.Sources)
			d.Colour, d.Sources = Green, d.Sources[:0]
			return err
		}
		d.Sources = append(d.Sources, Provenance{Source: FromPhone, Key: l.Phone, State: ps})
		d.Colour = MostSevere(d.Colour, ps.ColourAt(now))
	}
	return nil
}

// FilterStats describes the filter.
type FilterStats struct {
	Bits   uint64 // size
	K      uint   // positions per key
	Added  uint64 // adds since it was built (a key added twice counts twice)
	Target uint   // number of keys it was sized for (at least 1024)
}

// FilterStats returns the current filter's figures; when Added passes
// Target by far, call Rebuild.
func (r *Registry) FilterStats() FilterStats {
	f := r.filter.Load()
	return FilterStats{Bits: f.bits(), K: f.k, Added: f.added.Load(), Target: f.target}
}
