package codes

import (
	"context"
	"errors"
	"iter"
)

// Loader is a Store that applies a stream of changes too large for one
// Apply: a province's first load, or a daily re-evaluation that decides
// every key. Load applies the changes as Apply would applied in one batch
// (a key's changes in stream order, RequestIDs deduplicated), with these
// differences:
//   - The whole stream is read and validated before anything is written: an
//     invalid change (a *ChangeError whose Index is its position in the
//     stream) or an error from the stream refuses the load and nothing
//     changes.
//   - It is not atomic: the store writes it in transactions of whole keys,
//     each committed and reported to progress (if not nil) before the next.
//     A failure or a cancelled ctx part-way leaves the committed keys
//     applied. Loading the same stream again completes it when repeating a
//     committed key's changes appends nothing: one rule decision a key (a
//     re-evaluation), or a RequestID on every change.
//
// codes/boltstore implements it with an external sort, so that the
// randomly keyed part of its file is written in key order once.
type Loader interface {
	Store
	Load(ctx context.Context, changes iter.Seq2[Change, error], progress func(LoadProgress)) (Applied, error)
}

// LoadProgress is how far a Load has got.
type LoadProgress struct {
	Read      int     // changes read from the stream and validated
	Committed int     // changes of committed transactions
	Applied   Applied // what the committed changes did
}

// ErrNoLoader is returned by Registry.Load over a store that is not a
// Loader.
var ErrNoLoader = errors.New("codes: the store has no bulk load (it is not a codes.Loader)")

// Load applies a stream of changes through the store's Load (see Loader),
// keeping the filter and the cache as Apply does: every key of a non-green
// state is added to the filter before the store writes it, and once Load
// returns no cached state from before it is served. A Rebuild waits for a
// running Load.
func (r *Registry) Load(ctx context.Context, changes iter.Seq2[Change, error], progress func(LoadProgress)) (Applied, error) {
	l, ok := r.store.(Loader)
	if !ok {
		return Applied{}, ErrNoLoader
	}
	r.writeMu.RLock()
	defer r.writeMu.RUnlock()
	f, nf := r.filter.Load(), r.next
	seen := func(yield func(Change, error) bool) {
		for ch, err := range changes {
			if err == nil && ch.State.Colour != Green {
				f.add(&ch.Key)
				if nf != nil {
					nf.add(&ch.Key)
				}
			}
			if !yield(ch, err) {
				return
			}
		}
	}
	a, err := l.Load(ctx, seen, func(p LoadProgress) {
		// Committed keys may be cached with their old state: a new epoch
		// everywhere retires every cached state. Cheap (16 Ki counters)
		// next to a transaction of a bulk load.
		r.bumpEpochs()
		if progress != nil {
			progress(p)
		}
	})
	r.bumpEpochs()
	return a, err
}

// bumpEpochs retires every cached state.
func (r *Registry) bumpEpochs() {
	for i := range r.epochs {
		r.epochs[i].Add(1)
	}
}
