package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/healthcode-sdk/healthcode/codes"
)

func corrupt(k codes.Key, what string) error {
	return fmt.Errorf("mysqlstore: key %s: %s: %w", k.String()[:12], what, codes.ErrCorrupt)
}

// Get implements codes.Store: one statement, one round trip, reading the
// key's last history entry backwards through the primary key.
func (s *Store) Get(ctx context.Context, key codes.Key) (codes.Entry, bool, error) {
	c, cancel := s.bound(ctx)
	defer cancel()
	var q script
	q.str("SELECT entry FROM ").str(s.t.history).str(" WHERE `key` = ").hex(key[:]).str(" ORDER BY seq DESC LIMIT 1")
	var b []byte
	err := s.db.QueryRowContext(c, q.String()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return codes.Entry{}, false, nil
	}
	if err != nil {
		return codes.Entry{}, false, s.fail(ctx, "get", err)
	}
	e, err := codes.DecodeEntry(b)
	if err != nil || e.Key != key {
		return codes.Entry{}, false, corrupt(key, "history entry")
	}
	return e, true, nil
}

// History implements codes.Store.
func (s *Store) History(ctx context.Context, key codes.Key) ([]codes.Entry, error) {
	c, cancel := s.bound(ctx)
	defer cancel()
	var q script
	q.str("SELECT entry FROM ").str(s.t.history).str(" WHERE `key` = ").hex(key[:]).str(" ORDER BY seq")
	var out []codes.Entry
	err := queryConn(c, s.db, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			var b sql.RawBytes
			if err := rows.Scan(&b); err != nil {
				return err
			}
			e, err := codes.DecodeEntry(b)
			if err != nil || e.Key != key {
				return corrupt(key, "history entry")
			}
			out = append(out, e)
		}
		return nil
	})
	if errors.Is(err, codes.ErrCorrupt) {
		return nil, err
	}
	if err != nil {
		return nil, s.fail(ctx, "history", err)
	}
	return out, nil
}

// scanPage is how many heads one statement of Scan reads.
const scanPage = 10_000

// Scan implements codes.Store. It reads the heads table (key and colour
// only) in pages of 10 000 keys in key order, each one short statement
// bounded by QueryTimeout, and calls fn between pages, holding no
// connection: a long Scan neither pins a connection nor keeps a snapshot
// open (TiDB would refuse one older than its GC life time). It sees each
// key once; a key created while it runs may or may not be seen, each in
// the state of its page's read. ctx is checked every page.
func (s *Store) Scan(ctx context.Context, fn func(codes.Key, codes.Colour) error) error {
	type kc struct {
		k codes.Key
		c codes.Colour
	}
	page := make([]kc, 0, scanPage)
	var after *codes.Key
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var q script
		q.str("SELECT `key`, colour FROM ").str(s.t.heads)
		if after != nil {
			q.str(" WHERE `key` > ").hex(after[:])
		}
		q.str(" ORDER BY `key` LIMIT ").int(scanPage)
		page = page[:0]
		c, cancel := s.bound(ctx)
		err := queryConn(c, s.db, q.String(), func(rows *sql.Rows) error {
			for rows.Next() {
				var kb sql.RawBytes
				var col uint8
				if err := rows.Scan(&kb, &col); err != nil {
					return err
				}
				if len(kb) != 16 {
					return fmt.Errorf("mysqlstore: heads: %w", codes.ErrCorrupt)
				}
				page = append(page, kc{codes.Key(kb), codes.Colour(col)})
			}
			return nil
		})
		cancel()
		if errors.Is(err, codes.ErrCorrupt) {
			return err
		}
		if err != nil {
			return s.fail(ctx, "scan", err)
		}
		for _, p := range page {
			if err := fn(p.k, p.c); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		last := page[len(page)-1].k
		after = &last
	}
}
