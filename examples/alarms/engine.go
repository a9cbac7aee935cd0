package alarms

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// Errors callers branch on.
var (
	// ErrNoReason refuses a silence without a reason.
	ErrNoReason = errors.New("alarms: a silence needs a reason")
	// ErrUnknownCause is a cause with no open or recently resolved alarm.
	ErrUnknownCause = errors.New("alarms: no such alarm")
)

const (
	// DefaultMaxSubjects bounds the subjects (actors, clients) each rule
	// tracks at once.
	DefaultMaxSubjects = 10000
	// keepResolved is how many resolved alarms Alarms lists.
	keepResolved = 100
	// maxSubjectLen bounds a subject key: actors and addresses are short.
	maxSubjectLen = 128
)

// Config configures an Engine. Zero fields mean defaults.
type Config struct {
	// Rules are the rules to run. Required; not modified afterwards.
	Rules *Rules
	// Now is the clock for what has no time of its own (Silence,
	// Resolve, Reload, events with a zero At). Default time.Now.
	Now func() time.Time
	// Emit hands an alarm to delivery (the server passes Outbox.Enqueue)
	// with the rule's notifier names. It is called once when an alarm
	// opens, or, if the cause is silenced, when the silence ends and the
	// alarm is still open. An error leaves the alarm to be emitted again
	// on the next Tick. Never called with the engine's lock held, so it
	// may call the engine. Default: nothing leaves the process.
	Emit func(a Alarm, notify []string) error
	// MaxSubjects bounds the subjects each rule tracks at once; when full,
	// the one quiet longest is forgotten. Default DefaultMaxSubjects.
	MaxSubjects int
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Rules == nil:
		return errors.New("alarms: Config.Rules is nil")
	case c.MaxSubjects < 0:
		return errors.New("alarms: Config.MaxSubjects is negative")
	}
	return nil
}

// Engine evaluates the rules over the events and anomaly lists it is shown
// and keeps the alarms they raise: one open alarm per cause (rule and
// subject) until it is resolved. It does no I/O of its own; Emit does.
// Time comes from the events, from Tick's argument and from Config.Now.
// Safe for concurrent use.
type Engine struct {
	now         func() time.Time
	emit        func(Alarm, []string) error
	maxSubjects int

	mu       sync.Mutex
	rules    *Rules
	states   map[string]*ruleState // by rule name
	open     map[string]*openAlarm // by cause
	silences map[string]silence    // by cause
	resolved []Alarm               // oldest first, at most keepResolved
}

type openAlarm struct {
	a        Alarm
	rule     *Rule
	subject  string
	emitted  bool // Emit succeeded
	inFlight bool // Emit is running
}

type silence struct {
	until      time.Time
	reason, by string
}

// emission is an Emit call to make once the lock is released.
type emission struct {
	a      Alarm
	notify []string
}

// NewEngine returns an engine running cfg.Rules.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{now: cfg.Now, emit: cfg.Emit, maxSubjects: cfg.MaxSubjects,
		open: map[string]*openAlarm{}, silences: map[string]silence{}}
	if e.now == nil {
		e.now = time.Now
	}
	if e.maxSubjects == 0 {
		e.maxSubjects = DefaultMaxSubjects
	}
	e.install(cfg.Rules, e.now())
	return e, nil
}

// Rules returns the rules running.
func (e *Engine) Rules() *Rules {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rules
}

// Reload swaps the rules. A rule that keeps its name and kind (and, for
// refused_burst, its by) keeps its windows and open alarms, which take the
// new severity, notifiers and resolve_after; the alarms of rules that are
// gone, or changed kind, resolve. A nil r is ignored. Counts carried over
// into a higher threshold may undercount until the window has turned once.
func (e *Engine) Reload(r *Rules) {
	if r == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.install(r, e.now())
}

func (e *Engine) install(r *Rules, now time.Time) {
	old := e.states
	e.rules = r
	e.states = make(map[string]*ruleState, len(r.Rules))
	for i := range r.Rules {
		rule := &r.Rules[i]
		st := old[rule.Name]
		if st == nil || st.rule.Kind != rule.Kind || st.rule.By != rule.By {
			st = &ruleState{subjects: map[string]*subject{}}
		}
		st.rule = rule
		e.states[rule.Name] = st
	}
	for cause, o := range e.open {
		st := e.states[o.a.Rule]
		if st == nil || st != old[o.a.Rule] {
			e.resolve(cause, now)
			continue
		}
		o.rule = st.rule
		o.a.Severity = st.rule.Severity
	}
}

// Observe shows the engine one administrative attempt. Events should come
// roughly in time order: one older than its subject's latest counts as at
// the latest. A zero At means Config.Now.
func (e *Engine) Observe(ev Event) {
	if ev.At.IsZero() {
		ev.At = e.now()
	}
	var out []emission
	e.mu.Lock()
	for i := range e.rules.Rules {
		rule := &e.rules.Rules[i]
		st := e.states[rule.Name]
		var key, target string
		weight := 1
		switch rule.Kind {
		case KindTranscodeRate, KindHistoryViews:
			action := "transcode"
			if rule.Kind == KindHistoryViews {
				action = "history"
			}
			if ev.Action != action || ev.Outcome != "ok" || ev.Actor == "" || ev.Target == "" {
				continue
			}
			key, target = "actor="+ev.Actor, ev.Target
		case KindOffHoursBulk:
			if !changesCodes(ev.Action) || ev.Changed <= 0 || ev.Actor == "" || e.rules.WorkingHours.Contains(ev.At) {
				continue
			}
			key, weight = "actor="+ev.Actor, ev.Changed
		case KindRefusedBurst:
			if !refused(ev.Outcome) {
				continue
			}
			if rule.By == "actor" {
				if ev.Actor == "" {
					continue
				}
				key = "actor=" + ev.Actor
			} else {
				if ev.Client == "" {
					continue
				}
				key = "client=" + ev.Client
			}
		default:
			continue
		}
		if len(key) > maxSubjectLen {
			key = key[:maxSubjectLen]
		}
		s := st.touch(key, ev.At.UnixNano(), e.maxSubjects)
		var n int
		if target != "" {
			n = s.addDistinct(target, rule)
		} else {
			n = s.addSum(weight, rule)
		}
		if n > rule.Threshold {
			d := TextData{Count: n}
			if rule.Kind == KindRefusedBurst && rule.By == "client" {
				d.Client = ev.Client
			} else {
				d.Actor = ev.Actor
			}
			at := ev.At
			if at.UnixNano() < s.last {
				at = time.Unix(0, s.last)
			}
			out = e.fire(out, rule, key, at, d)
		}
	}
	e.mu.Unlock()
	e.deliver(out)
}

func changesCodes(action string) bool {
	return action == "transcode" || action == "evaluate" || action == "push"
}

// refused reports whether an outcome is a refusal: anything but success
// and the server's own failure.
func refused(outcome string) bool {
	return outcome != "ok" && outcome != "" && outcome != "error"
}

// ObserveAnomalies shows the engine the result of an anomaly check
// (codes.CheckAnomalies) made at at. Each matching anomaly raises or
// refreshes the alarm of its colour and dimension; an anomaly alarm
// resolves once checks have not reported it for resolve_after.
func (e *Engine) ObserveAnomalies(at time.Time, list []codes.Anomaly) {
	var out []emission
	e.mu.Lock()
	for i := range e.rules.Rules {
		rule := &e.rules.Rules[i]
		if rule.Kind != KindAnomaly {
			continue
		}
		for _, a := range list {
			if !slices.Contains(rule.Colours, a.Colour) || !slices.Contains(rule.Dimensions, a.Dimension) {
				continue
			}
			subject := a.Colour.String() + "/" + a.Dimension
			if a.Label != "" {
				subject += "/" + a.Label
			}
			d := TextData{Count: a.Today, Colour: a.Colour.String(), Dimension: a.Dimension, Label: a.Label,
				Mean: a.Mean, StdDev: a.StdDev, Rise: a.Rise}
			out = e.fire(out, rule, subject, at, d)
		}
	}
	e.mu.Unlock()
	e.deliver(out)
}

// ObserveQuality reports a finished data-quality run: the quality rule
// that ran, the day it checked and how many problems it found (missing,
// extra, duplicated, invalid and mismatched records). Each quality_problems
// rule whose threshold the count reaches raises or updates the alarm of
// that quality rule.
func (e *Engine) ObserveQuality(at time.Time, qualityRule, day string, problems int) {
	var out []emission
	e.mu.Lock()
	for i := range e.rules.Rules {
		rule := &e.rules.Rules[i]
		if rule.Kind != KindQuality || problems < rule.Threshold {
			continue
		}
		out = e.fire(out, rule, "rule="+qualityRule, at, TextData{Count: problems, Label: day})
	}
	e.mu.Unlock()
	e.deliver(out)
}

// fire records that rule's condition held for subject at at: it opens an
// alarm, or updates the open one. It appends the Emit call to make.
func (e *Engine) fire(out []emission, rule *Rule, subject string, at time.Time, d TextData) []emission {
	cause := rule.Name + " " + subject
	if o := e.open[cause]; o != nil {
		if at.After(o.a.LastSeen) {
			o.a.LastSeen = at
		}
		o.a.Count++
		return out
	}
	d.Rule, d.Kind, d.Severity, d.Subject = rule.Name, rule.Kind, rule.Severity, subject
	d.Threshold, d.Window = rule.Threshold, window(rule.Window)
	d.At = at.In(cmp.Or(e.rules.WorkingHours.Zone, chinaStandardTime))
	o := &openAlarm{rule: rule, subject: subject, a: Alarm{
		ID: alarmID(cause, at), Cause: cause, Rule: rule.Name, Severity: rule.Severity, Subject: subject,
		Text: rule.render(d), Opened: at, LastSeen: at, Count: 1,
	}}
	if s, ok := e.silences[cause]; ok && s.until.After(at) {
		o.a.SilencedUntil, o.a.SilenceReason, o.a.SilencedBy = s.until, s.reason, s.by
	}
	e.open[cause] = o
	return e.due(out, o, at)
}

// due appends o's Emit call if it is owed and may go now.
func (e *Engine) due(out []emission, o *openAlarm, now time.Time) []emission {
	if o.emitted || o.inFlight || o.a.SilencedUntil.After(now) {
		return out
	}
	if e.emit == nil {
		o.emitted = true
		return out
	}
	o.inFlight = true
	return append(out, emission{a: o.a, notify: slices.Clone(o.rule.Notify)})
}

// deliver makes the Emit calls, without the lock, and records which
// succeeded; the others are retried on the next Tick.
func (e *Engine) deliver(out []emission) {
	for _, em := range out {
		err := e.emit(em.a, em.notify)
		e.mu.Lock()
		if o := e.open[em.a.Cause]; o != nil && o.a.ID == em.a.ID {
			o.inFlight = false
			o.emitted = err == nil
		}
		e.mu.Unlock()
	}
}

// alarmID is the idempotency key of one opening of a cause.
func alarmID(cause string, opened time.Time) string {
	h := sha256.Sum256([]byte(cause + "\x00" + strconv.FormatInt(opened.UnixNano(), 10)))
	return hex.EncodeToString(h[:16])
}

// Tick moves the engine to now: it resolves alarms whose condition has
// not held for their rule's resolve_after, releases silences that have
// ended (emitting their alarms if still open and not yet emitted), retries
// failed Emits, and forgets windows that have emptied. Call it every few
// seconds.
func (e *Engine) Tick(now time.Time) {
	var out []emission
	e.mu.Lock()
	for cause, s := range e.silences {
		if !s.until.After(now) {
			delete(e.silences, cause)
		}
	}
	for cause, o := range e.open {
		if !o.a.LastSeen.Add(o.rule.ResolveAfter).After(now) {
			e.resolve(cause, now)
			continue
		}
		if _, ok := e.silences[cause]; !ok {
			o.a.SilencedUntil, o.a.SilenceReason, o.a.SilencedBy = time.Time{}, "", ""
		}
		out = e.due(out, o, now)
	}
	for _, st := range e.states {
		st.prune(now.UnixNano())
	}
	e.mu.Unlock()
	e.deliver(out)
}

// resolve closes the open alarm of cause and forgets its subject's window,
// so the same condition must build up again to open a new alarm.
func (e *Engine) resolve(cause string, now time.Time) {
	o := e.open[cause]
	delete(e.open, cause)
	o.a.Resolved = now
	e.resolved = append(e.resolved, o.a)
	if n := len(e.resolved) - keepResolved; n > 0 {
		e.resolved = slices.Delete(e.resolved, 0, n)
	}
	if st := e.states[o.a.Rule]; st != nil {
		if s := st.subjects[o.subject]; s != nil {
			st.remove(s)
		}
	}
}

// Alarms returns the open alarms, then the last 100 resolved, each group
// by severity (critical first) and then by opening time.
func (e *Engine) Alarms() []Alarm {
	e.mu.Lock()
	out := make([]Alarm, 0, len(e.open)+len(e.resolved))
	for _, o := range e.open {
		out = append(out, o.a)
	}
	n := len(out)
	out = append(out, e.resolved...)
	e.mu.Unlock()
	order := func(a, b Alarm) int {
		if c := rank(b.Severity) - rank(a.Severity); c != 0 {
			return c
		}
		if c := a.Opened.Compare(b.Opened); c != 0 {
			return c
		}
		return strings.Compare(a.Cause, b.Cause)
	}
	slices.SortFunc(out[:n], order)
	slices.SortFunc(out[n:], order)
	return out
}

func rank(s Severity) int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Silence holds back the notifications of cause until until, for reason
// (required), by whom. The alarm stays open and listed. A cause may be
// silenced while open or after it resolved recently: the silence then
// covers the next opening. An until not after Config.Now lifts the silence.
func (e *Engine) Silence(cause string, until time.Time, reason, by string) error {
	if strings.TrimSpace(reason) == "" {
		return ErrNoReason
	}
	now := e.now()
	var out []emission
	e.mu.Lock()
	o := e.open[cause]
	if o == nil && !slices.ContainsFunc(e.resolved, func(a Alarm) bool { return a.Cause == cause }) {
		e.mu.Unlock()
		return ErrUnknownCause
	}
	if until.After(now) {
		e.silences[cause] = silence{until: until, reason: reason, by: by}
		if o != nil {
			o.a.SilencedUntil, o.a.SilenceReason, o.a.SilencedBy = until, reason, by
		}
	} else {
		delete(e.silences, cause)
		if o != nil {
			o.a.SilencedUntil, o.a.SilenceReason, o.a.SilencedBy = time.Time{}, "", ""
			out = e.due(out, o, now)
		}
	}
	e.mu.Unlock()
	e.deliver(out)
	return nil
}

// Resolve closes the open alarm of cause by hand (by is the operator, for
// the caller's audit trail). Its window starts again from nothing.
func (e *Engine) Resolve(cause, by string) error {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open[cause] == nil {
		return ErrUnknownCause
	}
	e.resolve(cause, now)
	return nil
}

// ruleState holds one rule's windows: a subject per actor or client,
// kept in order of last activity so that the quietest is dropped first.
type ruleState struct {
	rule       *Rule
	subjects   map[string]*subject
	head, tail *subject // head: most recently active
}

// subject is one actor's or client's window. Times are Unix nanoseconds.
//
// Distinct kinds keep the most recent distinct targets, newest first, at
// most Threshold+1 of them: more than Threshold distinct targets within the
// window holds exactly when the Threshold+1 most recent ones are all within
// it. Sum kinds keep the most recent weighted events, oldest first, only as
// many as needed for their sum to exceed Threshold, for the same reason.
type subject struct {
	key        string
	last       int64
	prev, next *subject

	targets        map[string]*target
	newest, oldest *target // a list, newest first

	events []weighted
	sum    int
}

type target struct {
	key        string
	at         int64
	prev, next *target // prev: newer
}

type weighted struct {
	at int64
	n  int
}

// touch returns the subject for key, creating it (and dropping the
// quietest if there are max already), and moves it to at.
func (st *ruleState) touch(key string, at int64, limit int) *subject {
	s := st.subjects[key]
	if s == nil {
		if len(st.subjects) >= limit && st.tail != nil {
			st.remove(st.tail)
		}
		s = &subject{key: key, last: at}
		st.subjects[key] = s
	} else {
		st.unlink(s)
	}
	s.last = max(s.last, at)
	s.next = st.head
	if st.head != nil {
		st.head.prev = s
	}
	st.head = s
	if st.tail == nil {
		st.tail = s
	}
	return s
}

func (st *ruleState) unlink(s *subject) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		st.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		st.tail = s.prev
	}
	s.prev, s.next = nil, nil
}

func (st *ruleState) remove(s *subject) {
	st.unlink(s)
	delete(st.subjects, s.key)
}

// prune forgets the subjects whose windows have emptied by now.
func (st *ruleState) prune(now int64) {
	cutoff := now - int64(st.rule.Window)
	for st.tail != nil && st.tail.last <= cutoff {
		st.remove(st.tail)
	}
}

// addDistinct records target at s.last and returns how many distinct
// targets the window holds (at most Threshold+1).
func (s *subject) addDistinct(key string, r *Rule) int {
	if s.targets == nil {
		s.targets = map[string]*target{}
	}
	t := s.targets[key]
	if t == nil {
		t = &target{key: key}
		s.targets[key] = t
	} else {
		s.unlinkTarget(t)
	}
	t.at = s.last
	t.next = s.newest
	if s.newest != nil {
		s.newest.prev = t
	}
	s.newest = t
	if s.oldest == nil {
		s.oldest = t
	}
	cutoff := s.last - int64(r.Window)
	for s.oldest != nil && (s.oldest.at <= cutoff || len(s.targets) > r.Threshold+1) {
		o := s.oldest
		s.unlinkTarget(o)
		delete(s.targets, o.key)
	}
	return len(s.targets)
}

func (s *subject) unlinkTarget(t *target) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		s.newest = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		s.oldest = t.prev
	}
	t.prev, t.next = nil, nil
}

// addSum records n at s.last and returns the window's sum (at least
// Threshold+1 when it exceeds Threshold, not necessarily all of it).
func (s *subject) addSum(n int, r *Rule) int {
	s.events = append(s.events, weighted{at: s.last, n: n})
	s.sum += n
	cutoff := s.last - int64(r.Window)
	drop := 0
	for drop < len(s.events) {
		ev := s.events[drop]
		if ev.at > cutoff && s.sum-ev.n <= r.Threshold {
			break
		}
		s.sum -= ev.n
		drop++
	}
	// Reslicing drops the front in O(1); append copies only what is live
	// when it grows the array.
	s.events = s.events[drop:]
	return s.sum
}
