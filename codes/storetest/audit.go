package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

func asAudit(t *testing.T, s codes.Store) codes.AuditTrail {
	t.Helper()
	a, ok := s.(codes.AuditTrail)
	require.True(t, ok, "%T: one store is a codes.AuditTrail, another is not", s)
	return a
}

// attempt returns the audit record of the i-th attempt of actor.
func attempt(actor string, i int) codes.AuditRecord {
	outcome := "ok"
	if i%5 == 4 {
		outcome = "forbidden"
	}
	return codes.AuditRecord{
		At: at(i), Node: "node-1", Actor: actor, Role: "transcoder", Action: "transcode",
		Target: fmt.Sprintf("%032x", i), Authorisation: "HZ-2024-0301-001",
		Reason: fmt.Sprintf("%s attempt %d", actor, i), Outcome: outcome, Detail: "transcoded to red",
		Changed: i % 3, Client: "10.0.0.7:52100",
	}
}

func appendAudit(t *testing.T, a codes.AuditTrail, recs ...codes.AuditRecord) []codes.AuditRecord {
	t.Helper()
	got, err := a.AppendAudit(context.Background(), recs)
	require.NoError(t, err)
	require.Len(t, got, len(recs), "AppendAudit returns one record per record appended")
	return got
}

// readAudit reads the whole trail in pages of page records, requiring
// each page to hold at most page records that follow on without a gap.
func readAudit(t *testing.T, a codes.AuditTrail, page int) []codes.AuditRecord {
	t.Helper()
	var out []codes.AuditRecord
	after := uint64(0)
	for {
		recs, err := a.ReadAudit(context.Background(), after, page)
		require.NoError(t, err)
		require.LessOrEqual(t, len(recs), page, "ReadAudit(%d, %d) ignores max", after, page)
		for _, r := range recs {
			require.Equal(t, after+1, r.Seq, "ReadAudit(%d, %d): records must follow on without gaps", after, page)
			after = r.Seq
		}
		out = append(out, recs...)
		if len(recs) < page {
			return out
		}
	}
}

// verifyAudit requires the whole trail to verify and to hold n records.
func verifyAudit(t *testing.T, a codes.AuditTrail, n int) {
	t.Helper()
	got, err := codes.VerifyAudit(context.Background(), a)
	require.NoError(t, err, "VerifyAudit")
	require.Equal(t, uint64(n), got, "VerifyAudit: records verified")
}

// testAudit: the codes.AuditTrail contract.
func (cfg Config) testAudit(t *testing.T) {
	ctx := context.Background()
	t.Run("AppendChains", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		var want []codes.AuditRecord
		head := codes.AuditRecord{}
		for b, size := range []int{1, 3, 1, 7, 2} {
			batch := make([]codes.AuditRecord, size)
			for i := range batch {
				batch[i] = attempt("op-17", len(want)+i)
			}
			got := appendAudit(t, a, batch...)
			for i, r := range got {
				require.Equal(t, uint64(len(want)+1), r.Seq, "batch %d record %d: Seq", b, i)
				chained := codes.ChainAudit(head, batch[i])
				require.Equal(t, chained, r, "batch %d record %d: not codes.ChainAudit of the head and the record", b, i)
				head = r
				want = append(want, r)
			}
		}
		require.Equal(t, want, readAudit(t, a, 100), "ReadAudit: the records AppendAudit returned")
		verifyAudit(t, a, len(want))
	})
	t.Run("ReadPages", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		recs, err := a.ReadAudit(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, recs, "ReadAudit of an empty trail")
		batch := make([]codes.AuditRecord, 23)
		for i := range batch {
			batch[i] = attempt("op-17", i)
		}
		all := appendAudit(t, a, batch...)
		for _, page := range []int{1, 2, 5, 22, 23, 24, 1000} {
			require.Equal(t, all, readAudit(t, a, page), "pages of %d", page)
		}
		for _, c := range []struct {
			after uint64
			max   int
		}{{0, 3}, {4, 5}, {20, 10}, {22, 1}, {22, 5}, {23, 5}, {24, 5}, {1 << 40, 5}} {
			recs, err := a.ReadAudit(ctx, c.after, c.max)
			require.NoError(t, err)
			end := min(c.after+uint64(c.max), uint64(len(all)))
			var want []codes.AuditRecord
			if c.after < end {
				want = all[c.after:end]
			}
			require.Equal(t, len(want), len(recs), "ReadAudit(%d, %d)", c.after, c.max)
			if len(want) > 0 {
				require.Equal(t, want, recs, "ReadAudit(%d, %d)", c.after, c.max)
			}
		}
	})
	t.Run("InvalidBatchAppendsNothing", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		before := appendAudit(t, a, attempt("op-17", 0), attempt("op-17", 1))
		for name, spoil := range map[string]func(*codes.AuditRecord){
			"NoAction":   func(r *codes.AuditRecord) { r.Action = "" },
			"ZeroAt":     func(r *codes.AuditRecord) { r.At = time.Time{} },
			"TooLong":    func(r *codes.AuditRecord) { r.Reason = strings.Repeat("x", 1025) },
			"InvalidUTF": func(r *codes.AuditRecord) { r.Target = "\xff\xfe" },
		} {
			batch := []codes.AuditRecord{attempt("op-18", 2), attempt("op-18", 3), attempt("op-18", 4)}
			spoil(&batch[2])
			got, err := a.AppendAudit(ctx, batch)
			require.ErrorIs(t, err, codes.ErrBadAudit, "%s: AppendAudit", name)
			require.Empty(t, got, "%s: a refused batch returns no records", name)
			require.Equal(t, before, readAudit(t, a, 100), "%s: the refused batch appended something", name)
		}
		after := appendAudit(t, a, attempt("op-17", 5))
		require.Equal(t, uint64(3), after[0].Seq, "the record after refused batches")
		verifyAudit(t, a, 3)
	})
	t.Run("ManyVerify", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		n := 0
		for b := range 60 { // 2 460 records: VerifyAudit reads more than one page
			batch := make([]codes.AuditRecord, 1+b%4*27)
			for i := range batch {
				batch[i] = attempt("op-17", n)
				n++
			}
			appendAudit(t, a, batch...)
		}
		verifyAudit(t, a, n)
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := cfg.open(t)
		cfg.testAuditConcurrent(t, []codes.AuditTrail{asAudit(t, s)})
	})
	t.Run("ConcurrentTwoHandles", func(t *testing.T) {
		if cfg.Reopen == nil {
			t.Skip("Config.Reopen is nil: the store has one handle per process")
		}
		s := cfg.open(t)
		cfg.testAuditConcurrent(t, []codes.AuditTrail{asAudit(t, s), asAudit(t, cfg.reopen(t, s))})
	})
	t.Run("CancelledContext", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		before := appendAudit(t, a, attempt("op-17", 0))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := a.AppendAudit(cctx, []codes.AuditRecord{attempt("op-17", 1)})
		require.ErrorIs(t, err, context.Canceled, "AppendAudit")
		require.Equal(t, before, readAudit(t, a, 100), "AppendAudit with a cancelled context appended something")
	})
	t.Run("RoundTrip", func(t *testing.T) {
		a := asAudit(t, cfg.open(t))
		shanghai := time.FixedZone("CST", 8*3600)
		recs := []codes.AuditRecord{
			{ // every field, in Chinese where it is text
				At: time.Date(2022, 6, 14, 9, 30, 15, 123456789, shanghai), Node: "郑州-节点-2",
				Actor: "操作员-张三", Role: "转码员", Action: "transcode", Target: strings.Repeat("ab", 16),
				Authorisation: "豫卫健〔2022〕17号", Reason: "村镇银行储户，无健康理由", Outcome: "forbidden",
				Detail: "缺少转码员角色", Changed: 1 << 40, Client: "[2001:db8::7]:443",
			},
			{At: time.Unix(0, 1).UTC(), Action: "sign_in"}, // every other field empty
			{ // fields at their longest
				At: time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC), Action: "history",
				Node: strings.Repeat("n", 1024), Actor: strings.Repeat("健", 341), Role: strings.Repeat("r", 1024),
				Target: strings.Repeat("t", 1024), Authorisation: strings.Repeat("a", 1024),
				Reason: strings.Repeat("理由", 170), Outcome: strings.Repeat("o", 1024), Detail: strings.Repeat("d", 1024),
				Client: strings.Repeat("c", 1024),
			},
			{At: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour), Action: "transcode", Reason: "\x00\n\t\"'`"},
		}
		got := appendAudit(t, a, recs...)
		read := readAudit(t, a, 100)
		require.Equal(t, got, read, "ReadAudit: the records AppendAudit returned")
		for i, r := range read {
			w := recs[i]
			require.True(t, w.At.Equal(r.At), "record %d: At %v, want %v", i, r.At, w.At)
			w.At, w.Seq, w.Prev, w.Hash = r.At, r.Seq, r.Prev, r.Hash
			require.Equal(t, w, r, "record %d", i)
		}
		verifyAudit(t, a, len(recs))
	})
	t.Run("Tamper", func(t *testing.T) {
		if cfg.Tamper == nil {
			t.Skip("Config.Tamper is nil")
		}
		s := cfg.open(t)
		a := asAudit(t, s)
		for i := range 20 {
			appendAudit(t, a, attempt("op-17", i))
		}
		verifyAudit(t, a, 20)
		cfg.Tamper(t, s, 7)
		n, err := codes.VerifyAudit(ctx, a)
		require.Error(t, err, "VerifyAudit passed a trail whose record 7 was changed in storage")
		var ce *codes.AuditChainError
		require.True(t, errors.As(err, &ce), "VerifyAudit: %v is not an *AuditChainError", err)
		require.Equal(t, uint64(7), ce.Seq, "VerifyAudit names record %d, not the changed record 7: %v", ce.Seq, err)
		require.ErrorIs(t, err, codes.ErrAuditTampered)
		require.Equal(t, uint64(6), n, "VerifyAudit: records verified before the broken link")
	})
}

// testAuditConcurrent: 16 appenders, through the handles in turn, form one
// gapless chain holding each appended record once, at the Seq AppendAudit
// returned for it.
func (cfg Config) testAuditConcurrent(t *testing.T, handles []codes.AuditTrail) {
	const writers, batches = 16, 8
	errs := make([]error, writers)
	appended := make([][]codes.AuditRecord, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			a := handles[g%len(handles)]
			actor := fmt.Sprintf("op-%02d", g)
			for b := range batches {
				batch := make([]codes.AuditRecord, 1+(g+b)%3)
				for i := range batch {
					batch[i] = attempt(actor, b*3+i)
				}
				got, err := a.AppendAudit(context.Background(), batch)
				if err == nil && len(got) != len(batch) {
					err = fmt.Errorf("appended %d records, AppendAudit returned %d", len(batch), len(got))
				}
				if err != nil {
					errs[g] = err
					return
				}
				appended[g] = append(appended[g], got...)
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		require.NoError(t, err, "appender %d", g)
	}
	total := 0
	for _, recs := range appended {
		total += len(recs)
	}
	for i, a := range handles {
		all := readAudit(t, a, 50)
		require.Len(t, all, total, "handle %d: records in the trail, one per record appended", i)
		verifyAudit(t, a, total)
		for g, recs := range appended {
			for _, r := range recs {
				require.Equal(t, r, all[r.Seq-1], "handle %d, appender %d: the record AppendAudit returned is not the one stored at its Seq", i, g)
			}
		}
	}
}
