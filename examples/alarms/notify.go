package alarms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Notifier tells someone about an alarm: a signed webhook (Webhook) or an
// SMS gateway (SMS). Notify returns nil only when the receiver accepted the
// alarm; an error wrapping ErrPermanent when trying again cannot help (the
// receiver refused the request); any other error when a later attempt may
// succeed. A *StatusError carries the receiver's answer and its
// Retry-After.
//
// Notify passes a.ID as the Idempotency-Key, so a receiver that sees the
// same alarm twice (the outbox delivers at least once) can drop the repeat.
// Notifiers built by NewNotifiers are safe for concurrent use.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, a Alarm) error
}

// ErrPermanent marks a delivery failure that retrying will not fix: the
// receiver answered 4xx (other than 408 and 429) or 3xx. The outbox keeps
// such a delivery as failed and does not retry it.
var ErrPermanent = errors.New("alarms: permanent delivery failure")

// StatusError is a receiver's answer other than 2xx. It unwraps to
// ErrPermanent unless the status is worth retrying (408, 429, 5xx).
type StatusError struct {
	Notifier string
	Status   int    // HTTP status code
	Body     string // the start of the response body, for the log
	// RetryAfter is the receiver's Retry-After (delta-seconds or an HTTP
	// date), 0 when absent or unparsable. The outbox waits at least this
	// long, up to its MaxBackoff.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("alarms: notifier %q: receiver answered %d %s", e.Notifier, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + strconv.Quote(e.Body)
	}
	return msg
}

// Unwrap returns ErrPermanent when the status is not worth retrying.
func (e *StatusError) Unwrap() error {
	if retryableStatus(e.Status) {
		return nil
	}
	return ErrPermanent
}

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// NotifierConfigError is a notifiers: entry that cannot be built, with the
// entry's position in the rules file.
type NotifierConfigError struct {
	Notifier     string // the entry's name
	Field        string // yaml key: "secret_env", "headers.Authorization", ...
	Line, Column int    // where the entry starts
	Err          error
}

func (e *NotifierConfigError) Error() string {
	field := ""
	if e.Field != "" {
		field = " " + e.Field
	}
	return fmt.Sprintf("alarms: %d:%d: notifier %q%s: %v", e.Line, e.Column, e.Notifier, field, e.Err)
}

func (e *NotifierConfigError) Unwrap() error { return e.Err }

// DefaultNotifyTimeout bounds one attempt of a notifier whose timeout is
// not configured.
const DefaultNotifyTimeout = 10 * time.Second

// NewNotifiers builds the notifiers of a rules file's notifiers: section,
// keyed by name. getenv (os.Getenv in a server) resolves a webhook's
// secret_env and the ${NAME} references in an SMS gateway's headers, once,
// here: an unset or empty variable is a *NotifierConfigError naming the
// notifier, the field and the entry's line:column, as are an unknown type,
// a duplicate or empty name, a URL that is not absolute http(s) and a body
// template that does not parse.
//
// client sends every request; nil means a client that does not follow
// redirects (a 3xx is then a permanent failure, since a redirected POST
// would lose its body or its signature's meaning). Each attempt is bounded
// by the entry's timeout (default DefaultNotifyTimeout).
func NewNotifiers(cfgs []NotifierConfig, getenv func(string) string, client *http.Client) (map[string]Notifier, error) {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ns := make(map[string]Notifier, len(cfgs))
	for _, c := range cfgs {
		fail := func(field string, err error) error {
			return &NotifierConfigError{Notifier: c.Name, Field: field, Line: c.Line, Column: c.Column, Err: err}
		}
		if c.Name == "" {
			return nil, fail("name", errors.New("is required"))
		}
		if _, dup := ns[c.Name]; dup {
			return nil, fail("name", errors.New("is defined twice"))
		}
		if c.Type != "webhook" && c.Type != "sms" {
			return nil, fail("type", fmt.Errorf(`%q is unknown: want "webhook" or "sms"`, c.Type))
		}
		if c.Timeout < 0 {
			return nil, fail("timeout", fmt.Errorf("%v is negative", time.Duration(c.Timeout)))
		}
		h := httpSender{name: c.Name, client: client, timeout: time.Duration(c.Timeout)}
		if h.timeout == 0 {
			h.timeout = DefaultNotifyTimeout
		}
		if c.URL == "" {
			return nil, fail("url", errors.New("is required"))
		}
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fail("url", fmt.Errorf("%q is not an absolute http or https URL", c.URL))
		}
		h.url = u.String()
		switch c.Type {
		case "webhook":
			if c.SecretEnv == "" {
				return nil, fail("secret_env", errors.New("is required: webhooks are signed"))
			}
			secret := getenv(c.SecretEnv)
			if secret == "" {
				return nil, fail("secret_env", fmt.Errorf("environment variable %s is not set", c.SecretEnv))
			}
			ns[c.Name] = &Webhook{httpSender: h, secret: []byte(secret), now: time.Now}
		case "sms":
			s, field, err := newSMS(h, c, getenv)
			if err != nil {
				return nil, fail(field, err)
			}
			ns[c.Name] = s
		}
	}
	return ns, nil
}

// headerEnvRef is a ${NAME} reference in a header value. A lone $ is left alone.
var headerEnvRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandHeaderEnv replaces every ${NAME} in s with getenv(NAME); an unset or
// empty variable is an error naming it.
func expandHeaderEnv(s string, getenv func(string) string) (string, error) {
	var missing string
	out := headerEnvRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v := getenv(name)
		if v == "" && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("environment variable %s is not set", missing)
	}
	return out, nil
}

// httpSender is what both notifiers share: one POST per attempt and the
// classification of the answer.
type httpSender struct {
	name    string
	url     string
	client  *http.Client
	timeout time.Duration
}

// post sends body and classifies the answer: nil for 2xx, a *StatusError
// otherwise, and a wrapped transport error (retryable) when there was no
// answer.
func (h *httpSender) post(ctx context.Context, body []byte, header http.Header) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alarms: notifier %q: %w: %w", h.name, ErrPermanent, err)
	}
	req.Header = header
	req.Header.Set("User-Agent", "healthcode-alarms")
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("alarms: notifier %q: %w", h.name, err)
	}
	defer resp.Body.Close()
	const keep = 256
	start, _ := io.ReadAll(io.LimitReader(resp.Body, keep))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{
		Notifier:   h.name,
		Status:     resp.StatusCode,
		Body:       strings.ToValidUTF8(strings.TrimSpace(string(start)), "\uFFFD"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 when absent,
// unparsable or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// cutRunes returns s if it has at most n runes, else its first n-1 runes
// and "…", n runes in all.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}
