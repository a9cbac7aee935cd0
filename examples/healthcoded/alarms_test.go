package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/examples/alarms"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

const alarmSecretEnv = "HEALTHCODED_TEST_ALARM_SECRET"

// receiver is a webhook endpoint: it checks each delivery's signature
// and counts the alarms it accepted by their Idempotency-Key.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	down   int // answer 503 to this many more requests
	tries  int
	got    map[string]int // alarm ID -> accepted deliveries
	rules  []string       // the rule of each accepted alarm
	srv    *http.Server
	ln     net.Listener
}

func newReceiver(t *testing.T, addr string) *receiver {
	r := &receiver{t: t, secret: []byte("s3cret-for-tests"), got: map[string]int{}}
	r.listen(addr)
	return r
}

// listen serves on addr ("127.0.0.1:0" for any port).
func (r *receiver) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	require.NoError(r.t, err)
	r.ln = ln
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(ln)
	r.t.Cleanup(func() { r.srv.Close() })
}

func (r *receiver) url() string { return "http://" + r.ln.Addr().String() + "/hook" }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.down > 0 {
		r.down--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	err := alarms.VerifySignature(r.secret, req.Header.Get(alarms.HeaderTimestamp), req.Header.Get(alarms.HeaderSignature), body, time.Now(), 0)
	if err != nil {
		r.t.Errorf("webhook delivery with a bad signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := req.Header.Get(alarms.HeaderIdempotencyKey)
	r.got[id]++
	var rule string
	if _, after, ok := strings.Cut(string(body), `"rule":"`); ok {
		rule, _, _ = strings.Cut(after, `"`)
	}
	r.rules = append(r.rules, rule)
	w.WriteHeader(http.StatusNoContent)
}

// accepted returns the deliveries accepted so far, by alarm ID.
func (r *receiver) accepted() (map[string]int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := map[string]int{}
	for k, v := range r.got {
		got[k] = v
	}
	return got, append([]string(nil), r.rules...)
}

// alarmRules writes an alarm rules file that sends a transcode burst
// (more than threshold persons in a minute) to the webhook at url.
func alarmRules(t *testing.T, dir, url string, threshold int) string {
	t.Helper()
	t.Setenv(alarmSecretEnv, "s3cret-for-tests")
	f := filepath.Join(dir, "alarms.yaml")
	require.NoError(t, os.WriteFile(f, fmt.Appendf(nil, `notifiers:
  - name: ops
    type: webhook
    url: %s
    secret_env: %s
rules:
  - name: transcode-burst
    kind: transcode_rate
    severity: critical
    threshold: %d
    window: 1m
    notify: [ops]
`, url, alarmSecretEnv, threshold), 0o600))
	return f
}

// transcodeGreens transcodes n green demo people to red, one call each.
func (s *server) transcodeGreens(n int) {
	s.t.Helper()
	done := 0
	for _, row := range s.people[1:] {
		if row[4] != "green" || row[1] != "身份证" {
			continue
		}
		body := fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-2026-%d","reason":"alarm test"}`, row[0], done)
		require.Equal(s.t, 200, s.do("POST", "/admin/transcode", transcoder, body, nil))
		if done++; done == n {
			return
		}
	}
	s.t.Fatalf("only %d green people", done)
}

func (s *server) openAlarms() []alarms.Alarm {
	s.t.Helper()
	var out struct{ Alarms []alarms.Alarm }
	require.Equal(s.t, 200, s.do("GET", "/admin/alarms", auditor, "", &out))
	var open []alarms.Alarm
	for _, a := range out.Alarms {
		if a.Resolved.IsZero() {
			open = append(open, a)
		}
	}
	return open
}

// TestAlarmTranscodeBurst: an operator transcodes 60 persons in a minute
// (the rule's threshold is 50): exactly one alarm reaches the webhook,
// signed, and it is listed as open.
func TestAlarmTranscodeBurst(t *testing.T) {
	rc := newReceiver(t, "127.0.0.1:0")
	dir := t.TempDir()
	s := start(t, filepath.Join(dir, "data"), "-alarms", alarmRules(t, dir, rc.url(), 50), "-alarm-tick", "100ms", "-alarm-retry", "50ms")
	s.transcodeGreens(60)
	until(t, "the alarm reaches the webhook", func() bool { got, _ := rc.accepted(); return len(got) > 0 })
	time.Sleep(time.Second) // time enough for a second delivery, if one were coming
	got, rules := rc.accepted()
	require.Len(t, got, 1, "one alarm for the burst")
	for id, n := range got {
		require.Equal(t, 1, n, "alarm %s delivered once", id)
	}
	require.Equal(t, []string{"transcode-burst"}, rules)
	open := s.openAlarms()
	require.Len(t, open, 1)
	require.Equal(t, "transcode-burst", open[0].Rule)
	require.Contains(t, open[0].Cause, "demo-transcoder")
}

// TestAlarmReceiverDownThenUp: the receiver answers 503 for a while, then
// accepts: the alarm arrives once.
func TestAlarmReceiverDownThenUp(t *testing.T) {
	rc := newReceiver(t, "127.0.0.1:0")
	rc.down = 4
	dir := t.TempDir()
	s := start(t, filepath.Join(dir, "data"), "-alarms", alarmRules(t, dir, rc.url(), 50), "-alarm-tick", "100ms", "-alarm-retry", "50ms")
	s.transcodeGreens(60)
	until(t, "the alarm gets through", func() bool { got, _ := rc.accepted(); return len(got) > 0 })
	time.Sleep(time.Second)
	got, _ := rc.accepted()
	require.Len(t, got, 1)
	for _, n := range got {
		require.Equal(t, 1, n)
	}
	rc.mu.Lock()
	require.GreaterOrEqual(t, rc.tries, 5, "four refusals, then the delivery")
	rc.mu.Unlock()
}

// TestAlarmPendingSurvivesRestart: the receiver is away when the alarm is
// raised, healthcoded is stopped with the alarm pending, the receiver
// comes up, healthcoded starts again: the alarm arrives, once.
func TestAlarmPendingSurvivesRestart(t *testing.T) {
	// Reserve an address nothing listens on yet.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	url := "http://" + addr + "/hook"

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	rules := alarmRules(t, dir, url, 50)
	s := start(t, data, "-alarms", rules, "-alarm-tick", "100ms", "-alarm-retry", "50ms")
	s.transcodeGreens(60)
	until(t, "a delivery attempt failed", func() bool {
		var out struct {
			Outbox []alarms.Delivery
		}
		require.Equal(t, 200, s.do("GET", "/admin/alarms", auditor, "", &out))
		return len(out.Outbox) == 1 && out.Outbox[0].Attempts > 0
	})
	s.stop()

	rc := newReceiver(t, addr)
	start(t, data, "-alarms", rules, "-alarm-tick", "100ms", "-alarm-retry", "50ms")
	until(t, "the pending alarm arrives after the restart", func() bool { got, _ := rc.accepted(); return len(got) > 0 })
	time.Sleep(time.Second)
	got, rulesSeen := rc.accepted()
	require.Len(t, got, 1)
	for _, n := range got {
		require.Equal(t, 1, n)
	}
	require.Equal(t, []string{"transcode-burst"}, rulesSeen)
}

// TestAlarmRulesRefused: a rules file with problems refuses the start,
// naming every problem with its line and column; reloaded while running,
// it is refused and the rules in force keep raising alarms.
func TestAlarmRulesRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	badRules := `rules:
  - name: burst
    kind: transcode_rates
    severity: loud
    threshold: -1
    window: 1m
`
	require.NoError(t, os.WriteFile(bad, []byte(badRules), 0o600))
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", filepath.Join(dir, "d0"), "-demo-people", "0", "-alarms", bad}, io.Discard, io.Discard)
	var re *alarms.RulesError
	require.ErrorAs(t, err, &re)
	require.GreaterOrEqual(t, len(re.Problems), 3, "every problem, not the first: %v", err)
	for _, want := range []string{"bad.yaml:3:11", "bad.yaml:4:15", "bad.yaml:5:16"} {
		require.Contains(t, err.Error(), want)
	}

	rc := newReceiver(t, "127.0.0.1:0")
	good := alarmRules(t, dir, rc.url(), 50)
	s := start(t, filepath.Join(dir, "data"), "-alarms", good, "-alarm-tick", "100ms", "-alarm-retry", "50ms")
	require.NoError(t, os.WriteFile(good, []byte(badRules), 0o600))
	var answer struct {
		Problems []alarms.Problem
	}
	require.Equal(t, 422, s.do("POST", "/admin/alarms/reload", rulesAdmin, "", &answer))
	require.GreaterOrEqual(t, len(answer.Problems), 3)
	s.transcodeGreens(60)
	until(t, "the rules in force still raise the alarm", func() bool { got, _ := rc.accepted(); return len(got) > 0 })
}

// TestAuditTrail: every admin attempt, refusals included, is in the
// store's audit trail with its actor, outcome and a pseudonym for its
// target; `healthcoded audit verify` checks the chain, and names the
// record in which a stored byte was changed.
func TestAuditTrail(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	id, _ := s.person("green")
	tc := fmt.Sprintf(`{"id":%q,"colour":"yellow","authorisation":"CDC-7","reason":"contact"}`, id)
	require.Equal(t, 200, s.do("POST", "/admin/transcode", transcoder, tc, nil))
	require.Equal(t, 401, s.do("POST", "/admin/transcode", "forged-token", tc, nil))
	require.Equal(t, 403, s.do("POST", "/admin/transcode", auditor, tc, nil))
	require.Equal(t, 422, s.do("POST", "/admin/transcode", transcoder, fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-8"}`, id), nil))
	require.Equal(t, 200, s.do("POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id), nil))
	s.stop()

	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	recs, err := st.ReadAudit(context.Background(), 0, 100)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.Len(t, recs, 5)
	type seen struct{ actor, action, outcome, detail string }
	var got []seen
	for _, r := range recs {
		got = append(got, seen{r.Actor, r.Action, r.Outcome, r.Detail})
		require.NotContains(t, fmt.Sprintf("%+v", r), id, "no raw document number in the trail")
		require.NotEmpty(t, r.Node)
		require.NotEmpty(t, r.Client)
	}
	require.Equal(t, []seen{
		{"demo-transcoder", "transcode", "ok", "transcoded to yellow"},
		{"", "transcode", "unauthenticated", ""},
		{"demo-auditor", "transcode", "forbidden", ""},
		{"demo-transcoder", "transcode", "refused", "refused: reason"},
		{"demo-auditor", "history", "ok", "3 entries, chain ok=true"},
	}, got)
	require.Equal(t, 1, recs[0].Changed, "the transcode changed one code")
	require.Zero(t, recs[3].Changed, "the refused one none")
	require.Equal(t, "CDC-7", recs[0].Authorisation)
	require.Equal(t, "contact", recs[0].Reason)
	require.Len(t, recs[0].Target, 32, "the target is the key's pseudonym")

	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"audit", "verify", "-data", dir}, &out, io.Discard))
	require.Contains(t, out.String(), "verified: 5 records")

	// Change one byte of record 3 (its Action text) in the file.
	db, err := bolt.Open(filepath.Join(dir, "codes.db"), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], 3)
		v := append([]byte(nil), b.Get(k[:])...)
		i := strings.Index(string(v), "transcode")
		require.Positive(t, i)
		v[i] ^= 0x20 // "transcode" -> "Transcode"
		return b.Put(k[:], v)
	}))
	require.NoError(t, db.Close())
	out.Reset()
	err = run(context.Background(), []string{"audit", "verify", "-data", dir}, &out, io.Discard)
	require.True(t, errors.Is(err, errAuditBroken), "%v", err)
	require.Contains(t, err.Error(), "record 3")
	require.Contains(t, out.String(), "BROKEN at record 3")
	var ce *codes.AuditChainError
	require.False(t, errors.As(err, &ce), "the command's error is its own, naming the record")
}

// TestAlarmAcrossNodes: an operator whose 60 transcodes a load balancer
// spreads over two nodes (30 each, under the threshold of 50 on either)
// still raises the alarm, since each node's engine reads the shared audit
// trail; both nodes raise it with the same ID, so the receiver sees one
// alarm (it may be told twice, once by each node's outbox).
func TestAlarmAcrossNodes(t *testing.T) {
	eachWire(t, func(t *testing.T, fresh func(testing.TB) string) {
		rc := newReceiver(t, "127.0.0.1:0")
		dir := t.TempDir()
		rules := alarmRules(t, dir, rc.url(), 50)
		db, keys := fresh(t), t.TempDir()
		args := []string{"-store", db, "-keys", keys, "-alarms", rules, "-alarm-tick", "100ms", "-alarm-retry", "50ms"}
		a := start(t, filepath.Join(dir, "a"), args...)
		b := start(t, filepath.Join(dir, "b"), args...)
		b.people = a.people
		n := 0
		for _, row := range a.people[1:] {
			if row[4] != "green" || row[1] != "身份证" {
				continue
			}
			node := a
			if n%2 == 1 {
				node = b
			}
			body := fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-2026-%d","reason":"spread over nodes"}`, row[0], n)
			require.Equal(t, 200, node.do("POST", "/admin/transcode", transcoder, body, nil))
			if n++; n == 60 {
				break
			}
		}
		until(t, "the alarm reaches the webhook", func() bool { got, _ := rc.accepted(); return len(got) > 0 })
		until(t, "both nodes hold it open", func() bool { return len(a.openAlarms()) == 1 && len(b.openAlarms()) == 1 })
		time.Sleep(time.Second)
		got, rulesSeen := rc.accepted()
		require.Len(t, got, 1, "one alarm, whichever node told it: %v", got)
		for _, r := range rulesSeen {
			require.Equal(t, "transcode-burst", r)
		}
		require.Equal(t, a.openAlarms()[0].ID, b.openAlarms()[0].ID)
	})
}
