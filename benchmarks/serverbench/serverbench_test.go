package serverbench

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
)

// BenchmarkServer runs every scenario; at the default small scale each
// takes a few seconds. -benchtime=1x runs each once, as CI does.
func BenchmarkServer(b *testing.B) {
	if testing.Short() {
		b.Skip("starts servers")
	}
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}

func TestCheckColour(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"colour":"red","sources":[{"colour":"red"}],"token":"x"}`, true},
		{`{"colour":"green"}` + "\n", true},
		{`{"colour":"yellow"}`, true},
		{`{"colour":"blue"}`, false},
		{`{"colour":"red`, false},
		{`{"token":"x","colour":"red"}`, false},
		{`{"error":"bad_request"}`, false},
		{``, false},
	} {
		err := checkColour(200, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("checkColour(%q) = %v, want ok=%v", tc.body, err, tc.ok)
		}
		if err != nil && !errors.Is(err, bench.ErrWrongAnswer) {
			t.Errorf("checkColour(%q) = %v, want bench.ErrWrongAnswer", tc.body, err)
		}
	}
	red := []byte(`{"colour":"red"}`)
	if n := testing.AllocsPerRun(100, func() { _ = checkColour(200, red) }); n != 0 {
		t.Errorf("checkColour allocates %.0f times an answer, want 0", n)
	}
}

func TestCompareSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	cfg := CompareConfig{
		Settings: []Setting{
			{Name: "gogc50", Args: []string{"-gogc", "50"}},
			{Name: "env", Env: []string{"GOGC=150"}},
		},
		Rates:  []float64{500, 1000},
		Rounds: 2, Step: 300 * time.Millisecond, DemoPeople: 300, Warm: 100 * time.Millisecond,
	}
	var runs int
	cfg.Progress = func(int, string, loadgen.Result) { runs++ }
	res, err := CompareSettings(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2*2*2 {
		t.Errorf("progress called %d times, want 8", runs)
	}
	if len(res) != 4 {
		t.Fatalf("%d comparisons, want 4", len(res))
	}
	for i, c := range res {
		want := cfg.Settings[i/2].Name
		if c.Setting != want || c.Rate != cfg.Rates[i%2] || len(c.Rounds) != 2 {
			t.Errorf("comparison %d: %s at %v with %d rounds, want %s at %v with 2", i, c.Setting, c.Rate, len(c.Rounds), want, cfg.Rates[i%2])
		}
		for _, r := range c.Rounds {
			if r.OK == 0 || r.Failed > 0 || r.Rate != c.Rate {
				t.Errorf("%s at %v: %d ok, %d failed, rate %v", c.Setting, c.Rate, r.OK, r.Failed, r.Rate)
			}
		}
	}

	// A setting the server refuses fails the comparison, naming it.
	// So does one whose environment the Go runtime refuses: the
	// environment reaches the server.
	cfg.Rounds = 1
	for _, s := range []Setting{{Name: "badflag", Args: []string{"-no-such-flag"}}, {Name: "badenv", Env: []string{"GOMEMLIMIT=lots"}}} {
		cfg.Settings = []Setting{s}
		if _, err := CompareSettings(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "setting "+s.Name) {
			t.Errorf("err = %v, want one naming setting %s", err, s.Name)
		}
	}
	if _, err := CompareSettings(t.Context(), CompareConfig{Settings: cfg.Settings, Rates: []float64{-1}}); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}
