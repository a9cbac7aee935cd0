package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/internal/chain"
	"github.com/jackc/pgx/v5"
)

// FeedPos implements codes.Feed: the position of the last committed record.
func (s *Store) FeedPos(ctx context.Context) (uint64, error) {
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	var pos int64
	if err := s.pool.QueryRow(c, s.q.feedPos).Scan(&pos); err != nil {
		return 0, s.fail(ctx, "feed position", err)
	}
	return uint64(pos), nil
}

// ReadFeed implements codes.Feed in one statement. It fails with an error
// wrapping codes.ErrFeedGap if records after after were pruned (see
// Config.FeedRetention).
func (s *Store) ReadFeed(ctx context.Context, after uint64, max int) ([]codes.FeedRecord, error) {
	if max <= 0 {
		return nil, nil
	}
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	rows, err := s.pool.Query(c, s.q.readFeed, int64(after), max)
	if err != nil {
		return nil, s.fail(ctx, "read feed", err)
	}
	defer rows.Close()
	var out []codes.FeedRecord
	var pruned int64
	for rows.Next() {
		var pos *int64
		var at *time.Time
		var topic *string
		var body, changes, links []byte
		if err := rows.Scan(&pruned, &pos, &at, &topic, &body, &changes, &links); err != nil {
			return nil, s.fail(ctx, "read feed", err)
		}
		if pos == nil {
			break // no record after after: the LEFT JOIN's one empty row
		}
		r, err := unpackRecord(*pos, *at, topic, body, changes, links)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "read feed", err)
	}
	if uint64(pruned) > after {
		return nil, fmt.Errorf("pgstore: read feed after %d: records up to %d were pruned: %w", after, pruned, codes.ErrFeedGap)
	}
	return out, nil
}

func unpackRecord(pos int64, at time.Time, topic *string, body, changes, links []byte) (codes.FeedRecord, error) {
	var t string
	if topic != nil {
		t = *topic
	}
	return chain.UnpackRecord("pgstore", uint64(pos), at, topic != nil, t, body, changes, links)
}

// Notes implements codes.Feed.
func (s *Store) Notes(ctx context.Context, after, upto uint64) ([]codes.FeedRecord, error) {
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	rows, err := s.pool.Query(c, s.q.notes, int64(after), int64(min(upto, 1<<63-1)))
	if err != nil {
		return nil, s.fail(ctx, "notes", err)
	}
	defer rows.Close()
	var out []codes.FeedRecord
	for rows.Next() {
		var pos int64
		var at time.Time
		var topic string
		var body []byte
		if err := rows.Scan(&pos, &at, &topic, &body); err != nil {
			return nil, s.fail(ctx, "notes", err)
		}
		r, _ := unpackRecord(pos, at, &topic, body, nil, nil)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "notes", err)
	}
	return out, nil
}

// Publish implements codes.Feed: one statement that takes the next
// position, appends the note and notifies the listeners.
func (s *Store) Publish(ctx context.Context, topic string, body []byte) (uint64, error) {
	if err := codes.ValidateNote(topic, body); err != nil {
		return 0, err
	}
	if body == nil {
		body = []byte{}
	}
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	var pos int64
	if err := s.pool.QueryRow(c, s.q.feedNote, topic, body).Scan(&pos, nil); err != nil {
		return 0, s.fail(ctx, "publish", err)
	}
	return uint64(pos), nil
}

// listener is a Store's one LISTEN connection, shared by every WaitFeed.
type listener struct {
	start sync.Once
	mu    sync.Mutex
	up    bool          // LISTEN is in force
	gen   uint64        // connections made so far
	pos   uint64        // highest position notified
	wake  chan struct{} // closed and replaced on every notification, connection and loss
}

func (l *listener) state() (wake chan struct{}, up bool, gen, pos uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake, l.up, l.gen, l.pos
}

func (l *listener) set(f func()) {
	l.mu.Lock()
	f()
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

// WaitFeed implements codes.Feed. The first call starts the Store's
// listener: one connection of its own (outside the pool) that LISTENs on
// the schema's channel, reconnecting with backoff when it drops. WaitFeed
// returns when a record after after is notified, at once if FeedPos is
// already past after (checked once the listener is listening, so a commit
// between the check and the wait is not missed), or when ctx ends. While
// the listener is down it waits for it to come back or for ctx: callers
// such as codes.Registry.Follow bound the wait and read the feed anyway.
func (s *Store) WaitFeed(ctx context.Context, after uint64) error {
	l := &s.lis
	l.start.Do(func() { s.wg.Go(s.listen) })
	var checked uint64 // the connection whose LISTEN FeedPos was checked under
	for {
		wake, up, gen, pos := l.state()
		if pos > after {
			return nil
		}
		if up && gen != checked {
			p, err := s.FeedPos(ctx)
			if err != nil {
				return err
			}
			if p > after {
				return nil
			}
			checked = gen
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return errors.New("pgstore: wait feed: store closed")
		}
	}
}

// listenPing is how long the listener waits for a notification before it
// checks its connection; a variable for the tests.
var listenPing = 30 * time.Second

func (s *Store) listen() {
	backoff := time.Duration(0)
	for s.ctx.Err() == nil {
		wasUp, err := s.listenOnce()
		s.lis.set(func() { s.lis.up = false })
		if s.ctx.Err() != nil {
			return
		}
		if wasUp {
			backoff = 0
		}
		backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
		s.log.Warn("pgstore: feed listener lost its connection; reconnecting", "addr", s.addr, "retry_in", backoff.String(), "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

// listenOnce connects, listens and relays notifications until the
// connection fails or the store closes; up reports whether it listened.
func (s *Store) listenOnce() (up bool, err error) {
	c, cancel := s.bound(s.ctx, 0)
	defer cancel()
	conn, err := pgx.ConnectConfig(c, s.lisCfg)
	if err != nil {
		return false, err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(c)
		cancel()
	}()
	if _, err := conn.Exec(c, "LISTEN "+quoteIdent(s.channel)); err != nil {
		return false, err
	}
	s.lis.set(func() { s.lis.up = true; s.lis.gen++ })
	for {
		wctx, cancel := context.WithTimeout(s.ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil && s.ctx.Err() == nil
		cancel()
		switch {
		case s.ctx.Err() != nil:
			return true, nil
		case idle:
			pctx, cancel := s.bound(s.ctx, 0)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
			continue
		case err != nil:
			return true, err
		}
		p, err := strconv.ParseUint(n.Payload, 10, 64)
		if err != nil {
			continue
		}
		s.lis.set(func() { s.lis.pos = max(s.lis.pos, p) })
	}
}

// PruneFeed deletes the code and link records committed before before
// (by the database's clock), oldest first, and returns how many it
// deleted; notes stay. It cuts the feed at a position: every record up to
// it is pruned, and a reader behind it gets codes.ErrFeedGap. With
// Config.FeedRetention set, the Store calls it in the background.
func (s *Store) PruneFeed(ctx context.Context, before time.Time) (int64, error) {
	const step = 10_000 // records a transaction deletes at most
	var total int64
	for {
		n, more, err := s.pruneStep(ctx, before, step)
		total += n
		if err != nil {
			return total, s.fail(ctx, "prune feed", err)
		}
		if !more {
			return total, nil
		}
	}
}

// pruneStep prunes at most step positions past the last cut; more reports
// whether it moved the cut.
func (s *Store) pruneStep(ctx context.Context, before time.Time, step int64) (deleted int64, more bool, err error) {
	c, cancel := s.bound(ctx, int(step))
	defer cancel()
	err = pgx.BeginFunc(c, s.pool, func(tx pgx.Tx) error {
		var old int64
		if err := tx.QueryRow(c, s.q.prunedLock).Scan(&old); err != nil {
			return err
		}
		var cut *int64
		if err := tx.QueryRow(c, s.q.pruneCut, before, old, old+step).Scan(&cut); err != nil || cut == nil || *cut <= old {
			return err
		}
		ct, err := tx.Exec(c, s.q.prune, old, *cut)
		if err != nil {
			return err
		}
		deleted, more = ct.RowsAffected(), true
		_, err = tx.Exec(c, s.q.setPruned, *cut)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return deleted, more, nil
}

func (s *Store) pruneLoop() {
	every := min(max(s.cfg.FeedRetention/4, time.Second), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.PruneFeed(s.ctx, time.Now().Add(-s.cfg.FeedRetention))
		switch {
		case err != nil && s.ctx.Err() == nil:
			s.log.Warn("pgstore: feed pruning failed; retrying later", "err", err)
		case n > 0:
			s.log.Info("pgstore: feed pruned", "records", n)
		}
	}
}
