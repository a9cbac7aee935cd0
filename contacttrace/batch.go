package contacttrace

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
)

// TraceBatch runs many queries together and returns their results in the
// order of qs, identical to calling [Tracer.Trace] on each. Hop by hop, the
// venue windows of all queries are sorted by venue and start time and each
// venue's time column is swept once, on cfg.Workers cores. It returns
// ctx.Err() if ctx is cancelled, and the first query error otherwise.
func (t *Tracer) TraceBatch(ctx context.Context, qs []Query) ([]Result, error) {
	runs := make([]*run, len(qs))
	for i := range qs {
		r, err := t.newRun(&qs[i])
		if err != nil {
			return nil, err
		}
		runs[i] = r
	}
	active := slices.Clone(runs)
	type ref struct {
		run *run
		w   int
	}
	var refs []ref
	for hop := 1; len(active) > 0; hop++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		refs = refs[:0]
		for _, r := range active {
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
			return nil, ctx.Err()
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
			return nil, err
		}
		kept := active[:0]
		for i, r := range active {
			if next[i] {
				kept = append(kept, r)
			}
		}
		active = kept
	}
	out := make([]Result, len(runs))
	for i, r := range runs {
		out[i] = r.res
		t.release(r)
	}
	return out, nil
}
