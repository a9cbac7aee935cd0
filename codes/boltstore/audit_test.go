package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func auditRecords(n int) []codes.AuditRecord {
	recs := make([]codes.AuditRecord, n)
	for i := range recs {
		recs[i] = codes.AuditRecord{
			At: t0.Add(time.Duration(i) * time.Second), Node: "node-1", Actor: "op-17", Role: "transcoder",
			Action: "transcode", Target: fmt.Sprintf("%032x", i), Reason: "核酸阴性", Outcome: "ok", Client: "10.0.0.7:52100",
		}
	}
	return recs
}

// TestAuditInTheFile: the trail is in the file, so it verifies after a
// reopen and appends continue its chain; a byte changed in the file is
// found after a reopen too, and named.
func TestAuditInTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "codes.db")
	s, err := Open(path, Config{})
	require.NoError(t, err)
	first, err := s.AppendAudit(ctx, auditRecords(10))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = Open(path, Config{})
	require.NoError(t, err)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(10), n)
	more, err := s.AppendAudit(ctx, auditRecords(5))
	require.NoError(t, err)
	require.Equal(t, uint64(11), more[0].Seq)
	require.Equal(t, first[9].Hash, more[0].Prev, "the chain goes on from the record before the reopen")
	tamperAudit(30)(t, s, 12)
	require.NoError(t, s.Close())

	s, err = Open(path, Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	n, err = codes.VerifyAudit(ctx, s)
	var ce *codes.AuditChainError
	require.True(t, errors.As(err, &ce), "VerifyAudit after a reopen: %v", err)
	require.Equal(t, uint64(12), ce.Seq)
	require.Equal(t, uint64(11), n)
}

// TestAuditBucketAddedToOldFile: a file written before the audit trail
// existed opens, gets the bucket, and keeps its codes.
func TestAuditBucketAddedToOldFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "codes.db")
	s, err := Open(path, Config{})
	require.NoError(t, err)
	_, err = s.Apply(ctx, []codes.Change{{Key: key(1), State: rule(codes.Red, t0)}})
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAudit) }))
	require.NoError(t, s.Close())

	s, err = Open(path, Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	e, ok, err := s.Get(ctx, key(1))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, codes.Red, e.State.Colour)
	recs, err := s.ReadAudit(ctx, 0, 10)
	require.NoError(t, err)
	require.Empty(t, recs)
	got, err := s.AppendAudit(ctx, auditRecords(2))
	require.NoError(t, err)
	require.Equal(t, uint64(2), got[1].Seq)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)
}
