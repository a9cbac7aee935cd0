package sla

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// EvaluateAll evaluates many incidents on all cores (GOMAXPROCS workers)
// and returns their results in input order. It stops at the first error,
// or when ctx is cancelled, returning ctx.Err().
//
// Every result is kept, about 350 bytes an incident; to aggregate millions
// of incidents without holding them, run EvaluateTo in your own workers
// with one reused IncidentResult each (what benchmarks/slabench measures).
func (p *Policy) EvaluateAll(ctx context.Context, incs []Incident, asOf time.Time) ([]IncidentResult, error) {
	out := make([]IncidentResult, len(incs))
	// One slab for every result's targets instead of an allocation each.
	n := 0
	for _, inc := range incs {
		n += len(p.levels[inc.Level].Targets)
	}
	slab := make([]TargetResult, n)
	n = 0
	for i, inc := range incs {
		k := len(p.levels[inc.Level].Targets)
		out[i].Targets = slab[n : n : n+k]
		n += k
	}
	const chunk = 1024
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), (len(incs)+chunk-1)/chunk)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				if err := ctx.Err(); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(incs) {
					return
				}
				hi := min(lo+chunk, len(incs))
				for i := lo; i < hi; i++ {
					if err := p.EvaluateTo(&out[i], incs[i], asOf); err != nil {
						once.Do(func() { firstErr = err })
						failed.Store(true)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}
