package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	res, err := Run(context.Background(), NewClient(8), Config{URL: srv.URL, Workers: 8, Requests: 400, Duration: 10 * time.Second,
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
	res, err := Run(context.Background(), NewClient(4), Config{URL: srv.URL, Workers: 4, Requests: 20, Duration: 10 * time.Second,
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
	res, err = Run(context.Background(), NewClient(2), Config{URL: bad.URL, Workers: 2, Requests: 6, Duration: 10 * time.Second})
	require.NoError(t, err)
	require.Equal(t, 6, res.Failed)
	require.Contains(t, res.FirstError, "status 500")
}

func TestOpenLoopKeepsTheRateAndStops(t *testing.T) {
	srv := httptest.NewServer(&MapServer{})
	defer srv.Close()
	res, err := Run(context.Background(), NewClient(4), Config{URL: srv.URL, Workers: 4, Rate: 200, Duration: 250 * time.Millisecond,
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
	_, err := Run(context.Background(), NewClient(1), Config{})
	require.ErrorContains(t, err, "Config.URL is empty")
}
