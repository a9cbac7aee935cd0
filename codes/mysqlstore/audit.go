package mysqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/healthcode-sdk/healthcode/codes"
)

var _ codes.AuditTrail = (*Store)(nil)

// AppendAudit implements codes.AuditTrail in one transaction of two round
// trips: START TRANSACTION with a locking read of the trail's one head
// row (SELECT ... FOR UPDATE), then the records in one multi-row INSERT,
// the new head and COMMIT. The head row's lock makes appenders on every
// node take turns, and the one that waited chains from the head the other
// committed (a locking read reads the latest committed row), so the trail
// stays one chain without gaps. Every record is validated first
// (codes.ValidateAudit); an invalid one refuses the whole call, naming
// its index, and nothing is written.
//
// The transaction is its own, never that of a change to the codes: an
// attempt is recorded whether or not what it attempted was done.
func (s *Store) AppendAudit(ctx context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	for i := range recs {
		if err := codes.ValidateAudit(&recs[i]); err != nil {
			return nil, fmt.Errorf("mysqlstore: audit record %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil || len(recs) == 0 {
		return nil, err
	}
	var out []codes.AuditRecord
	err := s.retry(ctx, "append audit", func() error {
		var err error
		out, err = s.appendAuditOnce(ctx, recs)
		return err
	})
	switch {
	case errors.Is(err, codes.ErrCorrupt):
		return nil, err
	case err != nil:
		return nil, s.fail(ctx, "append audit", err)
	}
	return out, nil
}

// appendAuditOnce runs one attempt of AppendAudit's transaction.
func (s *Store) appendAuditOnce(ctx context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	t, err := s.takeConn(ctx)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var head codes.AuditRecord
	found := false
	err = t.query(ctx, 0, beginTx+"SELECT seq, hash FROM "+s.t.auditHead+" WHERE id = 1 FOR UPDATE", func(rows *sql.Rows) error {
		for rows.Next() {
			var seq int64
			var hash sql.RawBytes
			if err := rows.Scan(&seq, &hash); err != nil {
				return err
			}
			if seq < 0 || len(hash) != len(head.Hash) {
				return fmt.Errorf("mysqlstore: audit head: %w", codes.ErrCorrupt)
			}
			head.Seq = uint64(seq)
			copy(head.Hash[:], hash)
			found = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("mysqlstore: audit head: the row is missing: %w", codes.ErrCorrupt)
	}
	out := make([]codes.AuditRecord, len(recs))
	w := s.newWriter(ctx, t)
	defer w.wait()
	w.begin("INSERT INTO "+s.t.audit+" (seq, rec) VALUES ", "")
	var buf []byte
	for i := range recs {
		out[i] = codes.ChainAudit(head, recs[i])
		head = out[i]
		buf = codes.AppendAuditRecord(buf[:0], &head)
		if err := w.values(int64(head.Seq), buf); err != nil {
			return nil, err
		}
	}
	var q script
	q.str("UPDATE ").str(s.t.auditHead).str(" SET seq = ").int(int64(head.Seq)).str(", hash = ").hex(head.Hash[:]).str(" WHERE id = 1")
	if err := w.stmt(q.String()); err != nil {
		return nil, err
	}
	if err := w.commit(); err != nil {
		// The head row is locked, so no other appender can have taken
		// these seqs: the head is behind the table, which someone
		// changed. Retrying would not help.
		if errorNumber(err) == erDupEntry {
			return nil, fmt.Errorf("mysqlstore: audit head at record %d is behind the audit table: %w", out[0].Seq-1, codes.ErrCorrupt)
		}
		return nil, err
	}
	return out, nil
}

// ReadAudit implements codes.AuditTrail in one statement. Stored bytes
// that do not decode, or that are numbered other than their row, fail
// with an error wrapping a *codes.AuditChainError that names the row's
// seq.
func (s *Store) ReadAudit(ctx context.Context, after uint64, max int) ([]codes.AuditRecord, error) {
	if max <= 0 || after >= math.MaxInt64 {
		return nil, ctx.Err()
	}
	var q script
	q.str("SELECT seq, rec FROM ").str(s.t.audit).str(" WHERE seq > ").int(int64(after)).str(" ORDER BY seq LIMIT ").int(int64(max))
	c, cancel := s.boundRows(ctx, max)
	defer cancel()
	var out []codes.AuditRecord
	err := queryConn(c, s.db, q.String(), func(rows *sql.Rows) error {
		for rows.Next() {
			var seq int64
			var b sql.RawBytes
			if err := rows.Scan(&seq, &b); err != nil {
				return err
			}
			r, err := codes.DecodeAuditAt(uint64(seq), b)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if errors.Is(err, codes.ErrAuditTampered) {
		return nil, fmt.Errorf("mysqlstore: read audit: %w", err)
	}
	if err != nil {
		return nil, s.fail(ctx, "read audit", err)
	}
	return out, nil
}
