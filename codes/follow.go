package codes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// follower is a Registry's cursor over its store's Feed.
type follower struct {
	feed    Feed // nil: the store has none
	pos     atomic.Uint64
	running atomic.Bool

	mu      sync.Mutex
	advance chan struct{} // closed and replaced whenever pos grows

	records, changes, resyncs, errs atomic.Uint64
	lagNanos                        atomic.Int64 // commit-to-applied time of the last record
}

func (f *follower) init(ctx context.Context, store Store) error {
	f.advance = make(chan struct{})
	fd, ok := store.(Feed)
	if !ok {
		return nil
	}
	pos, err := fd.FeedPos(ctx)
	if err != nil {
		return fmt.Errorf("codes: feed position: %w", err)
	}
	f.feed = fd
	f.pos.Store(pos)
	return nil
}

func (f *follower) moved(pos uint64) {
	f.mu.Lock()
	f.pos.Store(pos)
	close(f.advance)
	f.advance = make(chan struct{})
	f.mu.Unlock()
}

// FeedStats describes a Registry's progress along its store's feed.
type FeedStats struct {
	Pos     uint64        // position of the last record applied
	Records uint64        // records applied by Follow
	Changes uint64        // key changes among them
	Resyncs uint64        // full reloads after ErrFeedGap
	Errors  uint64        // failed reads, retried
	Lag     time.Duration // from the commit of the last record applied to its application
}

// FeedStats returns the follower's counters; zero if the store has no feed.
func (r *Registry) FeedStats() FeedStats {
	f := &r.follow
	return FeedStats{Pos: f.pos.Load(), Records: f.records.Load(), Changes: f.changes.Load(),
		Resyncs: f.resyncs.Load(), Errors: f.errs.Load(), Lag: time.Duration(f.lagNanos.Load())}
}

// FeedPos returns the position of the last feed record the registry has
// applied (for a store without a feed, 0). Everything committed up to it is
// in the filter, and no cached state older than it is served.
func (r *Registry) FeedPos() uint64 { return r.follow.pos.Load() }

// WaitFeed blocks until the registry has applied the feed up to pos (a
// position Feed.Publish returned, say), or ctx ends. A writer that
// publishes a note and must act on it in feed order, as its peers do,
// waits here before it answers. It needs Follow to be running.
func (r *Registry) WaitFeed(ctx context.Context, pos uint64) error {
	f := &r.follow
	if f.feed == nil {
		return ErrNoFeed
	}
	for {
		f.mu.Lock()
		ch := f.advance
		f.mu.Unlock()
		if f.pos.Load() >= pos {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ErrFollowing: a second Follow on the same Registry.
var ErrFollowing = errors.New("codes: registry is already following its feed")

// Follow keeps the registry in step with the writes other processes make
// to its store, until ctx ends; then it returns ctx.Err(). It needs a store
// that is a Feed (else ErrNoFeed) and runs once per Registry (else
// ErrFollowing); run it on a goroutine of its own.
//
// For each record after its position, Follow adds the keys that are no
// longer green to the filter and invalidates the cached states of every
// key the record names, the way Apply does for the registry's own writes,
// then calls Config.OnFeed. It waits on Feed.WaitFeed, at most
// Config.FeedPoll at a time, so a lost wake-up costs at most that long. A
// failed read is logged and retried with backoff (50 ms doubling to 2 s);
// nothing is skipped. If the records after its position were pruned
// (ErrFeedGap) it reloads: it rebuilds the filter from the store and
// drops every cached state.
//
// The bound this gives: a change acknowledged by another process's Apply
// is served here once Follow has read its record, which is the time to
// wake (milliseconds when the store's wake-ups arrive, FeedPoll when they
// do not) plus one ReadFeed. The registry's own writes are served at once,
// as without a feed.
func (r *Registry) Follow(ctx context.Context) error {
	f := &r.follow
	if f.feed == nil {
		return ErrNoFeed
	}
	if !f.running.CompareAndSwap(false, true) {
		return ErrFollowing
	}
	defer f.running.Store(false)
	const batch = 256
	backoff := time.Duration(0)
	fail := func(what string, err error) error {
		f.errs.Add(1)
		backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
		r.cfg.Logger.Warn("codes: feed "+what+" failed; retrying", "pos", f.pos.Load(), "retry_in", backoff.String(), "err", err)
		t := time.NewTimer(backoff)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pos := f.pos.Load()
		recs, err := f.feed.ReadFeed(ctx, pos, batch)
		switch {
		case errors.Is(err, ErrFeedGap):
			if err := r.resync(ctx); err != nil {
				if err := fail("reload", err); err != nil {
					return err
				}
			}
			continue
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := fail("read", err); err != nil {
				return err
			}
			continue
		}
		backoff = 0
		for i := range recs {
			r.applyRecord(&recs[i])
			f.moved(recs[i].Pos)
		}
		if len(recs) == batch {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, r.cfg.FeedPoll)
		err = f.feed.WaitFeed(wctx, f.pos.Load())
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			if err := fail("wait", err); err != nil {
				return err
			}
		}
	}
}

// applyRecord applies one record of another process's (or this one's)
// writes: the filter gains its non-green keys before their cached states
// are invalidated, as in Apply.
func (r *Registry) applyRecord(rec *FeedRecord) {
	f := &r.follow
	if len(rec.Changes) > 0 {
		r.writeMu.RLock()
		fl, nf := r.filter.Load(), r.next
		for i := range rec.Changes {
			c := &rec.Changes[i]
			if c.Colour != Green {
				fl.add(&c.Key)
				if nf != nil {
					nf.add(&c.Key)
				}
			}
		}
		for i := range rec.Changes {
			r.epoch(&rec.Changes[i].Key).Add(1)
		}
		r.writeMu.RUnlock()
		f.changes.Add(uint64(len(rec.Changes)))
	}
	f.records.Add(1)
	if !rec.At.IsZero() {
		f.lagNanos.Store(int64(time.Since(rec.At)))
	}
	if r.cfg.OnFeed != nil {
		r.cfg.OnFeed(*rec)
	}
}

// resync reloads after the feed lost records the registry had not read:
// the feed position first, then a filter rebuilt from the store and every
// cached state dropped, so nothing committed before that position is
// missed.
func (r *Registry) resync(ctx context.Context) error {
	f := &r.follow
	pos, err := f.feed.FeedPos(ctx)
	if err != nil {
		return err
	}
	if err := r.Rebuild(ctx, 0); err != nil {
		return err
	}
	for i := range r.epochs {
		r.epochs[i].Add(1)
	}
	f.resyncs.Add(1)
	r.cfg.Logger.Warn("codes: feed records pruned before they were read; reloaded from the store", "from", f.pos.Load(), "to", pos)
	f.moved(pos)
	return nil
}
