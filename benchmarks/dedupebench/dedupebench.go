// Package dedupebench holds the workload benchmarks of package dedupe:
// duplicate resolution against a naive map version and SQLite GROUP BY,
// streamed resolution of registries larger than the memory budget, and
// reconciliation.
package dedupebench

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/dedupe"
	"github.com/healthcode-sdk/healthcode/internal/synth"

	_ "modernc.org/sqlite" // the SQLite peer
)

// Registry shape of every workload: Shaanxi's 2 % duplicates, 1 %
// near-duplicates (same ID, another name, birth or ethnicity), 10 % of
// records with formatting noise.
const (
	dupRate   = 0.02
	susRate   = 0.01
	noiseRate = 0.10
)

// Workloads returns the dedupe workloads at scale s. Small keeps every
// subject to a few seconds for CI; Full uses the sizes reported in the
// issue (1 M records in memory; 1 M, 5 M and 10 M streamed from CSV, or
// the sizes listed in the DEDUPEBENCH_SIZES environment variable, e.g.
// "1000000,40000000").
func Workloads(s bench.Scale) []bench.Workload {
	inMem, stream := 50_000, []int{20_000}
	if s == bench.Full {
		inMem, stream = 1_000_000, []int{1_000_000, 5_000_000, 10_000_000}
		if env := os.Getenv("DEDUPEBENCH_SIZES"); env != "" {
			stream = stream[:0]
			for _, f := range strings.Split(env, ",") {
				if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
					stream = append(stream, n)
				}
			}
		}
	}
	return []bench.Workload{resolveWorkload(inMem), streamWorkload(s, stream), reconcileWorkload(inMem)}
}

// ---- shared data ----

// registry is a generated registry with what every prefix of it should
// resolve to. Built once, shared by a workload's subjects.
type registry struct {
	once  sync.Once
	n     int
	recs  []dedupe.Record
	truth synth.RegistryTruth
	mu    sync.Mutex
	want  map[int]counts
}

// counts is what a resolve must find.
type counts struct{ dups, sus int }

func (r *registry) load() {
	r.once.Do(func() {
		raw, truth := synth.New(2026).Registry(synth.RegistryConfig{Records: r.n, DupRate: dupRate, SuspiciousRate: susRate, NoiseRate: noiseRate})
		r.recs = make([]dedupe.Record, len(raw))
		for i, x := range raw {
			r.recs[i] = fromSynth(x)
		}
		r.truth = truth
		r.want = map[int]counts{}
	})
}

func fromSynth(x synth.Record) dedupe.Record {
	return dedupe.Record{ID: x.ID, Name: x.Name, DocType: x.DocType, DocNumber: x.DocNumber, Birth: x.Birth,
		Sex: x.Sex, Ethnicity: x.Ethnicity, Address: x.Address, Phone: x.Phone, Source: x.Source,
		Registered: x.Registered, Updated: x.Updated}
}

// expect returns the true number of duplicate and suspicious groups among
// the first k records (ids 1..k), from the generator's ground truth.
func (r *registry) expect(k int) counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.want[k]; ok {
		return c
	}
	var c counts
	variant := map[int64]int64{} // record id -> label of its duplicate group
	for i, g := range r.truth.Duplicates {
		in := 0
		for _, id := range g {
			variant[id] = int64(i)
			if id <= int64(k) {
				in++
			}
		}
		if in >= 2 {
			c.dups++
		}
	}
	for _, g := range r.truth.Suspicious {
		labels := map[int64]bool{}
		in := 0
		for _, id := range g {
			if id > int64(k) {
				continue
			}
			in++
			if v, ok := variant[id]; ok {
				labels[v] = true
			} else {
				labels[-id] = true
			}
		}
		if in >= 2 && len(labels) > 1 {
			c.sus++
		}
	}
	r.want[k] = c
	return c
}

// prefixes runs fn over prefixes of recs totalling n records.
func prefixes(ctx context.Context, n, size int, fn func(k int) error) error {
	for rem := n; rem > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(rem, size)
		if err := fn(k); err != nil {
			return err
		}
		rem -= k
	}
	return nil
}

func check(what string, got, want counts) error {
	if got != want {
		return fmt.Errorf("%w: %s found %d duplicate and %d suspicious groups, want %d and %d",
			bench.ErrWrongAnswer, what, got.dups, got.sus, want.dups, want.sus)
	}
	return nil
}

func countResult(res *dedupe.Result) counts {
	c := counts{dups: len(res.Duplicates)}
	for _, g := range res.Reviews {
		if g.Kind == dedupe.ReviewSuspicious {
			c.sus++
		}
	}
	return c
}

// ---- dedupe/resolve ----

func resolveWorkload(size int) bench.Workload {
	data := &registry{n: size}
	return bench.Workload{
		Name: "dedupe/resolve",
		Unit: "record",
		Doc: fmt.Sprintf("resolve a %d-record registry (2 %% duplicates, 1 %% suspicious, 10 %% noisy) in memory: "+
			"normalise, group by the contract's key, keep rule; every subject normalises inside the timed region", size),
		Subjects: []bench.Subject{
			{Name: "dedupe.Resolve", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
				data.load()
				r, err := dedupe.NewResolver(dedupe.Policy{}, dedupe.Config{})
				if err != nil {
					return nil, err
				}
				// Quality on the whole registry, outside the timed runs.
				res, err := r.Resolve(ctx, data.recs)
				if err != nil {
					return nil, err
				}
				q := quality(res, data.truth)
				run := bench.RunFunc(func(ctx context.Context, n int) error {
					return prefixes(ctx, n, len(data.recs), func(k int) error {
						res, err := r.Resolve(ctx, data.recs[:k])
						if err != nil {
							return err
						}
						return check("dedupe.Resolve", countResult(res), data.expect(k))
					})
				})
				return meter(run, func() []bench.Metric { return append(q, peakRSS()...) }), nil
			}},
			{Name: "naive-map", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
				data.load()
				return meter(bench.RunFunc(func(ctx context.Context, n int) error {
					return prefixes(ctx, n, len(data.recs), func(k int) error {
						return check("naive-map", naiveResolve(data.recs[:k]), data.expect(k))
					})
				}), nil), nil
			}},
			{Name: "sqlite-groupby", Role: bench.Peer, Setup: func(ctx context.Context) (bench.Runner, error) {
				data.load()
				return newSQLitePeer(ctx, data)
			}},
		},
	}
}

// quality compares a whole-registry result with the generator's truth.
func quality(res *dedupe.Result, truth synth.RegistryTruth) []bench.Metric {
	var dups, sus [][]int64
	for _, g := range res.Duplicates {
		dups = append(dups, g.Records)
	}
	for _, g := range res.Reviews {
		if g.Kind != dedupe.ReviewSuspicious {
			continue
		}
		var ids []int64
		for _, r := range g.Records {
			ids = append(ids, r.ID)
		}
		sus = append(sus, ids)
	}
	dp, dr := precisionRecall(dups, truth.Duplicates)
	sp, sr := precisionRecall(sus, truth.Suspicious)
	return []bench.Metric{
		{Name: "duplicate precision", Value: dp}, {Name: "duplicate recall", Value: dr},
		{Name: "suspicious precision", Value: sp}, {Name: "suspicious recall", Value: sr},
		{Name: "auto-dropped", Value: float64(res.Stats.Dropped), Unit: "records"},
		{Name: "review groups", Value: float64(len(res.Reviews)), Unit: "groups"},
	}
}

func precisionRecall(found, truth [][]int64) (p, r float64) {
	key := func(g []int64) string { s := slices.Clone(g); slices.Sort(s); return fmt.Sprint(s) }
	want := map[string]bool{}
	for _, g := range truth {
		want[key(g)] = true
	}
	hit := 0
	for _, g := range found {
		if want[key(g)] {
			hit++
		}
	}
	p, r = 1, 1
	if len(found) > 0 {
		p = float64(hit) / float64(len(found))
	}
	if len(truth) > 0 {
		r = float64(hit) / float64(len(truth))
	}
	return p, r
}

// cpuMeter wraps a Runner whose ops are records and reports records per
// CPU second (user + system, whole process), a figure that holds up on a
// machine shared with other work, where wall-clock rates do not.
type cpuMeter struct {
	bench.Runner
	ops   int64
	cpu   time.Duration
	extra func() []bench.Metric
}

func meter(r bench.Runner, extra func() []bench.Metric) *cpuMeter {
	return &cpuMeter{Runner: r, extra: extra}
}

func (c *cpuMeter) Run(ctx context.Context, n int) error {
	c0 := cpuTime()
	err := c.Runner.Run(ctx, n)
	c.cpu += cpuTime() - c0
	c.ops += int64(n)
	return err
}

func (c *cpuMeter) Metrics() []bench.Metric {
	var m []bench.Metric
	if c.cpu > 0 {
		m = append(m, bench.Metric{Name: "records per CPU second", Value: float64(c.ops) / c.cpu.Seconds(), Unit: "records/cpu-s"})
	}
	if c.extra != nil {
		m = append(m, c.extra()...)
	}
	return m
}

func (c *cpuMeter) Close() error {
	if cl, ok := c.Runner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

type withMetrics struct {
	bench.Runner
	metrics func() []bench.Metric
	close   func() error
}

func (w *withMetrics) Metrics() []bench.Metric { return w.metrics() }

func (w *withMetrics) Close() error {
	if w.close != nil {
		return w.close()
	}
	return nil
}

// keys returns the contract's duplicate key and suspicious key of r,
// normalised with the SDK's normalisers.
func keys(r *dedupe.Record) (dk, sk string) {
	sk = dedupe.NormalizeDocNumber(r.DocNumber)
	birth, err := dedupe.NormalizeDate(r.Birth)
	if err != nil {
		birth = dedupe.NormalizeText(r.Birth)
	}
	dk = dedupe.NormalizeName(r.Name) + "\x1f" + sk + "\x1f" + birth + "\x1f" + dedupe.NormalizeEthnicity(r.Ethnicity)
	return dk, sk
}

func activity(r *dedupe.Record) time.Time {
	if r.Updated.After(r.Registered) {
		return r.Updated
	}
	return r.Registered
}

// naiveResolve is the plain version: normalise every record's keys, group
// with maps of strings, pick each group's survivor by scanning.
func naiveResolve(recs []dedupe.Record) counts {
	byDup := map[string][]int{}
	bySus := map[string]map[string]bool{}
	for i := range recs {
		dk, sk := keys(&recs[i])
		byDup[dk] = append(byDup[dk], i)
		if bySus[sk] == nil {
			bySus[sk] = map[string]bool{}
		}
		bySus[sk][dk] = true
	}
	var c counts
	survivors := 0
	for _, g := range byDup {
		if len(g) < 2 {
			continue
		}
		c.dups++
		best := g[0]
		for _, i := range g[1:] {
			a, b := activity(&recs[i]), activity(&recs[best])
			if a.After(b) || a.Equal(b) && recs[i].ID < recs[best].ID {
				best = i
			}
		}
		if best >= 0 {
			survivors++
		}
	}
	for sk, dks := range bySus {
		if sk != "" && len(dks) > 1 {
			c.sus++
		}
	}
	return c
}

// ---- SQLite peer ----

type sqlitePeer struct {
	db   *sql.DB
	data *registry
}

func newSQLitePeer(ctx context.Context, data *registry) (bench.Runner, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one in-memory database
	for _, q := range []string{
		"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF",
		"CREATE TABLE reg (id INTEGER, dk TEXT, sk TEXT, act INTEGER)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	p := &sqlitePeer{db: db, data: data}
	return meter(&withMetrics{Runner: p, metrics: func() []bench.Metric { return nil }, close: db.Close}, nil), nil
}

// Run loads the normalised keys and lets SQLite group them: duplicate
// groups with their survivor (latest activity, then lowest id, by window
// function) and suspicious keys (one ID number, several duplicate keys).
func (p *sqlitePeer) Run(ctx context.Context, n int) error {
	return prefixes(ctx, n, len(p.data.recs), func(k int) error {
		got, err := p.resolve(ctx, p.data.recs[:k])
		if err != nil {
			return err
		}
		return check("sqlite", got, p.data.expect(k))
	})
}

func (p *sqlitePeer) resolve(ctx context.Context, recs []dedupe.Record) (counts, error) {
	var c counts
	if _, err := p.db.ExecContext(ctx, "DELETE FROM reg"); err != nil {
		return c, err
	}
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	ins, err := tx.PrepareContext(ctx, "INSERT INTO reg (id, dk, sk, act) VALUES (?, ?, ?, ?)")
	if err != nil {
		return c, err
	}
	for i := range recs {
		dk, sk := keys(&recs[i])
		if _, err := ins.ExecContext(ctx, recs[i].ID, dk, sk, activity(&recs[i]).UnixNano()); err != nil {
			return c, err
		}
	}
	if err := tx.Commit(); err != nil {
		return c, err
	}
	q := `SELECT COUNT(*) FROM (
		SELECT dk, id, ROW_NUMBER() OVER (PARTITION BY dk ORDER BY act DESC, id ASC) AS rn,
		       COUNT(*) OVER (PARTITION BY dk) AS c FROM reg)
	      WHERE rn = 1 AND c > 1`
	if err := p.db.QueryRowContext(ctx, q).Scan(&c.dups); err != nil {
		return c, err
	}
	q = `SELECT COUNT(*) FROM (SELECT sk FROM reg WHERE sk <> '' GROUP BY sk HAVING COUNT(DISTINCT dk) > 1)`
	if err := p.db.QueryRowContext(ctx, q).Scan(&c.sus); err != nil {
		return c, err
	}
	return c, nil
}

// ---- dedupe/stream ----

// csvRegistry is a registry written to a CSV file, with its expected
// counts, streamed from synth without holding it in memory.
type csvRegistry struct {
	once sync.Once
	err  error
	n    int
	dir  string
	path string
	size int64
	want counts
	gen  time.Duration
}

func (c *csvRegistry) build() error {
	c.once.Do(func() {
		start := time.Now()
		c.dir, c.err = os.MkdirTemp("", "dedupebench-*")
		if c.err != nil {
			return
		}
		c.path = filepath.Join(c.dir, "registry.csv")
		f, err := os.Create(c.path)
		if err != nil {
			c.err = err
			return
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		w := dedupe.NewWriter(bw, dedupe.CSVConfig{}, nil)
		type cluster struct{ variants map[int]int }
		clusters := map[int64]*cluster{}
		for rec, t := range synth.New(2026).RegistrySeq(synth.RegistryConfig{Records: c.n, DupRate: dupRate, SuspiciousRate: susRate, NoiseRate: noiseRate}) {
			if err := w.Write(fromSynth(rec)); err != nil {
				c.err = err
				f.Close()
				return
			}
			if t.Cluster != rec.ID {
				cl := clusters[t.Cluster]
				if cl == nil {
					cl = &cluster{variants: map[int]int{0: 1}}
					clusters[t.Cluster] = cl
				}
				cl.variants[t.Variant]++
			}
		}
		for _, cl := range clusters {
			for _, k := range cl.variants {
				if k >= 2 {
					c.want.dups++
				}
			}
			if len(cl.variants) > 1 {
				c.want.sus++
			}
		}
		if err := w.Flush(); err != nil {
			c.err = err
		} else if err := bw.Flush(); err != nil {
			c.err = err
		}
		if err := f.Close(); c.err == nil && err != nil {
			c.err = err
		}
		if st, err := os.Stat(c.path); err == nil {
			c.size = st.Size()
		}
		c.gen = time.Since(start)
	})
	return c.err
}

func (c *csvRegistry) remove() error {
	if c.dir == "" {
		return nil
	}
	return os.RemoveAll(c.dir)
}

// countSink counts groups instead of keeping them.
type countSink struct{ got counts }

func (s *countSink) Duplicate(dedupe.DuplicateGroup) error { s.got.dups++; return nil }
func (s *countSink) Review(g dedupe.ReviewGroup) error {
	if g.Kind == dedupe.ReviewSuspicious {
		s.got.sus++
	}
	return nil
}

func streamWorkload(s bench.Scale, sizes []int) bench.Workload {
	budget := int64(512 << 20)
	if s == bench.Small {
		budget = 1 << 20 // force the spill path in CI
	}
	w := bench.Workload{
		Name: "dedupe/stream",
		Unit: "registry",
		Doc: fmt.Sprintf("stream a registry from CSV through Resolver.Stream with a %d MiB memory budget, spilling to "+
			"partitions on disk; one op is the whole registry; records/s and peak RSS are in the metrics", budget>>20),
	}
	for _, n := range sizes {
		reg := &csvRegistry{n: n}
		label := sizeLabel(n)
		w.Subjects = append(w.Subjects,
			bench.Subject{Name: "csv-only/" + label, Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
				if err := reg.build(); err != nil {
					return nil, err
				}
				return streamRunner(reg, func(ctx context.Context, rd dedupe.RecordReader) (dedupe.Stats, counts, error) {
					var st dedupe.Stats
					for {
						_, err := rd.Read()
						if errors.Is(err, io.EOF) {
							return st, reg.want, nil
						}
						if err != nil {
							return st, counts{}, err
						}
						st.Records++
					}
				}, nil), nil
			}},
			bench.Subject{Name: "Stream/" + label, Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
				if err := reg.build(); err != nil {
					return nil, err
				}
				r, err := dedupe.NewResolver(dedupe.Policy{}, dedupe.Config{MemoryBudget: budget, Spill: dedupe.DirSpill(reg.dir)})
				if err != nil {
					return nil, err
				}
				return streamRunner(reg, func(ctx context.Context, rd dedupe.RecordReader) (dedupe.Stats, counts, error) {
					var sink countSink
					st, err := r.Stream(ctx, rd, &sink)
					return st, sink.got, err
				}, reg.remove), nil
			}},
		)
	}
	return w
}

func sizeLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// streamRunner runs fn over the CSV file once per op and reports records
// per second, peak RSS and partitions as metrics.
func streamRunner(reg *csvRegistry, fn func(context.Context, dedupe.RecordReader) (dedupe.Stats, counts, error), closeFn func() error) bench.Runner {
	var records int64
	var busy, cpu time.Duration
	var parts int
	var peak atomic.Int64
	run := bench.RunFunc(func(ctx context.Context, n int) error {
		for i := 0; i < n; i++ {
			f, err := os.Open(reg.path)
			if err != nil {
				return err
			}
			stop := sampleRSS(&peak)
			start, cpu0 := time.Now(), cpuTime()
			rd, err := dedupe.NewReader(bufio.NewReaderSize(f, 1<<20), dedupe.CSVConfig{})
			if err != nil {
				stop()
				f.Close()
				return err
			}
			st, got, err := fn(ctx, rd)
			busy += time.Since(start)
			cpu += cpuTime() - cpu0
			stop()
			f.Close()
			if err != nil {
				return err
			}
			if st.Records != int64(reg.n) {
				return fmt.Errorf("%w: read %d records, want %d", bench.ErrWrongAnswer, st.Records, reg.n)
			}
			if err := check("stream", got, reg.want); err != nil {
				return err
			}
			records += st.Records
			parts = st.Partitions
		}
		return nil
	})
	return &withMetrics{Runner: run, close: closeFn, metrics: func() []bench.Metric {
		m := []bench.Metric{
			{Name: "records/s", Value: float64(records) / busy.Seconds(), Unit: "records/s"},
			{Name: "records per CPU second", Value: float64(records) / cpu.Seconds(), Unit: "records/cpu-s"},
			{Name: "wall time per registry", Value: busy.Seconds() / float64(max(1, records/int64(reg.n))), Unit: "s"},
			{Name: "peak RSS", Value: float64(peak.Load()) / (1 << 20), Unit: "MiB"},
			{Name: "records", Value: float64(reg.n), Unit: "records"},
			{Name: "CSV size", Value: float64(reg.size) / (1 << 20), Unit: "MiB"},
		}
		if parts > 0 {
			m = append(m, bench.Metric{Name: "partitions", Value: float64(parts)})
		}
		return m
	}}
}

// rss returns the process's resident set size from /proc, or the Go
// runtime's view of its memory where /proc is not there.
func rss(field string) int64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, field+":"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}

// sampleRSS records the highest RSS seen every 20 ms until stop is called.
func sampleRSS(peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rss("VmRSS"); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// peakRSS reports the process's high-water mark so far.
func peakRSS() []bench.Metric {
	return []bench.Metric{{Name: "process peak RSS", Value: float64(rss("VmHWM")) / (1 << 20), Unit: "MiB"}}
}

// ---- dedupe/reconcile ----

// reconData is a source registry of distinct people and the data issued
// from it: 1 % never issued, 1 % issued twice (the copy with noise).
type reconData struct {
	once    sync.Once
	n       int
	src     []dedupe.Record
	issued  []dedupe.Record // in source order: what was issued for src[0], src[1], ...
	ends    []int           // ends[k]: records issued for src[:k]
	missing []int           // prefix sums: missing among src[:k]
	twice   []int
}

func (d *reconData) load() {
	d.once.Do(func() {
		raw, _ := synth.New(77).Registry(synth.RegistryConfig{Records: d.n, NoiseRate: noiseRate})
		d.src = make([]dedupe.Record, len(raw))
		d.ends = make([]int, len(raw)+1)
		d.missing = make([]int, len(raw)+1)
		d.twice = make([]int, len(raw)+1)
		for i, x := range raw {
			d.src[i] = fromSynth(x)
			c := d.src[i]
			c.ID += int64(d.n)
			m, t := 0, 0
			switch i % 100 {
			case 17:
				m = 1
			case 42:
				dup := c
				dup.ID += int64(d.n)
				dup.Name = " " + dup.Name + " "
				d.issued = append(d.issued, c, dup)
				t = 1
			default:
				d.issued = append(d.issued, c)
			}
			d.ends[i+1] = len(d.issued)
			d.missing[i+1] = d.missing[i] + m
			d.twice[i+1] = d.twice[i] + t
		}
	})
}

// issuedFor returns what was issued for src[:k].
func (d *reconData) issuedFor(k int) []dedupe.Record { return d.issued[:d.ends[k]] }

func reconcileWorkload(size int) bench.Workload {
	data := &reconData{n: size}
	checkRep := func(what string, k int, matched, missing, extra int) error {
		wm, we := data.missing[k], data.twice[k]
		if matched != k-wm || missing != wm || extra != we {
			return fmt.Errorf("%w: %s: matched %d missing %d extra %d, want %d %d %d", bench.ErrWrongAnswer, what, matched, missing, extra, k-wm, wm, we)
		}
		return nil
	}
	return bench.Workload{
		Name: "dedupe/reconcile",
		Unit: "record",
		Doc: fmt.Sprintf("reconcile a %d-record source with its issued data (1 %% missing, 1 %% issued twice, 10 %% noisy) "+
			"by document type, number, name and phone; one op is one source record", size),
		Subjects: []bench.Subject{
			{Name: "dedupe.Reconcile", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
				data.load()
				return meter(bench.RunFunc(func(ctx context.Context, n int) error {
					return prefixes(ctx, n, len(data.src), func(k int) error {
						is := data.issuedFor(k)
						rep, err := dedupe.Reconcile(ctx, dedupe.SliceReader(data.src[:k]), dedupe.SliceReader(is), dedupe.ReconcileConfig{})
						if err != nil {
							return err
						}
						return checkRep("dedupe.Reconcile", k, int(rep.Matched), len(rep.Missing), len(rep.Extra))
					})
				}), nil), nil
			}},
			{Name: "naive-map", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
				data.load()
				return meter(bench.RunFunc(func(ctx context.Context, n int) error {
					return prefixes(ctx, n, len(data.src), func(k int) error {
						is := data.issuedFor(k)
						m, miss, extra := naiveReconcile(data.src[:k], is)
						return checkRep("naive-map", k, m, miss, extra)
					})
				}), nil), nil
			}},
		},
	}
}

// naiveReconcile normalises whole records and counts keys in a map.
func naiveReconcile(src, issued []dedupe.Record) (matched, missing, extra int) {
	key := func(r dedupe.Record) string {
		n := dedupe.Normalize(r)
		return strings.Join([]string{n.DocType, n.DocNumber, n.Name, n.Phone}, "\x1f")
	}
	count := map[string][2]int{}
	for _, r := range src {
		c := count[key(r)]
		c[0]++
		count[key(r)] = c
	}
	for _, r := range issued {
		c := count[key(r)]
		c[1]++
		count[key(r)] = c
	}
	for _, c := range count {
		m := min(c[0], c[1])
		matched += m
		missing += c[0] - m
		extra += c[1] - m
	}
	return matched, missing, extra
}
