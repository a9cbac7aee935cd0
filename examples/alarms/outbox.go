package alarms

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Outbox buckets. A delivery's key is its alarm ID, a 0 byte and the
// notifier's name; it lives in exactly one bucket.
var (
	bucketPending   = []byte("pending")   // key -> outboxRecord (JSON): waiting for an attempt
	bucketFailed    = []byte("failed")    // key -> outboxRecord: refused permanently, not retried
	bucketDelivered = []byte("delivered") // key -> outboxRecord without the alarm's content
)

// outboxMaxInFlight bounds the deliveries Run attempts at once.
const outboxMaxInFlight = 16

// Outbox is a persistent queue of alarm deliveries, one per (alarm ID,
// notifier), kept in a bbolt file so that nothing an Enqueue accepted is
// lost to a crash or a restart.
//
// # Guarantees
//
// Enqueue returns only after its transaction is committed and fsynced.
// Run marks a delivery done only after its notifier returned nil, so
// delivery is at least once: a crash (or a failed commit) between the
// receiver's 2xx and the outbox's commit sends the alarm again after the
// restart. Every notifier passes the alarm's ID as the Idempotency-Key, so
// the receiver can drop the repeat; that is the receiver's half of
// "exactly once".
//
// A delivery that fails with a retryable error (no answer, 408, 429, 5xx)
// is tried again after an exponential backoff with jitter, for as long as
// it takes; one that fails with ErrPermanent (another 4xx) is kept as
// failed, logged, counted in Stats and listed by Pending, and not tried
// again. The outbox keeps a small record of every delivered (alarm ID,
// notifier), so enqueuing the same alarm again, even after a restart,
// sends nothing.
//
// # Concurrency
//
// An Outbox is safe for concurrent use; Enqueue wakes a running Run at
// once. Run at most one Run at a time, and stop it (cancel its context and
// wait for it to return) before Close. The file is locked: a second
// process opening it waits a second, then fails.
type Outbox struct {
	db      *bolt.DB
	wake    chan struct{} // capacity 1: "something was enqueued"
	running atomic.Bool
}

// outboxRecord is one delivery as stored.
type outboxRecord struct {
	Alarm       Alarm     `json:"alarm"`
	Notifier    string    `json:"notifier"`
	Enqueued    time.Time `json:"enqueued"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Done        time.Time `json:"done,omitzero"` // when it was delivered or failed
}

// Delivery is one (alarm, notifier) that has not been delivered, as
// Pending reports it.
type Delivery struct {
	AlarmID     string    `json:"alarm_id"`
	Notifier    string    `json:"notifier"`
	Enqueued    time.Time `json:"enqueued"`
	Attempts    int       `json:"attempts"`              // attempts made so far
	NextAttempt time.Time `json:"next_attempt,omitzero"` // zero when Failed
	LastError   string    `json:"last_error,omitempty"`  // the last attempt's error, "" before the first
	// Failed is set when the receiver refused the delivery permanently
	// (ErrPermanent): it stays in the outbox and is not tried again.
	Failed bool `json:"failed,omitempty"`
}

// OutboxStats counts deliveries by state, for /metrics.
type OutboxStats struct {
	Delivered int // accepted by their receiver
	Pending   int // waiting for an attempt (including after a failed one)
	Failed    int // refused permanently
}

// DeliverOptions configures Run. Zero fields mean their default.
type DeliverOptions struct {
	// MinBackoff is the wait after a delivery's first failed attempt; it
	// doubles with each further failure up to MaxBackoff, and each wait is
	// jittered to between half and all of that. Default 1 s.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts, including a receiver's
	// Retry-After. Default 5 min.
	MaxBackoff time.Duration
	// Log receives a record per failed or refused attempt, per delivery,
	// and per pending delivery whose notifier is not configured; nil
	// discards.
	Log *slog.Logger
}

// DefaultDeliverOptions returns the defaults.
func DefaultDeliverOptions() DeliverOptions {
	return DeliverOptions{MinBackoff: time.Second, MaxBackoff: 5 * time.Minute}
}

// Validate reports the first invalid field.
func (o DeliverOptions) Validate() error {
	if o.MinBackoff < 0 {
		return fmt.Errorf("alarms: DeliverOptions.MinBackoff %v is negative", o.MinBackoff)
	}
	if o.MaxBackoff < 0 {
		return fmt.Errorf("alarms: DeliverOptions.MaxBackoff %v is negative", o.MaxBackoff)
	}
	if o.MinBackoff != 0 && o.MaxBackoff != 0 && o.MinBackoff > o.MaxBackoff {
		return fmt.Errorf("alarms: DeliverOptions.MinBackoff %v is above MaxBackoff %v", o.MinBackoff, o.MaxBackoff)
	}
	return nil
}

func (o DeliverOptions) withDefaults() DeliverOptions {
	d := DefaultDeliverOptions()
	if o.MinBackoff == 0 {
		o.MinBackoff = min(d.MinBackoff, cmp.Or(o.MaxBackoff, d.MinBackoff))
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(d.MaxBackoff, o.MinBackoff)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// OpenOutbox opens or creates the outbox file at path (mode 0600: alarm
// texts are masked, but still not for everyone).
func OpenOutbox(path string) (*Outbox, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("alarms: open outbox %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketFailed, bucketDelivered} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("alarms: open outbox %s: %w", path, err)
	}
	return &Outbox{db: db, wake: make(chan struct{}, 1)}, nil
}

// Close closes the file. Stop Run first.
func (o *Outbox) Close() error {
	if err := o.db.Close(); err != nil {
		return fmt.Errorf("alarms: close outbox: %w", err)
	}
	return nil
}

func outboxKey(alarmID, notifier string) []byte {
	return []byte(alarmID + "\x00" + notifier)
}

// Enqueue records one delivery of a to each named notifier and returns
// once that is committed to disk. A (a.ID, notifier) the outbox already
// holds, pending, failed or delivered, is left as it is: enqueuing the
// same alarm again is a no-op, even if its other fields changed (an
// update to send is a new alarm ID). An empty ID or notifier name, or one
// holding a 0 byte, is refused.
func (o *Outbox) Enqueue(a Alarm, notifiers []string) error {
	if a.ID == "" || strings.IndexByte(a.ID, 0) >= 0 {
		return fmt.Errorf("alarms: enqueue: alarm ID %q is empty or holds a 0 byte", a.ID)
	}
	for _, n := range notifiers {
		if n == "" || strings.IndexByte(n, 0) >= 0 {
			return fmt.Errorf("alarms: enqueue %s: notifier name %q is empty or holds a 0 byte", a.ID, n)
		}
	}
	now := time.Now()
	added := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		pending := tx.Bucket(bucketPending)
		for _, n := range notifiers {
			k := outboxKey(a.ID, n)
			if pending.Get(k) != nil || tx.Bucket(bucketFailed).Get(k) != nil || tx.Bucket(bucketDelivered).Get(k) != nil {
				continue
			}
			v, err := json.Marshal(outboxRecord{Alarm: a, Notifier: n, Enqueued: now, NextAttempt: now})
			if err != nil {
				return err
			}
			if err := pending.Put(k, v); err != nil {
				return err
			}
			added = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("alarms: enqueue %s: %w", a.ID, err)
	}
	if added {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Pending returns every delivery not yet delivered: those waiting for an
// attempt, soonest first, then those that failed permanently (Failed set).
// It returns nil if the outbox cannot be read (closed).
func (o *Outbox) Pending() []Delivery {
	var out []Delivery
	_ = o.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketFailed} {
			failed := string(b) == string(bucketFailed)
			start := len(out)
			err := tx.Bucket(b).ForEach(func(_, v []byte) error {
				var r outboxRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				out = append(out, Delivery{
					AlarmID: r.Alarm.ID, Notifier: r.Notifier, Enqueued: r.Enqueued, Attempts: r.Attempts,
					NextAttempt: r.NextAttempt, LastError: r.LastError, Failed: failed,
				})
				return nil
			})
			if err != nil {
				return err
			}
			slices.SortStableFunc(out[start:], func(x, y Delivery) int {
				return cmp.Or(x.NextAttempt.Compare(y.NextAttempt), x.Enqueued.Compare(y.Enqueued))
			})
		}
		return nil
	})
	return out
}

// Stats counts deliveries by state. It returns zeros if the outbox cannot
// be read (closed).
func (o *Outbox) Stats() OutboxStats {
	var s OutboxStats
	_ = o.db.View(func(tx *bolt.Tx) error {
		s.Pending = tx.Bucket(bucketPending).Stats().KeyN
		s.Failed = tx.Bucket(bucketFailed).Stats().KeyN
		s.Delivered = tx.Bucket(bucketDelivered).Stats().KeyN
		return nil
	})
	return s
}

// attemptResult is what one attempt's goroutine hands back to Run.
type attemptResult struct {
	key []byte
	err error
}

// outboxDue is a pending delivery Run may attempt now.
type outboxDue struct {
	key []byte
	rec outboxRecord
}

// Run delivers pending deliveries through ns (keyed by notifier name, as
// NewNotifiers returns them) until ctx ends, then returns ctx.Err(). It
// starts with whatever an earlier process left pending, wakes at once on
// Enqueue, attempts up to 16 deliveries at a time, and after a retryable
// failure waits per DeliverOptions (at least the receiver's Retry-After,
// capped at MaxBackoff). A delivery whose notifier is not in ns stays
// pending, and is logged once per Run. An attempt cut short because ctx
// ended does not count as a failure.
//
// Run returns early with an error when opts are invalid, when another Run
// is running, or when the outbox cannot be read or written (the attempts
// in flight are then finished or cancelled first).
func (o *Outbox) Run(ctx context.Context, ns map[string]Notifier, opts DeliverOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts = opts.withDefaults()
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("alarms: outbox: Run is already running")
	}
	defer o.running.Store(false)

	attemptCtx, cancel := context.WithCancel(ctx)
	results := make(chan attemptResult, outboxMaxInFlight) // never blocks: at most outboxMaxInFlight in flight
	inflight := map[string]bool{}
	var wg sync.WaitGroup
	stop := func() error {
		cancel()
		wg.Wait()
		close(results)
		// Record what finished while stopping, so a delivery a receiver
		// accepted is not sent again after a restart; failures caused by
		// the stop are not attempts.
		var first error
		for r := range results {
			if r.err == nil {
				if err := o.settle(r, opts); err != nil && first == nil {
					first = err
				}
			}
		}
		return first
	}

	unknown := map[string]bool{} // keys already logged as having no notifier
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			if err := stop(); err != nil {
				return errors.Join(ctx.Err(), err)
			}
			return ctx.Err()
		}
		now := time.Now()
		ready, next, err := o.scan(now, inflight, ns, unknown, opts.Log)
		if err != nil {
			return errors.Join(err, stop())
		}
		for _, d := range ready {
			if len(inflight) >= outboxMaxInFlight {
				break // the rest wait for a result, which rescans
			}
			n := ns[d.rec.Notifier]
			inflight[string(d.key)] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- attemptResult{key: d.key, err: n.Notify(attemptCtx, d.rec.Alarm)}
			}()
		}
		var tick <-chan time.Time
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
			tick = timer.C
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done(): // stopped at the top of the loop
		case <-o.wake:
		case <-tick:
		case r := <-results:
			delete(inflight, string(r.key))
			if r.err != nil && ctx.Err() != nil {
				continue // cut short by the stop: not an attempt
			}
			if err := o.settle(r, opts); err != nil {
				return errors.Join(err, stop())
			}
		}
	}
}

// scan returns the pending deliveries due at now that are not in flight
// and have a notifier, soonest first, and the earliest next attempt of the
// others (zero if none).
func (o *Outbox) scan(now time.Time, inflight map[string]bool, ns map[string]Notifier, unknown map[string]bool, log *slog.Logger) ([]outboxDue, time.Time, error) {
	var ready []outboxDue
	var next time.Time
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			if inflight[string(k)] {
				return nil
			}
			var r outboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("delivery %q: %w", k, err)
			}
			if ns[r.Notifier] == nil {
				if !unknown[string(k)] {
					unknown[string(k)] = true
					log.Warn("alarms: delivery waits for a notifier that is not configured",
						"alarm", r.Alarm.ID, "notifier", r.Notifier)
				}
				return nil
			}
			if !r.NextAttempt.After(now) {
				ready = append(ready, outboxDue{key: slices.Clone(k), rec: r})
			} else if next.IsZero() || r.NextAttempt.Before(next) {
				next = r.NextAttempt
			}
			return nil
		})
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("alarms: outbox: read pending: %w", err)
	}
	slices.SortFunc(ready, func(x, y outboxDue) int { return x.rec.NextAttempt.Compare(y.rec.NextAttempt) })
	return ready, next, nil
}

// settle commits an attempt's outcome: delivered, failed for good, or
// pending again after a backoff.
func (o *Outbox) settle(r attemptResult, opts DeliverOptions) error {
	now := time.Now()
	err := o.db.Update(func(tx *bolt.Tx) error {
		pending := tx.Bucket(bucketPending)
		v := pending.Get(r.key)
		if v == nil {
			return nil
		}
		var rec outboxRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		rec.Attempts++
		log := opts.Log.With("alarm", rec.Alarm.ID, "notifier", rec.Notifier, "attempts", rec.Attempts)
		var dest []byte
		switch {
		case r.err == nil:
			// Keep only what identifies the delivery: the alarm's text
			// has no business staying on disk once it was sent.
			rec.Alarm = Alarm{ID: rec.Alarm.ID}
			rec.NextAttempt, rec.Done, dest = time.Time{}, now, bucketDelivered
			log.Info("alarms: delivered")
		case errors.Is(r.err, ErrPermanent):
			rec.LastError, rec.NextAttempt, rec.Done, dest = r.err.Error(), time.Time{}, now, bucketFailed
			log.Error("alarms: delivery refused; not retrying", "err", r.err)
		default:
			wait := backoff(rec.Attempts, opts.MinBackoff, opts.MaxBackoff, rand.Float64())
			if se := (*StatusError)(nil); errors.As(r.err, &se) {
				wait = max(wait, min(se.RetryAfter, opts.MaxBackoff))
			}
			rec.LastError, rec.NextAttempt = r.err.Error(), now.Add(wait)
			log.Warn("alarms: delivery failed; will retry", "err", r.err, "next", rec.NextAttempt)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if dest != nil {
			if err := pending.Delete(r.key); err != nil {
				return err
			}
			return tx.Bucket(dest).Put(r.key, b)
		}
		return pending.Put(r.key, b)
	})
	if err != nil {
		return fmt.Errorf("alarms: outbox: record attempt of %q: %w", r.key, err)
	}
	return nil
}

// backoff returns the wait after a delivery's attempts-th failed attempt:
// lo doubled for each failure before it, capped at hi, then scaled by
// jitter in [0, 1) to between half and all of that, so deliveries that
// failed together do not retry together.
func backoff(attempts int, lo, hi time.Duration, jitter float64) time.Duration {
	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(jitter*float64(d/2))
}
