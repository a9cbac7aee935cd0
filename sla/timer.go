package sla

import (
	"fmt"
	"sort"
	"time"
)

// EventKind is what happened to an incident.
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
		return Always(c.name + ", whole days"), nil
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
type Event struct {
	Kind EventKind
	At   time.Time
}

// Incident is a ticket to replay.
type Incident struct {
	ID     string
	Level  string
	Events []Event
}

// Status of a clock.
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
type IncidentResult struct {
	ID      string         `json:"id"`
	Level   string         `json:"level"`
	AsOf    time.Time      `json:"as_of"`
	Targets []TargetResult `json:"targets"`
}

type clock struct {
	t       Target
	cal     *Calendar
	limit   time.Duration
	started bool
	running bool
	stopped bool
	start   time.Time
	stop    time.Time
	segs    [][2]time.Time // closed running segments
	segFrom time.Time
}

func (k *clock) begin(at time.Time, paused bool) {
	k.started, k.stopped, k.running = true, false, false
	k.segs = k.segs[:0]
	k.stop = time.Time{}
	k.start = at
	if k.t.Within.WorkingDays > 0 {
		k.start = k.cal.nextDayStart(at)
	}
	if !paused || k.t.IgnorePauses {
		k.running, k.segFrom = true, k.start
	}
}

func (k *clock) halt(at time.Time) {
	if k.running {
		if at.After(k.segFrom) {
			k.segs = append(k.segs, [2]time.Time{k.segFrom, at})
		}
		k.running = false
	}
}

// Evaluate replays an incident's events and reports each of its level's
// clocks as of asOf (clocks still running are measured up to asOf).
// Events are sorted stably by time first; the replay rejects impossible
// sequences with ErrEventOrder.
func (p *Policy) Evaluate(inc Incident, asOf time.Time) (IncidentResult, error) {
	lvl, ok := p.levels[inc.Level]
	if !ok {
		return IncidentResult{}, fmt.Errorf("%w: %q (incident %s)", ErrUnknownLevel, inc.Level, inc.ID)
	}
	evs := append([]Event(nil), inc.Events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	clocks := make([]clock, len(lvl.Targets))
	for i, t := range lvl.Targets {
		clocks[i] = clock{t: t, cal: t.Calendar}
		if t.Within.WorkingDays > 0 {
			clocks[i].cal = p.days[t.Calendar]
			clocks[i].limit = time.Duration(t.Within.WorkingDays) * 24 * time.Hour
		} else {
			clocks[i].limit = t.Within.D
		}
	}
	open, paused, resolved := false, false, false
	bad := func(i int, e Event, why string) error {
		return fmt.Errorf("%w: incident %s event %d (%s at %s): %s", ErrEventOrder, inc.ID, i, e.Kind, e.At.Format(time.RFC3339), why)
	}
	for i, e := range evs {
		if !open && e.Kind != Opened {
			return IncidentResult{}, bad(i, e, "before opened")
		}
		switch e.Kind {
		case Opened:
			if open {
				return IncidentResult{}, bad(i, e, "opened twice")
			}
			open = true
			for c := range clocks {
				if clocks[c].t.Kind != TargetReport {
					clocks[c].begin(e.At, false)
				}
			}
		case Paused:
			if paused || resolved {
				return IncidentResult{}, bad(i, e, "pause while paused or resolved")
			}
			paused = true
			for c := range clocks {
				if !clocks[c].t.IgnorePauses {
					clocks[c].halt(e.At)
				}
			}
		case Resumed:
			if !paused {
				return IncidentResult{}, bad(i, e, "resume without pause")
			}
			paused = false
			for c := range clocks {
				k := &clocks[c]
				if k.started && !k.stopped && !k.running {
					k.running, k.segFrom = true, maxTime(e.At, k.start)
				}
			}
		case Responded, OnSite, Solution, ReportSent:
			stopKind := map[EventKind]TargetKind{Responded: TargetResponse, OnSite: TargetOnSite, Solution: TargetSolution, ReportSent: TargetReport}[e.Kind]
			for c := range clocks {
				k := &clocks[c]
				if k.t.Kind == stopKind && k.started && !k.stopped {
					k.halt(e.At)
					k.stopped, k.stop = true, e.At
				}
			}
		case Resolved:
			if resolved {
				return IncidentResult{}, bad(i, e, "resolved twice without reopening")
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
				return IncidentResult{}, bad(i, e, "reopened while not resolved")
			}
			resolved = false
			for c := range clocks {
				k := &clocks[c]
				switch k.t.Kind {
				case TargetResolution:
					k.stopped, k.stop = false, time.Time{}
					k.running, k.segFrom = true, e.At
				case TargetReport:
					*k = clock{t: k.t, cal: k.cal, limit: k.limit}
				}
			}
		default:
			return IncidentResult{}, bad(i, e, "unknown event kind")
		}
	}
	res := IncidentResult{ID: inc.ID, Level: inc.Level, AsOf: asOf, Targets: make([]TargetResult, 0, len(clocks))}
	for c := range clocks {
		r, err := clocks[c].result(asOf)
		if err != nil {
			return IncidentResult{}, fmt.Errorf("sla: incident %s %s: %w", inc.ID, clocks[c].t.Kind, err)
		}
		res.Targets = append(res.Targets, r)
	}
	return res, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (k *clock) result(asOf time.Time) (TargetResult, error) {
	r := TargetResult{Kind: k.t.Kind, Within: k.t.Within, Calendar: k.cal.Describe(), Clause: k.t.Clause, Start: k.start, Stop: k.stop}
	if !k.started {
		r.Status = NotStarted
		return r, nil
	}
	segs := append([][2]time.Time(nil), k.segs...)
	if k.running && asOf.After(k.segFrom) {
		segs = append(segs, [2]time.Time{k.segFrom, asOf})
	}
	rem := k.limit
	var elapsed time.Duration
	for i, s := range segs {
		w, err := k.cal.Between(s[0], s[1])
		if err != nil {
			return r, err
		}
		if r.Deadline.IsZero() && (w >= rem || (i == len(segs)-1 && k.running)) {
			if r.Deadline, err = k.cal.Add(s[0], rem); err != nil {
				return r, err
			}
		}
		if w < rem {
			rem -= w
		} else {
			rem = 0
		}
		elapsed += w
	}
	if r.Deadline.IsZero() && (k.running || k.stopped) {
		from := k.segFrom
		if k.stopped {
			from = k.stop
		}
		var err error
		if r.Deadline, err = k.cal.Add(maxTime(from, k.start), rem); err != nil {
			return r, err
		}
	}
	r.Elapsed = elapsed
	if elapsed > k.limit {
		r.Overrun = elapsed - k.limit
	}
	if k.t.Kind == TargetOnSite && !k.stopped {
		r.Overrun = 0
		r.Status = NotRecorded
		return r, nil
	}
	switch {
	case r.Overrun > 0:
		r.Status = Breached
	case k.stopped:
		r.Status = Met
	case k.running:
		r.Status = Running
	default:
		r.Status = PausedClock
	}
	return r, nil
}
