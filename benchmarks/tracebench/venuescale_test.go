package tracebench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// TestVenueScale indexes Sichuan's 5.2 M venue names (TRACEBENCH_NAMES
// changes it) and reports build time, peak RSS and search latency. It runs
// only when TRACEBENCH_NAMES is set.
func TestVenueScale(t *testing.T) {
	n := envInt(t, "TRACEBENCH_NAMES", 0)
	if n == 0 {
		t.Skip("set TRACEBENCH_NAMES to run")
	}
	vs := synth.New(7).Venues(n)
	names := make([]contacttrace.VenueName, len(vs))
	var queries []string
	rng := rand.New(rand.NewPCG(7, 7))
	for i, v := range vs {
		names[i] = contacttrace.VenueName{ID: v.ID, Name: v.Name}
	}
	for range 200 {
		name := []rune(vs[rng.IntN(len(vs))].Name)
		a := 6 + rng.IntN(max(1, len(name)-9))
		queries = append(queries, string(name[max(a+3, len(name)-2):])+" "+string(name[a:min(len(name), a+3)]))
	}
	vs = nil
	runtime.GC()
	w, c := time.Now(), cpuTime()
	vn, err := contacttrace.NewVenueNames(context.Background(), names, contacttrace.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d names indexed in %v wall, %v CPU; RSS now %s, peak %s", vn.Len(), time.Since(w).Round(time.Millisecond),
		(cpuTime() - c).Round(time.Millisecond), rss("VmRSS"), rss("VmHWM"))
	for round := range 2 {
		w, c := time.Now(), cpuTime()
		for _, q := range queries {
			hits := vn.Search(q, 10)
			if len(hits) == 0 || !containsAll(hits[0].Name, strings.Fields(q)) {
				t.Fatalf("top hit for %q lacks a fragment", q)
			}
		}
		t.Logf("search round %d: %v wall, %v CPU per top-10 search", round,
			(time.Since(w) / time.Duration(len(queries))).Round(time.Microsecond),
			((cpuTime() - c) / time.Duration(len(queries))).Round(time.Microsecond))
	}
}
