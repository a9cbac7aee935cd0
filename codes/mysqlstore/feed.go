package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/internal/chain"
)

// FeedPos implements codes.Feed: the position of the last committed record.
func (s *Store) FeedPos(ctx context.Context) (uint64, error) {
	c, cancel := s.bound(ctx)
	defer cancel()
	pos, err := s.feedPos(c)
	if err != nil {
		return 0, s.fail(ctx, "feed position", err)
	}
	return pos, nil
}

func (s *Store) feedPos(ctx context.Context) (uint64, error) {
	var pos int64
	err := s.db.QueryRowContext(ctx, "SELECT value FROM "+s.t.meta+" WHERE name = 'feed_pos'").Scan(&pos)
	return uint64(pos), err
}

// ReadFeed implements codes.Feed in one round trip: the records, then the
// last pruned position. It fails with an error wrapping codes.ErrFeedGap
// if records after after were pruned (see Config.FeedRetention).
func (s *Store) ReadFeed(ctx context.Context, after uint64, max int) ([]codes.FeedRecord, error) {
	if max <= 0 {
		return nil, nil
	}
	if after > 1<<63-1 {
		return nil, nil
	}
	c, cancel := s.bound(ctx)
	defer cancel()
	var q script
	q.str("SELECT pos, at, topic, body, changes, links FROM ").str(s.t.feed).
		str(" WHERE pos > ").int(int64(after)).str(" ORDER BY pos LIMIT ").int(int64(max)).
		str(";SELECT value FROM ").str(s.t.meta).str(" WHERE name = 'feed_pruned'")
	// The records are read before the pruned position: if nothing after
	// after was pruned when the second statement ran, nothing was when
	// the first did.
	var out []codes.FeedRecord
	var pruned int64
	err := queryConn(c, s.db, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			var pos, at int64
			var topic, body, changes, links []byte
			if err := rows.Scan(&pos, &at, &topic, &body, &changes, &links); err != nil {
				return err
			}
			r, err := unpackRecord(pos, at, topic, body, changes, links)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	}, func(rows *sql.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&pruned); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, codes.ErrCorrupt) {
		return nil, err
	}
	if err != nil {
		return nil, s.fail(ctx, "read feed", err)
	}
	if uint64(pruned) > after {
		return nil, fmt.Errorf("mysqlstore: read feed after %d: records up to %d were pruned: %w", after, pruned, codes.ErrFeedGap)
	}
	return out, nil
}

func unpackRecord(pos, at int64, topic, body, changes, links []byte) (codes.FeedRecord, error) {
	return chain.UnpackRecord("mysqlstore", uint64(pos), time.UnixMicro(at).UTC(), topic != nil, string(topic), body, changes, links)
}

// Notes implements codes.Feed, reading through the index of notes.
func (s *Store) Notes(ctx context.Context, after, upto uint64) ([]codes.FeedRecord, error) {
	upto = min(upto, 1<<63-1)
	if after >= upto {
		return nil, nil
	}
	c, cancel := s.bound(ctx)
	defer cancel()
	var q script
	q.str("SELECT pos, at, topic, body FROM ").str(s.t.feed).
		str(" WHERE note_pos > ").int(int64(after)).str(" AND note_pos <= ").int(int64(upto)).str(" ORDER BY note_pos")
	var out []codes.FeedRecord
	err := queryConn(c, s.db, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			var pos, at int64
			var topic, body []byte
			if err := rows.Scan(&pos, &at, &topic, &body); err != nil {
				return err
			}
			r, _ := unpackRecord(pos, at, topic, body, nil, nil)
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, "notes", err)
	}
	return out, nil
}

// Publish implements codes.Feed: one round trip that takes the next
// position, appends the note, reads the position back and commits. A note
// must fit the server's max_allowed_packet twice over (it travels as
// hexadecimal): with the default 16 MiB of MariaDB and 64 MiB of MySQL 8
// and TiDB, every note codes.ValidateNote accepts does.
func (s *Store) Publish(ctx context.Context, topic string, body []byte) (uint64, error) {
	if err := codes.ValidateNote(topic, body); err != nil {
		return 0, err
	}
	if need := 2*(len(topic)+len(body)) + 512; need > s.maxPacket {
		return 0, fmt.Errorf("mysqlstore: publish: a note of %d bytes needs a max_allowed_packet of at least %d bytes; the server's allows %d", len(body), need+64<<10, s.maxPacket+64<<10)
	}
	t, err := s.takeConn(ctx)
	if err != nil {
		return 0, s.fail(ctx, "publish", err)
	}
	defer t.close()
	var q script
	q.str(beginTx).str("UPDATE ").str(s.t.meta).str(" SET value = LAST_INSERT_ID(value + 1) WHERE name = 'feed_pos';").
		str("INSERT INTO ").str(s.t.feed).str(" (pos, at, topic, body) VALUES (LAST_INSERT_ID(),").str(nowMicros).str(",").
		hex([]byte(topic)).str(",").hex(body).str(");SELECT LAST_INSERT_ID();COMMIT")
	var pos int64
	err = t.query(ctx, 0, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&pos); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, s.fail(ctx, "publish", err)
	}
	t.open = false
	return uint64(pos), nil
}

// poller is a Store's one reader of the feed's counter, shared by every
// WaitFeed. It runs while anyone waits, reading FeedPos every
// Config.FeedPollInterval, and wakes the waiters when it grows.
type poller struct {
	start   sync.Once
	mu      sync.Mutex
	pos     uint64        // highest position read
	waiters int           // WaitFeed calls blocked
	wake    chan struct{} // closed and replaced whenever pos grows
	kick    chan struct{} // a waiter arrived while none waited: read at once
}

func (p *poller) init() {
	p.wake = make(chan struct{})
	p.kick = make(chan struct{}, 1)
}

// WaitFeed implements codes.Feed. MySQL has no LISTEN/NOTIFY, so the
// first call starts the Store's poller: one goroutine that, while any
// WaitFeed is blocked, reads the feed's counter every
// Config.FeedPollInterval (20 ms by default) on a pooled connection and
// wakes the waiters when it has grown. A waiter arriving when none was
// waiting has the counter read at once. WaitFeed returns when the counter
// is past after, or when ctx ends. While the database is away it waits
// on: callers such as codes.Registry.Follow bound the wait and read the
// feed anyway.
func (s *Store) WaitFeed(ctx context.Context, after uint64) error {
	p := &s.poll
	p.start.Do(func() { s.wg.Go(s.pollLoop) })
	p.mu.Lock()
	if p.pos > after {
		p.mu.Unlock()
		return nil
	}
	p.waiters++
	if p.waiters == 1 {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiters--
		p.mu.Unlock()
	}()
	for {
		p.mu.Lock()
		pos, wake := p.pos, p.wake
		p.mu.Unlock()
		if pos > after {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return errors.New("mysqlstore: wait feed: store closed")
		}
	}
}

func (s *Store) pollLoop() {
	p := &s.poll
	t := time.NewTimer(0)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-p.kick:
		case <-t.C:
		}
		p.mu.Lock()
		idle := p.waiters == 0
		p.mu.Unlock()
		if idle {
			continue // the next waiter kicks
		}
		c, cancel := s.bound(s.ctx)
		pos, err := s.feedPos(c)
		cancel()
		switch {
		case err != nil && s.ctx.Err() == nil:
			if !failing {
				s.log.Warn("mysqlstore: feed poller cannot read the feed position; retrying", "addr", s.addr, "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				s.log.Info("mysqlstore: feed poller reads the feed position again", "addr", s.addr)
			}
			failing = false
			p.mu.Lock()
			if pos > p.pos {
				p.pos = pos
				close(p.wake)
				p.wake = make(chan struct{})
			}
			p.mu.Unlock()
		}
		every := s.cfg.FeedPollInterval
		if failing {
			every = max(every, 250*time.Millisecond)
		}
		t.Reset(every)
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
	t, err := s.takeConn(ctx)
	if err != nil {
		return 0, false, err
	}
	defer t.close()
	var old int64
	var cut *int64
	var q script
	q.str(beginTx).str("SELECT value FROM ").str(s.t.meta).str(" WHERE name = 'feed_pruned' FOR UPDATE")
	if err := t.query(ctx, 0, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&old); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, false, err
	}
	q.reset()
	q.str("SELECT MAX(pos) FROM ").str(s.t.feed).str(" WHERE pos > ").int(old).str(" AND pos <= ").int(old + step).
		str(" AND at < ").int(before.UnixMicro())
	if err := t.query(ctx, 0, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&cut); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, false, err
	}
	if cut == nil || *cut <= old {
		return 0, false, t.commit(ctx, 0, "COMMIT")
	}
	q.reset()
	q.str("DELETE FROM ").str(s.t.feed).str(" WHERE topic IS NULL AND pos > ").int(old).str(" AND pos <= ").int(*cut)
	t.open = true
	c, cancel := s.boundRows(ctx, int(step))
	res, err := t.conn.ExecContext(c, q.String())
	cancel()
	if err != nil {
		return 0, false, err
	}
	deleted, _ = res.RowsAffected()
	q.reset()
	q.str("UPDATE ").str(s.t.meta).str(" SET value = ").int(*cut).str(" WHERE name = 'feed_pruned';COMMIT")
	if err := t.commit(ctx, 0, q.String()); err != nil {
		return 0, false, err
	}
	return deleted, true, nil
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
			s.log.Warn("mysqlstore: feed pruning failed; retrying later", "err", err)
		case n > 0:
			s.log.Info("mysqlstore: feed pruned", "records", n)
		}
	}
}
