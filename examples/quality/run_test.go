package quality

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/data")

const day = "2022-06-14"

// shipped is the plant of testdata/data/2022-06-14.
var shipped = plant{N: 30, Missing: 2, Extra: 1, Duplicated: 1, BadSum: 1, BirthDiff: 1, EmptyName: 1, BadPhone: 1}

func loadRules(t testing.TB) *Rules {
	t.Helper()
	b, err := os.ReadFile("testdata/quality.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules("testdata/quality.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func newRunner(t testing.TB, base string, cfg RunnerConfig) (*Runner, *Store) {
	t.Helper()
	st, err := OpenStore(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if cfg.Rules == nil {
		cfg.Rules = loadRules(t)
	}
	cfg.Store, cfg.Base = st, base
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, st
}

func checkFigures(t *testing.T, run Run, p plant) {
	t.Helper()
	if run.State != Done {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	want, wantBy := p.want(), p.wantByField()
	if len(run.Checks) != len(want) {
		t.Fatalf("%d checks, want %d", len(run.Checks), len(want))
	}
	for _, c := range run.Checks {
		if c.Figures != want[c.Name] {
			t.Errorf("%s: figures %+v, want %+v", c.Name, c.Figures, want[c.Name])
		}
		if !maps.Equal(c.ByField, wantBy[c.Name]) {
			t.Errorf("%s: by field %v, want %v", c.Name, c.ByField, wantBy[c.Name])
		}
	}
	coded := p.N - p.Missing + p.Duplicated
	issued := p.N - p.Missing + p.Extra
	wantTotal := Figures{Rows: p.N + coded + issued, Missing: p.Missing + p.BadSum + p.Duplicated, Extra: p.Duplicated + p.BadSum + p.Extra,
		Duplicated: 2 * p.Duplicated, Invalid: 2*p.BadSum + 2*p.EmptyName + 2*p.BadPhone, Mismatched: p.BirthDiff}
	if run.Total != wantTotal {
		t.Errorf("total %+v, want %+v", run.Total, wantTotal)
	}
}

func TestShippedTestdata(t *testing.T) {
	if *rewrite {
		os.RemoveAll("testdata/data")
		writeDay(t, "testdata", day, shipped, 14)
	}
	r, _ := newRunner(t, "testdata", RunnerConfig{})
	run, err := r.RunNow(t.Context(), "sichuan-coding-daily", day)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, run, shipped)
}

func TestPlantedFiguresAndRerun(t *testing.T) {
	dir := t.TempDir()
	p := plant{N: 500, Missing: 7, Extra: 5, Duplicated: 4, BadSum: 3, BirthDiff: 2, EmptyName: 6, BadPhone: 4}
	writeDay(t, dir, day, p, 1)
	var finished []Run
	var mu sync.Mutex
	r, st := newRunner(t, dir, RunnerConfig{OnFinish: func(run Run) { mu.Lock(); finished = append(finished, run); mu.Unlock() }})
	first, err := r.RunNow(t.Context(), "sichuan-coding-daily", day)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, first, p)
	if first.OK() {
		t.Error("a run with problems is OK")
	}
	second, err := r.RunNow(t.Context(), "sichuan-coding-daily", day)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID {
		t.Errorf("re-run kept ID %s", first.ID)
	}
	checkFigures(t, second, p)
	for i := range first.Checks {
		a, b := first.Checks[i], second.Checks[i]
		if a.Figures != b.Figures || !maps.Equal(a.ByField, b.ByField) || len(a.Samples) != len(b.Samples) {
			t.Errorf("%s: re-run differs", a.Name)
		}
	}
	runs, err := st.Runs("sichuan-coding-daily", 0)
	if err != nil || len(runs) != 2 || runs[0].ID != second.ID {
		t.Fatalf("Runs = %v, %v; want the two runs newest first", runs, err)
	}
	if len(finished) != 2 {
		t.Errorf("OnFinish called %d times, want 2", len(finished))
	}
	// Samples are masked and located.
	for _, c := range first.Checks {
		for _, s := range c.Samples {
			if s.Line < 2 || strings.Contains(s.Key, "510104") || (s.Value != "" && !strings.Contains(s.Value, "*")) {
				t.Errorf("%s: sample %+v: want a line and masked values", c.Name, s)
			}
		}
	}
	// Drill-down lists every record behind a figure.
	recs, err := r.Records(t.Context(), first.ID, "reconcile source→coded", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.Missing + p.BadSum + p.Duplicated + p.BadSum + p.Duplicated; len(recs) != want {
		t.Errorf("drill-down: %d records, want %d", len(recs), want)
	}
	if _, err := r.Records(t.Context(), first.ID, "no such check", 0); !errors.Is(err, ErrUnknownCheck) {
		t.Errorf("unknown check: %v", err)
	}
	stats, err := st.Stats("2022-06-01", "2022-06-30")
	if err != nil || len(stats) != 1 || stats[0].Runs != 2 || stats[0].Figures != second.Total || stats[0].LastRun != second.ID {
		t.Errorf("Stats = %+v, %v", stats, err)
	}
	checkDocument(t, first.Document())
	checkDocument(t, PeriodDocument(stats))
}

// checkDocument checks that every figure of d is a number cell: the
// columns of figures never hold text.
func checkDocument(t *testing.T, d report.Document) {
	t.Helper()
	figure := map[string]bool{"行数": true, "缺失": true, "多余": true, "重复": true, "无效": true, "不一致": true, "问题数": true,
		"运行次数": true, "完成": true, "停止": true, "失败": true, "行": true, "编号": true, "天数": true}
	numbers := 0
	for _, f := range d.Facts {
		if f.Value.Kind == report.Number {
			numbers++
		}
	}
	if numbers == 0 {
		t.Errorf("%s: no figure among the facts", d.Title)
	}
	for _, s := range d.Sections {
		for _, row := range append(s.Rows, s.Total) {
			if row == nil {
				continue
			}
			if len(row) != len(s.Columns) {
				t.Errorf("%s: a row of %d cells under %d columns", s.Heading, len(row), len(s.Columns))
				continue
			}
			for i, c := range row {
				if figure[s.Columns[i]] && c.Kind != report.Number {
					t.Errorf("%s: column %s holds %v, want a number", s.Heading, s.Columns[i], c)
				}
			}
		}
	}
}

func TestStopMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200k rows")
	}
	dir := t.TempDir()
	writeDay(t, dir, day, plant{N: 200000}, 2)
	writeDay(t, dir, "2022-06-13", plant{N: 50, Missing: 1}, 3)
	r, st := newRunner(t, dir, RunnerConfig{ProgressRows: 1000})
	other, err := r.RunNow(t.Context(), "sichuan-coding-daily", "2022-06-13")
	if err != nil || other.State != Done {
		t.Fatalf("other run: %v, %v", other.State, err)
	}
	var once sync.Once
	r.progressHook = func(id string) { once.Do(func() { r.Stop(id) }) }
	run, err := r.Start(t.Context(), "sichuan-coding-daily", day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(t.Context(), "sichuan-coding-daily", day); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start: %v, want ErrRunning", err)
	}
	got, err := r.Wait(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != Stopped || got.Reason != "stopped" || len(got.Checks) != 0 {
		t.Fatalf("run %s: state %s (%s), %d checks; want stopped with no check", got.ID, got.State, got.Reason, len(got.Checks))
	}
	if last := got.Log[len(got.Log)-1].Msg; !strings.HasPrefix(last, "stopped") {
		t.Errorf("last log line %q", last)
	}
	// The stored run decodes whole, and the other run is untouched.
	again, err := st.Get(other.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(again)
	b, _ := json.Marshal(other)
	if string(a) != string(b) {
		t.Error("stopping a run changed another")
	}
}

func TestRunNowCancelStops(t *testing.T) {
	dir := t.TempDir()
	writeDay(t, dir, day, plant{N: 5000}, 4)
	r, _ := newRunner(t, dir, RunnerConfig{ProgressRows: 100})
	ctx, cancel := context.WithCancel(t.Context())
	r.progressHook = func(string) { cancel() }
	run, err := r.RunNow(ctx, "sichuan-coding-daily", day)
	if err != nil || run.State != Stopped {
		t.Fatalf("RunNow = %s, %v; want stopped", run.State, err)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		break_     func(dir string)
	}{
		{"missing dataset", "issued.csv: no such file", func(dir string) { os.Remove(filepath.Join(dir, "data", day, "issued.csv")) }},
		{"wrong columns", `coded.csv: no column "phone" (phone)`, func(dir string) {
			writeCSV(t, filepath.Join(dir, "data", day, "coded.csv"), []string{"id", "name", "doc_type", "doc_number", "birth"}, [][]string{{"1", "王伟", "身份证", "x", "2000-01-01"}})
		}},
		{"no id column", `coded.csv: bad CSV row: line 1: no "id" column`, func(dir string) {
			writeCSV(t, filepath.Join(dir, "data", day, "coded.csv"), []string{"编号", "姓名"}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDay(t, dir, day, shipped, 5)
			tc.break_(dir)
			r, _ := newRunner(t, dir, RunnerConfig{})
			run, err := r.RunNow(t.Context(), "sichuan-coding-daily", day)
			if err != nil {
				t.Fatal(err)
			}
			if run.State != Failed || !strings.Contains(run.Reason, tc.want) {
				t.Errorf("run: %s (%s), want failed naming %q", run.State, run.Reason, tc.want)
			}
			other, err := r.RunNow(t.Context(), "sichuan-import", day)
			if err != nil || other.State != Done {
				t.Errorf("other rule: %s (%s), %v; want done", other.State, other.Reason, err)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	r, _ := newRunner(t, t.TempDir(), RunnerConfig{})
	for _, tc := range []struct {
		rule, day string
		want      error
	}{
		{"nope", day, ErrUnknownRule},
		{"sichuan-coding-daily", "2023-01-01", ErrOutsideValidity},
		{"sichuan-coding-daily", "2022-13-01", ErrBadDay},
	} {
		if _, err := r.Start(t.Context(), tc.rule, tc.day); !errors.Is(err, tc.want) {
			t.Errorf("Start(%s, %s) = %v, want %v", tc.rule, tc.day, err, tc.want)
		}
	}
}

func TestCrashMarksInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := st.newID()
	started := time.Date(2022, 6, 15, 2, 0, 0, 0, chinaTime)
	if err := st.Save(Run{ID: id, Rule: "sichuan-coding-daily", Day: day, State: Running, Started: started}); err != nil {
		t.Fatal(err)
	}
	st.Close() // the process dies here
	st, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.Get(id)
	if err != nil || run.State != Failed || run.Reason != "interrupted" {
		t.Fatalf("after restart: %+v, %v; want failed: interrupted", run, err)
	}
}

func TestSchedule(t *testing.T) {
	dir := t.TempDir()
	writeDay(t, dir, day, shipped, 6)
	var mu sync.Mutex
	now := time.Date(2022, 6, 15, 1, 30, 0, 0, chinaTime)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fired := false
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		defer mu.Unlock()
		ch := make(chan time.Time, 1)
		if !fired { // the first wait passes at once; later ones never do
			fired = true
			now = now.Add(d)
			ch <- now
		}
		return ch
	}
	done := make(chan Run, 1)
	r, _ := newRunner(t, dir, RunnerConfig{Now: clock, After: after, OnFinish: func(run Run) { done <- run }})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- r.Schedule(ctx) }()
	run := <-done
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Schedule returned %v", err)
	}
	if want := time.Date(2022, 6, 15, 2, 0, 0, 0, chinaTime); run.Rule != "sichuan-coding-daily" || run.Day != day || !run.Started.Equal(want) {
		t.Errorf("scheduled run %s %s at %s, want sichuan-coding-daily %s at %s", run.Rule, run.Day, run.Started, day, want)
	}
	checkFigures(t, run, shipped)
}
