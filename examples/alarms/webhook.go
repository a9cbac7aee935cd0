package alarms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	HeaderIdempotencyKey = "Idempotency-Key"        // the alarm's ID
	HeaderTimestamp      = "X-Healthcode-Timestamp" // unix seconds when the request was signed
	HeaderSignature      = "X-Healthcode-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// DefaultMaxSkew is how far a webhook timestamp may be from the receiver's
// clock when VerifySignature is given no maxSkew.
const DefaultMaxSkew = 5 * time.Minute

// ErrSignature is a webhook request whose signature does not verify: wrong
// secret, altered body, malformed headers or a stale timestamp.
var ErrSignature = errors.New("alarms: webhook signature invalid")

// WebhookPayload is the JSON body a Webhook posts; receivers decode it.
// Times are UTC, RFC 3339; Resolved is null while the alarm is open.
type WebhookPayload struct {
	ID       string     `json:"id"`
	Cause    string     `json:"cause"`
	Rule     string     `json:"rule"`
	Severity Severity   `json:"severity"`
	Subject  string     `json:"subject"`
	Text     string     `json:"text"`
	Opened   time.Time  `json:"opened"`
	LastSeen time.Time  `json:"last_seen"`
	Count    int        `json:"count"`
	Resolved *time.Time `json:"resolved"`
}

func webhookPayload(a Alarm) WebhookPayload {
	p := WebhookPayload{
		ID: a.ID, Cause: a.Cause, Rule: a.Rule, Severity: a.Severity, Subject: a.Subject, Text: a.Text,
		Opened: a.Opened.UTC(), LastSeen: a.LastSeen.UTC(), Count: a.Count,
	}
	if !a.Resolved.IsZero() {
		r := a.Resolved.UTC()
		p.Resolved = &r
	}
	return p
}

// Webhook posts each alarm as a WebhookPayload, signed with HMAC-SHA256 so
// the receiver can check it came from this server and was not replayed
// long after (see VerifySignature). Each attempt is signed afresh, with the
// time it is sent. Build it with NewNotifiers; it is safe for concurrent
// use.
type Webhook struct {
	httpSender
	secret []byte
	now    func() time.Time
}

var _ Notifier = (*Webhook)(nil)

// Name returns the notifier's name in the rules file.
func (w *Webhook) Name() string { return w.name }

// Notify posts a; see Notifier for what the error means.
func (w *Webhook) Notify(ctx context.Context, a Alarm) error {
	body, err := json.Marshal(webhookPayload(a))
	if err != nil {
		return fmt.Errorf("alarms: notifier %q: %w: %w", w.name, ErrPermanent, err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderIdempotencyKey, a.ID)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, signWebhook(w.secret, ts, body))
	return w.post(ctx, body, h)
}

func signWebhook(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a webhook request as its receiver got it:
// timestamp and signature are the X-Healthcode-Timestamp and
// X-Healthcode-Signature headers, body the raw request body (before any
// decoding). It refuses, with an error wrapping ErrSignature, a timestamp
// further than maxSkew from now in either direction (maxSkew <= 0 means
// DefaultMaxSkew), so a captured request cannot be replayed later, and a
// signature that is not HMAC-SHA256(secret, timestamp + "." + body); the
// comparison takes constant time.
//
// A valid signature is not a unique delivery: the sender delivers at least
// once, so receivers drop repeats by the Idempotency-Key header.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) error {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrSignature, timestamp)
	}
	if skew := now.Sub(time.Unix(secs, 0)).Abs(); skew > maxSkew {
		return fmt.Errorf("%w: timestamp %d is %v from now, more than %v", ErrSignature, secs, skew.Truncate(time.Second), maxSkew)
	}
	hexSig, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return fmt.Errorf("%w: signature does not start with sha256=", ErrSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrSignature)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("%w: signature does not match", ErrSignature)
	}
	return nil
}
