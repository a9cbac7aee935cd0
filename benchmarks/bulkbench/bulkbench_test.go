package bulkbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestEngines loads a tiny province into every engine, with batches that
// do not divide the tenths and runs that bbolt-merge must merge, and reads
// every key back after the re-evaluation: a broken engine fails here.
func TestEngines(t *testing.T) {
	cfg := Config{Keys: 3_001, Batch: 97, Shards: 3, Reeval: 0.1, Seed: 7, ValueSize: 24, Dir: t.TempDir()}
	cfg.Check = cfg.Keys
	rs, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(Engines()) {
		t.Fatalf("%d results, want %d", len(rs), len(Engines()))
	}
	want := 0
	g := gen{seed: cfg.Seed, reeval: uint64(cfg.Reeval * (1 << 32))}
	for i := range cfg.Keys {
		if g.selected(i) {
			want++
		}
	}
	if want < 200 || want > 400 {
		t.Fatalf("re-evaluation selects %d of %d keys, want about 10 %%", want, cfg.Keys)
	}
	for _, r := range rs {
		if r.Checked != cfg.Keys || r.ReevalKeys != want {
			t.Errorf("%s: checked %d, re-evaluated %d; want %d and %d", r.Engine, r.Checked, r.ReevalKeys, cfg.Keys, want)
		}
		if r.FileBytes == 0 {
			t.Errorf("%s: no files", r.Engine)
		}
		if sorts := r.Engine == "bbolt-merge" || r.Engine == "boltstore-load"; (r.Spill > 0) != sorts {
			t.Errorf("%s: spill %v; only bbolt-merge and boltstore-load sort first", r.Engine, r.Spill)
		}
	}
	var sb strings.Builder
	if err := Markdown(&sb, cfg, rs); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
}

// TestReevalAll decides every key in the re-evaluation: the store appends
// the changes only, the key-value engines rewrite every key, and all read
// back right.
func TestReevalAll(t *testing.T) {
	cfg := Config{Keys: 2_003, Batch: 101, Reeval: 0.1, Seed: 5, Dir: t.TempDir(), ReevalAll: true,
		Engines: []string{"bbolt-sorted", "pebble", "boltstore", "boltstore-load"}}
	cfg.Check = cfg.Keys
	rs, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ReevalKeys != cfg.Keys || r.Checked != cfg.Keys {
			t.Errorf("%s: re-evaluated %d, checked %d; want %d both", r.Engine, r.ReevalKeys, r.Checked, cfg.Keys)
		}
	}
}

// TestMergeRuns drives bbolt-merge across several runs, as at full scale.
func TestMergeRuns(t *testing.T) {
	dir := t.TempDir()
	e, err := openMerge(dir, HeadSize, 50)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	g := gen{seed: 3, vs: HeadSize}
	b := &batch{vs: HeadSize}
	const n, perRun = 1000, 128
	for s := 0; s < n; s += perRun {
		b.reset()
		for i := s; i < min(s+perRun, n); i++ {
			g.add(b, i, false)
		}
		if err := e.load(b); err != nil {
			t.Fatal(err)
		}
		if err := e.spill(); err != nil { // one run a batch
			t.Fatal(err)
		}
	}
	if len(e.runs) != 8 {
		t.Fatalf("%d runs, want 8", len(e.runs))
	}
	var tenths []int
	if err := e.finish(func(t int) { tenths = append(tenths, t) }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tenths) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("tenths merged %v, want 0 to 9 in order", tenths)
	}
	k, want := make([]byte, KeySize), make([]byte, HeadSize)
	for i := range n {
		g.key(i, k)
		g.value(i, false, want)
		v, ok, err := e.get(k)
		if err != nil || !ok || string(v) != string(want) {
			t.Fatalf("key %d: %x %v %v, want %x", i, v, ok, err, want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files left after the merge, want the database alone", len(ents))
	}
}

// TestWrongOld checks that a re-evaluation that finds another value than
// the loaded one fails with ErrWrongAnswer, in every engine.
func TestWrongOld(t *testing.T) {
	for _, name := range Engines() {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Keys: 100, Batch: 100, Shards: 2, ValueSize: HeadSize}.withDefaults()
			e, err := open(name, t.TempDir(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer e.close()
			g := gen{seed: 1, vs: HeadSize}
			b := &batch{vs: HeadSize}
			for i := range 100 {
				g.add(b, i, false)
			}
			if err := e.load(b); err != nil {
				t.Fatal(err)
			}
			if err := e.finish(func(int) {}); err != nil {
				t.Fatal(err)
			}
			b.reset()
			g.add(b, 5, true)
			b.old(0)[0] ^= 1
			if err := e.reeval(b); !errors.Is(err, ErrWrongAnswer) {
				t.Fatalf("re-evaluation against a wrong old value: %v, want ErrWrongAnswer", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Keys: -1}, {ValueSize: 3}, {Reeval: 2}, {Engines: []string{"lmdb"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: valid, want an error", c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

// envConfig is the default configuration changed by the BULKBENCH_*
// variables.
func envConfig(tb testing.TB) Config {
	cfg := DefaultConfig()
	num := func(name string, dst *int) {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			*dst = n
		}
	}
	num("BULKBENCH_KEYS", &cfg.Keys)
	num("BULKBENCH_BATCH", &cfg.Batch)
	num("BULKBENCH_SHARDS", &cfg.Shards)
	num("BULKBENCH_CHECK", &cfg.Check)
	cfg.Dir = os.Getenv("BULKBENCH_DIR")
	cfg.ReevalAll = os.Getenv("BULKBENCH_REEVAL_ALL") != ""
	if s := os.Getenv("BULKBENCH_ENGINES"); s != "" {
		cfg.Engines = strings.Split(s, ",")
	} else {
		cfg.Engines = Engines()
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// TestScale runs the side-by-side benchmark at the scale the BULKBENCH_*
// variables ask and logs the progress and the report. It runs only when
// BULKBENCH_KEYS is set:
//
//	BULKBENCH_KEYS=114000000 go test -run TestScale -v -timeout 0 ./bulkbench
func TestScale(t *testing.T) {
	if os.Getenv("BULKBENCH_KEYS") == "" {
		t.Skip("set BULKBENCH_KEYS to run")
	}
	cfg := envConfig(t)
	cfg.Progress = testWriter{t}
	rs, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := Markdown(&sb, cfg, rs); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// BenchmarkBulk is one engine's load and re-evaluation an iteration, at the
// BULKBENCH_* scale, reporting the figures of the last.
func BenchmarkBulk(b *testing.B) {
	cfg := envConfig(b)
	for _, name := range cfg.Engines {
		b.Run(name, func(b *testing.B) {
			c := cfg
			c.Engines = []string{name}
			var r Result
			for b.Loop() {
				rs, err := Run(b.Context(), c)
				if err != nil {
					b.Fatal(err)
				}
				r = rs[0]
			}
			b.ReportMetric(float64(r.Keys)/r.Load.Seconds(), "load-keys/s")
			b.ReportMetric(r.Steadiness(), "last/first")
			b.ReportMetric(r.Reeval.Seconds(), "reeval-s")
			b.ReportMetric(float64(r.DiskBytes)/float64(r.Keys), "disk-B/key")
		})
	}
}
