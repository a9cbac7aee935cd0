package tracebench

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// TestScale holds as many days of a Sichuan-sized province as asked in one
// index, built day by day with Append as a server would ingest them, and
// reports bytes per scan, peak RSS, ingest, snapshot and query times. It
// runs only when TRACEBENCH_DAYS is set:
//
//	TRACEBENCH_DAYS=2 go test -run TestScale -v -timeout 1h ./tracebench
//
// TRACEBENCH_PERDAY (default 43 M), TRACEBENCH_PERSONS (114 M) and
// TRACEBENCH_VENUES (5.2 M) change the province; TRACEBENCH_INGESTPROFILE
// and TRACEBENCH_CPUPROFILE write CPU profiles of the last day's ingest
// and of the queries.
func TestScale(t *testing.T) {
	days := envInt(t, "TRACEBENCH_DAYS", 0)
	if days == 0 {
		t.Skip("set TRACEBENCH_DAYS to run")
	}
	perDay := envInt(t, "TRACEBENCH_PERDAY", 43_000_000)
	persons := envInt(t, "TRACEBENCH_PERSONS", 114_000_000)
	venues := envInt(t, "TRACEBENCH_VENUES", 5_200_000)
	cfg := contacttrace.Config{MaxPersons: persons, MaxVenues: venues}
	path := filepath.Join(t.TempDir(), "index.snap")
	n := ingestAndQuery(t, days, perDay, persons, venues, cfg, path)
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w, c := time.Now(), cpuTime()
	loaded, err := contacttrace.ReadIndex(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(w)
	t.Logf("snapshot: %d scans loaded in %v wall, %v CPU (%.1f M scans/s); RSS peak %s", loaded.Len(),
		el.Round(time.Millisecond), (cpuTime() - c).Round(time.Millisecond), float64(n)/el.Seconds()/1e6, rss("VmHWM"))
}

// ingestAndQuery builds the index day by day, queries it and writes its
// snapshot to path; it returns the number of scans.
func ingestAndQuery(t *testing.T, days, perDay, persons, venues int, cfg contacttrace.Config, path string) int {
	ctx := context.Background()
	start := synth.DefaultStart()

	// Days are generated one at a time, outside the measured ingest.
	dayScans := func(d int) []contacttrace.Scan { return provinceDay(d, perDay, persons, venues, start) }
	var ix *contacttrace.Index
	var sample []contacttrace.Scan // scans to draw index cases from
	rng := rand.New(rand.NewPCG(9, 9))
	for d := range days {
		scans := dayScans(d)
		for range 1000 {
			sample = append(sample, scans[rng.IntN(len(scans))])
		}
		if path := os.Getenv("TRACEBENCH_INGESTPROFILE"); path != "" && d == days-1 {
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				t.Fatal(err)
			}
			defer f.Close()
		}
		w, c := time.Now(), cpuTime()
		var err error
		if ix == nil {
			ix, err = contacttrace.Build(ctx, scans, cfg)
		} else {
			ix, err = ix.Append(ctx, scans, cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		el, cpu := time.Since(w), cpuTime()-c
		if os.Getenv("TRACEBENCH_INGESTPROFILE") != "" && d == days-1 {
			pprof.StopCPUProfile()
		}
		t.Logf("day %d: %d scans in index; ingest %v wall (%.1f M scans/s), %v CPU (%.1f M scans per CPU-s); %.2f B/scan; RSS peak %s",
			d, ix.Len(), el.Round(time.Millisecond), float64(len(scans))/el.Seconds()/1e6, cpu.Round(time.Millisecond),
			float64(len(scans))/cpu.Seconds()/1e6, float64(ix.Bytes())/float64(ix.Len()), rss("VmHWM"))
		runtime.GC()
		debug.FreeOSMemory()
	}
	t.Logf("index: %d scans, %.2f GB, %.2f B/scan; RSS now %s, peak %s", ix.Len(), float64(ix.Bytes())/1e9,
		float64(ix.Bytes())/float64(ix.Len()), rss("VmRSS"), rss("VmHWM"))

	// Queries: 30-visit cases, +-2 h, single hop.
	tr, err := contacttrace.NewTracer(ix, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	queryReport(t, tr, ix.VenueScans, sample, rng)

	// Snapshot to a file, loaded by the caller once this index is gone.
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := time.Now()
	size, err := ix.WriteTo(f)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %.2f GB written in %v", float64(size)/1e9, time.Since(w).Round(time.Millisecond))
	return ix.Len()
}

// provinceDay generates day d of the province's scans (seeded by d).
func provinceDay(d, perDay, persons, venues int, start time.Time) []contacttrace.Scan {
	out := make([]contacttrace.Scan, 0, perDay)
	g := synth.New(uint64(1000 + d))
	sc := synth.ScanConfig{Persons: persons, Venues: venues, PerDay: perDay, ZipfS: venueZipf, Start: start.AddDate(0, 0, d)}
	for s := range g.ScanSeq(sc) {
		out = append(out, contacttrace.Scan(s))
	}
	return out
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// rss reads a memory figure ("VmRSS", "VmHWM") from /proc/self/status.
func rss(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return strconv.FormatFloat(float64(kb)/(1<<20), 'f', 2, 64) + " GiB"
		}
	}
	return "n/a"
}
