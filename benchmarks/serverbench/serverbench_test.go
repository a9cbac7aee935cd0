package serverbench

import (
	"errors"
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
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
