package serverbench

import (
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
