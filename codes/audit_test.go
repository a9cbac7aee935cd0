package codes_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

var auditT0 = time.Date(2022, 6, 14, 9, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// full is a record with every field set, in Chinese where it is text.
func full(i int) codes.AuditRecord {
	return codes.AuditRecord{
		At: auditT0.Add(time.Duration(i) * time.Minute), Node: "郑州-节点-2", Actor: "操作员-张三", Role: "转码员",
		Action: "transcode", Target: strings.Repeat("ab", 16), Authorisation: "豫卫健〔2022〕17号",
		Reason: "村镇银行储户，无健康理由", Outcome: "forbidden", Detail: "缺少转码员角色", Changed: 3,
		Client: "[2001:db8::7]:443",
	}
}

// sparse is a record with every field it may leave empty empty.
func sparse(i int) codes.AuditRecord {
	return codes.AuditRecord{At: auditT0.Add(time.Duration(i) * time.Minute), Action: "sign_in"}
}

// chain chains recs from the start of a trail.
func chain(recs ...codes.AuditRecord) []codes.AuditRecord {
	out := make([]codes.AuditRecord, len(recs))
	var head codes.AuditRecord
	for i, r := range recs {
		head = codes.ChainAudit(head, r)
		out[i] = head
	}
	return out
}

// verify runs an AuditVerifier over recs, returning its first error.
func verify(recs []codes.AuditRecord) error {
	var v codes.AuditVerifier
	for i := range recs {
		if err := v.Next(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// requireBrokenAt requires err to be an *AuditChainError naming seq.
func requireBrokenAt(t *testing.T, err error, seq uint64, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, codes.ErrAuditTampered, msgAndArgs...)
	var ce *codes.AuditChainError
	require.True(t, errors.As(err, &ce), msgAndArgs...)
	require.Equal(t, seq, ce.Seq, msgAndArgs...)
}

func TestAuditRoundTrip(t *testing.T) {
	for name, rec := range map[string]codes.AuditRecord{
		"Full":   full(0),
		"Sparse": sparse(0),
		"Longest": {At: time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC), Action: strings.Repeat("行", 341),
			Node: strings.Repeat("n", 1024), Reason: strings.Repeat("x", 1024), Client: strings.Repeat("c", 1024)},
		"BeforeEpoch": {At: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), Action: "history", Reason: "\x00\n\""},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, codes.ValidateAudit(&rec))
			recs := chain(full(9), rec)
			r := recs[1]
			require.Equal(t, uint64(2), r.Seq)
			require.Equal(t, recs[0].Hash, r.Prev)
			require.True(t, rec.At.Equal(r.At), "At %v, want %v", r.At, rec.At)
			require.Equal(t, time.UTC, r.At.Location(), "ChainAudit keeps times in UTC")
			b := codes.AppendAuditRecord(nil, &r)
			got, err := codes.DecodeAuditRecord(b)
			require.NoError(t, err)
			require.Equal(t, r, got, "every field round-trips")
			require.Equal(t, b, codes.AppendAuditRecord(nil, &got), "the decoded record encodes to the same bytes")
			got, err = codes.DecodeAuditAt(2, b)
			require.NoError(t, err)
			require.Equal(t, r, got)
			_, err = codes.DecodeAuditAt(3, b)
			requireBrokenAt(t, err, 3, "bytes of record 2 stored as record 3")
			require.NoError(t, verify(recs))
		})
	}
}

func TestChainAudit(t *testing.T) {
	a := codes.ChainAudit(codes.AuditRecord{}, full(0))
	require.Equal(t, uint64(1), a.Seq)
	require.Zero(t, a.Prev, "the first record links to nothing")
	require.NotZero(t, a.Hash)
	// A head with Seq 0 is no head, whatever it holds.
	require.Equal(t, a, codes.ChainAudit(codes.AuditRecord{Hash: [32]byte{1}, Prev: [32]byte{2}}, full(0)))
	// Seq, Prev and Hash of the record given are overwritten.
	given := full(0)
	given.Seq, given.Prev, given.Hash = 99, [32]byte{3}, [32]byte{4}
	require.Equal(t, a, codes.ChainAudit(codes.AuditRecord{}, given))
	// The same attempt in another zone is the same record.
	utc := full(0)
	utc.At = utc.At.UTC()
	require.Equal(t, a, codes.ChainAudit(codes.AuditRecord{}, utc))

	b := codes.ChainAudit(a, full(1))
	require.Equal(t, uint64(2), b.Seq)
	require.Equal(t, a.Hash, b.Prev)
	require.NotEqual(t, a.Hash, b.Hash)
	other := full(1)
	other.Outcome = "ok"
	require.NotEqual(t, b.Hash, codes.ChainAudit(a, other).Hash, "the hash covers the outcome")
}

// TestAuditEveryByte changes each byte of a stored record in every way
// (each of the 255 non-zero masks): either the bytes no longer decode or
// the verifier, from the record before, refuses the record. Never does a
// changed record verify.
func TestAuditEveryByte(t *testing.T) {
	for name, rec := range map[string]codes.AuditRecord{"Full": full(1), "Sparse": sparse(1)} {
		t.Run(name, func(t *testing.T) {
			recs := chain(full(0), rec, full(2))
			stored := codes.AppendAuditRecord(nil, &recs[1])
			undecodable, refused := 0, 0
			for i := range stored {
				for mask := 1; mask < 256; mask++ {
					b := bytes.Clone(stored)
					b[i] ^= byte(mask)
					r, err := codes.DecodeAuditAt(2, b)
					if err != nil {
						requireBrokenAt(t, err, 2, "byte %d ^ %#x", i, mask)
						undecodable++
						continue
					}
					err = codes.VerifyAuditFrom(recs[0]).Next(&r)
					requireBrokenAt(t, err, 2, "byte %d ^ %#x: the changed record verifies", i, mask)
					refused++
				}
			}
			t.Logf("%d bytes: %d changes undecodable, %d refused by the verifier", len(stored), undecodable, refused)
			require.NotZero(t, refused)
		})
	}
}

// TestAuditNonCanonicalLength: a length written in two bytes where one
// does would decode to the same record; it does not decode.
func TestAuditNonCanonicalLength(t *testing.T) {
	r := chain(sparse(0))[0]
	b := codes.AppendAuditRecord(nil, &r)
	const node = 4 + 8 + 8 // Node's length, 0
	require.Equal(t, byte(0), b[node])
	long := append(append(bytes.Clone(b[:node]), 0x80, 0x00), b[node+1:]...)
	_, err := codes.DecodeAuditRecord(long)
	require.ErrorIs(t, err, codes.ErrCorrupt)
}

func TestDecodeAuditRecordRefuses(t *testing.T) {
	r := chain(full(0))[0]
	b := codes.AppendAuditRecord(nil, &r)
	for name, bad := range map[string][]byte{
		"Empty":     nil,
		"Magic":     append([]byte("HCA2"), b[4:]...),
		"Truncated": b[:len(b)-1],
		"Trailing":  append(bytes.Clone(b), 0),
		"Header":    b[:30],
	} {
		_, err := codes.DecodeAuditRecord(bad)
		require.ErrorIs(t, err, codes.ErrCorrupt, name)
	}
}

func TestAuditVerifierCatches(t *testing.T) {
	recs := chain(full(0), full(1), sparse(2), full(3), full(4))
	require.NoError(t, verify(recs))
	cases := map[string]struct {
		recs []codes.AuditRecord
		at   uint64
	}{
		"Removed":        {append(append([]codes.AuditRecord{}, recs[:2]...), recs[3:]...), 3},
		"RemovedFirst":   {recs[1:], 1},
		"Swapped":        {[]codes.AuditRecord{recs[0], recs[2], recs[1], recs[3], recs[4]}, 2},
		"Duplicated":     {[]codes.AuditRecord{recs[0], recs[1], recs[1], recs[2]}, 3},
		"ChangedField":   {edit(recs, 3, func(r *codes.AuditRecord) { r.Outcome = "ok" }), 4},
		"ChangedTime":    {edit(recs, 2, func(r *codes.AuditRecord) { r.At = r.At.Add(time.Nanosecond) }), 3},
		"ChangedHash":    {edit(recs, 4, func(r *codes.AuditRecord) { r.Hash[31] ^= 1 }), 5},
		"Renumbered":     {edit(recs, 1, func(r *codes.AuditRecord) { r.Seq = 3 }), 2},
		"FirstHasPrev":   {edit(recs, 0, func(r *codes.AuditRecord) { r.Prev[0] = 1 }), 1},
		"EmptyPrevLater": {edit(recs, 2, func(r *codes.AuditRecord) { r.Prev = [32]byte{} }), 3},
		// A record rehashed after its Prev was changed: its own hash
		// matches, its link does not.
		"WrongPrev": {rechain(recs, 2, func(r *codes.AuditRecord) { r.Prev[5] ^= 1 }), 3},
		// A changed record rehashed: the next record's link breaks.
		"Rehashed": {rechain(recs, 1, func(r *codes.AuditRecord) { r.Reason = "有健康理由" }), 3},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			requireBrokenAt(t, verify(c.recs), c.at)
		})
	}
}

// edit returns a copy of recs with recs[i] changed by fn.
func edit(recs []codes.AuditRecord, i int, fn func(*codes.AuditRecord)) []codes.AuditRecord {
	out := append([]codes.AuditRecord{}, recs...)
	fn(&out[i])
	return out
}

// rechain returns a copy of recs with recs[i] changed by fn and its hash
// recomputed, as a forger who knows the encoding would.
func rechain(recs []codes.AuditRecord, i int, fn func(*codes.AuditRecord)) []codes.AuditRecord {
	out := append([]codes.AuditRecord{}, recs...)
	fn(&out[i])
	head := codes.AuditRecord{Seq: out[i].Seq - 1, Hash: out[i].Prev}
	out[i] = codes.ChainAudit(head, out[i])
	return out
}

func TestVerifyAuditFrom(t *testing.T) {
	recs := chain(full(0), full(1), full(2), full(3), sparse(4), full(5))
	var v codes.AuditVerifier
	require.Zero(t, v.Last().Seq)
	for i := range 3 {
		require.NoError(t, v.Next(&recs[i]))
	}
	checkpoint := v.Last()
	require.Equal(t, recs[2], checkpoint)

	w := codes.VerifyAuditFrom(checkpoint)
	for i := 3; i < len(recs); i++ {
		require.NoError(t, w.Next(&recs[i]), "record %d from the checkpoint", i+1)
	}
	require.Equal(t, recs[5], w.Last())

	requireBrokenAt(t, codes.VerifyAuditFrom(recs[1]).Next(&recs[3]), 3, "a checkpoint one record early")
	forged := checkpoint
	forged.Hash[0] ^= 1
	requireBrokenAt(t, codes.VerifyAuditFrom(forged).Next(&recs[3]), 4, "a checkpoint whose hash is not the record's")
	requireBrokenAt(t, codes.VerifyAuditFrom(codes.AuditRecord{}).Next(&recs[3]), 1, "the zero checkpoint expects record 1")
}

func TestValidateAudit(t *testing.T) {
	ok := full(0)
	require.NoError(t, codes.ValidateAudit(&ok))
	s := sparse(0)
	require.NoError(t, codes.ValidateAudit(&s))
	for _, c := range []struct {
		name, field string
		spoil       func(*codes.AuditRecord)
	}{
		{"NoAction", "Action", func(r *codes.AuditRecord) { r.Action = "" }},
		{"ZeroAt", "At", func(r *codes.AuditRecord) { r.At = time.Time{} }},
		{"AtTooEarly", "At", func(r *codes.AuditRecord) { r.At = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"AtTooLate", "At", func(r *codes.AuditRecord) { r.At = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"NodeTooLong", "Node", func(r *codes.AuditRecord) { r.Node = strings.Repeat("n", 1025) }},
		{"ReasonTooLong", "Reason", func(r *codes.AuditRecord) { r.Reason = strings.Repeat("理", 342) }},
		{"ClientTooLong", "Client", func(r *codes.AuditRecord) { r.Client = strings.Repeat("c", 4096) }},
		{"ActorInvalidUTF8", "Actor", func(r *codes.AuditRecord) { r.Actor = "op\xff" }},
		{"TargetInvalidUTF8", "Target", func(r *codes.AuditRecord) { r.Target = "理"[:2] }},
		{"OutcomeInvalidUTF8", "Outcome", func(r *codes.AuditRecord) { r.Outcome = "\xc0\x80" }},
		{"DetailTooLong", "Detail", func(r *codes.AuditRecord) { r.Detail = strings.Repeat("d", 1025) }},
		{"ChangedNegative", "Changed", func(r *codes.AuditRecord) { r.Changed = -1 }},
		{"ChangedTooMany", "Changed", func(r *codes.AuditRecord) { r.Changed = 1<<40 + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := full(0)
			c.spoil(&r)
			err := codes.ValidateAudit(&r)
			require.ErrorIs(t, err, codes.ErrBadAudit)
			require.Contains(t, err.Error(), c.field, "the error names the field")
		})
	}
	longest := full(0)
	longest.Reason = strings.Repeat("x", 1024)
	require.NoError(t, codes.ValidateAudit(&longest), "1 KiB is allowed")
}

// TestVerifyAuditMemStore: VerifyAudit over a store, a byte changed in the
// stored bytes of record 7 at every position, then two records changed:
// the first broken link is named even when a later record of the same
// page does not decode.
func TestVerifyAuditMemStore(t *testing.T) {
	ctx := context.Background()
	s := codes.NewMemStore()
	recs := make([]codes.AuditRecord, 20)
	for i := range recs {
		recs[i] = full(i)
		if i%3 == 0 {
			recs[i] = sparse(i)
		}
	}
	_, err := s.AppendAudit(ctx, recs)
	require.NoError(t, err)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(20), n)

	stored, err := s.ReadAudit(ctx, 6, 1)
	require.NoError(t, err)
	size := len(codes.AppendAuditRecord(nil, &stored[0]))
	for i := range size {
		s.TamperAudit(7, i)
		n, err := codes.VerifyAudit(ctx, s)
		requireBrokenAt(t, err, 7, "byte %d of record 7 changed", i)
		require.Equal(t, uint64(6), n, "byte %d: records verified", i)
		s.TamperAudit(7, i) // and back
	}
	_, err = codes.VerifyAudit(ctx, s)
	require.NoError(t, err, "every byte changed back")

	s.TamperAudit(12, 0) // the magic: record 12 does not decode
	s.TamperAudit(4, -1) // the hash: record 4 decodes, and does not verify
	n, err = codes.VerifyAudit(ctx, s)
	requireBrokenAt(t, err, 4)
	require.Equal(t, uint64(3), n)
	s.TamperAudit(4, -1)
	n, err = codes.VerifyAudit(ctx, s)
	requireBrokenAt(t, err, 12)
	require.Equal(t, uint64(11), n)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = codes.VerifyAudit(cctx, s)
	require.ErrorIs(t, err, context.Canceled)
}

// TestVerifyAuditPages: a trail longer than VerifyAudit's page, broken on
// either side of a page boundary.
func TestVerifyAuditPages(t *testing.T) {
	ctx := context.Background()
	s := codes.NewMemStore()
	batch := make([]codes.AuditRecord, 2500)
	for i := range batch {
		batch[i] = sparse(i)
	}
	_, err := s.AppendAudit(ctx, batch)
	require.NoError(t, err)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Equal(t, uint64(2500), n)
	for _, seq := range []uint64{1, 999, 1000, 1001, 2000, 2001, 2500} {
		for _, i := range []int{0, -1} { // undecodable; decodes and does not verify
			s.TamperAudit(seq, i)
			n, err := codes.VerifyAudit(ctx, s)
			requireBrokenAt(t, err, seq, "record %d, byte %d", seq, i)
			require.Equal(t, seq-1, n)
			s.TamperAudit(seq, i)
		}
	}
}

func TestMemStoreAuditBatches(t *testing.T) {
	ctx := context.Background()
	s := codes.NewMemStore()
	got, err := s.AppendAudit(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
	bad := sparse(1)
	bad.Action = ""
	_, err = s.AppendAudit(ctx, []codes.AuditRecord{sparse(0), bad})
	require.ErrorIs(t, err, codes.ErrBadAudit)
	require.Contains(t, err.Error(), "record 1 of the batch")
	recs, err := s.ReadAudit(ctx, 0, 10)
	require.NoError(t, err)
	require.Empty(t, recs, "a refused batch appends nothing")
	recs, err = s.ReadAudit(ctx, 0, 0)
	require.NoError(t, err)
	require.Empty(t, recs, "max 0")
}

func FuzzDecodeAuditRecord(f *testing.F) {
	for _, recs := range [][]codes.AuditRecord{chain(full(0)), chain(sparse(0), full(1))} {
		for _, r := range recs {
			f.Add(codes.AppendAuditRecord(nil, &r))
		}
	}
	f.Add([]byte("HCA1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := codes.DecodeAuditRecord(b)
		if err != nil {
			if !errors.Is(err, codes.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if again := codes.AppendAuditRecord(nil, &r); !bytes.Equal(again, b) {
			t.Fatalf("decoded record encodes to other bytes:\n got %x\nwant %x", again, b)
		}
		_ = codes.VerifyAuditFrom(codes.AuditRecord{Seq: r.Seq - 1, Hash: r.Prev}).Next(&r)
	})
}
