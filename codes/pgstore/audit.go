package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ codes.AuditTrail = (*Store)(nil)

// AppendAudit implements codes.AuditTrail in one transaction of two round
// trips: BEGIN with a locking read of the trail's one head row (SELECT
// ... FOR UPDATE), then the records, the new head and COMMIT, pipelined.
// The head row's lock makes appenders on every node take turns, and the
// one that waited chains from the head the other committed, so the trail
// stays one chain without gaps. Every record is validated first
// (codes.ValidateAudit); an invalid one refuses the whole call, naming
// its index, and nothing is written.
//
// The transaction is its own, never that of a change to the codes: an
// attempt is recorded whether or not what it attempted was done.
func (s *Store) AppendAudit(ctx context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	for i := range recs {
		if err := codes.ValidateAudit(&recs[i]); err != nil {
			return nil, fmt.Errorf("pgstore: audit record %d: %w", i, err)
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
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	conn, err := s.pool.Acquire(c)
	if err != nil {
		return nil, err
	}
	defer s.rollback(conn)
	var head codes.AuditRecord
	found := false
	read := &pgx.Batch{}
	read.Queue("BEGIN")
	read.Queue(s.q.auditHead).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var seq int64
			var hash []byte
			if err := rows.Scan(&seq, &hash); err != nil {
				return err
			}
			if seq < 0 || len(hash) != len(head.Hash) {
				return fmt.Errorf("pgstore: audit head: %w", codes.ErrCorrupt)
			}
			head.Seq = uint64(seq)
			copy(head.Hash[:], hash)
			found = true
		}
		return rows.Err()
	})
	if err := conn.SendBatch(c, read).Close(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("pgstore: audit head: the row is missing: %w", codes.ErrCorrupt)
	}
	out := make([]codes.AuditRecord, len(recs))
	seqs := make([]int64, len(recs))
	bufs := make([][]byte, len(recs))
	for i := range recs {
		out[i] = codes.ChainAudit(head, recs[i])
		head = out[i]
		seqs[i] = int64(head.Seq)
		bufs[i] = codes.AppendAuditRecord(nil, &head)
	}
	write := &pgx.Batch{}
	write.Queue(s.q.auditInsert, seqs, bufs)
	write.Queue(s.q.auditSetHead, int64(head.Seq), head.Hash[:])
	write.Queue("COMMIT")
	c2, cancel2 := s.bound(ctx, len(recs))
	defer cancel2()
	if err := conn.SendBatch(c2, write).Close(); err != nil {
		// The head row is locked, so no other appender can have taken
		// these seqs: the head is behind the table, which someone
		// changed. Retrying would not help.
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return nil, fmt.Errorf("pgstore: audit head at record %d is behind the audit table: %w", out[0].Seq-1, codes.ErrCorrupt)
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
	c, cancel := s.bound(ctx, max)
	defer cancel()
	rows, err := s.pool.Query(c, s.q.auditRead, int64(after), max)
	if err != nil {
		return nil, s.fail(ctx, "read audit", err)
	}
	defer rows.Close()
	var out []codes.AuditRecord
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, s.fail(ctx, "read audit", err)
		}
		r, err := codes.DecodeAuditAt(uint64(seq), b)
		if err != nil {
			return nil, fmt.Errorf("pgstore: read audit: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "read audit", err)
	}
	return out, nil
}
