package auditexport

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// trail is the test's audit trail: a slice behind a mutex, chained with
// codes.ChainAudit as a store chains it.
type trail struct {
	mu   sync.Mutex
	recs []codes.AuditRecord
}

var _ codes.AuditTrail = (*trail)(nil)

func (t *trail) AppendAudit(_ context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]codes.AuditRecord, 0, len(recs))
	for _, r := range recs {
		if err := codes.ValidateAudit(&r); err != nil {
			return nil, err
		}
		var head codes.AuditRecord
		if n := len(t.recs); n > 0 {
			head = t.recs[n-1]
		}
		r = codes.ChainAudit(head, r)
		t.recs = append(t.recs, r)
		out = append(out, r)
	}
	return out, nil
}

func (t *trail) ReadAudit(ctx context.Context, after uint64, max int) ([]codes.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if after >= uint64(len(t.recs)) {
		return nil, nil
	}
	end := min(uint64(len(t.recs)), after+uint64(max))
	return append([]codes.AuditRecord(nil), t.recs[after:end]...), nil
}

func (t *trail) all() []codes.AuditRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]codes.AuditRecord(nil), t.recs...)
}

// attempt returns the i-th admin attempt of the tests' trails: a mix of
// actions and outcomes, with values that need escaping.
func attempt(i int) codes.AuditRecord {
	actions := []string{"transcode", "history", "sign_in", "rule_activate"}
	outcomes := []string{"ok", "ok", "ok", "forbidden", "unauthenticated"}
	r := codes.AuditRecord{
		At:      time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second + time.Duration(i)*1234567),
		Node:    "node-" + string(rune('a'+i%3)),
		Actor:   fmt.Sprintf("op%03d", i%17),
		Role:    "admin",
		Action:  actions[i%len(actions)],
		Target:  fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15),
		Outcome: outcomes[i%len(outcomes)],
		Client:  fmt.Sprintf("10.1.%d.%d:4431", i/250, i%250),
	}
	if i%2 == 0 {
		r.Authorisation = fmt.Sprintf(`order "SZ-%d" [2022]`, i)
		r.Reason = `复核 \ review]` + strings.Repeat("x", i%40)
	}
	if r.Outcome == "unauthenticated" {
		r.Actor, r.Role = "", ""
	}
	if r.Outcome == "ok" && r.Action == "transcode" {
		r.Detail, r.Changed = `transcoded to "red"`, 1+i%3
	}
	return r
}

// appendAttempts appends attempts from..to-1 one at a time.
func appendAttempts(t testing.TB, tr *trail, from, to int, after func()) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := tr.AppendAudit(context.Background(), []codes.AuditRecord{attempt(i)}); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after()
		}
	}
}
