package main

import (
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
	"github.com/healthcode-sdk/healthcode/benchmarks/serverbench"
)

func TestSetSplitsEnvironmentFromFlags(t *testing.T) {
	var s settings
	if err := s.Set("off=GOGC=off -cache-entries 4096 GOMEMLIMIT=256MiB -x=Y"); err != nil {
		t.Fatal(err)
	}
	got := s[0]
	if got.Name != "off" || strings.Join(got.Env, " ") != "GOGC=off GOMEMLIMIT=256MiB" || strings.Join(got.Args, " ") != "-cache-entries 4096 -x=Y" {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"", "=-gogc 1", "no-equals"} {
		if err := s.Set(bad); err == nil {
			t.Errorf("Set(%q) = nil, want an error", bad)
		}
	}
}

func TestRunRefusesIncompleteInvocations(t *testing.T) {
	for _, args := range [][]string{
		{"-set", "a=-gogc 100"},                   // no rates
		{"-rates", "1000"},                        // no settings
		{"-rates", "fast", "-set", "a=-gogc 100"}, // bad rate
		{"-rates", "1000", "-set", "a=-gogc 100", "-rounds", "x"},
	} {
		var out, errs strings.Builder
		if err := run(t.Context(), args, &out, &errs); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
		if out.Len() != 0 {
			t.Errorf("run(%q) printed a report: %s", args, out.String())
		}
	}
}

func TestReportMediansAndRounds(t *testing.T) {
	ms := time.Millisecond
	res := []serverbench.Comparison{
		{Setting: "a", Rate: 1000, Rounds: []loadgen.Result{{P50: ms, P99: 9 * ms, P999: 20 * ms, Throughput: 990}, {P50: 2 * ms, P99: 4 * ms, P999: 10 * ms, Throughput: 1000}, {P50: 3 * ms, P99: 6 * ms, P999: 30 * ms, Throughput: 980}}},
		{Setting: "b", Rate: 1000, Rounds: []loadgen.Result{{P99: 2 * ms}}},
	}
	var b strings.Builder
	if err := report(&b, serverbench.CompareConfig{Rates: []float64{1000}, Rounds: 3, Step: time.Second}, res); err != nil {
		t.Fatal(err)
	}
	want := "| a | 2.00 ms | 6.00 ms | 20.00 ms | 9.00, 4.00, 6.00 | 990 |"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("report lacks %q:\n%s", want, b.String())
	}
	if !strings.Contains(b.String(), "### 1000 lookups/s") || !strings.Contains(b.String(), "| b | 0.00 ms | 2.00 ms |") {
		t.Fatalf("report:\n%s", b.String())
	}
}
