package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2022, 1, 4, 8, 0, 0, 0, time.UTC)

func TestLimitConfigValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		cfg  LimitConfig
		want string
	}{
		{LimitConfig{MaxInFlight: -1}, "MaxInFlight"},
		{LimitConfig{MaxQueue: -1}, "MaxQueue"},
		{LimitConfig{QueueWait: -time.Second}, "QueueWait"},
		{LimitConfig{GlobalBurst: -1}, "GlobalBurst"},
		{LimitConfig{ClientBurst: -3}, "ClientBurst"},
		{LimitConfig{MaxClients: -1}, "MaxClients"},
	} {
		err := tc.cfg.Validate()
		require.ErrorContains(t, err, tc.want)
		_, err = NewShedder(tc.cfg, nil)
		require.ErrorContains(t, err, tc.want)
	}
	require.NoError(t, LimitConfig{}.Validate())
}

func TestShedderGlobalBucketRefusesWithRetryAfter(t *testing.T) {
	var shed []string
	s, err := NewShedder(LimitConfig{GlobalRPS: 2, GlobalBurst: 2, ClientRPS: -1}, func(r string) { shed = append(shed, r) })
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		release, err := s.Admit(ctx, "a", t0)
		require.NoError(t, err)
		release()
	}
	_, err = s.Admit(ctx, "a", t0)
	var ref *Refusal
	require.ErrorAs(t, err, &ref)
	require.Equal(t, ShedGlobalRate, ref.Reason)
	require.Equal(t, 500*time.Millisecond, ref.RetryAfter, "2 rps refills one token every 500ms")
	require.Equal(t, []string{ShedGlobalRate}, shed)

	// A refusal consumed nothing: half a second later one token is back.
	release, err := s.Admit(ctx, "a", t0.Add(500*time.Millisecond))
	require.NoError(t, err)
	release()
}

func TestShedderPerClientBucketIsolatesClients(t *testing.T) {
	s, err := NewShedder(LimitConfig{GlobalRPS: -1, ClientRPS: 1, ClientBurst: 1}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	rel, err := s.Admit(ctx, "greedy", t0)
	require.NoError(t, err)
	rel()
	_, err = s.Admit(ctx, "greedy", t0)
	var ref *Refusal
	require.ErrorAs(t, err, &ref)
	require.Equal(t, ShedClientRate, ref.Reason)
	rel, err = s.Admit(ctx, "polite", t0)
	require.NoError(t, err, "another client has its own bucket")
	rel()
}

func TestClientLimitersEvictLeastRecentlySeen(t *testing.T) {
	s, err := NewShedder(LimitConfig{GlobalRPS: -1, ClientRPS: 1, ClientBurst: 1, MaxClients: 2}, nil)
	require.NoError(t, err)
	a := s.clients.get("a")
	b := s.clients.get("b")
	require.Same(t, a, s.clients.get("a"), "a is now the most recent")
	s.clients.get("c") // evicts b, the least recently seen
	require.Equal(t, 2, s.clients.lru.Len())
	require.Same(t, a, s.clients.get("a"))
	require.NotSame(t, b, s.clients.get("b"), "b was evicted and comes back with a fresh bucket")
	require.Len(t, s.clients.byKey, 2)
}

func TestShedderConcurrencyQueueIsBounded(t *testing.T) {
	s, err := NewShedder(LimitConfig{GlobalRPS: -1, ClientRPS: -1, MaxInFlight: 1, MaxQueue: 1, QueueWait: time.Hour}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	hold, err := s.Admit(ctx, "a", t0)
	require.NoError(t, err)

	// One waiter fits in the queue and gets the slot when it frees.
	got := make(chan error, 1)
	go func() {
		rel, err := s.Admit(ctx, "b", t0)
		if err == nil {
			rel()
		}
		got <- err
	}()
	require.Eventually(t, func() bool { return len(s.queued) == 1 }, 5*time.Second, time.Millisecond)

	// The queue is full: the next request is refused at once, not queued.
	_, err = s.Admit(ctx, "c", t0)
	var ref *Refusal
	require.ErrorAs(t, err, &ref)
	require.Equal(t, ShedConcurrency, ref.Reason)

	hold()
	require.NoError(t, <-got)
	require.Empty(t, s.slots)
	require.Empty(t, s.queued)
}

func TestShedderQueueWaitExpires(t *testing.T) {
	s, err := NewShedder(LimitConfig{GlobalRPS: -1, ClientRPS: -1, MaxInFlight: 1, MaxQueue: 4, QueueWait: time.Millisecond}, nil)
	require.NoError(t, err)
	hold, err := s.Admit(context.Background(), "a", t0)
	require.NoError(t, err)
	defer hold()
	_, err = s.Admit(context.Background(), "b", t0)
	var ref *Refusal
	require.ErrorAs(t, err, &ref)
	require.Equal(t, ShedConcurrency, ref.Reason)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.cfg.QueueWait = time.Hour
	_, err = s.Admit(ctx, "b", t0)
	require.ErrorIs(t, err, context.Canceled)
}

func TestMiddlewareAnswers429WithRetryAfterAndCounts(t *testing.T) {
	m := NewMetrics("t")
	s, err := NewShedder(LimitConfig{GlobalRPS: 1, GlobalBurst: 1, ClientRPS: -1}, m.Shed)
	require.NoError(t, err)
	s.now = func() time.Time { return t0 }
	var served atomic.Int64
	h := m.Route("lookup", s.Middleware(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		WriteJSON(w, http.StatusOK, map[string]string{"colour": "green"})
	})))
	codes := map[int]int{}
	var retry string
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/lookup", nil))
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			retry = rec.Header().Get("Retry-After")
			require.Contains(t, rec.Body.String(), `"error":"overloaded"`)
		}
	}
	require.Equal(t, map[int]int{200: 1, 429: 2}, codes)
	require.Equal(t, int64(1), served.Load())
	require.Equal(t, "1", retry)
	require.Equal(t, 2.0, testutil.ToFloat64(m.shed.WithLabelValues(ShedGlobalRate)))
	require.Equal(t, 2.0, testutil.ToFloat64(m.requests.WithLabelValues("lookup", "429")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.requests.WithLabelValues("lookup", "200")))

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), `t_http_shed_total{reason="global_rate"} 2`)
	require.Contains(t, rec.Body.String(), `t_http_request_duration_seconds_bucket{route="lookup"`)
}

func TestShedderUnderConcurrentLoadNeverExceedsInFlight(t *testing.T) {
	s, err := NewShedder(LimitConfig{GlobalRPS: -1, ClientRPS: -1, MaxInFlight: 3, MaxQueue: 2, QueueWait: time.Millisecond}, nil)
	require.NoError(t, err)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	var admitted, refused atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			rel, err := s.Admit(context.Background(), fmt.Sprint(i), t0)
			if err != nil {
				refused.Add(1)
				return
			}
			admitted.Add(1)
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			cur.Add(-1)
			rel()
		})
	}
	wg.Wait()
	require.LessOrEqual(t, peak.Load(), int64(3))
	require.Equal(t, int64(64), admitted.Load()+refused.Load())
	require.Positive(t, admitted.Load())
}

const tokenFile = `{"tokens": [
 {"actor": "ops-zhang", "roles": ["transcoder", "auditor"], "token": "demo-transcoder"},
 {"actor": "ops-li", "roles": ["auditor"], "token_sha256": "%x"}
]}`

func TestTokensRoles(t *testing.T) {
	tok, err := LoadTokens(strings.NewReader(fmt.Sprintf(tokenFile, sha256sum("demo-auditor"))))
	require.NoError(t, err)
	h := tok.Require("transcoder", func(w http.ResponseWriter, r *http.Request, p Principal) {
		WriteJSON(w, http.StatusOK, p)
	})
	for _, tc := range []struct {
		header string
		code   int
		body   string
	}{
		{"", 401, "missing bearer token"},
		{"Bearer nope", 401, "unknown bearer token"},
		{"Basic demo-transcoder", 401, "missing bearer token"},
		{"Bearer demo-auditor", 403, "ops-li lacks role"},
		{"Bearer demo-transcoder", 200, `"actor":"ops-zhang"`},
	} {
		req := httptest.NewRequest(http.MethodPost, "/admin/transcode", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, tc.code, rec.Code, tc.header)
		require.Contains(t, rec.Body.String(), tc.body, tc.header)
	}
}

func TestLoadTokensRejectsBadEntries(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"tokens":[{"roles":["a"],"token":"x"}]}`, "tokens[0]: actor is empty"},
		{`{"tokens":[{"actor":"a","token":"x"}]}`, "tokens[0] (a): no roles"},
		{`{"tokens":[{"actor":"a","roles":["r"]}]}`, "exactly one of token and token_sha256"},
		{`{"tokens":[{"actor":"a","roles":["r"],"token_sha256":"abc"}]}`, "not 64 hex digits"},
		{`{"tokens":[{"actor":"a","roles":["r"],"token":"x"},{"actor":"b","roles":["r"],"token":"x"}]}`, "tokens[1] (b): token already given"},
		{`{"tokens":[], "extra": 1}`, "unknown field"},
	} {
		_, err := LoadTokens(strings.NewReader(tc.in))
		require.ErrorContains(t, err, tc.want, tc.in)
	}
}

func TestDecodeJSONSaysWhere(t *testing.T) {
	type req struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	}
	for _, tc := range []struct {
		in        string
		line, col int
		field     string
		msg       string
	}{
		{"{\n  \"id\": \"a\",\n  \"count\": \"x\"\n}", 3, 12, "count", "want an integer, got a string"},
		{"{\"id\": \"a\",\n \"count\": 1,,}", 2, 13, "", "invalid character ','"},
		{"{\"id\":\"a\", \"colour\":\"red\"}", 1, 12, "colour", "unknown field \"colour\""},
		{"{\"ID\":\"a\"}", 1, 2, "ID", "unknown field \"ID\""}, // names match exactly
		{"{\"id\":\"a\",\"id\":\"b\"}", 1, 11, "id", "duplicate"},
		{"{\"count\": 1.5}", 1, 11, "count", "want an integer, got a number that is not one"},
		{"[1]", 1, 1, "", "want an object, got an array"},
		{"{\"id\":\"\xff\"}", 1, 8, "id", "invalid UTF-8"},
		{"{\"id\":\"a\"} {}", 1, 12, "", "after top-level value"},
		{"{\"id\":", 1, 7, "id", "unexpected EOF"},
		{"", 0, 0, "", "empty body"},
		{" \n", 0, 0, "", "empty body"},
	} {
		var v req
		err := DecodeJSON(strings.NewReader(tc.in), 1<<10, &v)
		var be *BodyError
		require.ErrorAs(t, err, &be, tc.in)
		require.Equal(t, tc.line, be.Line, "%s: %v", tc.in, err)
		require.Equal(t, tc.col, be.Column, "%s: %v", tc.in, err)
		require.Equal(t, tc.field, be.Field, tc.in)
		require.ErrorContains(t, err, tc.msg)
	}
	err := DecodeJSON(strings.NewReader(`{"id":"`+strings.Repeat("a", 100)+`"}`), 16, &struct{ ID string }{})
	require.ErrorIs(t, err, ErrBodyTooLarge)

	var ok req
	require.NoError(t, DecodeJSON(strings.NewReader(`{"id":"x","count":2}`), 1<<10, &ok))
	require.Equal(t, req{ID: "x", Count: 2}, ok)
}

func TestDecodeJSONLimitsAndReaders(t *testing.T) {
	type inner struct {
		Age int `json:"age"`
	}
	type embedded struct {
		ID string `json:"id"`
	}
	type req struct {
		embedded        // its fields are the outer object's
		Facts    inner  `json:"facts"`
		Name     string `json:"name"`
	}
	body := `{"id":"a","facts":{"age":7},"name":"` + strings.Repeat("n", 3000) + `"}`
	limit := int64(len(body))

	var v req
	// Exactly at the limit, read a byte at a time: the buffer grows to fit.
	require.NoError(t, DecodeJSON(iotest.OneByteReader(strings.NewReader(body)), limit, &v))
	require.Equal(t, "a", v.ID)
	require.Equal(t, 7, v.Facts.Age)
	require.Len(t, v.Name, 3000)

	// One byte over is refused, whatever the reader's chunking.
	err := DecodeJSON(strings.NewReader(body+" "), limit, &v)
	require.ErrorIs(t, err, ErrBodyTooLarge)

	// An unknown field is an error callers can test for.
	err = DecodeJSON(strings.NewReader(`{"facts":{"agee":1}}`), limit, &v)
	require.ErrorIs(t, err, ErrUnknownField)
	require.ErrorContains(t, err, `field "facts.agee": unknown field "agee"`)

	// A nested field is named by its path.
	err = DecodeJSON(strings.NewReader(`{"facts":{"age":"x"}}`), limit, &v)
	var be *BodyError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "facts.age", be.Field)

	// A reader's failure is the error.
	boom := errors.New("connection reset")
	err = DecodeJSON(iotest.ErrReader(boom), limit, &v)
	require.ErrorIs(t, err, boom)

	// Decoded strings do not share the recycled body buffer: later bodies
	// leave earlier values alone.
	var first req
	require.NoError(t, DecodeJSON(strings.NewReader(`{"id":"first"}`), limit, &first))
	for range 10 {
		var later req
		require.NoError(t, DecodeJSON(strings.NewReader(`{"id":"XXXXX"}`), limit, &later))
	}
	require.Equal(t, "first", first.ID)
}

// FuzzDecodeJSON: DecodeJSON never panics, accepts a body only if it is
// one valid JSON value, and places every error inside the body.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"id":"110101199003074578"}`, `{"id":"a","count":2}`, "{\n \"count\": \"x\"}", `{"id":"a"} {}`, `[1,2]`, `{"id":"\u00e9"}`, "", `{"facts":{"age":1}}`} {
		f.Add([]byte(s))
	}
	type req struct {
		ID    string         `json:"id"`
		Count int            `json:"count"`
		Facts map[string]int `json:"facts"`
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v req
		err := DecodeJSON(bytes.NewReader(data), 1<<16, &v)
		if err == nil {
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		var be *BodyError
		if !errors.As(err, &be) {
			t.Fatalf("error %v is not a *BodyError", err)
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		if be.Line < 0 || be.Line > lines || (be.Line > 0 && be.Column < 1) {
			t.Fatalf("position %d:%d outside %q", be.Line, be.Column, data)
		}
	})
}

func TestServeFinishesInFlightThenFlushes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	entered := make(chan struct{})
	proceed := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-proceed
		io.WriteString(w, "done")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	var flushed atomic.Bool
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, srv, ln, 5*time.Second, func(context.Context) error {
			flushed.Store(true)
			return nil
		}, nil)
	}()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- string(b)
	}()
	<-entered
	cancel() // shutdown starts while the request is in flight
	time.Sleep(10 * time.Millisecond)
	require.False(t, flushed.Load(), "flush waits for in-flight requests")
	close(proceed)
	require.Equal(t, "done", <-body)
	require.NoError(t, <-served)
	require.True(t, flushed.Load())
}

func TestServeJoinsFlushError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("sync failed")
	err = Serve(ctx, &http.Server{Handler: http.NotFoundHandler()}, ln, time.Second, func(context.Context) error { return boom }, nil)
	require.ErrorIs(t, err, boom)
}

func sha256sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
