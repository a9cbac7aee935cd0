// Package codesbench holds the workload benchmarks of package codes: the
// lookup hot path against a plain Go map, the cost of keying a raw ID, bulk
// rule decisions into the persistent store, and offline-token signing and
// verification per suite.
package codesbench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/internal/synth"
	bolt "go.etcd.io/bbolt"
)

var (
	t0     = time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)
	secret = []byte("codesbench secret, 32 bytes long")
)

type sizes struct {
	people int // keyed population of the lookup workload
	ids    int // raw IDs cycled through by the key workload
	pool   int // keys stored before the bulk-apply workloads start
}

func sizesFor(s bench.Scale) sizes {
	if s == bench.Full {
		// A city-sized keyed population; the lookup working set then far
		// exceeds the CPU caches, as it does at 114 M users.
		return sizes{people: 2_000_000, ids: 200_000, pool: 1_000_000}
	}
	return sizes{people: 20_000, ids: 5_000, pool: 20_000}
}

// Workloads returns the codes workloads at scale s.
func Workloads(s bench.Scale) []bench.Workload {
	sz := sizesFor(s)
	return []bench.Workload{
		{
			Name: "codes/lookup",
			Unit: "lookup",
			Doc: fmt.Sprintf("current colour of a precomputed key, %d keyed synth people, 10 %% non-green, all cores: codes.Registry.Lookup (whole State) and Registry.Colour (colour at now) over bloom filter + ristretto + MemStore vs a plain map[codes.Key]codes.Colour read",
				sz.people),
			Subjects: []bench.Subject{
				{Name: "Registry.Lookup", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newLookup(ctx, sz.people, lookupState)
				}},
				{Name: "Registry.Colour", Role: bench.Primary, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newLookup(ctx, sz.people, lookupColour)
				}},
				{Name: "map-read", Role: bench.Baseline, Parallel: true, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newLookup(ctx, sz.people, lookupMap)
				}},
			},
		},
		{
			Name: "codes/key",
			Unit: "id",
			Doc:  "key of a raw document number as registries export it (10 % noisy: full-width, lower-case x, spaces, 15-digit): codes.Parse + Keyer.Document per suite vs HMAC-SHA256 of the raw string without parsing",
			Subjects: []bench.Subject{
				{Name: "Parse+HMAC-SHA256", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					return newKeyRunner(sz.ids, codes.HMACSHA256, false)
				}},
				{Name: "Parse+HMAC-SM3", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					return newKeyRunner(sz.ids, codes.HMACSM3, false)
				}},
				{Name: "raw-HMAC-SHA256", Role: bench.Baseline, Setup: func(context.Context) (bench.Runner, error) {
					return newKeyRunner(sz.ids, codes.HMACSHA256, true)
				}},
			},
		},
		{
			Name: "codes/bulk-apply",
			Unit: "change",
			Doc: fmt.Sprintf("rule decisions that each change the colour of one of %d stored keys, one Apply per run: boltstore (hash-chained history, fsync per 200 k) vs MemStore vs raw bbolt puts of the same entries without history or chaining",
				sz.pool),
			Subjects: []bench.Subject{
				{Name: "boltstore", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newApply(ctx, sz.pool, "bolt", 1)
				}},
				{Name: "MemStore", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newApply(ctx, sz.pool, "mem", 1)
				}},
				{Name: "raw-bbolt-put", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newApply(ctx, sz.pool, "raw", 1)
				}},
			},
		},
		{
			Name: "codes/bulk-decide",
			Unit: "decision",
			Doc: fmt.Sprintf("a daily re-evaluation: rule decisions over %d stored keys of which 5 %% change the colour (the rest must append nothing), one Apply per run: boltstore vs MemStore",
				sz.pool),
			Subjects: []bench.Subject{
				{Name: "boltstore", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newApply(ctx, sz.pool, "bolt", 20)
				}},
				{Name: "MemStore", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newApply(ctx, sz.pool, "mem", 20)
				}},
			},
		},
		{
			Name: "codes/token",
			Unit: "token",
			Doc:  "sign then verify one offline token (colour, masked name, subject, 5 min lifetime) per suite vs an HMAC-SHA256 tag over the same bytes (what a scanner could check only if it held the issuer's secret)",
			Subjects: []bench.Subject{
				{Name: "Ed25519", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) { return newToken(codes.Ed25519) }},
				{Name: "SM2-SM3", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) { return newToken(codes.SM2SM3) }},
				{Name: "HMAC-SHA256-tag", Role: bench.Baseline, Setup: func(context.Context) (bench.Runner, error) { return newToken(0) }},
			},
		},
	}
}

func wrong(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{bench.ErrWrongAnswer}, args...)...)
}

// ---- lookup ----

type lookupMode int

const (
	lookupState lookupMode = iota
	lookupColour
	lookupMap
)

type lookupRunner struct {
	reg  *codes.Registry
	m    map[codes.Key]codes.Colour
	keys []codes.Key
	want []codes.Colour
	mode lookupMode
	next atomic.Uint64
}

func newLookup(ctx context.Context, n int, mode lookupMode) (*lookupRunner, error) {
	keys, want, changes, err := lookupPopulation(n)
	if err != nil {
		return nil, err
	}
	r := &lookupRunner{mode: mode, keys: keys, want: want}
	if mode == lookupMap {
		r.m = make(map[codes.Key]codes.Colour, n)
		for i, k := range r.keys {
			r.m[k] = r.want[i]
		}
		return r, nil
	}
	store := codes.NewMemStore()
	ng := nonGreen(changes)
	if _, err := store.Apply(ctx, ng); err != nil {
		return nil, err
	}
	r.reg, err = codes.Open(ctx, store, codes.Config{ExpectedNonGreen: uint(len(ng))})
	if err != nil {
		return nil, err
	}
	for _, k := range r.keys { // warm the cache as a running service would be
		if _, err := r.reg.Lookup(ctx, k); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// lookupPopulation keys n synth people and decides their colours (one in
// ten non-green: 5 % red, 5 % yellow). It returns the keys and colours in a
// shuffled probe order, so neighbouring lookups do not share cache lines,
// and every person's rule decision in generation order.
func lookupPopulation(n int) ([]codes.Key, []codes.Colour, []codes.Change, error) {
	keyer, err := codes.NewKeyer(codes.HMACSHA256, secret)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := make([]codes.Key, 0, n)
	want := make([]codes.Colour, 0, n)
	changes := make([]codes.Change, 0, n)
	for i, p := range synth.New(1).People(n) {
		id, err := codes.Parse(p.DocNumber)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("person %d: %w", i, err)
		}
		k := keyer.Document(id)
		c := codes.Green
		switch i % 20 {
		case 3:
			c = codes.Red
		case 11:
			c = codes.Yellow
		}
		keys = append(keys, k)
		want = append(want, c)
		changes = append(changes, codes.Change{Key: k, State: codes.State{Colour: c, Reason: "bench",
			Cause: codes.Cause{RuleID: "bench", RuleVersion: "1"}, Since: t0}})
	}
	shuffle(keys, want)
	return keys, want, changes, nil
}

// nonGreen returns the changes that are not green.
func nonGreen(changes []codes.Change) []codes.Change {
	var out []codes.Change
	for _, c := range changes {
		if c.State.Colour != codes.Green {
			out = append(out, c)
		}
	}
	return out
}

// shuffle permutes keys and want together with a fixed xorshift sequence.
func shuffle(keys []codes.Key, want []codes.Colour) {
	x := uint64(88172645463325252)
	for i := len(keys) - 1; i > 0; i-- {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		j := int(x % uint64(i+1))
		keys[i], keys[j] = keys[j], keys[i]
		want[i], want[j] = want[j], want[i]
	}
}

func (r *lookupRunner) Run(ctx context.Context, n int) error {
	i := int(r.next.Add(uint64(n)) - uint64(n)) // this goroutine's own stretch of keys
	l := len(r.keys)
	switch r.mode {
	case lookupMap:
		for range n {
			j := i % l
			if r.m[r.keys[j]] != r.want[j] {
				return wrong("map answered the wrong colour")
			}
			i++
		}
		return nil
	case lookupColour:
		for range n {
			j := i % l
			c, err := r.reg.Colour(ctx, r.keys[j], t0)
			if err != nil {
				return err
			}
			if c != r.want[j] {
				return wrong("key %d: got %v, want %v", j, c, r.want[j])
			}
			i++
		}
		return nil
	}
	for range n {
		j := i % l
		st, err := r.reg.Lookup(ctx, r.keys[j])
		if err != nil {
			return err
		}
		if st.Colour != r.want[j] {
			return wrong("key %d: got %v, want %v", j, st.Colour, r.want[j])
		}
		i++
	}
	return nil
}

func (r *lookupRunner) Metrics() []bench.Metric {
	if r.reg == nil {
		return nil
	}
	f := r.reg.FilterStats()
	return []bench.Metric{{Name: "filter", Value: float64(f.Bits) / 8 / 1024, Unit: "KiB"}}
}

func (r *lookupRunner) Close() error {
	if r.reg != nil {
		r.reg.Close()
	}
	return nil
}

// ---- key ----

type keyRunner struct {
	keyer *codes.Keyer
	raw   []string
	want  []codes.Key
	plain bool
	mac   []byte
	i     int
}

func newKeyRunner(n int, suite codes.KeySuite, plain bool) (*keyRunner, error) {
	keyer, err := codes.NewKeyer(suite, secret)
	if err != nil {
		return nil, err
	}
	recs, _ := synth.New(3).Registry(synth.RegistryConfig{Records: n, NoiseRate: 0.1})
	r := &keyRunner{keyer: keyer, plain: plain}
	for _, rec := range recs {
		id, err := codes.Parse(rec.DocNumber)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", rec.ID, err)
		}
		r.raw = append(r.raw, rec.DocNumber)
		r.want = append(r.want, keyer.Document(id))
	}
	return r, nil
}

func (r *keyRunner) Run(_ context.Context, n int) error {
	if r.plain {
		h := hmac.New(sha256.New, secret)
		for range n {
			j := r.i % len(r.raw)
			h.Reset()
			h.Write([]byte(r.raw[j]))
			r.mac = h.Sum(r.mac[:0])
			if len(r.mac) != sha256.Size {
				return wrong("short MAC")
			}
			r.i++
		}
		return nil
	}
	for range n {
		j := r.i % len(r.raw)
		id, err := codes.Parse(r.raw[j])
		if err != nil {
			return err
		}
		if r.keyer.Document(id) != r.want[j] {
			return wrong("record %d keyed differently", j)
		}
		r.i++
	}
	return nil
}

// ---- bulk apply ----

type applyRunner struct {
	kind   string
	every  int            // one decision in every changes the colour
	colour []codes.Colour // current colour of each pool key
	dir    string
	bolt   *boltstore.Store
	mem    *codes.MemStore
	raw    *bolt.DB
	keys   []codes.Key
	cursor int
}

// newApply opens a store of the given kind and stores every pool key as red
// (untimed), so runs measure a store in steady state.
func newApply(ctx context.Context, pool int, kind string, every int) (*applyRunner, error) {
	r, err := openApply(pool, kind) // r.every is 1: every key turns red
	if err != nil {
		return nil, err
	}
	if err := r.Run(ctx, pool); err != nil {
		_ = r.Close()
		return nil, err
	}
	r.every = every
	return r, nil
}

func openApply(pool int, kind string) (*applyRunner, error) {
	r := &applyRunner{kind: kind, every: 1, keys: make([]codes.Key, pool), colour: make([]codes.Colour, pool)}
	for i := range r.keys {
		s := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
		copy(r.keys[i][:], s[:])
	}
	var err error
	switch kind {
	case "mem":
		r.mem = codes.NewMemStore()
		return r, nil
	case "bolt", "raw":
		r.dir, err = os.MkdirTemp("", "codesbench-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(r.dir, "codes.db")
		if kind == "bolt" {
			r.bolt, err = boltstore.Open(path, boltstore.Config{})
		} else {
			r.raw, err = bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
				PageSize: 16 << 10, InitialMmapSize: 1 << 30})
			if err == nil {
				err = r.raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("s")); return err })
			}
		}
		if err != nil {
			_ = os.RemoveAll(r.dir)
			return nil, err
		}
		return r, nil
	}
	return nil, errors.New("codesbench: unknown store kind")
}

// changes returns the next n decisions, keys in pool order: every r.every-th
// one flips the key's colour between red and yellow (a real change, green
// keys turn red), the others repeat the current colour. It returns the
// number of real changes.
func (r *applyRunner) changes(n int) ([]codes.Change, int) {
	out := make([]codes.Change, n)
	nReal := 0
	for i := range out {
		c := r.cursor + i
		j := c % len(r.keys)
		col := r.colour[j]
		if c%r.every == 0 {
			col = codes.Red
			if r.colour[j] == codes.Red {
				col = codes.Yellow
			}
			r.colour[j] = col
			nReal++
		}
		out[i] = codes.Change{Key: r.keys[j], State: codes.State{Colour: col, Reason: "close contact",
			Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "2022.06.1"}, Since: t0.Add(time.Duration(c) * time.Second)}}
	}
	r.cursor += n
	return out, nReal
}

func (r *applyRunner) Run(ctx context.Context, n int) error {
	if n > len(r.keys) {
		// Keep each Apply within one pass over the pool.
		for n > 0 {
			m := min(n, len(r.keys))
			if err := r.Run(ctx, m); err != nil {
				return err
			}
			n -= m
		}
		return nil
	}
	ch, nReal := r.changes(n)
	var a codes.Applied
	var err error
	switch r.kind {
	case "raw":
		return r.rawPut(ch)
	case "mem":
		a, err = r.mem.Apply(ctx, ch)
	default:
		a, err = r.bolt.Apply(ctx, ch)
	}
	if err != nil {
		return err
	}
	if a.Changed != nReal || a.Unchanged != n-nReal {
		return wrong("%d changed and %d unchanged, want %d and %d", a.Changed, a.Unchanged, nReal, n-nReal)
	}
	return nil
}

// rawPut writes key -> encoded state in sorted transactions of 200 k, the
// same batching as boltstore but with no history, no chain and no read of
// the previous state.
func (r *applyRunner) rawPut(ch []codes.Change) error {
	slices.SortFunc(ch, func(a, b codes.Change) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	for start := 0; start < len(ch); start += 200_000 {
		part := ch[start:min(start+200_000, len(ch))]
		err := r.raw.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("s"))
			for i := range part {
				e := codes.Entry{Key: part[i].Key, State: part[i].State}
				if err := b.Put(part[i].Key[:], codes.AppendEntry(nil, &e)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *applyRunner) Close() error {
	if r.bolt != nil {
		_ = r.bolt.Close()
	}
	if r.raw != nil {
		_ = r.raw.Close()
	}
	if r.dir != "" {
		return os.RemoveAll(r.dir)
	}
	return nil
}

// ---- token ----

type tokenRunner struct {
	signer   *codes.Signer
	verifier *codes.Verifier
	mac      []byte
	claims   codes.Claims
	signNs   int64
	verNs    int64
	ops      int64
	size     int
}

func newToken(suite codes.Suite) (*tokenRunner, error) {
	r := &tokenRunner{claims: codes.Claims{Colour: codes.Yellow, Name: codes.MaskName("欧阳娜娜"),
		Subject: codes.TokenSubject(codes.Key{1, 2, 3}), Issued: t0, Expires: t0.Add(5 * time.Minute)}}
	var err error
	switch suite {
	case codes.Ed25519:
		r.signer, err = codes.NewEd25519Signer("ed-1", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	case codes.SM2SM3:
		var priv *sm2.PrivateKey
		priv, err = sm2.GenerateKey(rand.Reader)
		if err == nil {
			r.signer, err = codes.NewSM2Signer("sm2-1", priv, nil)
		}
	default:
		r.mac = secret
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r.verifier, err = codes.NewVerifier(codes.VerifierConfig{}, r.signer.Public())
	return r, err
}

func (r *tokenRunner) Run(_ context.Context, n int) error {
	if r.mac != nil {
		body := []byte("H\x01\x00\x04mac1\x64claims-of-similar-size-as-a-token....")
		for range n {
			h := hmac.New(sha256.New, r.mac)
			h.Write(body)
			tag := h.Sum(nil)
			h2 := hmac.New(sha256.New, r.mac)
			h2.Write(body)
			if !hmac.Equal(tag, h2.Sum(nil)) {
				return wrong("tag mismatch")
			}
		}
		return nil
	}
	now := t0.Add(time.Minute)
	for range n {
		s := time.Now()
		text, err := r.signer.Sign(r.claims)
		if err != nil {
			return err
		}
		m := time.Now()
		c, err := r.verifier.Verify(text, now)
		if err != nil {
			return err
		}
		r.verNs += int64(time.Since(m))
		r.signNs += int64(m.Sub(s))
		r.ops++
		r.size = len(text)
		if c.Colour != r.claims.Colour || c.Name != r.claims.Name {
			return wrong("claims changed in transit")
		}
	}
	return nil
}

func (r *tokenRunner) Metrics() []bench.Metric {
	if r.ops == 0 {
		return nil
	}
	return []bench.Metric{
		{Name: "sign", Value: float64(r.signNs) / float64(r.ops) / 1e3, Unit: "µs"},
		{Name: "verify", Value: float64(r.verNs) / float64(r.ops) / 1e3, Unit: "µs"},
		{Name: "token", Value: float64(r.size), Unit: "chars"},
	}
}
