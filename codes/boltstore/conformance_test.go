package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestConformance runs the store conformance suite on a fresh file per
// subtest. A bbolt file belongs to one process, so there is no Reopen.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Config{
		Open:   func(t *testing.T) codes.Store { return openTemp(t, Config{}) },
		Tamper: tamperAudit(60),
	})
}

// tamperAudit returns a storetest.Config.Tamper that flips the low bit of
// byte i of the stored audit record (a negative i counts from the end) in
// a committed write transaction of its own, as a bbolt tool would, and
// requires the file to hold the changed bytes.
func tamperAudit(i int) func(t *testing.T, s codes.Store, seq uint64) {
	return func(t *testing.T, s codes.Store, seq uint64) {
		t.Helper()
		db := s.(*Store).db
		var want []byte
		require.NoError(t, db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			want = slices.Clone(b.Get(posKey(seq))) // b.Get's bytes are the read-only mmap
			if len(want) == 0 {
				return fmt.Errorf("no audit record %d", seq)
			}
			j := i
			if j < 0 {
				j += len(want)
			}
			want[j] ^= 1
			return b.Put(posKey(seq), want)
		}))
		require.NoError(t, db.View(func(tx *bolt.Tx) error {
			require.Equal(t, want, tx.Bucket(bucketAudit).Get(posKey(seq)), "the file does not hold the changed record")
			return nil
		}))
	}
}

// TestConformanceSmallTransactions runs the suite with a batch cut into
// transactions of three changes, so that a key's changes, RequestIDs
// included, are checked across the transactions of one Apply. Commits skip
// the fsync (durability is TestKillNine's subject), or the thousands of
// transactions would take seconds.
func TestConformanceSmallTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite again with small transactions")
	}
	storetest.Run(t, storetest.Config{
		Open: func(t *testing.T) codes.Store {
			s := openTemp(t, Config{BatchSize: 3})
			s.db.NoSync = true
			return s
		},
		Tamper: tamperAudit(-1), // the last byte of the hash
	})
}

// TestRequestIDsSurviveReopen: the RequestIDs a store holds are in the
// file, so a batch retried after a restart appends nothing; and a batch
// without RequestIDs writes no requests row.
func TestRequestIDsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "codes.db")
	s, err := Open(path, Config{})
	require.NoError(t, err)
	_, err = s.Apply(ctx, []codes.Change{{Key: key(1), State: rule(codes.Red, t0)}, {Key: key(2), State: rule(codes.Yellow, t0)}})
	require.NoError(t, err)
	require.Zero(t, requestRows(t, s), "a batch without RequestIDs")

	batch := []codes.Change{
		{Key: key(1), RequestID: "form-1", State: codes.State{Colour: codes.Green, Reason: "negative PCR",
			Cause: codes.Cause{Actor: "op-17", Authorisation: "HZ-1"}, Since: t0.Add(time.Hour)}},
		{Key: key(3), RequestID: "decision-3", State: rule(codes.Green, t0)}, // unchanged: held all the same
	}
	a, err := s.Apply(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, codes.Applied{Changed: 1, Unchanged: 1}, a)
	require.Equal(t, 2, requestRows(t, s))
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		reqs := tx.Bucket(bucketRequests)
		k1, k3 := key(1), key(3)
		require.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 1}, reqs.Get(append(k1[:], "form-1"...)), "the Seq of the entry form-1 made")
		require.Equal(t, binary.BigEndian.AppendUint64(nil, noEntry), reqs.Get(append(k3[:], "decision-3"...)))
		return nil
	}))
	require.NoError(t, s.Close())

	s, err = Open(path, Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	a, err = s.Apply(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, codes.Applied{Duplicate: 2}, a)
	h, err := s.History(ctx, key(1))
	require.NoError(t, err)
	require.Len(t, h, 2)
}

func requestRows(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketRequests).Stats().KeyN
		return nil
	}))
	return n
}
