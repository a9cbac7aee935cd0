package contacttrace

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// TraceBatch runs many queries together and returns their results in the
// order of qs, identical to calling [Tracer.Trace] on each. See
// [Tracer.TraceEach] for how; TraceBatch holds every result at once, so
// for very many large results prefer TraceEach.
func (t *Tracer) TraceBatch(ctx context.Context, qs []Query) ([]Result, error) {
	for i := range qs {
		if err := qs[i].Validate(); err != nil {
			return nil, fmt.Errorf("contacttrace: batch query %d: %w", i, err)
		}
	}
	out := make([]Result, len(qs))
	err := t.traceEach(ctx, qs, false, func(i int, r Result) error {
		out[i] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TraceEach runs qs in groups of 4 x cfg.Workers (which bounds the
// scratch memory of a batch) and calls fn with each query's
// index and result (identical to [Tracer.Trace]'s) as it completes, in
// order. Within a group, hop by hop, the venue windows of all queries are
// sorted by venue and start time so each venue's time column is swept once
// in order, on cfg.Workers cores, and the queries' hops run in parallel.
// It stops at the first error from a query or from fn, and returns
// ctx.Err() if ctx is cancelled.
//
// The memory of r is reused for later queries once fn returns: fn must
// copy what it keeps (TraceBatch keeps every result, TraceEach does not).
func (t *Tracer) TraceEach(ctx context.Context, qs []Query, fn func(i int, r Result) error) error {
	return t.traceEach(ctx, qs, true, fn)
}

func (t *Tracer) traceEach(ctx context.Context, qs []Query, recycle bool, fn func(i int, r Result) error) error {
	group := t.groupSize()
	for lo := 0; lo < len(qs); lo += group {
		hi := min(len(qs), lo+group)
		runs := make([]*run, 0, hi-lo)
		for i := lo; i < hi; i++ {
			r, err := t.newRun(&qs[i])
			if err != nil {
				return fmt.Errorf("contacttrace: batch query %d: %w", i, err)
			}
			if recycle {
				r.res = Result{Contacts: r.spare.Contacts[:0], Hops: r.spare.Hops[:0]}
			}
			runs = append(runs, r)
		}
		if err := t.traceGroup(ctx, runs); err != nil {
			return err
		}
		for k, r := range runs {
			res := r.res
			err := fn(lo+k, res)
			if recycle {
				r.spare = res
			}
			t.release(r)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// traceGroup runs every hop of runs together.
func (t *Tracer) traceGroup(ctx context.Context, runs []*run) error {
	active := slices.Clone(runs)
	type ref struct {
		run *run
		w   int
	}
	var refs []ref
	for hop := 1; len(active) > 0; hop++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.segs != nil {
			// Segments: each run resolves its own windows, day by day.
			for _, r := range active {
				r.resolve(t)
			}
		}
		refs = refs[:0]
		for _, r := range active {
			if t.segs != nil {
				break
			}
			for i := range r.windows {
				if r.windows[i].kind == KindVenue {
					refs = append(refs, ref{r, i})
				}
			}
		}
		slices.SortFunc(refs, func(a, b ref) int {
			wa, wb := &a.run.windows[a.w], &b.run.windows[b.w]
			return cmp.Or(cmp.Compare(wa.venue, wb.venue), cmp.Compare(wa.lo, wb.lo))
		})
		// Resolve in parallel chunks; within a chunk, windows of one venue
		// come in start order, so each lower bound is searched only from the
		// previous one onward.
		var wg sync.WaitGroup
		var cancelled bool
		var mu sync.Mutex
		for _, c := range chunkRanges(len(refs), t.cfg.Workers) {
			wg.Go(func() {
				ix := t.scans
				prevVenue, prevLo := uint32(NoPerson), uint32(0)
				for k := c[0]; k < c[1]; k++ {
					if k&1023 == 0 && ctx.Err() != nil {
						mu.Lock()
						cancelled = true
						mu.Unlock()
						return
					}
					w := &refs[k].run.windows[refs[k].w]
					if int(w.venue) >= ix.NumVenues() {
						w.a, w.b = 0, 0
						continue
					}
					tl, th, ok := ix.secondsRange(w.lo, w.hi)
					if !ok {
						w.a, w.b = 0, 0
						continue
					}
					s, e := ix.venueOff[w.venue], ix.venueOff[w.venue+1]
					if w.venue != prevVenue {
						prevVenue, prevLo = w.venue, s
					}
					col := ix.times[prevLo:e]
					a := prevLo + uint32(sort.Search(len(col), func(i int) bool { return col[i] >= tl }))
					rest := ix.times[a:e]
					b := a + uint32(sort.Search(len(rest), func(i int) bool { return rest[i] > th }))
					w.a, w.b, prevLo = a, b, a
				}
			})
		}
		wg.Wait()
		if cancelled {
			return ctx.Err()
		}
		// Step each query on its own; queries are independent.
		next := make([]bool, len(active))
		var idx sync.Mutex
		pos := 0
		for range min(t.cfg.Workers, len(active)) {
			wg.Go(func() {
				for {
					idx.Lock()
					i := pos
					pos++
					idx.Unlock()
					if i >= len(active) || ctx.Err() != nil {
						return
					}
					next[i] = active[i].step(t, hop)
				}
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		kept := active[:0]
		for i, r := range active {
			if next[i] {
				kept = append(kept, r)
			}
		}
		active = kept
	}
	return nil
}
