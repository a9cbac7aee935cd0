package pgstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/jackc/pgx/v5"
)

func corrupt(k codes.Key, what string) error {
	return fmt.Errorf("pgstore: key %s: %s: %w", k.String()[:12], what, codes.ErrCorrupt)
}

// Get implements codes.Store: one statement, one round trip, reading the
// key's last history entry backwards through the primary key.
func (s *Store) Get(ctx context.Context, key codes.Key) (codes.Entry, bool, error) {
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	var b []byte
	err := s.pool.QueryRow(c, s.q.get, key[:]).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
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
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	rows, err := s.pool.Query(c, s.q.history, key[:])
	if err != nil {
		return nil, s.fail(ctx, "history", err)
	}
	defer rows.Close()
	var out []codes.Entry
	raw := false
	for rows.Next() {
		if out == nil {
			raw = binaryFormat(rows)
		}
		var b []byte
		if raw {
			b = rows.RawValues()[0]
		} else if err := rows.Scan(&b); err != nil {
			return nil, s.fail(ctx, "history", err)
		}
		e, err := codes.DecodeEntry(b)
		if err != nil || e.Key != key {
			return nil, corrupt(key, "history entry")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "history", err)
	}
	return out, nil
}

// scanCheck is how many rows Scan reads between checks of ctx.
const scanCheck = 4096

// Scan implements codes.Store. It streams the heads table (key and colour
// only) on one pooled connection and calls fn while the rows arrive, so fn
// holds that connection for as long as it runs and should be quick (a
// Registry's filter fill is). It sees each key once, in the state of one
// snapshot taken when it starts. It fails if QueryTimeout passes without
// a row (fn's time included); ctx is checked every 4096 rows.
func (s *Store) Scan(ctx context.Context, fn func(codes.Key, codes.Colour) error) error {
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := time.AfterFunc(s.cfg.QueryTimeout, cancel)
	defer idle.Stop()
	rows, err := s.pool.Query(c, s.q.scan)
	if err != nil {
		return s.fail(ctx, "scan", err)
	}
	defer rows.Close()
	n := 0
	raw := false
	for rows.Next() {
		if n == 0 {
			raw = binaryFormat(rows)
		}
		if n++; n%scanCheck == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			idle.Reset(s.cfg.QueryTimeout)
		}
		var kb []byte
		var col int16
		if raw {
			v := rows.RawValues()
			if len(v[1]) != 2 {
				return fmt.Errorf("pgstore: heads: %w", codes.ErrCorrupt)
			}
			kb, col = v[0], int16(binary.BigEndian.Uint16(v[1]))
		} else if err := rows.Scan(&kb, &col); err != nil {
			return s.fail(ctx, "scan", err)
		}
		var k codes.Key
		if len(kb) != len(k) {
			return fmt.Errorf("pgstore: heads: %w", codes.ErrCorrupt)
		}
		copy(k[:], kb)
		if err := fn(k, codes.Colour(col)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() == nil && c.Err() != nil {
			return fmt.Errorf("pgstore: scan: no row from %s within QueryTimeout (%v): %w", s.addr, s.cfg.QueryTimeout, context.DeadlineExceeded)
		}
		return s.fail(ctx, "scan", err)
	}
	return nil
}

// binaryFormat reports whether every column of rows (on which Next
// returned true) comes in binary
// format, which RawValues then returns as is (bytea: the bytes; integers:
// big-endian). A DSN that picks the simple protocol gets text instead.
func binaryFormat(rows pgx.Rows) bool {
	for _, fd := range rows.FieldDescriptions() {
		if fd.Format != pgx.BinaryFormatCode {
			return false
		}
	}
	return true
}
