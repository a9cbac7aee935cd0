package alarms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// funcNotifier is a Notifier made of a function, for the outbox's own
// tests; deliver_test.go uses real HTTP receivers.
type funcNotifier struct {
	name string
	fn   func(context.Context, Alarm) error
}

func (f funcNotifier) Name() string                              { return f.name }
func (f funcNotifier) Notify(ctx context.Context, a Alarm) error { return f.fn(ctx, a) }

// countingNotifier counts Notify calls by alarm ID and answers with err(call number).
type countingNotifier struct {
	name string
	mu   sync.Mutex
	n    map[string]int
	err  func(call int) error
}

func (c *countingNotifier) Name() string { return c.name }
func (c *countingNotifier) Notify(_ context.Context, a Alarm) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[a.ID]++
	if c.err != nil {
		return c.err(c.n[a.ID])
	}
	return nil
}

func (c *countingNotifier) calls(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

func openTestOutbox(t *testing.T, path string) *Outbox {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "outbox.db")
	}
	o, err := OpenOutbox(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func fastOptions(t *testing.T) DeliverOptions {
	return DeliverOptions{MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

// runOutbox runs o.Run in the background; the returned stop cancels it and
// checks it returned context.Canceled.
func runOutbox(t *testing.T, o *Outbox, ns map[string]Notifier, opts DeliverOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx, ns, opts) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestOutboxEnqueueIsIdempotent(t *testing.T) {
	o := openTestOutbox(t, "")
	a := alarmToSend()
	for range 60 {
		require.NoError(t, o.Enqueue(a, []string{"ops", "sms"}))
	}
	require.NoError(t, o.Enqueue(a, []string{"ops", "ops"}))
	require.Equal(t, OutboxStats{Pending: 2}, o.Stats())
	p := o.Pending()
	require.Len(t, p, 2)
	for _, d := range p {
		require.Equal(t, a.ID, d.AlarmID)
		require.Zero(t, d.Attempts)
		require.False(t, d.Failed)
		require.False(t, d.NextAttempt.IsZero())
	}

	n := &countingNotifier{name: "ops"}
	s := &countingNotifier{name: "sms"}
	stop := runOutbox(t, o, map[string]Notifier{"ops": n, "sms": s}, fastOptions(t))
	waitUntil(t, "both delivered", func() bool { return o.Stats().Delivered == 2 })
	// Enqueued again after delivery: still nothing to send.
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	time.Sleep(20 * time.Millisecond)
	stop()
	require.Equal(t, 1, n.calls(a.ID))
	require.Equal(t, 1, s.calls(a.ID))
	require.Equal(t, OutboxStats{Delivered: 2}, o.Stats())
	require.Empty(t, o.Pending())
}

func TestOutboxEnqueueRefusesBadKeys(t *testing.T) {
	o := openTestOutbox(t, "")
	require.ErrorContains(t, o.Enqueue(Alarm{}, []string{"ops"}), "alarm ID")
	require.ErrorContains(t, o.Enqueue(Alarm{ID: "a\x00b"}, []string{"ops"}), "alarm ID")
	require.ErrorContains(t, o.Enqueue(Alarm{ID: "a"}, []string{""}), "notifier name")
	require.ErrorContains(t, o.Enqueue(Alarm{ID: "a"}, []string{"ops", "o\x00ps"}), "notifier name")
	require.Equal(t, OutboxStats{}, o.Stats(), "a refused Enqueue adds nothing")
}

func TestOutboxSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := OpenOutbox(path)
	require.NoError(t, err)
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"ops"}))
	require.NoError(t, o.Close())

	o = openTestOutbox(t, path)
	require.Equal(t, OutboxStats{Pending: 1}, o.Stats())
	var got []Alarm
	var mu sync.Mutex
	n := funcNotifier{"ops", func(_ context.Context, a Alarm) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, a)
		return nil
	}}
	stop := runOutbox(t, o, map[string]Notifier{"ops": n}, fastOptions(t))
	waitUntil(t, "delivery", func() bool { return o.Stats().Delivered == 1 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	require.Equal(t, a.ID, got[0].ID)
	require.Equal(t, a.Text, got[0].Text)
	require.True(t, a.Opened.Equal(got[0].Opened))
}

func TestOutboxUnknownNotifierStaysPending(t *testing.T) {
	o := openTestOutbox(t, "")
	require.NoError(t, o.Enqueue(alarmToSend(), []string{"ops", "gone"}))
	n := &countingNotifier{name: "ops"}
	stop := runOutbox(t, o, map[string]Notifier{"ops": n}, fastOptions(t))
	waitUntil(t, "ops delivered", func() bool { return o.Stats().Delivered == 1 })
	time.Sleep(20 * time.Millisecond)
	stop()
	require.Equal(t, OutboxStats{Delivered: 1, Pending: 1}, o.Stats())
	p := o.Pending()
	require.Len(t, p, 1)
	require.Equal(t, "gone", p[0].Notifier)
	require.Zero(t, p[0].Attempts)
}

func TestOutboxRetriesThenPermanent(t *testing.T) {
	o := openTestOutbox(t, "")
	a := alarmToSend()
	require.NoError(t, o.Enqueue(a, []string{"flaky", "refuses"}))
	flaky := &countingNotifier{name: "flaky", err: func(call int) error {
		if call <= 3 {
			return fmt.Errorf("try %d: connection refused", call)
		}
		return nil
	}}
	refuses := &countingNotifier{name: "refuses", err: func(int) error {
		return fmt.Errorf("bad request: %w", ErrPermanent)
	}}
	stop := runOutbox(t, o, map[string]Notifier{"flaky": flaky, "refuses": refuses}, fastOptions(t))
	waitUntil(t, "settled", func() bool { s := o.Stats(); return s.Delivered == 1 && s.Failed == 1 })
	time.Sleep(50 * time.Millisecond) // several MaxBackoffs: a failed delivery is not tried again
	stop()
	require.Equal(t, 4, flaky.calls(a.ID))
	require.Equal(t, 1, refuses.calls(a.ID))
	p := o.Pending()
	require.Len(t, p, 1)
	require.Equal(t, Delivery{AlarmID: a.ID, Notifier: "refuses", Enqueued: p[0].Enqueued, Attempts: 1,
		LastError: "bad request: alarms: permanent delivery failure", Failed: true}, p[0])

	// Failed stays failed across a restart, and enqueuing it again is a no-op.
	require.NoError(t, o.Enqueue(a, []string{"refuses"}))
	stop = runOutbox(t, o, map[string]Notifier{"flaky": flaky, "refuses": refuses}, fastOptions(t))
	time.Sleep(20 * time.Millisecond)
	stop()
	require.Equal(t, 1, refuses.calls(a.ID))
}

func TestOutboxCancelIsNotAnAttempt(t *testing.T) {
	o := openTestOutbox(t, "")
	require.NoError(t, o.Enqueue(alarmToSend(), []string{"slow"}))
	started := make(chan struct{})
	slow := funcNotifier{"slow", func(ctx context.Context, _ Alarm) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	stop := runOutbox(t, o, map[string]Notifier{"slow": slow}, fastOptions(t))
	<-started
	stop()
	p := o.Pending()
	require.Len(t, p, 1)
	require.Zero(t, p[0].Attempts)
	require.Empty(t, p[0].LastError)
}

func TestOutboxRunOnce(t *testing.T) {
	o := openTestOutbox(t, "")
	runOutbox(t, o, nil, fastOptions(t))
	waitUntil(t, "first Run", o.running.Load)
	err := o.Run(context.Background(), nil, fastOptions(t))
	require.ErrorContains(t, err, "already running")
}

func TestOutboxRunRefusesBadOptions(t *testing.T) {
	o := openTestOutbox(t, "")
	for _, opts := range []DeliverOptions{
		{MinBackoff: -1},
		{MaxBackoff: -time.Second},
		{MinBackoff: time.Minute, MaxBackoff: time.Second},
	} {
		require.ErrorContains(t, o.Run(context.Background(), nil, opts), "DeliverOptions.", "%+v", opts)
	}
}

func TestOutboxRunAfterClose(t *testing.T) {
	o, err := OpenOutbox(filepath.Join(t.TempDir(), "outbox.db"))
	require.NoError(t, err)
	require.NoError(t, o.Close())
	err = o.Run(context.Background(), nil, DeliverOptions{})
	require.Error(t, err)
	require.False(t, errors.Is(err, context.Canceled))
	require.Nil(t, o.Pending())
	require.Equal(t, OutboxStats{}, o.Stats())
}

func TestOutboxFileIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	openTestOutbox(t, path)
	_, err := OpenOutbox(path)
	require.ErrorContains(t, err, "alarms: open outbox")
}

func TestDeliverOptionsDefaults(t *testing.T) {
	d := DeliverOptions{}.withDefaults()
	require.Equal(t, time.Second, d.MinBackoff)
	require.Equal(t, 5*time.Minute, d.MaxBackoff)
	require.NotNil(t, d.Log)
	d = DeliverOptions{MaxBackoff: 100 * time.Millisecond}.withDefaults()
	require.Equal(t, 100*time.Millisecond, d.MinBackoff, "a zero MinBackoff never exceeds MaxBackoff")
	d = DeliverOptions{MinBackoff: 10 * time.Minute}.withDefaults()
	require.Equal(t, 10*time.Minute, d.MaxBackoff)
}

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, 5*time.Minute
	for _, tc := range []struct {
		attempts int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, 999_999_500 * time.Nanosecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{9, 0, 128 * time.Second},
		{10, 0, 150 * time.Second}, // 512 s capped at 300 s, halved
		{10, 1, hi},
		{1000, 0.5, 225 * time.Second},
	} {
		require.Equal(t, tc.want, backoff(tc.attempts, lo, hi, tc.jitter), "attempts %d jitter %v", tc.attempts, tc.jitter)
	}
}
