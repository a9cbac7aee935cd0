package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// capturedRequest is one request a test receiver got.
type capturedRequest struct {
	header http.Header
	body   []byte
}

// httpRecorder is a real HTTP receiver that keeps every request and answers
// with status (200 when zero).
type httpRecorder struct {
	mu     sync.Mutex
	got    []capturedRequest
	status int
	header http.Header // added to the answer
}

func (r *httpRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, capturedRequest{req.Header.Clone(), body})
	status, header := r.status, r.header
	r.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(max(status, http.StatusOK))
}

func (r *httpRecorder) requests() []capturedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]capturedRequest(nil), r.got...)
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func alarmToSend() Alarm {
	opened := time.Date(2025, 3, 4, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	return Alarm{
		ID: "transcode-burst/actor=zhang.san/1741051800", Cause: "transcode-burst actor=zhang.san",
		Rule: "transcode-burst", Severity: Critical, Subject: "actor=zhang.san",
		Text:   "张** transcoded 60 persons in 1m",
		Opened: opened, LastSeen: opened.Add(time.Minute), Count: 60,
	}
}

func newNotifier(t *testing.T, c NotifierConfig, vars map[string]string) Notifier {
	t.Helper()
	ns, err := NewNotifiers([]NotifierConfig{c}, envOf(vars), nil)
	require.NoError(t, err)
	return ns[c.Name]
}

func TestWebhookSignedPayload(t *testing.T) {
	rec := &httpRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	secret := "s3cret"
	n := newNotifier(t, NotifierConfig{Name: "ops", Type: "webhook", URL: srv.URL, SecretEnv: "HOOK_SECRET"},
		map[string]string{"HOOK_SECRET": secret})
	require.Equal(t, "ops", n.Name())

	a := alarmToSend()
	require.NoError(t, n.Notify(context.Background(), a))

	got := rec.requests()
	require.Len(t, got, 1)
	h, body := got[0].header, got[0].body
	require.Equal(t, a.ID, h.Get(HeaderIdempotencyKey))
	require.Equal(t, "application/json", h.Get("Content-Type"))
	now := time.Now()
	require.NoError(t, VerifySignature([]byte(secret), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now, time.Minute))
	err := VerifySignature([]byte("wrong"), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now, time.Minute)
	require.ErrorIs(t, err, ErrSignature)

	var p WebhookPayload
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, WebhookPayload{
		ID: a.ID, Cause: a.Cause, Rule: a.Rule, Severity: Critical, Subject: a.Subject, Text: a.Text,
		Opened: a.Opened.UTC(), LastSeen: a.LastSeen.UTC(), Count: 60,
	}, p)
	require.Contains(t, string(body), `"resolved":null`)
	require.Contains(t, string(body), `"last_seen":"2025-03-04T01:31:00Z"`)

	a.Resolved = a.LastSeen.Add(time.Hour)
	require.NoError(t, n.Notify(context.Background(), a))
	require.NoError(t, json.Unmarshal(rec.requests()[1].body, &p))
	require.Equal(t, a.Resolved.UTC(), *p.Resolved)
}

func TestVerifySignatureRefuses(t *testing.T) {
	secret := []byte("k")
	body := []byte(`{"id":"a"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	good := signWebhook(secret, ts, body)
	require.NoError(t, VerifySignature(secret, ts, good, body, now, 0))
	require.NoError(t, VerifySignature(secret, ts, good, body, now.Add(DefaultMaxSkew), 0), "at the edge of the default skew")

	for _, tc := range []struct {
		name, ts, sig string
		body          []byte
		now           time.Time
		maxSkew       time.Duration
		want          string
	}{
		{"wrong secret", ts, signWebhook([]byte("other"), ts, body), body, now, 0, "does not match"},
		{"altered body", ts, good, []byte(`{"id":"b"}`), now, 0, "does not match"},
		{"timestamp not the signed one", "1700000001", good, body, now, 0, "does not match"},
		{"stale", ts, good, body, now.Add(DefaultMaxSkew + time.Second), 0, "from now"},
		{"from the future", ts, good, body, now.Add(-2 * time.Minute), time.Minute, "from now"},
		{"timestamp not a number", "yesterday", good, body, now, 0, "not unix seconds"},
		{"no sha256= prefix", ts, strings.TrimPrefix(good, "sha256="), body, now, 0, "sha256="},
		{"not hex", ts, "sha256=zz", body, now, 0, "not hex"},
		{"truncated", ts, good[:len(good)-2], body, now, 0, "does not match"},
		{"empty", "", "", body, now, 0, "not unix seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature(secret, tc.ts, tc.sig, tc.body, tc.now, tc.maxSkew)
			require.ErrorIs(t, err, ErrSignature)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNotifyClassifiesAnswers(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		permanent  bool
		wantAfter  time.Duration
	}{
		{status: 200}, {status: 202}, {status: 204},
		{status: 400, permanent: true},
		{status: 401, permanent: true},
		{status: 404, permanent: true},
		{status: 302, permanent: true},
		{status: 408},
		{status: 429, retryAfter: "7", wantAfter: 7 * time.Second},
		{status: 500},
		{status: 503, retryAfter: "soon"},
	} {
		rec := &httpRecorder{status: tc.status, header: http.Header{}}
		if tc.retryAfter != "" {
			rec.header.Set("Retry-After", tc.retryAfter)
		}
		if tc.status == 302 {
			rec.header.Set("Location", "/elsewhere")
		}
		srv := httptest.NewServer(rec)
		n := newNotifier(t, NotifierConfig{Name: "ops", Type: "webhook", URL: srv.URL, SecretEnv: "K"}, map[string]string{"K": "k"})
		err := n.Notify(context.Background(), alarmToSend())
		srv.Close()
		if tc.status < 300 {
			require.NoError(t, err, tc.status)
			continue
		}
		var se *StatusError
		require.ErrorAs(t, err, &se, tc.status)
		require.Equal(t, tc.status, se.Status)
		require.Equal(t, tc.permanent, errors.Is(err, ErrPermanent), tc.status)
		require.Equal(t, tc.wantAfter, se.RetryAfter, tc.status)
		require.Len(t, rec.requests(), 1, "%d: redirects are not followed", tc.status)
	}
}

func TestNotifyNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	n := newNotifier(t, NotifierConfig{Name: "ops", Type: "webhook", URL: url, SecretEnv: "K"}, map[string]string{"K": "k"})
	err := n.Notify(context.Background(), alarmToSend())
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrPermanent)
	require.ErrorContains(t, err, `notifier "ops"`)
}

func TestNotifyTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	n := newNotifier(t, NotifierConfig{Name: "ops", Type: "webhook", URL: srv.URL, SecretEnv: "K", Timeout: Duration(50 * time.Millisecond)},
		map[string]string{"K": "k"})
	err := n.Notify(context.Background(), alarmToSend())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrPermanent)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 1, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"120":                           2 * time.Minute,
		"99999999":                      24 * time.Hour,
		"Tue, 04 Mar 2025 01:00:30 GMT": 30 * time.Second,
		"Tue, 04 Mar 2025 00:59:00 GMT": 0,
		"later":                         0,
	} {
		require.Equal(t, want, parseRetryAfter(in, now), in)
	}
}

func TestSMSRendersTemplate(t *testing.T) {
	rec := &httpRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n := newNotifier(t, NotifierConfig{
		Name: "province-sms", Type: "sms", URL: srv.URL + "/v1/send",
		Headers: map[string]string{"Authorization": "Bearer ${SMS_TOKEN}", "X-App": "${SMS_APP}-hc", "X-Literal": "$5 ${"},
		Body:    `{"to":["13800000000"],"text":{{json .Text}},"ref":{{json .Alarm.ID}},"level":"{{.Alarm.Severity}}"}`,
	}, map[string]string{"SMS_TOKEN": "tok", "SMS_APP": "app"})

	a := alarmToSend()
	a.Text = `张** said "hi" <b>` + "\n"
	require.NoError(t, n.Notify(context.Background(), a))
	got := rec.requests()
	require.Len(t, got, 1)
	h := got[0].header
	require.Equal(t, "Bearer tok", h.Get("Authorization"))
	require.Equal(t, "app-hc", h.Get("X-App"))
	require.Equal(t, "$5 ${", h.Get("X-Literal"), "only ${NAME} is a reference")
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.Equal(t, a.ID, h.Get(HeaderIdempotencyKey))

	var body struct {
		To               []string
		Text, Ref, Level string
	}
	require.NoError(t, json.Unmarshal(got[0].body, &body), string(got[0].body))
	require.Equal(t, a.Text, body.Text)
	require.Equal(t, a.ID, body.Ref)
	require.Equal(t, "critical", body.Level)
}

func TestSMSFormBodyAndCut(t *testing.T) {
	rec := &httpRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n := newNotifier(t, NotifierConfig{
		Name: "sms", Type: "sms", URL: srv.URL, ContentType: "application/x-www-form-urlencoded",
		Body: `to=13800000000&text={{urlquery .Text}}`,
	}, nil)
	a := alarmToSend()
	a.Text = strings.Repeat("警", 400)
	require.NoError(t, n.Notify(context.Background(), a))
	got := rec.requests()[0]
	require.Equal(t, "application/x-www-form-urlencoded", got.header.Get("Content-Type"))
	req, err := http.NewRequest("POST", "/", strings.NewReader(string(got.body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.NoError(t, req.ParseForm())
	text := req.PostForm.Get("text")
	require.Equal(t, MaxSMSRunes, utf8.RuneCountInString(text))
	require.Equal(t, strings.Repeat("警", MaxSMSRunes-1)+"…", text)
}

func TestCutRunes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"张三丰李四", 4, "张三丰…"},
		{"张三丰李", 4, "张三丰李"},
		{"a", 1, "a"},
		{"ab", 1, "…"},
	} {
		require.Equal(t, tc.want, cutRunes(tc.in, tc.n), "%q %d", tc.in, tc.n)
	}
}

func TestNewNotifiersErrors(t *testing.T) {
	vars := map[string]string{"HOOK_SECRET": "k", "SMS_TOKEN": "t"}
	at := func(c NotifierConfig) NotifierConfig { c.Line, c.Column = 12, 5; return c }
	hook := NotifierConfig{Name: "ops", Type: "webhook", URL: "https://hooks.example/alarms", SecretEnv: "HOOK_SECRET"}
	sms := NotifierConfig{Name: "sms", Type: "sms", URL: "https://sms.example/send", Body: `{{json .Text}}`,
		Headers: map[string]string{"Authorization": "Bearer ${SMS_TOKEN}"}}
	with := func(c NotifierConfig, f func(*NotifierConfig)) NotifierConfig { f(&c); return at(c) }

	ns, err := NewNotifiers([]NotifierConfig{hook, sms}, envOf(vars), nil)
	require.NoError(t, err)
	require.Len(t, ns, 2)
	require.IsType(t, &Webhook{}, ns["ops"])
	require.IsType(t, &SMS{}, ns["sms"])

	for _, tc := range []struct {
		name    string
		cfgs    []NotifierConfig
		field   string
		message string
	}{
		{"secret env unset", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.SecretEnv = "NOPE" })},
			"secret_env", `alarms: 12:5: notifier "ops" secret_env: environment variable NOPE is not set`},
		{"no secret env", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.SecretEnv = "" })},
			"secret_env", "is required"},
		{"header env unset", []NotifierConfig{with(sms, func(c *NotifierConfig) {
			c.Headers = map[string]string{"Authorization": "Bearer ${SMS_TOKEN}", "X-Key": "${SMS_KEY}"}
		})}, "headers.X-Key", `alarms: 12:5: notifier "sms" headers.X-Key: environment variable SMS_KEY is not set`},
		{"unknown type", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.Type = "pager" })},
			"type", `alarms: 12:5: notifier "ops" type: "pager" is unknown`},
		{"no type", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.Type = "" })}, "type", "is unknown"},
		{"no name", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.Name = "" })}, "name", "is required"},
		{"twice", []NotifierConfig{hook, at(hook)}, "name", "defined twice"},
		{"relative url", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.URL = "/alarms" })}, "url", "not an absolute"},
		{"ftp url", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.URL = "ftp://x/y" })}, "url", "not an absolute"},
		{"no url", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.URL = "" })}, "url", "is required"},
		{"negative timeout", []NotifierConfig{with(hook, func(c *NotifierConfig) { c.Timeout = Duration(-time.Second) })}, "timeout", "negative"},
		{"no body", []NotifierConfig{with(sms, func(c *NotifierConfig) { c.Body = "" })}, "body", "is required"},
		{"body does not parse", []NotifierConfig{with(sms, func(c *NotifierConfig) { c.Body = "{{json .Text" })}, "body", "unclosed"},
		{"body does not render", []NotifierConfig{with(sms, func(c *NotifierConfig) { c.Body = "{{.Phone}}" })}, "body", "Phone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewNotifiers(tc.cfgs, envOf(vars), nil)
			var ce *NotifierConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.Equal(t, 12, ce.Line)
			require.Equal(t, 5, ce.Column)
			require.ErrorContains(t, err, tc.message)
			require.ErrorContains(t, err, "12:5")
		})
	}
}
