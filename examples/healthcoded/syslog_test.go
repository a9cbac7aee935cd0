package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/stretchr/testify/require"
)

// The audit trail's export to a real rsyslogd (issue 18): every admin
// attempt arrives as a parseable RFC 5424 message whose structured data
// matches the stored record, and a collector restarted mid-run loses
// nothing.

// sdID is the SD-ID healthcoded's export writes (auditexport's default).
const sdID = "audit@32473"

// syslogAttempts makes admin attempts of five kinds, the kind and the
// person chosen by the attempt's number, from any goroutine.
type syslogAttempts struct {
	s      *server
	ids    []string // ID-card numbers of the demo population
	client *http.Client
}

func newSyslogAttempts(s *server) *syslogAttempts {
	a := &syslogAttempts{s: s, client: &http.Client{Timeout: 30 * time.Second}}
	for _, row := range s.people[1:] {
		if row[1] == "身份证" {
			a.ids = append(a.ids, row[0])
		}
	}
	require.NotEmpty(s.t, a.ids)
	return a
}

// syslogKinds are the outcomes and details ("outcome|detail") the attempts
// of each kind leave in the trail, in the order of attempt's kinds; "*"
// stands for any text.
var syslogKinds = []string{"ok|transcoded to *", "unauthenticated|", "forbidden|", "refused|refused: reason", "ok|* entries, chain ok=true"}

// attempt makes attempt i and checks its status. i%5 picks the kind: an
// authorised transcode, a forged token, the auditor's token on
// /admin/transcode, a transcode without a reason, a history read. It is
// safe for concurrent use; attempts of different numbers modulo
// len(a.ids) name different persons.
func (a *syslogAttempts) attempt(i int) error {
	id := a.ids[i%len(a.ids)]
	// Each pass over the population moves the persons to the other colour.
	colour := [...]string{"yellow", "red"}[i/len(a.ids)%2]
	tc := fmt.Sprintf(`{"id":%q,"colour":%q,"authorisation":"CDC-2022-%04d","reason":"close contact %d"}`, id, colour, i, i)
	var method, path, token, body string
	var want int
	switch i % 5 {
	case 0:
		method, path, token, body, want = "POST", "/admin/transcode", transcoder, tc, 200
	case 1:
		method, path, token, body, want = "POST", "/admin/transcode", "forged-"+strconv.Itoa(i), tc, 401
	case 2:
		method, path, token, body, want = "POST", "/admin/transcode", auditor, tc, 403
	case 3:
		body = fmt.Sprintf(`{"id":%q,"colour":%q,"authorisation":"CDC-2022-%04d"}`, id, colour, i)
		method, path, token, want = "POST", "/admin/transcode", transcoder, 422
	case 4:
		method, path, token, body, want = "POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id), 200
	}
	req, err := http.NewRequest(method, a.s.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("attempt %d: %w", i, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("attempt %d: %w", i, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("attempt %d: %s %s: %d, want %d: %s", i, method, path, resp.StatusCode, want, b)
	}
	return nil
}

// exportedSeqs counts the seq of each line of lines that parses; lines
// that do not are left to checkExported.
func exportedSeqs(lines [][]byte) map[uint64]int {
	count := map[uint64]int{}
	p := rfc5424.NewParser()
	for _, line := range lines {
		m, err := p.Parse(line)
		if err != nil {
			continue
		}
		sd := m.(*rfc5424.SyslogMessage).StructuredData
		if sd == nil {
			continue
		}
		if seq, err := strconv.ParseUint((*sd)[sdID]["seq"], 10, 64); err == nil {
			count[seq]++
		}
	}
	return count
}

// waitExported polls rsyslogd's file until it holds seqs 1..n, for up to
// 30 s; on failure it shows what the export logged.
func waitExported(t *testing.T, r *testenv.Rsyslogd, s *server, n int) {
	t.Helper()
	start := time.Now()
	for {
		count := exportedSeqs(r.Lines())
		missing := 0
		for seq := uint64(1); seq <= uint64(n); seq++ {
			if count[seq] == 0 {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("every seq of 1..%d in rsyslogd's file %v after the last attempt", n, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 30*time.Second {
			var log []string
			for _, l := range strings.Split(s.stderr.String(), "\n") {
				if strings.Contains(l, "audit-export") {
					log = append(log, l)
				}
			}
			t.Fatalf("after 30 s, %d of seqs 1..%d not in rsyslogd's file; the export logged:\n%s", missing, n, strings.Join(log, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readTrail reads the whole audit trail of the stopped server in dir.
func readTrail(t *testing.T, dir string) []codes.AuditRecord {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer func() { require.NoError(t, st.Close()) }()
	var recs []codes.AuditRecord
	for {
		page, err := st.ReadAudit(context.Background(), uint64(len(recs)), 100)
		require.NoError(t, err)
		if len(page) == 0 {
			return recs
		}
		recs = append(recs, page...)
	}
}

// checkExported checks rsyslogd's lines against the stored trail: every
// line parses as strict RFC 5424 with the record's seq, actor, action,
// outcome, target and hash in the structured data, every record arrived,
// and no document number of the population is in the file. It returns
// how many lines repeat a record (at least once allows them).
func checkExported(t *testing.T, lines [][]byte, recs []codes.AuditRecord, people [][]string) (dups int) {
	t.Helper()
	p := rfc5424.NewParser()
	count := map[uint64]int{}
	for _, line := range lines {
		pm, err := p.Parse(line)
		if err != nil {
			t.Errorf("not RFC 5424: %v\n%s", err, line)
			continue
		}
		m := pm.(*rfc5424.SyslogMessage)
		if m.StructuredData == nil || (*m.StructuredData)[sdID] == nil {
			t.Errorf("no %s structured data: %s", sdID, line)
			continue
		}
		sd := (*m.StructuredData)[sdID]
		seq, err := strconv.ParseUint(sd["seq"], 10, 64)
		if err != nil || seq == 0 || seq > uint64(len(recs)) {
			t.Errorf("seq %q not in the trail of %d records: %s", sd["seq"], len(recs), line)
			continue
		}
		count[seq]++
		rec := &recs[seq-1]
		require.Equal(t, seq, rec.Seq, "the trail is numbered from 1")
		for _, f := range []struct{ name, want string }{
			{"actor", rec.Actor}, {"action", rec.Action}, {"outcome", rec.Outcome},
			{"target", rec.Target}, {"detail", rec.Detail}, {"changed", strconv.Itoa(rec.Changed)},
			{"hash", hex.EncodeToString(rec.Hash[:])},
		} {
			if got, ok := sd[f.name]; !ok || got != f.want {
				t.Errorf("seq %d: %s=%q (present %v), want %q: %s", seq, f.name, got, ok, f.want, line)
			}
		}
		if m.MsgID == nil || *m.MsgID != rec.Action {
			t.Errorf("seq %d: MSGID %v, want %q", seq, m.MsgID, rec.Action)
		}
	}
	for i := range recs {
		switch c := count[recs[i].Seq]; {
		case c == 0:
			t.Errorf("seq %d (%s %s) lost", recs[i].Seq, recs[i].Action, recs[i].Outcome)
		case c > 1:
			dups += c - 1
		}
	}
	file := bytes.Join(lines, []byte("\n"))
	for _, row := range people[1:] {
		if bytes.Contains(file, []byte(row[0])) {
			t.Errorf("the document number of a demo person (%s) is in rsyslogd's file", row[1])
		}
	}
	return dups
}

// checkKinds checks that the trail holds n attempts made by attempt, in any
// order: as many of each kind's outcome as were made.
func checkKinds(t *testing.T, recs []codes.AuditRecord, n int) {
	t.Helper()
	want, got := map[string]int{}, map[string]int{}
	for i := range n {
		want[syslogKinds[i%5]]++
	}
	for _, r := range recs {
		kind := r.Outcome + "|" + r.Detail
		for _, k := range syslogKinds {
			pre, suf, wild := strings.Cut(k, "*")
			if wild && strings.HasPrefix(kind, pre) && strings.HasSuffix(kind, suf) {
				kind = k
				break
			}
		}
		got[kind]++
	}
	require.Equal(t, want, got, "outcomes in the trail")
}

// TestAuditExportToRsyslog: admin attempts of every kind, from several
// goroutines, while the collector is stopped for 2 s and started again;
// every record of the trail reaches rsyslogd's file as a strict RFC 5424
// message that matches it, and no document number leaves the server.
func TestAuditExportToRsyslog(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	dir := t.TempDir()
	s := start(t, dir, "-syslog", r.TCPURL())
	a := newSyslogAttempts(s)

	const workers = 3
	var (
		next, done atomic.Int64
		stop       = make(chan struct{})
		halt       = sync.OnceFunc(func() { close(stop) })
		wg         sync.WaitGroup
	)
	// However the test ends, no attempt outlives it.
	t.Cleanup(func() { halt(); wg.Wait() })
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := a.attempt(int(next.Add(1) - 1)); err != nil {
					t.Error(err)
					return
				}
				done.Add(1)
				time.Sleep(5 * time.Millisecond) // a steady trickle, not a flood
			}
		})
	}
	stopWorkers := func() int {
		t.Helper()
		halt()
		wg.Wait()
		require.False(t, t.Failed(), "an attempt failed")
		require.Equal(t, next.Load(), done.Load())
		return int(done.Load())
	}
	// atLeast waits until n attempts are done.
	atLeast := func(n int64, what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for done.Load() < n {
			if t.Failed() || time.Now().After(deadline) {
				halt()
				wg.Wait()
				t.Fatalf("%d attempts done, want %d %s", done.Load(), n, what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	atLeast(40, "before the collector stops")
	r.Stop()
	stoppedAt, linesAtStop := done.Load(), len(r.Lines())
	time.Sleep(2 * time.Second) // the collector is away; the attempts go on
	atLeast(stoppedAt+10, "while the collector is away")
	r.Start()
	restartedAt := done.Load()
	atLeast(max(restartedAt+40, 120), "after the collector is back")
	n := stopWorkers()
	t.Logf("%d attempts: %d before rsyslogd stopped (%d in its file then), %d while it was away or starting, %d after",
		n, stoppedAt, linesAtStop, restartedAt-stoppedAt, int64(n)-restartedAt)

	waitExported(t, r, s, n)
	s.stop()
	recs := readTrail(t, dir)
	require.Len(t, recs, n, "one record per attempt")
	checkKinds(t, recs, n)
	lines := r.Lines()
	dups := checkExported(t, lines, recs, s.people)
	t.Logf("%d records, %d lines, %d duplicates", len(recs), len(lines), dups)
}

// TestAuditExportUDP: over UDP too, attempts arrive and parse.
func TestAuditExportUDP(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	dir := t.TempDir()
	s := start(t, dir, "-syslog", r.UDPURL())
	a := newSyslogAttempts(s)
	const n = 20
	for i := range n {
		require.NoError(t, a.attempt(i))
	}
	waitExported(t, r, s, n)
	s.stop()
	recs := readTrail(t, dir)
	require.Len(t, recs, n, "one record per attempt")
	checkKinds(t, recs, n)
	lines := r.Lines()
	if dups := checkExported(t, lines, recs, s.people); dups != 0 {
		t.Errorf("%d duplicates over UDP", dups)
	}
}
