package tracebench

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// TestScaleSegments ingests a Sichuan-sized province day by day into
// contacttrace.Segments (one immutable segment a day, 21 kept) as a server
// would, and reports per day the append's wall and CPU time (and its
// ratio to day 0's), the memory an append takes beyond what was held, the
// queries once 14 days are held, and a snapshot directory written, read
// back whole after a "restart" and read by a reader that lacks only the
// last day. TRACEBENCH_SEGDAYS sets the days, for the province's full
// scale:
//
//	TRACEBENCH_SEGDAYS=22 go test -run TestScaleSegments -v -timeout 2h ./benchmarks/tracebench
//
// Without it the same code runs at a small scale (23 days of 200 k scans
// among 500 k people at 20 k venues, a second or two), so CI keeps it
// working. TRACEBENCH_PERDAY, TRACEBENCH_PERSONS and TRACEBENCH_VENUES
// change the province as for TestScale; TRACEBENCH_SNAPDIR keeps the
// snapshot there.
func TestScaleSegments(t *testing.T) {
	days := envInt(t, "TRACEBENCH_SEGDAYS", 0)
	perDay, persons, venues := 43_000_000, 114_000_000, 5_200_000
	if days == 0 {
		days, perDay, persons, venues = 23, 200_000, 500_000, 20_000
	}
	perDay = envInt(t, "TRACEBENCH_PERDAY", perDay)
	persons = envInt(t, "TRACEBENCH_PERSONS", persons)
	venues = envInt(t, "TRACEBENCH_VENUES", venues)
	cfg := contacttrace.Config{MaxPersons: persons, MaxVenues: venues}
	ctx := context.Background()
	start := synth.DefaultStart()
	dayScans := func(d int) []contacttrace.Scan { return provinceDay(d, perDay, persons, venues, start) }
	segs := contacttrace.NewSegments(contacttrace.SegmentConfig{Location: start.Location()})
	rng := rand.New(rand.NewPCG(9, 9))
	var sample []contacttrace.Scan
	var first time.Duration
	dir := os.Getenv("TRACEBENCH_SNAPDIR")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "snap")
	}
	var prev *contacttrace.Segments // the days before the last one
	var cases []contacttrace.Query  // the query report's 30-visit cases
	for d := range days {
		if d == days-1 {
			w := time.Now()
			wrote, err := segs.WriteDir(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("snapshot before day %d: %d day files written in %v", d, len(wrote), time.Since(w).Round(time.Millisecond))
			prev = segs
		}
		scans := dayScans(d)
		for range 1000 {
			sample = append(sample, scans[rng.IntN(len(scans))])
		}
		if len(sample) > 14*1000 {
			sample = sample[len(sample)-14*1000:] // cases from the last 14 days
		}
		runtime.GC()
		debug.FreeOSMemory()
		resetPeak()
		before := rssBytes("VmRSS")
		w, c := time.Now(), cpuTime()
		next, err := segs.Append(ctx, scans, cfg)
		if err != nil {
			t.Fatal(err)
		}
		el, cpu := time.Since(w), cpuTime()-c
		peak := rssBytes("VmHWM")
		dayIx, _ := next.Day(next.Days()[len(next.Days())-1])
		if d == 0 {
			first = el
		}
		dropped := len(segs.Days()) + 1 - len(next.Days())
		segs = next
		if want := min(d+1, contacttrace.DefaultRetainDays); len(segs.Days()) != want || segs.Len() != want*perDay {
			t.Fatalf("day %d: %d days, %d scans held; want %d days of %d", d, len(segs.Days()), segs.Len(), want, perDay)
		}
		t.Logf("day %d: append %v wall (%.2fx day 0), %v CPU; %d days, %d scans, %.2f GB held (day %.2f GB, %.2f B/scan)%s; RSS before %.2f GiB, peak %.2f GiB: the append took %.2fx the day's index beyond what was held",
			d, el.Round(time.Millisecond), el.Seconds()/first.Seconds(), cpu.Round(time.Millisecond), len(segs.Days()), segs.Len(),
			float64(segs.Bytes())/1e9, float64(dayIx.Bytes())/1e9, float64(dayIx.Bytes())/float64(dayIx.Len()),
			map[bool]string{true: ", dropped " + strconv.Itoa(dropped) + " day past the window", false: ""}[dropped > 0],
			float64(before)/(1<<30), float64(peak)/(1<<30), float64(peak-before)/float64(dayIx.Bytes()))
		scans = nil
		if d == 13 {
			tr, err := contacttrace.NewSegmentTracer(segs, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("queries over %d days, %d scans:", len(segs.Days()), segs.Len())
			cases = queryReport(t, tr, segs.VenueScans, sample, rand.New(rand.NewPCG(3, 3)))
		}
	}

	w := time.Now()
	wrote, err := segs.WriteDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot after the last day: %d day file written in %v (the others were there)", len(wrote), time.Since(w).Round(time.Millisecond))
	segs = nil
	runtime.GC()
	debug.FreeOSMemory()
	w, c := time.Now(), cpuTime()
	got, _, err := contacttrace.ReadDir(dir, prev)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: a reader holding the days before the last read %d days (%d scans) in %v wall, %v CPU: the last day only",
		len(got.Days()), got.Len(), time.Since(w).Round(time.Millisecond), (cpuTime() - c).Round(time.Millisecond))
	for i, day := range got.Days() {
		mine, _ := got.Day(day)
		held, ok := prev.Day(day)
		if reused := ok && mine == held; reused != (i < len(got.Days())-1) {
			t.Fatalf("day %s: reused %v; only the last day should be read", day.Format(time.DateOnly), reused)
		}
	}
	got, prev = nil, nil
	runtime.GC()
	debug.FreeOSMemory()
	w, c = time.Now(), cpuTime()
	loaded, _, err := contacttrace.ReadDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %d days, %d scans read after a restart in %v wall, %v CPU", len(loaded.Days()), loaded.Len(),
		time.Since(w).Round(time.Millisecond), (cpuTime() - c).Round(time.Millisecond))
	if want := min(days, contacttrace.DefaultRetainDays) * perDay; loaded.Len() != want {
		t.Fatalf("restart read %d scans, want %d", loaded.Len(), want)
	}
	tr, err := contacttrace.NewSegmentTracer(loaded.Retain(loaded.Days()[len(loaded.Days())-14]), nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The query report's cases again, the first of them the first query
	// of the restarted process. They were drawn from the 14 days held at
	// day 13; with more days, the cases from days since dropped find less.
	timeRound(t, tr, cases, "the report's 30-visit cases after the restart, the first the first query")
	timeRound(t, tr, cases, "the same cases again")
}

// resetPeak resets the process's peak RSS (VmHWM), so the next reading is
// the peak since now (Linux: clear_refs 5).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// rssBytes reads a memory figure ("VmRSS", "VmHWM") in bytes.
func rssBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
