package bulkbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KeySize is the size of a key: a codes.Key.
const KeySize = 16

// HeadSize is the size of a value in boltstore's heads bucket: the log
// position of the key's last entry (8 bytes), its colour (1) and its expiry
// (8). Config.ValueSize defaults to it.
const HeadSize = 17

// ErrWrongAnswer is wrapped by the error of an engine that read back a value
// other than the one written, or missed a key.
var ErrWrongAnswer = errors.New("bulkbench: wrong answer")

// Engines returns the names of the candidate engines, in the order Run
// measures them.
func Engines() []string {
	return []string{"bbolt", "bbolt-sorted", "bbolt-merge", "bbolt-sharded", "pebble", "pebble-ingest", "boltstore", "boltstore-load"}
}

// Config configures Run. Zero fields mean their default.
type Config struct {
	// Keys is the number of keys loaded. Default 100 000 (a small scale
	// for CI); the province is 114 000 000.
	Keys int
	// Batch is the most keys written in one transaction, batch or SST.
	// Default 200 000, boltstore's. A tenth of the load is cut into
	// batches of its own so that each tenth is timed from commit to commit.
	Batch int
	// ValueSize is the size of a value, at least HeadSize. Default
	// HeadSize.
	ValueSize int
	// Shards is the number of files of bbolt-sharded. Default 8.
	Shards int
	// Reeval is the fraction of the keys the re-evaluation changes.
	// Default 0.05.
	Reeval float64
	// ReevalAll makes the re-evaluation decide every key, as a rule engine
	// that re-decides the whole population sends it: the Reeval fraction
	// gets its new value, every other key its loaded value again, and no
	// old value is read first (the read-back checks them all). Against
	// the key-value engines that rewrites every key; the store appends
	// only the changes.
	ReevalAll bool
	// Seed seeds the keys and the re-evaluation's choice. Default 1.
	Seed uint64
	// Check is how many keys, spread evenly over the load, are read back
	// after the re-evaluation. Default min(Keys, 1 000 000).
	Check int
	// Dir is where each engine's directory is made and removed; "" is
	// os.TempDir().
	Dir string
	// Engines selects engines by name (see Engines); nil means all.
	Engines []string
	// Progress receives a line as each tenth and phase ends; nil discards.
	Progress io.Writer
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Keys: 100_000, Batch: 200_000, ValueSize: HeadSize, Shards: 8, Reeval: 0.05, Seed: 1}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Keys < 0 || c.Keys > 0 && c.Keys < 10:
		return fmt.Errorf("bulkbench: Config.Keys %d is below 10 (one a tenth)", c.Keys)
	case c.Batch < 0:
		return fmt.Errorf("bulkbench: Config.Batch %d is negative", c.Batch)
	case c.ValueSize != 0 && c.ValueSize < HeadSize:
		return fmt.Errorf("bulkbench: Config.ValueSize %d is below %d", c.ValueSize, HeadSize)
	case c.Shards < 0:
		return fmt.Errorf("bulkbench: Config.Shards %d is negative", c.Shards)
	case c.Reeval < 0 || c.Reeval > 1:
		return fmt.Errorf("bulkbench: Config.Reeval %v is outside [0, 1]", c.Reeval)
	case c.Check < 0:
		return fmt.Errorf("bulkbench: Config.Check %d is negative", c.Check)
	}
	for _, e := range c.Engines {
		if !slices.Contains(Engines(), e) {
			return fmt.Errorf("bulkbench: Config.Engines: unknown engine %q (want one of %s)", e, strings.Join(Engines(), ", "))
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Keys == 0 {
		c.Keys = d.Keys
	}
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.ValueSize == 0 {
		c.ValueSize = d.ValueSize
	}
	if c.Shards == 0 {
		c.Shards = d.Shards
	}
	if c.Reeval == 0 {
		c.Reeval = d.Reeval
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Check == 0 {
		c.Check = min(c.Keys, 1_000_000)
	}
	c.Check = min(c.Check, c.Keys)
	if c.Engines == nil {
		c.Engines = Engines()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Result is the measurement of one engine.
type Result struct {
	Engine string
	Keys   int
	// Tenths is the time of each tenth of the keys, commit to commit
	// (bbolt-merge: of its merge, appending the keys in order).
	Tenths [10]time.Duration
	// Spill is bbolt-merge's intake before its merge: sorting the keys as
	// they arrive and writing them to runs. Zero for the others.
	Spill time.Duration
	// Load is the whole load: Spill and the tenths.
	Load time.Duration
	// ReevalKeys keys were re-evaluated in Reeval: read, checked and
	// rewritten; with Config.ReevalAll, every key, written only.
	ReevalKeys int
	Reeval     time.Duration
	// FileBytes is the size of the engine's files after the
	// re-evaluation, DiskBytes the bytes they occupy on disk.
	FileBytes, DiskBytes int64
	// PeakRSS is the process's peak resident set during the engine's run,
	// in bytes (0 where it cannot be read); exact per engine only where the
	// peak could be reset (Linux).
	PeakRSS int64
	// Checked keys were read back after the re-evaluation, all right.
	Checked int
}

// TenthRate is the load's throughput in tenth t, in keys a second.
func (r Result) TenthRate(t int) float64 {
	n := r.Keys*(t+1)/10 - r.Keys*t/10
	return float64(n) / r.Tenths[t].Seconds()
}

// Steadiness is the last tenth's throughput over the first's: the issue's
// goal is >= 0.7.
func (r Result) Steadiness() float64 { return r.TenthRate(9) / r.TenthRate(0) }

// Run loads cfg.Keys keys into each selected engine in turn, then runs the
// re-evaluation and the read-back, and returns a result an engine. It
// stops at the first error, a wrong answer included (wrapping
// ErrWrongAnswer), and returns ctx.Err() when cancelled.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var out []Result
	for _, name := range cfg.Engines {
		r, err := runEngine(ctx, cfg, name)
		if err != nil {
			return out, fmt.Errorf("bulkbench: %s: %w", name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// engine is one candidate. load writes one batch of the initial load,
// durable on return (bbolt-merge: spilled); finish makes the load durable,
// calling tenth(t) as tenth t becomes durable if it did not in load;
// reeval checks each key's old value and writes its new one, durable on
// return; get returns a copy of a key's value.
type engine interface {
	load(b *batch) error
	finish(tenth func(t int)) error
	reeval(b *batch) error
	get(k []byte) ([]byte, bool, error)
	close() error
}

func open(name, dir string, cfg Config) (engine, error) {
	switch name {
	case "bbolt":
		return openBolt(dir, 1, false)
	case "bbolt-sorted":
		return openBolt(dir, 1, true)
	case "bbolt-merge":
		return openMerge(dir, cfg.ValueSize, cfg.Batch)
	case "bbolt-sharded":
		return openBolt(dir, cfg.Shards, true)
	case "pebble":
		return openPebble(dir, false)
	case "pebble-ingest":
		return openPebble(dir, true)
	case "boltstore":
		return openStore(dir, cfg, false)
	case "boltstore-load":
		return openStore(dir, cfg, true)
	}
	return nil, fmt.Errorf("unknown engine %q", name)
}

func runEngine(ctx context.Context, cfg Config, name string) (res Result, err error) {
	res = Result{Engine: name, Keys: cfg.Keys}
	dir, err := os.MkdirTemp(cfg.Dir, "bulkbench-"+name+"-")
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
	}()
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	e, err := open(name, dir, cfg)
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := e.close(); err == nil {
			err = cerr
		}
	}()
	g := gen{seed: cfg.Seed, vs: cfg.ValueSize, reeval: uint64(cfg.Reeval * (1 << 32))}
	b := &batch{vs: cfg.ValueSize}

	start := time.Now()
	for t := range 10 {
		ts := time.Now()
		lo, hi := cfg.Keys*t/10, cfg.Keys*(t+1)/10
		for s := lo; s < hi; s += cfg.Batch {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			b.reset()
			for i := s; i < min(s+cfg.Batch, hi); i++ {
				g.add(b, i, false)
			}
			if err := e.load(b); err != nil {
				return res, fmt.Errorf("load: %w", err)
			}
		}
		res.Tenths[t] = time.Since(ts)
		fmt.Fprintf(cfg.Progress, "%s: tenth %d: %d keys in %v (%.0f keys/s)\n", name, t+1, hi-lo,
			res.Tenths[t].Round(time.Millisecond), res.TenthRate(t))
	}
	var merged [10]time.Duration
	nMerged, last := 0, time.Now()
	err = e.finish(func(t int) {
		now := time.Now()
		merged[t], last = now.Sub(last), now
		nMerged++
		fmt.Fprintf(cfg.Progress, "%s: merged tenth %d in %v\n", name, t+1, merged[t].Round(time.Millisecond))
	})
	if err != nil {
		return res, fmt.Errorf("finish: %w", err)
	}
	if nMerged == 10 {
		for _, d := range res.Tenths {
			res.Spill += d
		}
		res.Tenths = merged
	}
	res.Load = time.Since(start)
	fmt.Fprintf(cfg.Progress, "%s: load %v (spill %v)\n", name, res.Load.Round(time.Millisecond), res.Spill.Round(time.Millisecond))

	start = time.Now()
	b.reset()
	for i := range cfg.Keys {
		switch {
		case cfg.ReevalAll:
			g.addDecision(b, i)
		case g.selected(i):
			g.add(b, i, true)
		default:
			continue
		}
		res.ReevalKeys++
		if b.len() == cfg.Batch {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if err := e.reeval(b); err != nil {
				return res, fmt.Errorf("re-evaluation: %w", err)
			}
			b.reset()
		}
	}
	if b.len() > 0 {
		if err := e.reeval(b); err != nil {
			return res, fmt.Errorf("re-evaluation: %w", err)
		}
	}
	if f, ok := e.(interface{ finishReeval() error }); ok {
		if err := f.finishReeval(); err != nil {
			return res, fmt.Errorf("re-evaluation: %w", err)
		}
	}
	res.Reeval = time.Since(start)
	fmt.Fprintf(cfg.Progress, "%s: re-evaluation of %d keys %v\n", name, res.ReevalKeys, res.Reeval.Round(time.Millisecond))

	if res.FileBytes, res.DiskBytes, err = dirSize(dir); err != nil {
		return res, err
	}
	k, want := make([]byte, KeySize), make([]byte, cfg.ValueSize)
	for c := range cfg.Check {
		i := int(int64(c) * int64(cfg.Keys) / int64(cfg.Check))
		g.key(i, k)
		g.value(i, g.selected(i), want)
		v, ok, err := e.get(k)
		if err != nil {
			return res, fmt.Errorf("read back key %d: %w", i, err)
		}
		if !ok || !bytes.Equal(v, want) {
			return res, fmt.Errorf("key %d: read %x (found %v), want %x: %w", i, v, ok, want, ErrWrongAnswer)
		}
		res.Checked++
	}
	res.PeakRSS = peakRSS()
	return res, nil
}

// gen derives key i and its values from the seed: SplitMix64 at counter
// 2i and 2i+1 for the key, so keys come in random order and any can be
// regenerated.
type gen struct {
	seed   uint64
	vs     int
	reeval uint64 // selection threshold over 2^32
}

const gamma = 0x9e3779b97f4a7c15

func splitmix(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func (g *gen) key(i int, dst []byte) {
	binary.BigEndian.PutUint64(dst, splitmix(g.seed+gamma*uint64(2*i+1)))
	binary.BigEndian.PutUint64(dst[8:], splitmix(g.seed+gamma*uint64(2*i+2)))
}

// selected reports whether the re-evaluation changes key i.
func (g *gen) selected(i int) bool {
	return splitmix(^g.seed+gamma*uint64(i+1))>>32 < g.reeval
}

// value writes key i's value before (changed false) or after the
// re-evaluation: a head's shape, position, colour and expiry, then filler.
func (g *gen) value(i int, changed bool, dst []byte) {
	v := uint64(0)
	if changed {
		v = 1
	}
	binary.BigEndian.PutUint64(dst, uint64(i)<<1|v)
	dst[8] = byte(1 + v)
	binary.BigEndian.PutUint64(dst[9:], uint64(1_700_000_000+i)*1e9+v)
	for j := HeadSize; j < len(dst); j++ {
		dst[j] = byte(i + j)
	}
}

// add appends key i and its value to b: the loaded value, or for the
// re-evaluation the changed value and the loaded one as the old.
func (g *gen) add(b *batch, i int, reeval bool) {
	n := b.len()
	b.keys = slices.Grow(b.keys, KeySize)[:(n+1)*KeySize]
	b.vals = slices.Grow(b.vals, g.vs)[:(n+1)*g.vs]
	g.key(i, b.key(n))
	g.value(i, reeval, b.val(n))
	if reeval {
		b.olds = slices.Grow(b.olds, g.vs)[:(n+1)*g.vs]
		g.value(i, false, b.old(n))
	}
}

// addDecision appends key i with the value a re-evaluation of every key
// gives it (changed or the loaded one again), without an old value.
func (g *gen) addDecision(b *batch, i int) {
	n := b.len()
	b.keys = slices.Grow(b.keys, KeySize)[:(n+1)*KeySize]
	b.vals = slices.Grow(b.vals, g.vs)[:(n+1)*g.vs]
	g.key(i, b.key(n))
	g.value(i, g.selected(i), b.val(n))
}

// batch is a run of records, flat: keys, values and (re-evaluation) the
// values expected before. Its slices stay valid until reset.
type batch struct {
	vs               int
	keys, vals, olds []byte
}

func (b *batch) reset() {
	b.keys, b.vals, b.olds = b.keys[:0], b.vals[:0], b.olds[:0]
}

func (b *batch) len() int          { return len(b.keys) / KeySize }
func (b *batch) key(j int) []byte  { return b.keys[j*KeySize : (j+1)*KeySize : (j+1)*KeySize] }
func (b *batch) val(j int) []byte  { return b.vals[j*b.vs : (j+1)*b.vs : (j+1)*b.vs] }
func (b *batch) old(j int) []byte  { return b.olds[j*b.vs : (j+1)*b.vs : (j+1)*b.vs] }
func (b *batch) hasOld() bool      { return len(b.olds) > 0 }
func (b *batch) order() []int32    { return b.orderOf(nil) }
func (b *batch) hi(j int32) uint64 { return binary.BigEndian.Uint64(b.keys[int(j)*KeySize:]) }

// orderOf returns the records idx (nil: all) sorted by key.
func (b *batch) orderOf(idx []int32) []int32 {
	if idx == nil {
		idx = make([]int32, b.len())
		for j := range idx {
			idx[j] = int32(j)
		}
	}
	slices.SortFunc(idx, func(x, y int32) int {
		if hx, hy := b.hi(x), b.hi(y); hx != hy {
			if hx < hy {
				return -1
			}
			return 1
		}
		return bytes.Compare(b.key(int(x))[8:], b.key(int(y))[8:])
	})
	return idx
}

// checkOlds reads each key of a re-evaluation batch through get and
// requires the value loaded before it, for the engines that do not check
// inside their write.
func checkOlds(get func(k []byte) ([]byte, bool, error), b *batch) error {
	if !b.hasOld() {
		return nil // Config.ReevalAll
	}
	for j := range b.len() {
		got, ok, err := get(b.key(j))
		if err != nil {
			return err
		}
		if !ok || !bytes.Equal(got, b.old(j)) {
			return wrongOld(b.key(j), got, b.old(j))
		}
	}
	return nil
}

func wrongOld(k, got, want []byte) error {
	return fmt.Errorf("key %x: value before the re-evaluation %x, want %x: %w", k, got, want, ErrWrongAnswer)
}

// dirSize returns the size of the files under dir and the bytes they
// occupy on disk.
func dirSize(dir string) (size, disk int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
			disk += allocated(fi)
		}
		return err
	})
	return size, disk, err
}

// resetPeakRSS resets the kernel's peak resident set of the process
// (Linux; elsewhere nothing happens and PeakRSS is the process's).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, 0 if unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
