package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
	"github.com/stretchr/testify/require"
)

// attempt is an audit record as a server would append it. Its Action
// starts at byte 40 of the stored record (magic, seq, time, then Node,
// Actor and Role with their one-byte lengths).
func attempt(i int) codes.AuditRecord {
	return codes.AuditRecord{At: t0.Add(time.Duration(i) * time.Second), Node: "node-1", Actor: "op-17", Role: "admin",
		Action: "transcode", Target: key(i).String(), Authorisation: "form-2291", Reason: "hospital discharge",
		Outcome: "ok", Client: "10.0.0.7"}
}

// tamper XORs 1 into byte off of the stored audit record seq (off < 0
// counts from the end), as someone with write access to the database
// would change it; tampering twice at one offset restores the record.
func tamper(t *testing.T, s *pgstore.Store, seq uint64, off int) {
	t.Helper()
	at := strconv.Itoa(off)
	if off < 0 {
		at = "length(rec) - " + strconv.Itoa(-off)
	}
	tag, err := rawConn(t).Exec(context.Background(), fmt.Sprintf(
		"UPDATE %s.audit SET rec = set_byte(rec, %s, get_byte(rec, %s) # 1) WHERE seq = $1", s.Schema(), at, at), int64(seq))
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
}

func TestAuditAppendRead(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Zero(t, n, "a new store has an empty trail")

	var all []codes.AuditRecord
	for i := range 5 {
		recs := []codes.AuditRecord{attempt(2 * i), attempt(2*i + 1)}
		recs[1].Outcome, recs[1].Actor = "forbidden", ""
		got, err := s.AppendAudit(ctx, recs)
		require.NoError(t, err)
		require.Len(t, got, 2)
		for j, r := range got {
			require.Equal(t, uint64(len(all)+1), r.Seq)
			require.Equal(t, recs[j].Action, r.Action)
			all = append(all, r)
		}
	}
	require.Equal(t, all[0].Hash, all[1].Prev)

	// Read back in pages, equal to what AppendAudit returned.
	var read []codes.AuditRecord
	for after := uint64(0); ; {
		page, err := s.ReadAudit(ctx, after, 3)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 3)
		read = append(read, page...)
		after = page[len(page)-1].Seq
	}
	require.Equal(t, all, read)
	n, err = codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(10), n)

	// An invalid record refuses the whole call, and nothing is written.
	bad := []codes.AuditRecord{attempt(20), attempt(21)}
	bad[1].Action = ""
	_, err = s.AppendAudit(ctx, bad)
	require.ErrorIs(t, err, codes.ErrBadAudit)
	require.ErrorContains(t, err, "audit record 1")
	rest, err := s.ReadAudit(ctx, 10, 100)
	require.NoError(t, err)
	require.Empty(t, rest)

	got, err := s.AppendAudit(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.ReadAudit(ctx, 0, 0)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = s.ReadAudit(ctx, 1<<63, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// The trail survives a reopen and continues its chain.
	s2 := openSchema(t, s.Schema(), pgstore.Config{})
	got, err = s2.AppendAudit(ctx, []codes.AuditRecord{attempt(30)})
	require.NoError(t, err)
	require.Equal(t, uint64(11), got[0].Seq)
	require.Equal(t, all[9].Hash, got[0].Prev)
	n, err = codes.VerifyAudit(ctx, s2)
	require.NoError(t, err)
	require.Equal(t, uint64(11), n)
}

// TestAuditTamper: a byte changed anywhere in a stored record is found,
// and VerifyAudit names that record.
func TestAuditTamper(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	recs := make([]codes.AuditRecord, 6)
	for i := range recs {
		recs[i] = attempt(i)
	}
	_, err := s.AppendAudit(ctx, recs)
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		off  int
	}{
		{"seq", 11},
		{"time", 19},
		{"length of Node", 20},
		{"Action", 40},
		{"Prev", -40},
		{"Hash", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tamper(t, s, 4, tt.off)
			n, err := codes.VerifyAudit(ctx, s)
			var ce *codes.AuditChainError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, codes.ErrAuditTampered)
			require.Equal(t, uint64(4), ce.Seq, "%v", err)
			require.Equal(t, uint64(3), n, "records before the broken one verify")
			tamper(t, s, 4, tt.off)
			n, err = codes.VerifyAudit(ctx, s)
			require.NoError(t, err)
			require.Equal(t, uint64(6), n)
		})
	}

	// A removed record is named too.
	_, err = rawConn(t).Exec(ctx, "DELETE FROM "+s.Schema()+".audit WHERE seq = 2")
	require.NoError(t, err)
	_, err = codes.VerifyAudit(ctx, s)
	var ce *codes.AuditChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, uint64(2), ce.Seq)
}

// TestAuditHeadBehind: a head row moved back (by hand) is reported as
// corrupt, not retried, and writes nothing.
func TestAuditHeadBehind(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	_, err := s.AppendAudit(ctx, []codes.AuditRecord{attempt(1), attempt(2)})
	require.NoError(t, err)
	_, err = rawConn(t).Exec(ctx, "UPDATE "+s.Schema()+".audit_head SET seq = 1")
	require.NoError(t, err)
	start := time.Now()
	_, err = s.AppendAudit(ctx, []codes.AuditRecord{attempt(3)})
	require.ErrorIs(t, err, codes.ErrCorrupt)
	require.Less(t, time.Since(start), time.Second, "not retried")
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)
}

// TestAuditTwoHandles: appenders on two Stores (two pools, as two nodes)
// on one schema form one chain without gaps, each call's records
// consecutive in it.
func TestAuditTwoHandles(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	stores := []*pgstore.Store{openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})}
	const perStore, calls = 4, 25
	type call struct {
		w    int
		recs []codes.AuditRecord
	}
	var mu sync.Mutex
	var done []call
	errs := make([]error, len(stores)*perStore)
	var wg sync.WaitGroup
	for w := range errs {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range calls {
				recs := make([]codes.AuditRecord, 1+(w+i)%3)
				for j := range recs {
					recs[j] = attempt(i)
					recs[j].Node = "node-" + strconv.Itoa(w%len(stores))
					recs[j].Reason = fmt.Sprintf("w%d c%d r%d", w, i, j)
				}
				got, err := s.AppendAudit(ctx, recs)
				if err != nil {
					errs[w] = err
					return
				}
				mu.Lock()
				done = append(done, call{w, got})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	want := map[uint64]codes.AuditRecord{}
	for _, c := range done {
		for j, r := range c.recs {
			require.Equal(t, c.recs[0].Seq+uint64(j), r.Seq, "a call's records are consecutive")
			_, dup := want[r.Seq]
			require.False(t, dup, "seq %d given twice", r.Seq)
			want[r.Seq] = r
		}
	}
	for _, s := range stores {
		n, err := codes.VerifyAudit(ctx, s)
		require.NoError(t, err)
		require.Equal(t, uint64(len(want)), n)
		got, err := s.ReadAudit(ctx, 0, len(want)+1)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for _, r := range got {
			require.Equal(t, want[r.Seq], r)
		}
	}
}
