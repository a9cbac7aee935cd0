package rules

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
)

// DefaultChunkSize is how many people a Batch worker takes at a time.
const DefaultChunkSize = 256

// BatchConfig configures Batch and DryRun. The zero value is valid. A
// BatchConfig is a plain value; Progress is called from one goroutine.
type BatchConfig struct {
	// Workers is the number of evaluating goroutines. Zero means
	// runtime.GOMAXPROCS(0).
	Workers int
	// ChunkSize is how many people a worker evaluates at a time. Zero means
	// DefaultChunkSize.
	ChunkSize int
	// Progress, if set, is called from the calling goroutine with the number
	// of people done so far, after each chunk.
	Progress func(done int)
}

// DefaultBatchConfig returns the default configuration.
func DefaultBatchConfig() BatchConfig {
	return BatchConfig{Workers: runtime.GOMAXPROCS(0), ChunkSize: DefaultChunkSize}
}

// Validate reports a bad field.
func (c BatchConfig) Validate() error {
	if c.Workers < 0 {
		return fmt.Errorf("%w: BatchConfig.Workers is %d, must be >= 0", ErrBadOption, c.Workers)
	}
	if c.ChunkSize < 0 {
		return fmt.Errorf("%w: BatchConfig.ChunkSize is %d, must be >= 0", ErrBadOption, c.ChunkSize)
	}
	return nil
}

func (c BatchConfig) withDefaults() BatchConfig {
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	return c
}

// Batch evaluates every person of population with the set in force at each
// person's Facts.Now and the risk areas current when Batch starts (one
// snapshot for the whole batch), on cfg.Workers goroutines, and calls emit for each in
// population order from the calling goroutine. A person whose evaluation
// fails is emitted with the error; the batch goes on. Batch returns
// ctx.Err() if ctx is cancelled (emit is then not called for the rest), and
// nil when the population is exhausted. The population iterator runs on a
// goroutine of its own.
func (e *Engine) Batch(ctx context.Context, population iter.Seq[Facts], cfg BatchConfig, emit func(i int, d Decision, err error)) error {
	areas := e.areas.Load()
	return runBatch(ctx, population, cfg, func(w *worker, f *Facts) result {
		c, err := e.setAt(f.Now)
		if err != nil {
			return result{err: err}
		}
		d, err := w.evaluate(ctx, c, f, areas)
		return result{d: d, err: err}
	}, func(i int, _ *Facts, r *result) { emit(i, r.d, r.err) })
}

// Batch evaluates every person of population with c and the given risk
// areas; otherwise it is Engine.Batch.
func (c *Compiled) Batch(ctx context.Context, population iter.Seq[Facts], areas *RiskAreas, cfg BatchConfig, emit func(i int, d Decision, err error)) error {
	return runBatch(ctx, population, cfg, func(w *worker, f *Facts) result {
		d, err := w.evaluate(ctx, c, f, areas)
		return result{d: d, err: err}
	}, func(i int, _ *Facts, r *result) { emit(i, r.d, r.err) })
}

type result struct {
	d, d2 Decision
	err   error
	err2  error
}

// worker is one batch goroutine's evaluation state: an evaluator for the Env
// of the last set it used.
type worker struct {
	env *Env
	ev  *evaluator
}

func (w *worker) evaluate(ctx context.Context, c *Compiled, f *Facts, areas *RiskAreas) (Decision, error) {
	if c.env.custom {
		return Decision{}, fmt.Errorf("%w: Batch needs the health schema", ErrSchema)
	}
	if f.Now.IsZero() {
		return Decision{}, fmt.Errorf("%w: Facts.Now must be set", ErrNoTime)
	}
	if w.env != c.env {
		w.release()
		w.env = c.env
		w.ev = c.env.evaluators.Get().(*evaluator)
	}
	w.ev.act.resetFacts(f, areas)
	return c.run(ctx, w.ev, nil)
}

func (w *worker) release() {
	if w.ev != nil {
		w.ev.act.clear()
		w.env.evaluators.Put(w.ev)
		w.ev, w.env = nil, nil
	}
}

type chunk struct {
	start int
	facts []Facts
	out   []result
	done  chan struct{}
}

// runBatch is the order-preserving parallel pipeline: a producer reads the
// population into chunks, workers evaluate chunks, and the caller's
// goroutine emits chunks in order as they complete.
func runBatch(ctx context.Context, population iter.Seq[Facts], cfg BatchConfig,
	work func(*worker, *Facts) result, emit func(int, *Facts, *result)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	inflight := cfg.Workers * 4
	free := make(chan *chunk, inflight)
	for range inflight {
		free <- &chunk{facts: make([]Facts, 0, cfg.ChunkSize), out: make([]result, cfg.ChunkSize)}
	}
	todo := make(chan *chunk, inflight)
	order := make(chan *chunk, inflight)

	var wg sync.WaitGroup
	// complete says the producer sent the whole population; it is written
	// before order is closed, and read after the emitter has seen it closed.
	complete := false
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		defer close(todo)
		defer close(order)
		var cur *chunk
		n := 0
		send := func() bool {
			cur.done = make(chan struct{})
			select {
			case order <- cur:
			case <-ctx.Done():
				return false
			}
			todo <- cur // never blocks for long: todo has room for every in-flight chunk
			cur = nil
			return true
		}
		for f := range population {
			if cur == nil {
				select {
				case cur = <-free:
				case <-ctx.Done():
					return
				}
				cur.start, cur.facts = n, cur.facts[:0]
			}
			cur.facts = append(cur.facts, f)
			n++
			if len(cur.facts) == cfg.ChunkSize && !send() {
				return
			}
		}
		if cur != nil && len(cur.facts) > 0 && !send() {
			return
		}
		complete = true
	}()
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{}
			defer w.release()
			for c := range todo {
				if ctx.Err() == nil {
					for i := range c.facts {
						c.out[i] = work(w, &c.facts[i])
					}
				}
				close(c.done)
			}
		}()
	}
	var err error
	done := 0
	for c := range order {
		<-c.done
		if err == nil {
			if err = ctx.Err(); err == nil {
				for i := range c.facts {
					emit(c.start+i, &c.facts[i], &c.out[i])
				}
				done += len(c.facts)
				if cfg.Progress != nil {
					cfg.Progress(done)
				}
			} else {
				cancel()
			}
		}
		clear(c.facts) // drop references to the caller's data
		clear(c.out)
		free <- c
	}
	if err == nil && !complete {
		// The producer stopped early, which it does only when the context
		// ends: some of the population was never emitted.
		err = ctx.Err()
	}
	cancel()
	wg.Wait()
	return err
}
