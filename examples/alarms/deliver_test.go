package alarms

// End-to-end delivery: an Outbox, the notifiers NewNotifiers builds, and
// real HTTP receivers (httptest servers) that verify signatures and count
// what they accepted by Idempotency-Key.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// webhookReceiver is a receiver as a province's system would write one:
// it verifies the signature (401 if wrong), answers 503 while down, and
// counts the deliveries it accepted (answered 2xx) by Idempotency-Key.
type webhookReceiver struct {
	secret []byte

	mu          sync.Mutex
	down        int            // answer the next down requests with 503
	status      int            // if set, answer every verified request with it
	retryAfter  string         // Retry-After on 503 and status answers
	requests    int            // every request
	refused     int            // signature did not verify
	accepted    map[string]int // 2xx answers by Idempotency-Key
	payloads    []WebhookPayload
	lastRequest time.Time
}

func newReceiver(secret string) *webhookReceiver {
	return &webhookReceiver{secret: []byte(secret), accepted: map[string]int{}}
}

func (rc *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	rc.lastRequest = time.Now()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := VerifySignature(rc.secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), time.Minute); err != nil {
		rc.refused++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.retryAfter != "" {
		w.Header().Set("Retry-After", rc.retryAfter)
	}
	if rc.down > 0 {
		rc.down--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if rc.status != 0 {
		w.WriteHeader(rc.status)
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(HeaderIdempotencyKey) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.accepted[p.ID]++
	rc.payloads = append(rc.payloads, p)
	w.WriteHeader(http.StatusNoContent)
}

// counts returns every request, the refused ones, and the 2xx answers for id.
func (rc *webhookReceiver) counts(id string) (requests, refused, accepted int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, rc.refused, rc.accepted[id]
}

func webhookTo(t *testing.T, url, secret string) map[string]Notifier {
	t.Helper()
	ns, err := NewNotifiers([]NotifierConfig{{Name: "ops", Type: "webhook", URL: url, SecretEnv: "HOOK_SECRET", Line: 3, Column: 5}},
		envOf(map[string]string{"HOOK_SECRET": secret}), nil)
	require.NoError(t, err)
	return ns
}

// restartOn starts a server for h on addr, where an earlier one listened.
func restartOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	var l net.Listener
	waitUntil(t, "the address to be free again", func() bool {
		var err error
		l, err = net.Listen("tcp", addr)
		return err == nil
	})
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// settleRetries waits long enough for several retries at fastOptions' backoff, so
// a test that sees no further request knows there was none to come.
func settleRetries() { time.Sleep(60 * time.Millisecond) }

// An operator transcodes 60 persons in a minute; the engine offers the
// same open alarm each time: exactly one alarm reaches the receiver, with
// a valid signature.
func TestDeliverBurstArrivesOnceSigned(t *testing.T) {
	rc := newReceiver("s3cret")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), fastOptions(t))
	a := alarmToSend()
	for i := range 60 {
		a.Count, a.LastSeen = i+1, a.Opened.Add(time.Duration(i)*time.Second)
		require.NoError(t, o.Enqueue(a, []string{"ops"}))
	}
	waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
	settleRetries()
	stop()
	requests, refused, accepted := rc.counts(a.ID)
	require.Equal(t, [3]int{1, 0, 1}, [3]int{requests, refused, accepted})
	require.Equal(t, 1, rc.payloads[0].Count, "the alarm as first enqueued")
	require.Equal(t, OutboxStats{Delivered: 1}, o.Stats())
}

// A receiver holding another secret refuses the signature (401): the
// delivery fails permanently and is not retried.
func TestDeliverWrongSecretIsRefused(t *testing.T) {
	rc := newReceiver("theirs")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, webhookTo(t, srv.URL, "ours"), fastOptions(t))
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	waitUntil(t, "failure", func() bool { return o.Stats().Failed == 1 })
	settleRetries()
	stop()
	requests, refused, accepted := rc.counts(a.ID)
	require.Equal(t, [3]int{1, 1, 0}, [3]int{requests, refused, accepted})
	p := o.Pending()
	require.Len(t, p, 1)
	require.True(t, p[0].Failed)
	require.Contains(t, p[0].LastError, "401")
}

// The webhookReceiver is down (503) for a while, then up: the alarm arrives once.
func TestDeliverReceiverDownThenUp(t *testing.T) {
	rc := newReceiver("s3cret")
	rc.down = 5
	srv := httptest.NewServer(rc)
	defer srv.Close()
	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), fastOptions(t))
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
	settleRetries()
	stop()
	requests, refused, accepted := rc.counts(a.ID)
	require.Equal(t, [3]int{6, 0, 1}, [3]int{requests, refused, accepted})
}

// The receiver's listener is closed (connection refused), then a server
// starts on the same address: the alarm arrives once.
func TestDeliverConnectionRefusedThenUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, webhookTo(t, "http://"+addr+"/alarms", "s3cret"), fastOptions(t))
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	waitUntil(t, "three refused attempts", func() bool {
		p := o.Pending()
		return len(p) == 1 && p[0].Attempts >= 3
	})
	require.Contains(t, o.Pending()[0].LastError, "connection refused")

	rc := newReceiver("s3cret")
	restartOn(t, addr, rc)

	waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
	settleRetries()
	stop()
	requests, refused, accepted := rc.counts(a.ID)
	require.Equal(t, [3]int{1, 0, 1}, [3]int{requests, refused, accepted})
}

// healthcoded restarts with an alarm pending: it arrives after the
// restart, once. Two ways to be pending: enqueued and never tried, and
// tried while the receiver was down.
func TestDeliverAfterRestart(t *testing.T) {
	rc := newReceiver("s3cret")
	rc.down = 1 << 30
	srv := httptest.NewServer(rc)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "outbox.db")
	untried, tried := alarmToSend(), alarmToSend()
	untried.ID, tried.ID = "untried", "tried"

	o, err := OpenOutbox(path)
	require.NoError(t, err)
	require.NoError(t, o.Enqueue(tried, []string{"ops"}))
	stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), fastOptions(t))
	waitUntil(t, "failed attempts", func() bool {
		p := o.Pending()
		return len(p) == 1 && p[0].Attempts >= 2
	})
	stop()
	require.NoError(t, o.Enqueue(untried, []string{"ops"}))
	require.NoError(t, o.Close())

	// The receiver comes back on the same address. Closing the first
	// server waits for the requests it still holds: one whose sender gave
	// up when Run stopped would otherwise be accepted late, a delivery the
	// outbox cannot know of (at least once; the Idempotency-Key is for
	// that).
	srv.Close()
	rc.mu.Lock()
	rc.down = 0
	rc.mu.Unlock()
	srv = restartOn(t, srv.Listener.Addr().String(), rc)
	o = openTestOutbox(t, path)
	require.Equal(t, OutboxStats{Pending: 2}, o.Stats())
	stop = runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), fastOptions(t))
	waitUntil(t, "both delivered", func() bool { return o.Stats().Delivered == 2 })
	settleRetries()
	stop()
	for _, id := range []string{"tried", "untried"} {
		_, refused, accepted := rc.counts(id)
		require.Equal(t, [2]int{0, 1}, [2]int{refused, accepted}, id)
	}
}

// A 400 is permanent: marked failed, not retried.
func TestDeliverBadRequestIsNotRetried(t *testing.T) {
	rc := newReceiver("s3cret")
	rc.status = http.StatusBadRequest
	srv := httptest.NewServer(rc)
	defer srv.Close()
	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), fastOptions(t))
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	waitUntil(t, "failure", func() bool { return o.Stats().Failed == 1 })
	settleRetries()
	stop()
	requests, _, _ := rc.counts(a.ID)
	require.Equal(t, 1, requests)
	require.Equal(t, OutboxStats{Failed: 1}, o.Stats())
	p := o.Pending()
	require.Equal(t, 1, p[0].Attempts)
	require.Contains(t, p[0].LastError, "400")
}

// Retry-After is honoured, up to MaxBackoff.
func TestDeliverRetryAfter(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		rc := newReceiver("s3cret")
		rc.status, rc.retryAfter = http.StatusTooManyRequests, "30"
		srv := httptest.NewServer(rc)
		defer srv.Close()
		o := openTestOutbox(t, "")
		opts := fastOptions(t)
		opts.MaxBackoff = time.Hour
		stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), opts)
		require.NoError(t, o.Enqueue(alarmToSend(), []string{"ops"}))
		waitUntil(t, "an attempt", func() bool { p := o.Pending(); return len(p) == 1 && p[0].Attempts == 1 })
		stop()
		rc.mu.Lock()
		last := rc.lastRequest
		rc.mu.Unlock()
		require.WithinRange(t, o.Pending()[0].NextAttempt, last.Add(29*time.Second), last.Add(31*time.Second))
	})
	t.Run("capped", func(t *testing.T) {
		rc := newReceiver("s3cret")
		rc.down, rc.retryAfter = 1, strconv.Itoa(3600)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		o := openTestOutbox(t, "")
		opts := fastOptions(t)
		opts.MaxBackoff = 50 * time.Millisecond
		stop := runOutbox(t, o, webhookTo(t, srv.URL, "s3cret"), opts)
		start := time.Now()
		require.NoError(t, o.Enqueue(alarmToSend(), []string{"ops"}))
		waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
		stop()
		require.GreaterOrEqual(t, time.Since(start), opts.MaxBackoff, "waited the capped Retry-After")
	})
}

// An SMS gateway through the outbox: the body and headers as configured,
// the Idempotency-Key, once.
func TestDeliverSMS(t *testing.T) {
	rec := &httpRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ns, err := NewNotifiers([]NotifierConfig{{
		Name: "sms", Type: "sms", URL: srv.URL, Headers: map[string]string{"X-Api-Key": "${SMS_KEY}"},
		Body: `{"mobile":"13800000000","content":{{json .Text}}}`,
	}}, envOf(map[string]string{"SMS_KEY": "key"}), nil)
	require.NoError(t, err)
	o := openTestOutbox(t, "")
	stop := runOutbox(t, o, ns, fastOptions(t))
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"sms"}))
	require.NoError(t, o.Enqueue(a, []string{"sms"}))
	waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
	settleRetries()
	stop()
	got := rec.requests()
	require.Len(t, got, 1)
	require.Equal(t, "key", got[0].header.Get("X-Api-Key"))
	require.Equal(t, a.ID, got[0].header.Get(HeaderIdempotencyKey))
	require.JSONEq(t, `{"mobile":"13800000000","content":"张** transcoded 60 persons in 1m"}`, string(got[0].body))
}
