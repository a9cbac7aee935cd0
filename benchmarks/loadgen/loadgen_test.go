package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClosedLoopCountsEveryAnswer(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `{"colour":"green"}`)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, Workers: 8, Requests: 400, Duration: 10 * time.Second,
		Body: func(i int) []byte { return fmt.Appendf(nil, `{"id":"%d"}`, i) }})
	require.NoError(t, err)
	require.Equal(t, 400, res.Sent)
	require.Equal(t, 100, res.Shed)
	require.Equal(t, 300, res.OK)
	require.Zero(t, res.Failed, res.FirstError)
	require.InDelta(t, 0.25, res.ShedRate, 1e-9)
	require.LessOrEqual(t, res.P50, res.P99)
	require.LessOrEqual(t, res.P99, res.Max)
}

func TestCheckAndStatusFailuresAreCounted(t *testing.T) {
	srv := httptest.NewServer(&MapServer{Colours: map[string]string{"1": "red"}})
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, Workers: 4, Requests: 20, Duration: 10 * time.Second,
		Body: func(i int) []byte { return fmt.Appendf(nil, `{"id":"%d"}`, i%4) },
		Check: func(_ int, body []byte) error {
			var v struct{ Colour string }
			if err := json.Unmarshal(body, &v); err != nil {
				return err
			}
			if v.Colour != "green" {
				return errors.New("not green: " + v.Colour)
			}
			return nil
		}})
	require.NoError(t, err)
	require.Equal(t, 20, res.Sent)
	require.Equal(t, 5, res.Failed, "every fourth id is red and fails the check")
	require.Equal(t, 15, res.OK)
	require.Contains(t, res.FirstError, "not green: red")

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer bad.Close()
	res, err = Run(context.Background(), Config{URL: bad.URL, Workers: 2, Requests: 6, Duration: 10 * time.Second})
	require.NoError(t, err)
	require.Equal(t, 6, res.Failed)
	require.Contains(t, res.FirstError, "status 500")
}

func TestOpenLoopKeepsTheRateAndStops(t *testing.T) {
	srv := httptest.NewServer(&MapServer{})
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, Workers: 4, Rate: 200, Duration: 250 * time.Millisecond,
		Body: func(int) []byte { return []byte(`{"id":"x"}`) }})
	require.NoError(t, err)
	// 200/s for 250 ms is 50 requests; the schedule, not the server, decides.
	require.InDelta(t, 50, res.Sent, 2)
	require.Equal(t, res.Sent, res.OK)
}

func TestQuantileNearestRank(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	require.Equal(t, time.Duration(5), quantile(ds, .5))
	require.Equal(t, time.Duration(10), quantile(ds, .99))
	require.Equal(t, time.Duration(10), quantile(ds, 1))
	require.Equal(t, time.Duration(0), quantile(nil, .5))
}

func TestRunNeedsURL(t *testing.T) {
	_, err := Run(context.Background(), Config{})
	require.ErrorContains(t, err, "Config.URL is empty")
}

// TestFramings checks the raw client against net/http's server answering
// with a Content-Length, chunked (a flushed body), Connection: close, and
// 204: every answer is read whole and connections are redialled.
func TestFramings(t *testing.T) {
	big := strings.Repeat("x", 9000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch string(body) {
		case "chunked":
			fmt.Fprint(w, big[:100])
			w.(http.Flusher).Flush()
			fmt.Fprint(w, big[100:])
		case "close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "closed")
		case "empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			fmt.Fprint(w, "plain")
		}
	}))
	defer srv.Close()
	kinds := []string{"chunked", "close", "empty", "plain"}
	want := map[string]string{"chunked": big, "close": "closed", "empty": "", "plain": "plain"}
	var bad atomic.Int64
	res, err := Run(context.Background(), Config{URL: srv.URL, Workers: 3, Requests: 200, Duration: 10 * time.Second,
		Body: func(i int) []byte { return []byte(kinds[i%4]) },
		Check: func(st int, body []byte) error {
			for _, w := range want {
				if string(body) == w {
					return nil
				}
			}
			bad.Add(1)
			return fmt.Errorf("unexpected body of %d bytes", len(body))
		}})
	require.NoError(t, err)
	require.Zero(t, bad.Load())
	// 204 is not a 200: counted as failed with its status, the rest ok.
	require.Equal(t, 150, res.OK, res.FirstError)
	require.Equal(t, 50, res.Failed)
	require.Contains(t, res.FirstError, "status 204")
}

// FuzzReadResponse: any bytes from a server give an answer or an error,
// never a panic, and a Content-Length body is exactly that long.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nrest of stream",
		"HTTP/1.0 204 No Content\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &conn{r: bufio.NewReader(bytes.NewReader(in))}
		st, _, err := c.readResponse()
		if err != nil {
			return
		}
		if st < 0 || st > 999 {
			t.Fatalf("status %d", st)
		}
		if len(c.out) > len(in) {
			t.Fatalf("body of %d bytes from %d input bytes", len(c.out), len(in))
		}
	})
}

func TestStallsCountsSilences(t *testing.T) {
	ms := time.Millisecond
	var samples []sample
	for _, at := range []time.Duration{5 * ms, 1 * ms, 2 * ms, 10 * ms, 10 * ms, 11 * ms, 30 * ms} {
		samples = append(samples, sample{at: at})
	}
	// Sorted: 1 2 5 10 10 11 30: gaps over 2 ms are 3, 5 and 19 ms.
	n, longest := stalls(samples, 2*ms)
	require.Equal(t, 3, n)
	require.Equal(t, 19*ms, longest)
	n, _ = stalls(samples, 20*ms)
	require.Zero(t, n)
	n, _ = stalls(nil, ms)
	require.Zero(t, n)
}

func TestWarmupIsLeftOutOfTheFigures(t *testing.T) {
	// The first requests the server sees are slow, as on a cold start.
	var seen atomic.Int64
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= 20 {
			time.Sleep(30 * time.Millisecond)
		}
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	cfg := Config{URL: srv.URL, Workers: 4, Rate: 400, Duration: 600 * time.Millisecond}

	cold, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.GreaterOrEqual(t, cold.P99, 20*time.Millisecond, "the slow start is in the p99 without a warm-up")
	require.EqualValues(t, 4, conns.Load(), "one connection per worker, opened before the clock")

	seen.Store(0)
	cfg.Warmup = 300 * time.Millisecond
	warm, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Less(t, warm.P99, 20*time.Millisecond, "requests due in the warm-up are left out")
	require.Equal(t, warm.Sent, warm.OK, "but still sent and counted")
	require.InDelta(t, 400, warm.Throughput, 80, "throughput over the window after the warm-up")
}
