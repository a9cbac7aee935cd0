// Package bench is the workload benchmark harness of the healthcode SDK.
//
// A [Workload] names one job ("codes/lookup") and the subjects that do it:
// the SDK's implementation ([Primary]) and the baselines and peers it is
// measured against ([Baseline], [Peer]), all in the same process and run. A
// subject's [Runner] performs n operations and checks their results, so a
// fast wrong answer fails the run instead of winning it.
//
// The same workloads are driven two ways: by `go test -bench` through
// [Benchmark], and by the hcbench CLI through [Run], which prints a markdown
// report with the ratio of every subject to each baseline and peer.
//
// # Usage
//
//	w := bench.Workload{
//		Name: "demo/sum", Unit: "add",
//		Subjects: []bench.Subject{
//			{Name: "sdk", Role: bench.Primary, Setup: setupSDK},
//			{Name: "loop", Role: bench.Baseline, Setup: setupLoop},
//		},
//	}
//	rep, err := bench.Run(ctx, []bench.Workload{w}, bench.Options{})
//	rep.Markdown(os.Stdout)
//
// Nothing in this package is safe for concurrent use unless stated; Run
// itself runs one subject at a time so that subjects never compete for the
// cores.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sync"
	"time"
)

// Role says what a subject is in its workload.
type Role int

const (
	// Primary is the SDK's own implementation.
	Primary Role = iota
	// Baseline is the reference a goal is stated against (a plain map, a
	// hand-written version, a brute-force oracle).
	Baseline
	// Peer is another library doing the same job (expr, SQLite).
	Peer
)

func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Baseline:
		return "baseline"
	case Peer:
		return "peer"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Scale selects the size of a workload's data.
type Scale int

const (
	// Small keeps setup and one iteration cheap: used by `go test -bench`
	// and CI, where the point is that no benchmark rots.
	Small Scale = iota
	// Full uses the sizes the issues state their figures at.
	Full
)

// ParseScale parses "small" or "full".
func ParseScale(s string) (Scale, error) {
	switch s {
	case "small":
		return Small, nil
	case "full":
		return Full, nil
	}
	return Small, fmt.Errorf("bench: unknown scale %q (want small or full)", s)
}

func (s Scale) String() string {
	if s == Full {
		return "full"
	}
	return "small"
}

// Runner performs n operations of a workload. It must check what the
// operations return and report a wrong answer as an error.
//
// A Runner may also implement io.Closer (called once after the subject
// ran) and MetricsReporter (quality and size figures for the report).
type Runner interface {
	Run(ctx context.Context, n int) error
}

// RunFunc adapts a function to a Runner.
type RunFunc func(ctx context.Context, n int) error

// Run calls f(ctx, n).
func (f RunFunc) Run(ctx context.Context, n int) error { return f(ctx, n) }

// Metric is a figure other than speed: precision, recall, bytes per scan.
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

// MetricsReporter is implemented by runners that have figures to report
// beyond time and allocations. Metrics is called after the timed runs.
type MetricsReporter interface {
	Metrics() []Metric
}

// Subject is one implementation measured in a workload.
type Subject struct {
	Name string
	Role Role
	// Parallel subjects are run from GOMAXPROCS goroutines at once, each
	// calling Run with its share of n; their Runner must be safe for
	// concurrent use.
	Parallel bool
	// Setup builds the subject's state outside the timed region.
	Setup func(ctx context.Context) (Runner, error)
}

// Workload is one job and the subjects that do it.
type Workload struct {
	Name     string // "codes/lookup"
	Unit     string // what one operation is: "lookup", "person", "scan"
	Doc      string // one line for the report
	Subjects []Subject
}

// Options control [Run]. The zero value is usable.
type Options struct {
	// MinTime is how long each subject is run for, at least; 0 means 1s.
	MinTime time.Duration
	// Once runs every subject for exactly one operation batch of size 1
	// (the CLI's smoke mode, like -benchtime=1x).
	Once bool
	// Filter selects workloads by name; nil means all.
	Filter *regexp.Regexp
	// Progress, if not nil, receives one line per subject as it finishes.
	Progress io.Writer
}

// Result is the measurement of one subject.
type Result struct {
	Workload    string
	Unit        string
	Subject     string
	Role        Role
	Parallel    bool
	N           int
	Elapsed     time.Duration
	NsPerOp     float64
	OpsPerSec   float64
	AllocsPerOp float64
	BytesPerOp  float64
	Metrics     []Metric
}

// Report is the outcome of [Run].
type Report struct {
	GoVersion  string
	GOOS       string
	GOARCH     string
	GOMAXPROCS int
	NumCPU     int
	Started    time.Time
	Docs       map[string]string // workload name -> Doc
	Results    []Result
}

// ErrWrongAnswer may be wrapped by runners that detect a wrong result, so
// that callers can tell a correctness failure from a setup failure.
var ErrWrongAnswer = errors.New("bench: wrong answer")

// Run measures every subject of every workload selected by opts.Filter, one
// at a time, and returns the report. It stops at the first error.
func Run(ctx context.Context, ws []Workload, opts Options) (Report, error) {
	if opts.MinTime <= 0 {
		opts.MinTime = time.Second
	}
	rep := Report{
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		Started:    time.Now(),
		Docs:       map[string]string{},
	}
	for _, w := range ws {
		if opts.Filter != nil && !opts.Filter.MatchString(w.Name) {
			continue
		}
		rep.Docs[w.Name] = w.Doc
		for _, s := range w.Subjects {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			res, err := measure(ctx, w, s, opts)
			if err != nil {
				return rep, fmt.Errorf("bench: %s/%s: %w", w.Name, s.Name, err)
			}
			rep.Results = append(rep.Results, res)
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "%-28s %-16s %12.0f %s/s  %10.1f ns/op\n",
					w.Name, s.Name, res.OpsPerSec, w.Unit, res.NsPerOp)
			}
		}
	}
	return rep, nil
}

func measure(ctx context.Context, w Workload, s Subject, opts Options) (Result, error) {
	r, err := s.Setup(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("setup: %w", err)
	}
	defer closeRunner(r)
	res := Result{Workload: w.Name, Unit: w.Unit, Subject: s.Name, Role: s.Role, Parallel: s.Parallel}

	// Grow n the way testing.B does: run, predict the n that fills MinTime,
	// run again, until one run lasts at least MinTime.
	n := 1
	for {
		el, allocs, bytes, err := timed(ctx, r, s.Parallel, n)
		if err != nil {
			return res, err
		}
		if opts.Once || el >= opts.MinTime || n >= 1e9 {
			res.N, res.Elapsed = n, el
			res.NsPerOp = float64(el.Nanoseconds()) / float64(n)
			if el > 0 {
				res.OpsPerSec = float64(n) / el.Seconds()
			}
			res.AllocsPerOp = float64(allocs) / float64(n)
			res.BytesPerOp = float64(bytes) / float64(n)
			break
		}
		n = nextN(n, el, opts.MinTime)
	}
	if m, ok := r.(MetricsReporter); ok {
		res.Metrics = m.Metrics()
	}
	return res, nil
}

// nextN predicts the iteration count that fills target, growing at most
// 100x and at least by one, as testing.B does.
func nextN(n int, el, target time.Duration) int {
	prev := n
	if el <= 0 {
		return prev * 100
	}
	want := int64(float64(target.Nanoseconds()) * 1.2 * float64(n) / float64(el.Nanoseconds()))
	want = min(want, int64(prev)*100)
	want = max(want, int64(prev)+1)
	return int(min(want, 1e9))
}

// timed runs n operations, split across GOMAXPROCS goroutines when parallel,
// and returns the wall time and the allocations made meanwhile.
func timed(ctx context.Context, r Runner, parallel bool, n int) (time.Duration, uint64, uint64, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	var err error
	if parallel {
		err = runParallel(ctx, r, n)
	} else {
		err = r.Run(ctx, n)
	}
	el := time.Since(start)
	runtime.ReadMemStats(&after)
	return el, after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc, err
}

// runParallel splits n over GOMAXPROCS goroutines; the first error wins.
func runParallel(ctx context.Context, r Runner, n int) error {
	procs := runtime.GOMAXPROCS(0)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range procs {
		share := n / procs
		if i < n%procs {
			share++
		}
		if share == 0 {
			continue
		}
		wg.Go(func() {
			if err := r.Run(ctx, share); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return first
}

func closeRunner(r Runner) {
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
}

// MarshalText writes the role's name, so reports read "baseline", not 1.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
