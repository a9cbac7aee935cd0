package quality

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// State is where a run stands.
type State string

// The states of a run. A run starts Running and ends in one of the
// others; only a Running run changes.
const (
	Running State = "running"
	Done    State = "done"    // every check ran; the figures say what was wrong
	Stopped State = "stopped" // Stop (or the caller's ctx) ended it; finished checks are kept
	Failed  State = "failed"  // a dataset could not be read (Reason says which), or the process ended mid-run ("interrupted")
)

// Sentinel errors of Start.
var (
	ErrRunning         = errors.New("quality: the rule is already running for that day")
	ErrUnknownRule     = errors.New("quality: no such rule")
	ErrOutsideValidity = errors.New("quality: the day is outside the rule's validity period")
	ErrBadDay          = errors.New("quality: not a day like 2022-06-14")
	ErrUnknownCheck    = errors.New("quality: the rule has no such check")
)

// Run is one run of a rule over one day's datasets: what the store keeps
// and the report shows. A plain value.
type Run struct {
	ID      string    `json:"id"`   // "run-42", unique in its store
	Rule    string    `json:"rule"` //
	Day     string    `json:"day"`  // the day checked, YYYY-MM-DD
	State   State     `json:"state"`
	Reason  string    `json:"reason,omitempty"` // why a run failed or stopped
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Log     []LogLine `json:"log"`
	// Checks are the finished checks, in the rule's order; a stopped or
	// failed run keeps those that finished before it ended.
	Checks []CheckResult `json:"checks"`
	// Total sums the checks' figures; Rows counts each dataset once.
	Total Figures `json:"total"`
}

// OK reports whether the run is done and found nothing wrong. The server
// raises an alarm for a run that ended and is not OK.
func (r Run) OK() bool {
	t := r.Total
	return r.State == Done && t.Missing == 0 && t.Extra == 0 && t.Duplicated == 0 && t.Invalid == 0 && t.Mismatched == 0
}

// LogLine is one line of a run's log.
type LogLine struct {
	At  time.Time `json:"at"`
	Msg string    `json:"msg"`
}

// CheckResult is what one check found.
type CheckResult struct {
	Name    string  `json:"name"`    // Check.Name: "reconcile source→coded"
	Dataset string  `json:"dataset"` // the dataset (reconcile: "source,coded")
	Figures Figures `json:"figures"`
	// ByField counts problems by field name ("phone"), or column for a
	// column that is not a field, or "row" for a row that could not be
	// read; a row with two bad fields counts under both.
	ByField map[string]int `json:"by_field,omitempty"`
	Samples []Sample       `json:"samples,omitempty"` // the first Rule.SampleLimit records behind the figures
}

// Figures count what a check found.
//
//   - Rows: rows read (reconcile: of both datasets).
//   - Missing: records of the first dataset with no counterpart in the
//     second; Extra: records of the second with none in the first
//     (dedupe.Reconcile's counting, so a duplicated copy with no
//     counterpart is also missing or extra).
//   - Duplicated: surplus copies: for each key held by n > 1 records of
//     one dataset, n-1.
//   - Invalid: rows with at least one problem (validate, non_empty,
//     format, and rows any check could not read).
//   - Mismatched: rows whose birth date differs from their ID number's.
type Figures struct {
	Rows       int `json:"rows"`
	Missing    int `json:"missing"`
	Extra      int `json:"extra"`
	Duplicated int `json:"duplicated"`
	Invalid    int `json:"invalid"`
	Mismatched int `json:"mismatched"`
}

func (f *Figures) add(o Figures) {
	f.Missing += o.Missing
	f.Extra += o.Extra
	f.Duplicated += o.Duplicated
	f.Invalid += o.Invalid
	f.Mismatched += o.Mismatched
}

// Sample is one record behind a figure, masked for a reviewer: no value
// appears whole.
type Sample struct {
	Dataset string `json:"dataset"`
	Line    int    `json:"line"`    // line in the file (the header is line 1)
	ID      int64  `json:"id"`      // the record's id column
	Key     string `json:"key"`     // the key fields, each masked with dedupe.Mask, joined by " / "
	Field   string `json:"field"`   // "" for a reconcile sample
	Problem string `json:"problem"` // "missing from coded", "check character does not match ..."
	Value   string `json:"value"`   // the field's value, masked
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Rules *Rules // required
	Store *Store // required
	// Base is the directory the rules' dataset paths are relative to;
	// default ".".
	Base string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// After waits for d on the clock (Schedule uses it); default
	// time.After. A test passes one that moves a fake clock.
	After func(d time.Duration) <-chan time.Time
	// ProgressRows: a run logs a progress line every this many rows of
	// a dataset; default 100000.
	ProgressRows int
	// Log receives the runner's own messages (a failed save, a scheduled
	// run that could not start); nil discards them.
	Log *slog.Logger
	// OnFinish, if set, is called once with every run that ends (done,
	// stopped or failed), after it is saved and before RunNow or Wait
	// return it; the server raises an alarm for a run that is not OK. It
	// must not block for long.
	OnFinish func(Run)
}

// Validate names the first missing required field.
func (c RunnerConfig) Validate() error {
	switch {
	case c.Rules == nil:
		return errors.New("quality: RunnerConfig.Rules is required")
	case c.Store == nil:
		return errors.New("quality: RunnerConfig.Store is required")
	case c.ProgressRows < 0:
		return errors.New("quality: RunnerConfig.ProgressRows is negative")
	}
	return nil
}

// Runner runs rules as tasks: in the background (Start, Stop, Wait), in
// the foreground (RunNow) and on schedule (Schedule). A Runner is safe for
// concurrent use.
type Runner struct {
	cfg    RunnerConfig
	log    *slog.Logger
	reload chan struct{}

	mu     sync.Mutex
	rules  *Rules
	active map[string]*active // by run ID

	progressHook func(runID string) // tests: called after each progress line
}

// active is a run in progress.
type active struct {
	run    Run // guarded by Runner.mu
	cancel context.CancelFunc
	done   chan struct{} // closed once the run is saved in its final state
}

// NewRunner returns a Runner; it starts nothing until Start, RunNow or
// Schedule.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Base == "" {
		cfg.Base = "."
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.ProgressRows == 0 {
		cfg.ProgressRows = 100000
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log, rules: cfg.Rules, active: map[string]*active{}, reload: make(chan struct{}, 1)}, nil
}

// Reload replaces the rules. Runs in progress keep the rule they started
// with; Schedule picks up the new schedules at once.
func (r *Runner) Reload(rules *Rules) {
	if rules == nil {
		return
	}
	r.mu.Lock()
	r.rules = rules
	r.mu.Unlock()
	select {
	case r.reload <- struct{}{}:
	default:
	}
}

// Rules returns the rules in use.
func (r *Runner) Rules() *Rules {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rules
}

// Start starts a run of rule over day (YYYY-MM-DD) in the background and
// returns it as running; it is saved as running before Start returns.
// The run does not end with ctx (which may be a request's): Stop ends it.
// Errors: ErrBadDay, ErrUnknownRule, ErrOutsideValidity, ErrRunning.
func (r *Runner) Start(ctx context.Context, rule, day string) (Run, error) {
	if !validDay(day) {
		return Run{}, fmt.Errorf("%w: %q", ErrBadDay, day)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ru, ok := r.rules.Rule(rule)
	if !ok {
		return Run{}, fmt.Errorf("%w: %q", ErrUnknownRule, rule)
	}
	if !ru.Valid(day) {
		to := ru.To
		if to == "" {
			to = "…"
		}
		return Run{}, fmt.Errorf("%w: %s is not in %s..%s of rule %s", ErrOutsideValidity, day, ru.From, to, rule)
	}
	for _, a := range r.active {
		if a.run.Rule == rule && a.run.Day == day {
			return Run{}, fmt.Errorf("%w: %s %s (%s)", ErrRunning, rule, day, a.run.ID)
		}
	}
	id, err := r.cfg.Store.newID()
	if err != nil {
		return Run{}, err
	}
	now := r.cfg.Now()
	run := Run{ID: id, Rule: rule, Day: day, State: Running, Started: now,
		Log: []LogLine{{At: now, Msg: fmt.Sprintf("started: rule %s (%s), day %s, %d checks", rule, ru.Covers, day, len(ru.Checks))}}}
	if err := r.cfg.Store.Save(run); err != nil {
		return Run{}, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &active{run: run, cancel: cancel, done: make(chan struct{})}
	r.active[id] = a
	go r.execute(rctx, a, ru)
	return run, nil
}

// Stop asks a running run to stop; it ends as stopped once its current
// row is read (Wait for it). Stopping a run that has ended does nothing;
// an unknown ID is ErrNotFound.
func (r *Runner) Stop(id string) error {
	r.mu.Lock()
	a, ok := r.active[id]
	r.mu.Unlock()
	if ok {
		a.cancel()
		return nil
	}
	_, err := r.cfg.Store.Get(id)
	return err
}

// Get returns a run as it stands: a running run with its log so far.
func (r *Runner) Get(id string) (Run, error) {
	r.mu.Lock()
	if a, ok := r.active[id]; ok {
		run := cloneRun(a.run)
		r.mu.Unlock()
		return run, nil
	}
	r.mu.Unlock()
	return r.cfg.Store.Get(id)
}

// Wait waits until run id has ended and returns it as stored; ctx only
// bounds the wait.
func (r *Runner) Wait(ctx context.Context, id string) (Run, error) {
	r.mu.Lock()
	a, ok := r.active[id]
	r.mu.Unlock()
	if ok {
		select {
		case <-a.done:
		case <-ctx.Done():
			return Run{}, ctx.Err()
		}
	}
	return r.cfg.Store.Get(id)
}

// RunNow runs rule over day in the foreground and returns the ended run.
// Cancelling ctx stops the run (it ends as stopped and is returned).
func (r *Runner) RunNow(ctx context.Context, rule, day string) (Run, error) {
	run, err := r.Start(ctx, rule, day)
	if err != nil {
		return Run{}, err
	}
	r.mu.Lock()
	a := r.active[run.ID]
	r.mu.Unlock()
	if a != nil {
		select {
		case <-a.done:
		case <-ctx.Done():
			a.cancel()
			<-a.done
		}
	}
	return r.cfg.Store.Get(run.ID)
}

func cloneRun(run Run) Run {
	run.Log = append([]LogLine(nil), run.Log...)
	run.Checks = append([]CheckResult(nil), run.Checks...)
	return run
}

// logf appends a line to a running run's log.
func (r *Runner) logf(a *active, format string, args ...any) {
	r.mu.Lock()
	a.run.Log = append(a.run.Log, LogLine{At: r.cfg.Now(), Msg: fmt.Sprintf(format, args...)})
	r.mu.Unlock()
}

// execute runs the checks and saves the run in its final state.
func (r *Runner) execute(ctx context.Context, a *active, rule Rule) {
	defer a.cancel()
	day := a.run.Day
	err := r.preflight(rule, day)
	seen := map[string]bool{}
	var total Figures
	for _, c := range rule.Checks {
		if err != nil {
			break
		}
		if err = ctx.Err(); err != nil {
			break
		}
		r.logf(a, "check %s: started", c.Name())
		var res CheckResult
		var rows map[string]int
		res, rows, err = r.runCheck(ctx, rule, day, c, rule.SampleLimit, func(ds string, n int) {
			r.logf(a, "progress: %s: %s: %d rows", c.Name(), rule.Path(ds, day), n)
			if r.progressHook != nil {
				r.progressHook(a.run.ID)
			}
		})
		if err != nil {
			break
		}
		for ds, n := range rows {
			if !seen[ds] {
				seen[ds] = true
				total.Rows += n
			}
		}
		total.add(res.Figures)
		f := res.Figures
		r.mu.Lock()
		a.run.Checks = append(a.run.Checks, res)
		a.run.Total = total
		r.mu.Unlock()
		r.logf(a, "check %s: done: %d rows, %d missing, %d extra, %d duplicated, %d invalid, %d mismatched",
			c.Name(), f.Rows, f.Missing, f.Extra, f.Duplicated, f.Invalid, f.Mismatched)
	}
	r.mu.Lock()
	now := r.cfg.Now()
	run := &a.run
	switch {
	case ctx.Err() != nil:
		run.State, run.Reason = Stopped, "stopped"
		run.Log = append(run.Log, LogLine{At: now, Msg: "stopped: by request; the checks that finished are kept"})
	case err != nil:
		run.State, run.Reason = Failed, err.Error()
		run.Log = append(run.Log, LogLine{At: now, Msg: "failed: " + err.Error()})
	default:
		run.State = Done
		run.Log = append(run.Log, LogLine{At: now, Msg: "done"})
	}
	run.Ended = now
	final := cloneRun(*run)
	r.mu.Unlock()
	if err := r.cfg.Store.Save(final); err != nil {
		r.log.Error("quality: run not saved", "run", final.ID, "err", err)
	}
	// OnFinish runs before the run stops being active, so a caller of
	// RunNow or Wait sees its effects (an alarm raised) once they return.
	if r.cfg.OnFinish != nil {
		r.cfg.OnFinish(final)
	}
	r.mu.Lock()
	delete(r.active, final.ID)
	r.mu.Unlock()
	close(a.done)
}
