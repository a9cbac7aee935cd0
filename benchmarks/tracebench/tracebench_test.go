package tracebench

import (
	"testing"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
)

func BenchmarkTracebench(b *testing.B) {
	for _, w := range Workloads(bench.Small) {
		bench.Benchmark(b, w)
	}
}
