package sla

import (
	"fmt"
	"slices"
	"time"
)

// EventKind is what happened to an incident.
//
// Values are immutable strings, safe for concurrent use.
type EventKind string

// Incident events. The first six are the lifecycle; OnSite, Solution and
// ReportSent stop the on-site, solution and report clocks.
const (
	Opened     EventKind = "opened"
	Responded  EventKind = "responded"
	Paused     EventKind = "paused"
	Resumed    EventKind = "resumed"
	Resolved   EventKind = "resolved"
	Reopened   EventKind = "reopened"
	OnSite     EventKind = "onsite"
	Solution   EventKind = "solution"
	ReportSent EventKind = "report"
)

// TargetKind names a clock.
//
// Values are immutable strings, safe for concurrent use.
type TargetKind string

// Target kinds. Response, resolution, on-site and solution clocks start when
// the incident is opened; the report clock starts when it is (last)
// resolved (sichuan: 事后 2 个工作日内 提供故障诊断报告).
const (
	TargetResponse   TargetKind = "response"
	TargetResolution TargetKind = "resolution"
	TargetOnSite     TargetKind = "onsite"
	TargetSolution   TargetKind = "solution"
	TargetReport     TargetKind = "report"
)

func (k TargetKind) valid() bool {
	switch k {
	case TargetResponse, TargetResolution, TargetOnSite, TargetSolution, TargetReport:
		return true
	}
	return false
}

// Target is one clock of a level: Within of working time on Calendar.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Target struct {
	Kind   TargetKind
	Within Duration
	// Calendar measures the clock. For Within in working days it is the
	// calendar whose working days count; only whole days are used.
	Calendar *Calendar
	// IgnorePauses keeps the clock running through pauses.
	IgnorePauses bool
	Clause       string
}

// Level is a severity or priority with its targets.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Level struct {
	Name        string
	Description string
	Clause      string
	Targets     []Target
}

// Policy holds a contract's levels. It is immutable and safe for concurrent
// use.
type Policy struct {
	levels map[string]Level
	order  []string
	days   map[*Calendar]*Calendar // working-days views, built once
}

// NewPolicy validates the levels and builds their calendars' working-day
// views.
func NewPolicy(levels []Level) (*Policy, error) {
	p := &Policy{levels: map[string]Level{}, days: map[*Calendar]*Calendar{}}
	for i, l := range levels {
		f := fmt.Sprintf("levels[%d]", i)
		if l.Name == "" {
			return nil, fieldErr(f+".name", "missing")
		}
		if _, dup := p.levels[l.Name]; dup {
			return nil, fieldErr(f+".name", "duplicate level %q", l.Name)
		}
		seen := map[TargetKind]bool{}
		for j, t := range l.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			if !t.Kind.valid() {
				return nil, fieldErr(tf+".kind", "%q is not response, resolution, onsite, solution or report", t.Kind)
			}
			if seen[t.Kind] {
				return nil, fieldErr(tf+".kind", "duplicate %s target", t.Kind)
			}
			seen[t.Kind] = true
			if t.Calendar == nil {
				return nil, fieldErr(tf+".calendar", "missing")
			}
			if t.Within.D <= 0 && t.Within.WorkingDays <= 0 {
				return nil, fieldErr(tf+".within", "must be positive")
			}
			if t.Within.WorkingDays > 0 && p.days[t.Calendar] == nil {
				v, err := t.Calendar.workingDays()
				if err != nil {
					return nil, fmt.Errorf("%s.calendar: %w", tf, err)
				}
				p.days[t.Calendar] = v
			}
		}
		p.levels[l.Name] = l
		p.order = append(p.order, l.Name)
	}
	return p, nil
}

// workingDays returns a calendar with the same days worked and whole days
// as windows, for counting working days.
func (c *Calendar) workingDays() (*Calendar, error) {
	if c.always {
		a := Always(c.name + ", whole days")
		a.loc = c.loc
		return a, nil
	}
	wd := []time.Weekday{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if c.weekdays[d] {
			wd = append(wd, d)
		}
	}
	return NewWorkingCalendar(WorkingConfig{Name: c.name + ", whole working days", Location: c.loc, Windows: []Window{{0, 24 * time.Hour}}, Weekdays: wd, Holidays: c.holidays})
}

// Levels returns the level names in definition order.
func (p *Policy) Levels() []string { return append([]string(nil), p.order...) }

// Level returns a level by name.
func (p *Policy) Level(name string) (Level, bool) {
	l, ok := p.levels[name]
	return l, ok
}

// Event is one timestamped event of an incident.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Event struct {
	Kind EventKind
	At   time.Time
}

// Incident is a ticket to replay.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Incident struct {
	ID     string
	Level  string
	Events []Event
}

// Status of a clock.
//
// Values are immutable strings, safe for concurrent use.
type Status string

// Clock statuses.
const (
	Met         Status = "met"
	Breached    Status = "breached"
	Running     Status = "running"
	PausedClock Status = "paused"
	NotStarted  Status = "not started"
	// NotRecorded: an on-site clock without an on-site event. A visit is
	// only due when needed (shaanxi 如必要, sichuan 应采购人要求), so the clock
	// is shown but not judged.
	NotRecorded Status = "not recorded"
)

// TargetResult explains one clock.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type TargetResult struct {
	Kind     TargetKind    `json:"kind"`
	Within   Duration      `json:"within"`
	Calendar string        `json:"calendar"`
	Clause   string        `json:"clause"`
	Start    time.Time     `json:"start"`
	Stop     time.Time     `json:"stop"`     // zero while running
	Deadline time.Time     `json:"deadline"` // zero while paused and not yet due
	Elapsed  time.Duration `json:"elapsed"`  // working time counted
	Overrun  time.Duration `json:"overrun"`  // Elapsed beyond the target
	Status   Status        `json:"status"`
}

// Breached reports whether the target was missed.
func (r TargetResult) Breached() bool { return r.Status == Breached }

// IncidentResult is every clock of an incident.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type IncidentResult struct {
	ID      string         `json:"id"`
	Level   string         `json:"level"`
	AsOf    time.Time      `json:"as_of"`
	Targets []TargetResult `json:"targets"`
}

// clock is one target's replay state. Closed running spans are measured
// as they close, so nothing per span is stored.
type clock struct {
	t        *Target
	cal      *Calendar
	limit    time.Duration
	elapsed  time.Duration // working time of closed spans
	rem      time.Duration // limit - elapsed, floored at 0
	started  bool
	running  bool
	stopped  bool
	start    time.Time
	stop     time.Time
	segFrom  time.Time
	deadline time.Time
	err      error
}

func (k *clock) begin(at time.Time, paused bool) {
	k.started, k.stopped, k.running = true, false, false
	k.elapsed, k.rem = 0, k.limit
	k.stop, k.deadline = time.Time{}, time.Time{}
	k.start = at
	if k.t.Within.WorkingDays > 0 {
		k.start = k.cal.nextDayStart(at)
	}
	if !paused || k.t.IgnorePauses {
		k.running, k.segFrom = true, k.start
	}
}

// span accounts the running span [k.segFrom, to): its working time, and the
// deadline if the target is reached inside it (or, with project, after
// it, as if the clock ran on).
func (k *clock) span(to time.Time, project bool) {
	if k.err != nil {
		return
	}
	var w time.Duration
	if to.After(k.segFrom) {
		if w, k.err = k.cal.Between(k.segFrom, to); k.err != nil {
			return
		}
	}
	if k.deadline.IsZero() && (w >= k.rem || project) {
		if k.deadline, k.err = k.cal.Add(k.segFrom, k.rem); k.err != nil {
			return
		}
	}
	k.elapsed += w
	k.rem = max(k.rem-w, 0)
}

func (k *clock) halt(at time.Time) {
	if k.running {
		k.span(at, false)
		k.running = false
	}
}

// Evaluate replays an incident's events and reports each of its level's
// clocks as of asOf (clocks still running are measured up to asOf).
// Events are sorted stably by time first; the replay rejects impossible
// sequences with ErrEventOrder.
func (p *Policy) Evaluate(inc Incident, asOf time.Time) (IncidentResult, error) {
	var res IncidentResult
	if err := p.EvaluateTo(&res, inc, asOf); err != nil {
		return IncidentResult{}, err
	}
	return res, nil
}

// EvaluateTo is Evaluate writing into res, reusing the capacity of
// res.Targets: a loop over millions of incidents allocates nothing.
func (p *Policy) EvaluateTo(res *IncidentResult, inc Incident, asOf time.Time) error {
	lvl, ok := p.levels[inc.Level]
	if !ok {
		return fmt.Errorf("%w: %q (incident %s)", ErrUnknownLevel, inc.Level, inc.ID)
	}
	if cap(res.Targets) < len(lvl.Targets) {
		res.Targets = make([]TargetResult, 0, len(lvl.Targets))
	}
	evs := inc.Events
	if !slices.IsSortedFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) }) {
		evs = slices.Clone(evs)
		slices.SortStableFunc(evs, func(a, b Event) int { return a.At.Compare(b.At) })
	}
	var buf [4]clock
	clocks := buf[:]
	if len(lvl.Targets) > len(buf) {
		clocks = make([]clock, len(lvl.Targets))
	}
	clocks = clocks[:len(lvl.Targets)]
	for i := range lvl.Targets {
		t, k := &lvl.Targets[i], &clocks[i]
		k.t, k.cal, k.limit = t, t.Calendar, t.Within.D
		if t.Within.WorkingDays > 0 {
			k.cal = p.days[t.Calendar]
			k.limit = time.Duration(t.Within.WorkingDays) * 24 * time.Hour
		}
	}
	open, paused, resolved := false, false, false
	bad := func(i int, e Event, why string) error {
		return fmt.Errorf("%w: incident %s event %d (%s at %s): %s", ErrEventOrder, inc.ID, i, e.Kind, e.At.Format(time.RFC3339), why)
	}
	for i, e := range evs {
		if !open && e.Kind != Opened {
			return bad(i, e, "before opened")
		}
		switch e.Kind {
		case Opened:
			if open {
				return bad(i, e, "opened twice")
			}
			open = true
			for c := range clocks {
				if clocks[c].t.Kind != TargetReport {
					clocks[c].begin(e.At, false)
				}
			}
		case Paused:
			if paused || resolved {
				return bad(i, e, "pause while paused or resolved")
			}
			paused = true
			for c := range clocks {
				if !clocks[c].t.IgnorePauses {
					clocks[c].halt(e.At)
				}
			}
		case Resumed:
			if !paused {
				return bad(i, e, "resume without pause")
			}
			paused = false
			for c := range clocks {
				k := &clocks[c]
				if k.started && !k.stopped && !k.running {
					k.running, k.segFrom = true, maxTime(e.At, k.start)
				}
			}
		case Responded, OnSite, Solution, ReportSent:
			stopKind := stopKindOf(e.Kind)
			for c := range clocks {
				k := &clocks[c]
				if k.t.Kind == stopKind && k.started && !k.stopped {
					k.halt(e.At)
					k.stopped, k.stop = true, e.At
				}
			}
		case Resolved:
			if resolved {
				return bad(i, e, "resolved twice without reopening")
			}
			resolved, paused = true, false
			for c := range clocks {
				k := &clocks[c]
				switch k.t.Kind {
				case TargetResolution, TargetResponse, TargetSolution:
					// Resolving answers and solves the ticket.
					if k.started && !k.stopped {
						k.halt(e.At)
						k.stopped, k.stop = true, e.At
					}
				case TargetOnSite:
					k.halt(e.At)
				case TargetReport:
					k.begin(e.At, false)
				}
			}
		case Reopened:
			if !resolved {
				return bad(i, e, "reopened while not resolved")
			}
			resolved = false
			for c := range clocks {
				k := &clocks[c]
				switch k.t.Kind {
				case TargetResolution:
					k.stopped, k.stop = false, time.Time{}
					k.running, k.segFrom = true, e.At
				case TargetReport:
					*k = clock{t: k.t, cal: k.cal, limit: k.limit, err: k.err}
				}
			}
		default:
			return bad(i, e, "unknown event kind")
		}
	}
	res.ID, res.Level, res.AsOf = inc.ID, inc.Level, asOf
	res.Targets = res.Targets[:len(clocks)]
	for c := range clocks {
		if err := clocks[c].result(&res.Targets[c], asOf); err != nil {
			return fmt.Errorf("%w (incident %s, %s clock)", err, inc.ID, clocks[c].t.Kind)
		}
	}
	return nil
}

func stopKindOf(k EventKind) TargetKind {
	switch k {
	case Responded:
		return TargetResponse
	case OnSite:
		return TargetOnSite
	case Solution:
		return TargetSolution
	}
	return TargetReport
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (k *clock) result(r *TargetResult, asOf time.Time) error {
	*r = TargetResult{Kind: k.t.Kind, Within: k.t.Within, Calendar: k.cal.Describe(), Clause: k.t.Clause, Start: k.start, Stop: k.stop}
	if !k.started {
		r.Status = NotStarted
		return k.err
	}
	if k.running {
		k.span(asOf, true)
	} else if k.stopped && k.deadline.IsZero() && k.err == nil {
		// Met: the deadline is where the clock would have run out.
		k.deadline, k.err = k.cal.Add(maxTime(k.stop, k.start), k.rem)
	}
	if k.err != nil {
		return k.err
	}
	r.Deadline, r.Elapsed = k.deadline, k.elapsed
	if k.elapsed > k.limit {
		r.Overrun = k.elapsed - k.limit
	}
	switch {
	case k.t.Kind == TargetOnSite && !k.stopped:
		r.Overrun = 0
		r.Status = NotRecorded
	case r.Overrun > 0:
		r.Status = Breached
	case k.stopped:
		r.Status = Met
	case k.running:
		r.Status = Running
	default:
		r.Status = PausedClock
	}
	return nil
}
