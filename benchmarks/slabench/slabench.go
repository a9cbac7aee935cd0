// Package slabench holds the workload benchmarks of the sla package:
// replaying incidents against a working-hours calendar with the mainland
// holidays and make-up days, against a minute-by-minute walk of the same
// calendar (the oracle the package's tests check it with).
package slabench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/healthcode-sdk/healthcode/sla"
)

var cst = sla.ChinaStandardTime()

// sizes: incidents replayed by the primary, and how many of them the
// minute walk replays (the walk costs milliseconds per incident, so at full
// scale it runs on a sample of the same incidents and the report compares
// per-incident times).
func sizes(s bench.Scale) (n, sample int) {
	if s == bench.Full {
		return 1_000_000, 2_000
	}
	return 10_000, 100
}

// Workloads returns the sla workloads at scale s.
func Workloads(s bench.Scale) []bench.Workload {
	n, sample := sizes(s)
	var shared *fixture // built once, by whichever subject is set up first
	get := func() (*fixture, error) {
		if shared == nil {
			f, err := newFixture(n, sample)
			if err != nil {
				return nil, err
			}
			shared = f
		}
		return shared, nil
	}
	return []bench.Workload{{
		Name: "sla/incidents",
		Unit: "incident",
		Doc:  fmt.Sprintf("replay %d synthetic incidents (synth.Incidents over 2024-2025, levels L1-L3, pauses and reopenings) against response and resolution targets on a 5x8 working-hours calendar with the 2024-2026 holidays and make-up days: sla.Policy.EvaluateTo (prefix sums) vs a minute-by-minute walk of the same calendar on %d of the same incidents (per-incident times compared; results checked equal)", n, sample),
		Subjects: []bench.Subject{
			{Name: "sla.Policy.EvaluateTo", Role: bench.Primary, Parallel: true, Setup: func(context.Context) (bench.Runner, error) {
				f, err := get()
				if err != nil {
					return nil, err
				}
				return &primary{f: f}, nil
			}},
			{Name: "minute-walk", Role: bench.Baseline, Setup: func(context.Context) (bench.Runner, error) {
				f, err := get()
				if err != nil {
					return nil, err
				}
				return &walker{f: f}, nil
			}},
		},
	}}
}

// targets of the benchmark policy, per level: response and resolution in
// working time.
var targets = map[string][2]time.Duration{
	"L1": {30 * time.Minute, 4 * time.Hour},
	"L2": {time.Hour, 8 * time.Hour},
	"L3": {4 * time.Hour, 16 * time.Hour},
}

type fixture struct {
	cal    *sla.Calendar
	policy *sla.Policy
	incs   []sla.Incident
	asOf   time.Time
	stride int // every stride-th incident is in the sample
	sample []int
	want   map[int][2]clockResult // oracle results of the sample
}

type clockResult struct {
	elapsed  time.Duration
	deadline time.Time
}

func newFixture(n, sample int) (*fixture, error) {
	cal, err := sla.NewWorkingCalendar(sla.WorkingConfig{Name: "office 5x8"})
	if err != nil {
		return nil, err
	}
	var levels []sla.Level
	for _, name := range []string{"L1", "L2", "L3"} {
		t := targets[name]
		levels = append(levels, sla.Level{Name: name, Targets: []sla.Target{
			{Kind: sla.TargetResponse, Within: sla.Duration{D: t[0]}, Calendar: cal},
			{Kind: sla.TargetResolution, Within: sla.Duration{D: t[1]}, Calendar: cal},
		}})
	}
	p, err := sla.NewPolicy(levels)
	if err != nil {
		return nil, err
	}
	src := synth.New(7).Incidents(synth.IncidentConfig{N: n, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, cst), Days: 730})
	f := &fixture{cal: cal, policy: p, incs: make([]sla.Incident, len(src)), asOf: time.Date(2026, 6, 1, 0, 0, 0, 0, cst),
		stride: max(n/sample, 1), want: map[int][2]clockResult{}}
	for i, s := range src {
		evs := make([]sla.Event, len(s.Events))
		for j, e := range s.Events {
			// Whole minutes, so the minute walk measures the same thing.
			evs[j] = sla.Event{Kind: sla.EventKind(e.Kind), At: e.At.Truncate(time.Minute)}
		}
		f.incs[i] = sla.Incident{ID: s.ID, Level: s.Level, Events: evs}
	}
	for i := 0; i < n && len(f.sample) < sample; i += f.stride {
		f.sample = append(f.sample, i)
		f.want[i] = f.walk(f.incs[i])
	}
	return f, nil
}

func check(i int, got sla.IncidentResult, want [2]clockResult) error {
	for k := range 2 {
		g := got.Targets[k]
		if g.Elapsed != want[k].elapsed || !g.Deadline.Equal(want[k].deadline) {
			return fmt.Errorf("%w: incident %d %s: elapsed %v deadline %v, minute walk %v %v", bench.ErrWrongAnswer, i, g.Kind, g.Elapsed, g.Deadline, want[k].elapsed, want[k].deadline)
		}
	}
	return nil
}

// primary replays incidents with sla.Policy.Evaluate; sample incidents are
// checked against the minute walk, every result for consistency.
type primary struct {
	f    *fixture
	next atomic.Int64
}

func (r *primary) Run(ctx context.Context, n int) error {
	f := r.f
	var res sla.IncidentResult // reused: EvaluateTo allocates nothing
	for j := range n {
		if j%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		i := int(r.next.Add(1)-1) % len(f.incs)
		if err := f.policy.EvaluateTo(&res, f.incs[i], f.asOf); err != nil {
			return err
		}
		lim := targets[f.incs[i].Level]
		for k, t := range res.Targets {
			if t.Deadline.IsZero() || t.Elapsed < 0 || (t.Overrun > 0) != (t.Elapsed > lim[k]) {
				return fmt.Errorf("%w: incident %d %s inconsistent: %+v", bench.ErrWrongAnswer, i, t.Kind, t)
			}
		}
		if i%f.stride == 0 {
			if want, ok := f.want[i]; ok {
				if err := check(i, res, want); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// walker replays the sample with the minute walk and checks it agrees
// with sla.
type walker struct {
	f    *fixture
	next int
}

func (w *walker) Run(ctx context.Context, n int) error {
	f := w.f
	for j := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		i := f.sample[w.next%len(f.sample)]
		w.next++
		got := f.walk(f.incs[i])
		if got != f.want[i] {
			return fmt.Errorf("%w: minute walk of incident %d not deterministic", bench.ErrWrongAnswer, i)
		}
		if j < len(f.sample) {
			res, err := f.policy.Evaluate(f.incs[i], f.asOf)
			if err != nil {
				return err
			}
			if err := check(i, res, got); err != nil {
				return err
			}
		}
	}
	return nil
}

// working reports whether the minute starting at t is working time: a
// working day (holidays and make-up days from the calendar's data) and
// inside a window.
func (f *fixture) working(t time.Time) bool {
	ok, err := f.cal.IsWorkingDay(t)
	if err != nil || !ok {
		return false
	}
	lt := t.In(cst)
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute
	for _, win := range f.cal.Windows() {
		if tod >= win.Start && tod < win.End {
			return true
		}
	}
	return false
}

// walk is the oracle: for each target, the spans its clock runs (derived
// directly from the events), then a walk over every minute counting
// working minutes; after the clock's last stop it walks on until the
// target is used up, which gives the deadline of a met target.
func (f *fixture) walk(inc sla.Incident) [2]clockResult {
	var out [2]clockResult
	lim := targets[inc.Level]
	for k := range 2 {
		var spans [][2]time.Time
		var from time.Time
		running, done, paused := false, false, false
		for _, e := range inc.Events {
			switch {
			case e.Kind == sla.Opened:
				from, running = e.At, true
			case e.Kind == sla.Paused && running:
				spans, running, paused = append(spans, [2]time.Time{from, e.At}), false, true
			case e.Kind == sla.Paused:
				paused = true
			case e.Kind == sla.Resumed && !done:
				from, running, paused = e.At, true, false
			case e.Kind == sla.Resumed:
				paused = false
			case (e.Kind == sla.Responded && k == 0 || e.Kind == sla.Resolved) && !done:
				if running {
					spans = append(spans, [2]time.Time{from, e.At})
				}
				running, done = false, true
			case e.Kind == sla.Reopened && k == 1:
				from, running, done = e.At, !paused, false
			}
		}
		if running {
			spans = append(spans, [2]time.Time{from, f.asOf})
		}
		limit := int(lim[k] / time.Minute)
		count := 0
		var deadline time.Time
		last := spans[len(spans)-1][1]
		for _, sp := range spans {
			for t := sp[0]; t.Before(sp[1]); t = t.Add(time.Minute) {
				if f.working(t) {
					count++
					if count == limit {
						deadline = t.Add(time.Minute)
					}
				}
			}
		}
		for t, c := last, count; deadline.IsZero(); t = t.Add(time.Minute) {
			if f.working(t) {
				if c++; c == limit {
					deadline = t.Add(time.Minute)
				}
			}
		}
		out[k] = clockResult{elapsed: time.Duration(count) * time.Minute, deadline: deadline}
	}
	return out
}
