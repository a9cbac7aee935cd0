package alarms

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// t0 is a Monday, 10:00 in Shanghai: working hours.
var t0 = time.Date(2024, 3, 4, 10, 0, 0, 0, chinaStandardTime)

const testRules = `
notifiers:
  - {name: ops, type: webhook, url: "https://ops.example.org/hook"}
rules:
  - {name: transcode-burst, kind: transcode_rate, severity: critical, threshold: 50, window: 1m, notify: [ops]}
  - {name: history-leak, kind: history_views, severity: critical, threshold: 20, window: 10m}
  - {name: off-hours-bulk, kind: off_hours_bulk, severity: warning, threshold: 100, window: 10m}
  - {name: refused, kind: refused_burst, severity: warning, threshold: 10, window: 5m}
  - {name: code-anomaly, kind: anomaly, severity: critical, resolve_after: 30m}
`

// harness is an engine on a fake clock that records what it emits.
type harness struct {
	t   *testing.T
	e   *Engine
	now time.Time

	mu   sync.Mutex
	sent []Alarm
	to   [][]string
	fail bool
}

func newHarness(t *testing.T, src string) *harness {
	h := &harness{t: t, now: t0}
	e, err := NewEngine(Config{Rules: mustParse(t, src), Now: func() time.Time { return h.now }, Emit: h.emit})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

func (h *harness) emit(a Alarm, notify []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail {
		return errors.New("outbox full")
	}
	h.sent = append(h.sent, a)
	h.to = append(h.to, notify)
	return nil
}

func (h *harness) emitted() []Alarm {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Alarm(nil), h.sent...)
}

func (h *harness) tick(d time.Duration) {
	h.now = h.now.Add(d)
	h.e.Tick(h.now)
}

// burst has actor do action on n persons (distinct unless same), one a
// second from h.now, moving the clock.
func (h *harness) burst(actor, action string, n int, same bool) {
	for i := range n {
		target := fmt.Sprintf("p%04d", i)
		if same {
			target = "p0000"
		}
		h.e.Observe(Event{At: h.now, Actor: actor, Action: action, Target: target, Outcome: "ok", Client: "10.0.0.7"})
		h.now = h.now.Add(time.Second)
	}
}

func (h *harness) open() []Alarm {
	var out []Alarm
	for _, a := range h.e.Alarms() {
		if a.Resolved.IsZero() {
			out = append(out, a)
		}
	}
	return out
}

func TestTranscodeBurst(t *testing.T) {
	h := newHarness(t, testRules)
	h.burst("zhang.san", "transcode", 60, false)
	h.burst("li.si", "transcode", 50, false) // at the threshold, not over
	sent := h.emitted()
	if len(sent) != 1 {
		t.Fatalf("emitted %d alarms, want 1: %+v", len(sent), sent)
	}
	a := sent[0]
	if a.Cause != "transcode-burst actor=zhang.san" || a.Subject != "actor=zhang.san" || a.Severity != Critical ||
		len(a.ID) != 32 || !a.Opened.Equal(t0.Add(50*time.Second)) || h.to[0][0] != "ops" {
		t.Errorf("alarm = %+v to %v", a, h.to[0])
	}
	if want := "操作员 zhang.san 在 1 分钟 内转码 51 人，超过阈值 50"; a.Text != want {
		t.Errorf("text = %q, want %q", a.Text, want)
	}
	if strings.Contains(a.Text, "p00") {
		t.Errorf("text names a person: %q", a.Text)
	}
	open := h.open()
	if len(open) != 1 || open[0].Count != 10 || !open[0].LastSeen.Equal(t0.Add(59*time.Second)) {
		t.Fatalf("open = %+v", open)
	}

	// Quiet for the window: it resolves. The same again opens a new alarm.
	h.tick(5 * time.Second) // t0+115s: 56s after it last held
	if len(h.open()) != 1 {
		t.Fatal("resolved before resolve_after")
	}
	h.tick(2 * time.Minute)
	if len(h.open()) != 0 {
		t.Fatalf("still open: %+v", h.open())
	}
	h.burst("zhang.san", "transcode", 60, false)
	sent = h.emitted()
	if len(sent) != 2 || sent[1].ID == sent[0].ID || sent[1].Cause != sent[0].Cause {
		t.Fatalf("after resolving: %+v", sent)
	}
	all := h.e.Alarms()
	if len(all) != 2 || !all[0].Resolved.IsZero() || all[1].Resolved.IsZero() {
		t.Errorf("Alarms() = %+v", all)
	}
}

func TestTranscodeNeedsSuccess(t *testing.T) {
	h := newHarness(t, testRules)
	for i := range 60 {
		h.e.Observe(Event{At: h.now, Actor: "a", Action: "transcode", Target: fmt.Sprint(i), Outcome: "forbidden"})
	}
	if n := len(h.emitted()); n != 0 {
		t.Fatalf("refused transcodes raised %d transcode alarms", n)
	}
}

func TestHistoryViews(t *testing.T) {
	h := newHarness(t, testRules)
	h.burst("auditor", "history", 30, true)
	if n := len(h.emitted()); n != 0 {
		t.Fatalf("the same person 30 times raised %d alarms", n)
	}
	h.burst("leaker", "history", 30, false)
	sent := h.emitted()
	if len(sent) != 1 || sent[0].Cause != "history-leak actor=leaker" || !strings.Contains(sent[0].Text, "21 人") {
		t.Fatalf("emitted %+v", sent)
	}
}

func TestOffHoursBulk(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2024, 3, 4, 23, 0, 0, 0, chinaStandardTime), 1},
		{time.Date(2024, 3, 4, 10, 0, 0, 0, chinaStandardTime), 0},
		{time.Date(2024, 3, 9, 10, 0, 0, 0, chinaStandardTime), 1}, // Saturday
	} {
		h := newHarness(t, testRules)
		h.now = tc.at
		for _, action := range []string{"evaluate", "push", "transcode"} {
			h.e.Observe(Event{At: h.now, Actor: "night.owl", Action: action, Outcome: "ok", Changed: 40})
			h.now = h.now.Add(time.Minute)
		}
		h.e.Observe(Event{At: h.now, Actor: "night.owl", Action: "history", Outcome: "ok", Changed: 1000}) // changes nothing
		if got := len(h.emitted()); got != tc.want {
			t.Errorf("at %v: %d alarms, want %d", tc.at, got, tc.want)
		}
	}
}

func TestRefusedBurst(t *testing.T) {
	h := newHarness(t, testRules)
	for i := range 11 {
		h.e.Observe(Event{At: h.now, Action: "sign_in", Outcome: "unauthenticated", Client: "203.0.113.9"})
		h.e.Observe(Event{At: h.now, Actor: "a", Action: "transcode", Outcome: []string{"forbidden", "invalid (400)"}[i%2], Client: "10.0.0.1"})
		if i < 5 {
			h.e.Observe(Event{At: h.now, Action: "sign_in", Outcome: "error", Client: "10.0.0.1"}) // our failure
		}
		h.now = h.now.Add(10 * time.Second)
	}
	var causes []string
	for _, a := range h.emitted() {
		causes = append(causes, a.Cause)
	}
	if strings.Join(causes, ",") != "refused client=203.0.113.9,refused client=10.0.0.1" {
		t.Fatalf("causes = %v", causes)
	}
	if want := "地址 203.0.113.9 在 5 分钟 内被拒绝 11 次（登录失败或越权），超过阈值 10"; h.emitted()[0].Text != want {
		t.Errorf("text = %q", h.emitted()[0].Text)
	}

	// By actor: the client does not matter, and anonymous attempts are not counted.
	h = newHarness(t, strings.Replace(testRules, "window: 5m}", "window: 5m, by: actor}", 1))
	for i := range 11 {
		h.e.Observe(Event{At: h.now, Actor: "a", Action: "rules", Outcome: "forbidden", Client: fmt.Sprintf("10.0.0.%d", i)})
		h.e.Observe(Event{At: h.now, Action: "sign_in", Outcome: "unauthenticated", Client: "10.9.9.9"})
	}
	if sent := h.emitted(); len(sent) != 1 || sent[0].Cause != "refused actor=a" {
		t.Fatalf("by actor: %+v", sent)
	}
}

func TestSlowBurstDoesNotFire(t *testing.T) {
	h := newHarness(t, testRules)
	for range 100 { // one refusal a minute: never more than 5 in the window
		h.e.Observe(Event{At: h.now, Action: "sign_in", Outcome: "unauthenticated", Client: "10.0.0.1"})
		h.tick(time.Minute)
	}
	if n := len(h.emitted()); n != 0 {
		t.Fatalf("%d alarms", n)
	}
}

func TestAnomalies(t *testing.T) {
	h := newHarness(t, testRules)
	list := []codes.Anomaly{
		{Colour: codes.Red, Dimension: "total", Today: 90, Mean: 20, StdDev: 3, Rise: true},
		{Colour: codes.Red, Dimension: "region", Label: "海淀", Today: 60, Mean: 5, StdDev: 2, Rise: true},
		{Colour: codes.Yellow, Dimension: "total", Today: 0, Mean: 40, StdDev: 5},
		{Colour: codes.Green, Dimension: "total", Today: 0, Mean: 400, StdDev: 5}, // not watched
	}
	h.e.ObserveAnomalies(h.now, list)
	h.tick(5 * time.Minute)
	h.e.ObserveAnomalies(h.now, list)
	var causes []string
	for _, a := range h.emitted() {
		causes = append(causes, a.Cause)
	}
	if strings.Join(causes, ",") != "code-anomaly red/total,code-anomaly red/region/海淀,code-anomaly yellow/total" {
		t.Fatalf("causes = %v", causes)
	}
	if want := "红码数量异常：地区 海淀 今日 60，基线均值 5.0，高于正常范围"; h.emitted()[1].Text != want {
		t.Errorf("text = %q, want %q", h.emitted()[1].Text, want)
	}
	for _, a := range h.open() {
		if a.Count != 2 {
			t.Errorf("%s: count %d", a.Cause, a.Count)
		}
	}
	// The check stops reporting them: they resolve after resolve_after.
	h.tick(29 * time.Minute)
	if len(h.open()) != 3 {
		t.Fatal("resolved early")
	}
	h.tick(time.Minute)
	if len(h.open()) != 0 {
		t.Fatalf("open: %+v", h.open())
	}
}

func TestSilence(t *testing.T) {
	h := newHarness(t, testRules)
	h.burst("a", "history", 21, false)
	cause := "history-leak actor=a"
	if err := h.e.Silence(cause, h.now.Add(time.Hour), " ", "ops"); !errors.Is(err, ErrNoReason) {
		t.Fatalf("silence without a reason: %v", err)
	}
	if err := h.e.Silence("nothing actor=b", h.now.Add(time.Hour), "why", "ops"); !errors.Is(err, ErrUnknownCause) {
		t.Fatalf("unknown cause: %v", err)
	}
	if err := h.e.Resolve("nothing actor=b", "ops"); !errors.Is(err, ErrUnknownCause) {
		t.Fatalf("resolve unknown cause: %v", err)
	}

	// A silence on a resolved cause holds back its next opening.
	if err := h.e.Resolve(cause, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Silence(cause, h.now.Add(time.Hour), "planned audit of district files", "wang.wu"); err != nil {
		t.Fatal(err)
	}
	h.burst("a", "history", 21, false)
	if n := len(h.emitted()); n != 1 {
		t.Fatalf("emitted %d while silenced", n)
	}
	open := h.open()
	if len(open) != 1 || open[0].SilenceReason != "planned audit of district files" || open[0].SilencedBy != "wang.wu" || open[0].SilencedUntil.IsZero() {
		t.Fatalf("open = %+v", open)
	}
	// Still going when the silence ends: emitted then.
	for range 6 {
		h.tick(10 * time.Minute)
		h.burst("a", "history", 21, false)
	}
	sent := h.emitted()
	if len(sent) != 2 || sent[1].Cause != cause || !sent[1].SilencedUntil.IsZero() {
		t.Fatalf("after the silence: %+v", sent)
	}
	if open := h.open(); len(open) != 1 || open[0].SilenceReason != "" {
		t.Errorf("open = %+v", open)
	}
}

func TestSilenceEndsAfterResolve(t *testing.T) {
	h := newHarness(t, testRules)
	h.burst("a", "history", 21, false)
	cause := "history-leak actor=a"
	h.e.Resolve(cause, "ops")
	h.e.Silence(cause, h.now.Add(time.Minute), "known", "ops")
	h.burst("a", "history", 21, false) // opens silenced
	h.tick(time.Hour)                  // silence over, and quiet: resolves, never emitted
	if n := len(h.emitted()); n != 1 {
		t.Fatalf("emitted %d", n)
	}
}

func TestSilenceLift(t *testing.T) {
	h := newHarness(t, testRules)
	h.e.Observe(Event{}) // nothing happens
	h.burst("a", "history", 21, false)
	h.e.Resolve("history-leak actor=a", "ops")
	h.e.Silence("history-leak actor=a", h.now.Add(time.Hour), "known", "ops")
	h.burst("a", "history", 21, false)
	if err := h.e.Silence("history-leak actor=a", time.Time{}, "done", "ops"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.emitted()); n != 2 {
		t.Fatalf("lifting the silence emitted %d in all, want 2", n)
	}
}

func TestEmitRetried(t *testing.T) {
	h := newHarness(t, testRules)
	h.fail = true
	h.burst("a", "transcode", 51, false)
	h.tick(time.Second)
	if len(h.emitted()) != 0 || len(h.open()) != 1 {
		t.Fatal("a failed emit must leave the alarm open")
	}
	h.fail = false
	h.tick(time.Second)
	h.tick(time.Second)
	sent := h.emitted()
	if len(sent) != 1 || sent[0].ID != h.open()[0].ID {
		t.Fatalf("retried: %+v", sent)
	}
}

func TestEmitMayCallEngine(t *testing.T) {
	var e *Engine
	var seen int
	e, err := NewEngine(Config{Rules: mustParse(t, testRules), Emit: func(a Alarm, _ []string) error {
		seen = len(e.Alarms()) // would deadlock if called under the lock
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 51 {
		e.Observe(Event{At: t0, Actor: "a", Action: "transcode", Target: fmt.Sprint(i), Outcome: "ok"})
	}
	if seen != 1 {
		t.Fatalf("seen %d", seen)
	}
}

func TestReload(t *testing.T) {
	h := newHarness(t, testRules)
	h.burst("a", "transcode", 51, false)
	h.burst("b", "history", 21, false)
	id := h.open()[0].ID

	// A bad file is refused; the engine keeps its rules.
	before := h.e.Rules()
	if _, err := parseFile(t, "bad.yaml"); err == nil {
		t.Fatal("bad.yaml parsed")
	}
	if h.e.Rules() != before {
		t.Fatal("rules changed")
	}

	// A new threshold and severity: the open alarm stays, its window carries over.
	r2 := mustParse(t, strings.Replace(testRules, "severity: critical, threshold: 50", "severity: warning, threshold: 40", 1))
	h.e.Reload(r2)
	if h.e.Rules() != r2 {
		t.Fatal("Rules() is not the reloaded set")
	}
	open := h.open()
	if len(open) != 2 {
		t.Fatalf("open after reload = %+v", open)
	}
	for _, a := range open {
		if a.Rule == "transcode-burst" && (a.ID != id || a.Severity != Warning) {
			t.Errorf("transcode alarm after reload = %+v", a)
		}
	}
	h.burst("a", "transcode", 1, false)
	if len(h.emitted()) != 2 {
		t.Fatalf("reload re-emitted: %+v", h.emitted())
	}

	// A rule removed: its alarm resolves.
	var lines []string
	for _, l := range strings.Split(testRules, "\n") {
		if !strings.Contains(l, "history-leak") {
			lines = append(lines, l)
		}
	}
	h.e.Reload(mustParse(t, strings.Join(lines, "\n")))
	open = h.open()
	if len(open) != 1 || open[0].Rule != "transcode-burst" {
		t.Fatalf("open after removing history-leak = %+v", open)
	}
	if all := h.e.Alarms(); all[len(all)-1].Rule != "history-leak" || all[len(all)-1].Resolved.IsZero() {
		t.Errorf("Alarms() = %+v", all)
	}
	h.e.Reload(nil) // ignored
	if h.e.Rules() == nil {
		t.Fatal("Reload(nil) dropped the rules")
	}
}

func TestAlarmsOrder(t *testing.T) {
	h := newHarness(t, testRules)
	h.e.Observe(Event{}) // no-op
	for i := range 11 {
		h.e.Observe(Event{At: h.now, Outcome: "forbidden", Client: "10.0.0.1", Actor: "x", Action: fmt.Sprint(i)})
	}
	h.burst("a", "transcode", 51, false)
	h.burst("b", "transcode", 51, false)
	all := h.e.Alarms()
	if len(all) != 3 || all[0].Subject != "actor=a" || all[1].Subject != "actor=b" || all[2].Severity != Warning {
		t.Fatalf("order: %+v", all)
	}
	// Resolved ones: at most 100 kept.
	for i := range 150 {
		h.e.ObserveAnomalies(h.now, []codes.Anomaly{{Colour: codes.Red, Dimension: "region", Label: fmt.Sprint(i)}})
	}
	h.tick(24 * time.Hour)
	if all := h.e.Alarms(); len(all) != 100 {
		t.Fatalf("%d alarms listed, want the last 100 resolved", len(all))
	}
}

func TestIDStable(t *testing.T) {
	a, b := alarmID("x actor=a", t0), alarmID("x actor=a", t0)
	c := alarmID("x actor=a", t0.Add(time.Nanosecond))
	if a != b || a == c || len(a) != 32 {
		t.Fatalf("%s %s %s", a, b, c)
	}
}

// sizes counts what the engine holds: subjects and window entries.
func (e *Engine) sizes() (subjects, entries int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.states {
		subjects += len(st.subjects)
		for _, s := range st.subjects {
			entries += len(s.targets) + len(s.events)
		}
	}
	return subjects, entries
}

func TestMemoryBounded(t *testing.T) {
	r := mustParse(t, testRules)
	now := t0
	e, err := NewEngine(Config{Rules: r, Now: func() time.Time { return now }, MaxSubjects: 500})
	if err != nil {
		t.Fatal(err)
	}
	night := time.Date(2024, 3, 4, 23, 0, 0, 0, chinaStandardTime)
	for i := range 100000 {
		at := night.Add(time.Duration(i) * 10 * time.Millisecond)
		actor := fmt.Sprintf("op%d", i%2000)
		e.Observe(Event{At: at, Actor: actor, Action: []string{"transcode", "history", "evaluate"}[i%3], Target: fmt.Sprint(i),
			Outcome: []string{"ok", "ok", "forbidden", "ok"}[i%4], Client: fmt.Sprintf("10.%d.0.1", i%3000), Changed: 1})
		// The same person again and again, by one actor: one entry.
		e.Observe(Event{At: at, Actor: "same", Action: "history", Target: "p1", Outcome: "ok"})
	}
	subjects, entries := e.sizes()
	// Five rules, four with windows, at most 500 subjects each; each
	// window holds at most threshold+1 entries.
	if subjects > 4*500 || entries > 4*500*101 {
		t.Fatalf("after 1e5 events: %d subjects, %d entries", subjects, entries)
	}
	if st := e.states["history-leak"]; len(st.subjects["actor=same"].targets) != 1 {
		t.Errorf("repeated views hold %d entries", len(st.subjects["actor=same"].targets))
	}
	now = night.Add(2 * time.Hour)
	e.Tick(now)
	if subjects, entries := e.sizes(); subjects != 0 || entries != 0 {
		t.Fatalf("after the windows passed: %d subjects, %d entries", subjects, entries)
	}
}

// TestWindowsAgainstOracle checks the bounded windows against a count of
// every event kept, on random streams.
func TestWindowsAgainstOracle(t *testing.T) {
	rule := &Rule{Threshold: 7, Window: time.Minute}
	for seed := range 200 {
		st := &ruleState{rule: rule, subjects: map[string]*subject{}}
		type ev struct {
			at     int64
			target string
			n      int
		}
		var seen []ev
		x := uint64(seed)*2654435761 + 1
		next := func(n uint64) uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x % n }
		at := t0.UnixNano()
		for range 300 {
			at += int64(next(20)) * int64(time.Second) / 2
			e := ev{at: at, target: fmt.Sprint(next(12)), n: int(next(4))}
			seen = append(seen, e)
			s := st.touch("k", at, 10)
			gotD := s.addDistinct(e.target, rule)
			gotS := s.addSum(e.n, rule)
			distinct, sum := map[string]bool{}, 0
			for _, o := range seen {
				if o.at > at-int64(rule.Window) {
					distinct[o.target] = true
					sum += o.n
				}
			}
			if (gotD > rule.Threshold) != (len(distinct) > rule.Threshold) || (gotD <= rule.Threshold && gotD != len(distinct)) {
				t.Fatalf("seed %d: distinct %d, oracle %d", seed, gotD, len(distinct))
			}
			if (gotS > rule.Threshold) != (sum > rule.Threshold) || (gotS <= rule.Threshold && gotS != sum) {
				t.Fatalf("seed %d: sum %d, oracle %d", seed, gotS, sum)
			}
		}
	}
}

func TestNewEngineValidates(t *testing.T) {
	if _, err := NewEngine(Config{}); err == nil {
		t.Error("no rules accepted")
	}
	if _, err := NewEngine(Config{Rules: &Rules{}, MaxSubjects: -1}); err == nil {
		t.Error("negative MaxSubjects accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, testRules)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				h.e.Observe(Event{At: t0, Actor: fmt.Sprint("op", g), Action: "transcode", Target: fmt.Sprint(i), Outcome: "ok"})
				if i%100 == 0 {
					h.e.Tick(t0)
					h.e.Alarms()
					h.e.Silence(fmt.Sprint("transcode-burst actor=op", g), t0.Add(time.Hour), "test", "t")
				}
			}
		})
	}
	wg.Wait()
	if n := len(h.emitted()); n < 1 || n > 8 {
		t.Fatalf("%d emitted", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	r, err := parseFile(b, "alarms.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, actors := range []int{10, 10000} {
		b.Run(fmt.Sprintf("actors=%d", actors), func(b *testing.B) {
			e, _ := NewEngine(Config{Rules: r})
			evs := make([]Event, 4096)
			for i := range evs {
				evs[i] = Event{Actor: fmt.Sprint("op", i%actors), Action: []string{"transcode", "history", "evaluate", "sign_in"}[i%4],
					Target: fmt.Sprint("p", i), Outcome: []string{"ok", "ok", "ok", "unauthenticated"}[i%4], Client: fmt.Sprint("10.0.", i%250), Changed: 1}
			}
			b.ReportAllocs()
			at := t0
			i := 0
			for b.Loop() {
				ev := evs[i%len(evs)]
				at = at.Add(time.Millisecond)
				ev.At = at
				e.Observe(ev)
				i++
			}
		})
	}
}

// TestQualityProblems: a data-quality run that finds problems raises one
// alarm per quality rule, kept open (and updated, not repeated) by the next
// day's run; a run below the threshold raises nothing.
func TestQualityProblems(t *testing.T) {
	h := newHarness(t, `rules:
  - {name: dq, kind: quality_problems, severity: warning, threshold: 5}
`)
	rule := h.e.Rules().Rules[0]
	if rule.ResolveAfter != DefaultQualityResolveAfter {
		t.Fatalf("resolve_after %v, want the default %v", rule.ResolveAfter, DefaultQualityResolveAfter)
	}
	h.e.ObserveQuality(h.now, "daily-coding", "2022-06-14", 4) // under the threshold
	if n := len(h.emitted()); n != 0 {
		t.Fatalf("%d alarms for 4 problems under a threshold of 5", n)
	}
	h.e.ObserveQuality(h.now, "daily-coding", "2022-06-14", 12)
	h.tick(time.Hour)
	h.e.ObserveQuality(h.now, "daily-coding", "2022-06-15", 7)
	h.e.ObserveQuality(h.now, "monthly-issued", "2022-06-15", 5)
	got := h.emitted()
	if len(got) != 2 || got[0].Cause != "dq rule=daily-coding" || got[1].Cause != "dq rule=monthly-issued" {
		t.Fatalf("emitted %+v", got)
	}
	if want := "数据质量核查 rule=daily-coding（2022-06-14）发现 12 个问题"; got[0].Text != want {
		t.Errorf("text %q, want %q", got[0].Text, want)
	}
	for _, a := range h.open() {
		if a.Cause == "dq rule=daily-coding" && a.Count != 2 {
			t.Errorf("the second day's run updates the open alarm: count %d", a.Count)
		}
	}
}
