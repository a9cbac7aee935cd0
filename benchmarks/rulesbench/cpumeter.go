package rulesbench

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
)

// cpuMeter adds up the CPU time the evaluating goroutines spend, so that
// the report has a per-person cost that does not depend on how busy the
// machine is (wall-clock rates do: other processes take cores away). For
// parallel subjects each Run measures its own locked thread; for Batch,
// whose work runs on goroutines of its own, the whole process is measured.
type cpuMeter struct {
	ns, ops atomic.Int64
	ok      atomic.Bool
}

// thread measures fn on the calling goroutine's thread.
func (m *cpuMeter) thread(n int, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok0 := threadCPU()
	err := fn()
	t1, ok1 := threadCPU()
	m.add(n, t1-t0, ok0 && ok1)
	return err
}

// process measures fn as the only work of the process.
func (m *cpuMeter) process(n int, fn func() error) error {
	t0, ok0 := processCPU()
	err := fn()
	t1, ok1 := processCPU()
	m.add(n, t1-t0, ok0 && ok1)
	return err
}

func (m *cpuMeter) add(n int, d time.Duration, ok bool) {
	if !ok {
		return
	}
	m.ns.Add(int64(d))
	m.ops.Add(int64(n))
	m.ok.Store(true)
}

// Metrics reports the CPU time per person and the rate one core sustains.
func (m *cpuMeter) Metrics() []bench.Metric {
	ops, ns := m.ops.Load(), m.ns.Load()
	if !m.ok.Load() || ops == 0 || ns == 0 {
		return nil
	}
	per := float64(ns) / float64(ops)
	return []bench.Metric{
		{Name: "CPU time per person", Value: per, Unit: "ns"},
		{Name: "persons per CPU-second", Value: 1e9 / per, Unit: "person/s"},
	}
}
