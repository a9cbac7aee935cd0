package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/healthcode-sdk/healthcode/codes"
	bolt "go.etcd.io/bbolt"
)

var _ codes.AuditTrail = (*Store)(nil)

// AppendAudit implements codes.AuditTrail: one write transaction reads the
// last record of the audit bucket, chains recs to it and puts them, so
// appenders form one chain and a batch is all or nothing. It returns when
// the transaction is committed and synced.
func (s *Store) AppendAudit(ctx context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	for i := range recs {
		if err := codes.ValidateAudit(&recs[i]); err != nil {
			return nil, fmt.Errorf("%w (record %d of the batch)", err, i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]codes.AuditRecord, len(recs))
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		b.FillPercent = 1 // append-only
		var head codes.AuditRecord
		if k, v := b.Cursor().Last(); k != nil {
			if len(k) != 8 {
				return fmt.Errorf("boltstore: audit key %x: %w", k, codes.ErrCorrupt)
			}
			var err error
			if head, err = codes.DecodeAuditAt(binary.BigEndian.Uint64(k), v); err != nil {
				return err
			}
		}
		for i := range recs {
			head = codes.ChainAudit(head, recs[i])
			out[i] = head
			if err := b.Put(posKey(head.Seq), codes.AppendAuditRecord(nil, &head)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: append audit: %w", err)
	}
	return out, nil
}

// ReadAudit implements codes.AuditTrail.
func (s *Store) ReadAudit(ctx context.Context, after uint64, max int) ([]codes.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []codes.AuditRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(posKey(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("boltstore: audit key %x: %w", k, codes.ErrCorrupt)
			}
			r, err := codes.DecodeAuditAt(binary.BigEndian.Uint64(k), v) // copies out of the mmap
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: read audit: %w", err)
	}
	return out, nil
}
