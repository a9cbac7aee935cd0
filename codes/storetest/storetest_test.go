package storetest_test

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
	"github.com/stretchr/testify/require"
)

// feedData is the shared state of a fakeStore's handles: a MemStore and
// the records of its writes, which one mutex orders.
type feedData struct {
	mem  *codes.MemStore
	mu   sync.Mutex
	recs []codes.FeedRecord
	wake chan struct{} // closed and replaced at every record

	audit      [][]byte            // the stored audit trail: codes.AppendAuditRecord's bytes
	auditCache []codes.AuditRecord // the records as appended, for the flaw AuditReadsCache
}

// fakeStore is a codes.Store, codes.LinkStore and codes.Feed over a
// MemStore, as simple as can be, so that every part of the suite runs in
// this package's tests. Its handles (reopen) share one feedData, as
// processes share a database. flaw, if set, breaks one rule of the
// contract, to show that the suite notices (TestSuiteCatchesFlaws).
type fakeStore struct {
	d    *feedData
	flaw string
}

var (
	_ codes.Store      = fakeStore{}
	_ codes.LinkStore  = fakeStore{}
	_ codes.Feed       = fakeStore{}
	_ codes.AuditTrail = fakeStore{}
)

func newFakeStore(flaw string) fakeStore {
	return fakeStore{d: &feedData{mem: codes.NewMemStore(), wake: make(chan struct{})}, flaw: flaw}
}

// record appends rec to the feed; d.mu is held.
func (d *feedData) record(rec codes.FeedRecord) uint64 {
	rec.Pos = uint64(len(d.recs)) + 1
	rec.At = time.Now()
	d.recs = append(d.recs, rec)
	close(d.wake)
	d.wake = make(chan struct{})
	return rec.Pos
}

func (s fakeStore) Get(ctx context.Context, key codes.Key) (codes.Entry, bool, error) {
	return s.d.mem.Get(ctx, key)
}

func (s fakeStore) History(ctx context.Context, key codes.Key) ([]codes.Entry, error) {
	return s.d.mem.History(ctx, key)
}

func (s fakeStore) Scan(ctx context.Context, fn func(codes.Key, codes.Colour) error) error {
	switch s.flaw {
	case "ScanIgnoresError":
		return s.d.mem.Scan(ctx, func(k codes.Key, c codes.Colour) error { _ = fn(k, c); return nil })
	case "ScanIgnoresContext":
		return s.d.mem.Scan(context.Background(), fn)
	}
	return s.d.mem.Scan(ctx, fn)
}

func (s fakeStore) Apply(ctx context.Context, changes []codes.Change) (codes.Applied, error) {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch s.flaw {
	case "IgnoresRequestID":
		changes = slices.Clone(changes)
		for i := range changes {
			changes[i].RequestID = ""
		}
	case "SortsByTime":
		changes = slices.Clone(changes)
		slices.SortStableFunc(changes, func(a, b codes.Change) int { return a.State.Since.Compare(b.State.Since) })
	case "AppliesValidPrefix":
		var total codes.Applied
		for i := range changes {
			if err := changes[i].Validate(i); err != nil {
				return total, err
			}
			a, err := d.mem.Apply(ctx, changes[i:i+1])
			if err != nil {
				return total, err
			}
			total.Changed += a.Changed
			total.Unchanged += a.Unchanged
			total.Duplicate += a.Duplicate
		}
		return total, nil
	}
	before := map[codes.Key]uint64{} // Seq+1 of each key's head; 0: none
	for _, ch := range changes {
		if e, ok, _ := d.mem.Get(ctx, ch.Key); ok {
			before[ch.Key] = e.Seq + 1
		} else {
			before[ch.Key] = 0
		}
	}
	a, err := d.mem.Apply(ctx, changes)
	if err != nil || (a.Changed == 0 && s.flaw != "RecordsUnchanged") {
		return a, err
	}
	var rec codes.FeedRecord
	for k, n := range before {
		if e, ok, _ := d.mem.Get(ctx, k); ok && e.Seq+1 != n {
			rec.Changes = append(rec.Changes, codes.FeedChange{Key: k, Colour: e.State.Colour})
		}
	}
	d.record(rec)
	return a, nil
}

func (s fakeStore) Link(ctx context.Context, l codes.Link) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if err := s.d.mem.Link(ctx, l); err != nil {
		return err
	}
	s.d.record(codes.FeedRecord{Links: []codes.Key{l.Person}})
	return nil
}

func (s fakeStore) Unlink(ctx context.Context, phone, person codes.Key) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if err := s.d.mem.Unlink(ctx, phone, person); err != nil {
		return err
	}
	s.d.record(codes.FeedRecord{Links: []codes.Key{person}})
	return nil
}

func (s fakeStore) PhonesOf(ctx context.Context, person codes.Key) ([]codes.Link, error) {
	return s.d.mem.PhonesOf(ctx, person)
}

func (s fakeStore) PersonsOf(ctx context.Context, phone codes.Key) ([]codes.Link, error) {
	links, err := s.d.mem.PersonsOf(ctx, phone)
	if s.flaw == "LinksUnsorted" {
		slices.SortFunc(links, func(a, b codes.Link) int { return cmp.Compare(a.Since.UnixNano(), b.Since.UnixNano()) })
	}
	return links, err
}

func (s fakeStore) FeedPos(context.Context) (uint64, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return uint64(len(s.d.recs)), nil
}

func (s fakeStore) ReadFeed(_ context.Context, after uint64, max int) ([]codes.FeedRecord, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if after >= uint64(len(s.d.recs)) {
		return nil, nil
	}
	return slices.Clone(s.d.recs[after:min(after+uint64(max), uint64(len(s.d.recs)))]), nil
}

func (s fakeStore) WaitFeed(ctx context.Context, after uint64) error {
	s.d.mu.Lock()
	if uint64(len(s.d.recs)) > after {
		s.d.mu.Unlock()
		return nil
	}
	wake := s.d.wake
	s.d.mu.Unlock()
	if s.flaw == "WaitFeedPolls" {
		wake = nil // wakes only when ctx ends
	}
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s fakeStore) Publish(_ context.Context, topic string, body []byte) (uint64, error) {
	if err := codes.ValidateNote(topic, body); err != nil {
		return 0, err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.record(codes.FeedRecord{Topic: topic, Body: bytes.Clone(body)}), nil
}

func (s fakeStore) Notes(_ context.Context, after, upto uint64) ([]codes.FeedRecord, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []codes.FeedRecord
	for _, r := range s.d.recs {
		if r.Pos > after && r.Pos <= upto && r.IsNote() {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s fakeStore) AppendAudit(ctx context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	if err := ctx.Err(); err != nil && s.flaw != "AuditIgnoresContext" {
		return nil, err
	}
	for i := range recs {
		if err := codes.ValidateAudit(&recs[i]); err != nil && s.flaw != "AuditAppendsValidPrefix" {
			return nil, err
		}
	}
	d := s.d
	d.mu.Lock()
	head := s.auditHead()
	if s.flaw == "AuditForks" {
		// The head is read in one step and the records appended in
		// another, so concurrent appenders chain to the same head.
		d.mu.Unlock()
		time.Sleep(time.Millisecond)
		d.mu.Lock()
	}
	defer d.mu.Unlock()
	out := make([]codes.AuditRecord, 0, len(recs))
	for i := range recs {
		if s.flaw == "AuditAppendsValidPrefix" && codes.ValidateAudit(&recs[i]) != nil {
			return nil, codes.ValidateAudit(&recs[i])
		}
		head = codes.ChainAudit(head, recs[i])
		d.audit = append(d.audit, codes.AppendAuditRecord(nil, &head))
		d.auditCache = append(d.auditCache, head)
		out = append(out, head)
	}
	return out, nil
}

// auditHead returns the last record of the trail; d.mu is held.
func (s fakeStore) auditHead() codes.AuditRecord {
	if len(s.d.audit) == 0 {
		return codes.AuditRecord{}
	}
	r, _ := codes.DecodeAuditRecord(s.d.audit[len(s.d.audit)-1])
	return r
}

func (s fakeStore) ReadAudit(_ context.Context, after uint64, max int) ([]codes.AuditRecord, error) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []codes.AuditRecord
	for seq := after + 1; seq <= uint64(len(s.d.audit)) && len(out) < max; seq++ {
		if s.flaw == "AuditReadDrops" && seq == 5 {
			continue
		}
		if s.flaw == "AuditReadsCache" {
			out = append(out, s.d.auditCache[seq-1])
			continue
		}
		r, err := codes.DecodeAuditAt(seq, s.d.audit[seq-1])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// tamperAudit flips the low bit of the byte at position i of the stored
// audit record seq; a negative i counts from the end.
func tamperAudit(t *testing.T, s codes.Store, seq uint64, i int) {
	d := s.(fakeStore).d
	d.mu.Lock()
	defer d.mu.Unlock()
	require.LessOrEqual(t, seq, uint64(len(d.audit)))
	b := d.audit[seq-1]
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 1
}

func fakeConfig(flaw string) storetest.Config {
	return storetest.Config{
		Open:   func(*testing.T) codes.Store { return newFakeStore(flaw) },
		Reopen: func(_ *testing.T, s codes.Store) codes.Store { return fakeStore{d: s.(fakeStore).d, flaw: flaw} },
		// A byte of the text fields: the contents no longer match the hash.
		Tamper: func(t *testing.T, s codes.Store, seq uint64) { tamperAudit(t, s, seq, -70) },
	}
}

// TestFakeStore runs the whole suite, the Feed part included, on a store
// that keeps the contract.
func TestFakeStore(t *testing.T) {
	storetest.Run(t, fakeConfig(""))
}

// TestFlawedStore runs the suite on a fakeStore with the flaw named by
// $STORETEST_FLAW; TestSuiteCatchesFlaws runs it in a child process and
// expects it to fail.
func TestFlawedStore(t *testing.T) {
	flaw := os.Getenv("STORETEST_FLAW")
	if flaw == "" {
		t.Skip("run by TestSuiteCatchesFlaws")
	}
	storetest.Run(t, fakeConfig(flaw))
}

// TestSuiteCatchesFlaws: each flaw makes the subtest that checks its rule
// fail. Without it a suite that asserts nothing would pass every store.
func TestSuiteCatchesFlaws(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for _, tc := range []struct{ flaw, subtest, why string }{
		{"IgnoresRequestID", "RequestID/RetriedBatch", "the retried batch"},
		{"IgnoresRequestID", "AdvanceMatchesOracle", ""},
		{"SortsByTime", "BatchOrder", "history differs from codes.Advance's"},
		{"AppliesValidPrefix", "InvalidBatchChangesNothing/NoCause", "the refused batch changed something"},
		{"ScanIgnoresError", "Scan/StopsAtFirstError", ""},
		{"ScanIgnoresContext", "CancelledContext", ""},
		{"LinksUnsorted", "Links/OrderedByKey", "PersonsOf"},
		{"RecordsUnchanged", "Feed/OneRecordPerApply", "an Apply that changed nothing added a record"},
		{"WaitFeedPolls", "Feed/WaitFeed", "did not notice a write"},
		{"AuditForks", "Audit/Concurrent", ""},
		{"AuditForks", "Audit/ConcurrentTwoHandles", ""},
		{"AuditReadDrops", "Audit/ReadPages", "records must follow on without gaps"},
		{"AuditReadsCache", "Audit/Tamper", "VerifyAudit passed a trail whose record 7 was changed"},
		{"AuditAppendsValidPrefix", "Audit/InvalidBatchAppendsNothing", "the refused batch appended something"},
		{"AuditIgnoresContext", "Audit/CancelledContext", ""},
	} {
		t.Run(tc.flaw+"/"+strings.ReplaceAll(tc.subtest, "/", "_"), func(t *testing.T) {
			t.Parallel()
			run := "^TestFlawedStore$"
			for _, part := range strings.Split(tc.subtest, "/") {
				run += "/^" + part + "$"
			}
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "STORETEST_FLAW="+tc.flaw)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a store whose flaw is %s:\n%s", tc.flaw, out)
			require.Contains(t, string(out), "--- FAIL: TestFlawedStore/"+tc.subtest+" ", "output:\n%s", out)
			require.Contains(t, string(out), tc.why, "failed for another reason; output:\n%s", out)
			require.NotContains(t, string(out), "panic:", "the suite should fail, not crash")
		})
	}
}
