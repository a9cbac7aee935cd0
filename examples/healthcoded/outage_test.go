package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestPostgresRestartUnderLoad restarts the database under a healthcoded
// node serving lookups and transcodes. While it is away no request waits
// past the store timeout: each is answered (by the filter or the cache)
// or refused with 503 and Retry-After. When it is back the node recovers
// by itself, and every transcode it acknowledged is in the history.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := testenv.StartPGServer(t)
	s := start(t, t.TempDir(), "-store", pg.URL(), "-store-timeout", "1s")
	client := &http.Client{Timeout: 30 * time.Second}
	ids := make([]string, 0, 60)
	for _, row := range s.people[1:] {
		if row[1] == "身份证" && len(ids) < cap(ids) {
			ids = append(ids, row[0])
		}
	}

	type result struct {
		status int
		took   time.Duration
	}
	var (
		mu       sync.Mutex
		results  []result
		acked    = map[string]int{} // id -> transcodes acknowledged
		down     atomic.Bool
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		seq      atomic.Int64
		slowest  atomic.Int64
		refused  atomic.Int64
		answered atomic.Int64
		all503   atomic.Int64 // every 503, also outside the window "down" marks
	)
	post := func(path, token, body string) (int, time.Duration) {
		req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		took := time.Since(t0)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return 0, took
		}
		resp.Body.Close()
		if resp.StatusCode == 503 {
			all503.Add(1)
		}
		if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
		return resp.StatusCode, took
	}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := ids[(i*7+w)%len(ids)]
				var st int
				var took time.Duration
				if i%5 == 0 {
					n := seq.Add(1)
					colour := []string{"red", "yellow", "green"}[n%3]
					st, took = post("/admin/transcode", transcoder, fmt.Sprintf(
						`{"id":%q,"colour":%q,"authorisation":"OUT-%d","reason":"outage test"}`, id, colour, n))
					if st == 200 {
						mu.Lock()
						acked[id]++
						mu.Unlock()
					}
				} else {
					st, took = post("/v1/code", "", fmt.Sprintf(`{"id":%q}`, id))
				}
				if down.Load() {
					mu.Lock()
					results = append(results, result{st, took})
					mu.Unlock()
					if st == 503 {
						refused.Add(1)
					} else if st == 200 {
						answered.Add(1)
					}
					if int64(took) > slowest.Load() {
						slowest.Store(int64(took))
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	pg.Stop()
	down.Store(true)
	time.Sleep(3 * time.Second)
	down.Store(false)
	pg.Start()
	back := time.Now()
	// Recovery: the first transcode the node acknowledges after the
	// database is back.
	var recovered time.Duration
	for i := 0; ; i++ {
		st, _ := post("/admin/transcode", transcoder, fmt.Sprintf(
			`{"id":%q,"colour":"yellow","authorisation":"BACK-%d","reason":"outage test"}`, ids[0], i))
		if st == 200 {
			recovered = time.Since(back)
			mu.Lock()
			acked[ids[0]]++
			mu.Unlock()
			break
		}
		require.Less(t, time.Since(back), 30*time.Second, "no recovery 30 s after the database came back")
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	codesSeen := map[int]int{}
	for _, r := range results {
		codesSeen[r.status]++
	}
	t.Logf("statuses while away: %v", codesSeen)
	t.Logf("database away 3 s: %d requests answered, %d refused with 503, slowest %v; recovered %v after its return",
		answered.Load(), refused.Load(), time.Duration(slowest.Load()), recovered)

	require.Positive(t, refused.Load(), "requests that needed the database were refused")
	// Each of them is counted where the HealthcodedStoreErrors alert looks.
	counted := 0.0
	for _, op := range []string{"display", "token", "transcode", "history"} {
		counted += s.metricOr(fmt.Sprintf(`healthcoded_store_errors_total{op=%q}`, op), 0)
	}
	require.Equal(t, float64(all503.Load()), counted, "healthcoded_store_errors_total counts every 503")
	for _, r := range results {
		require.Contains(t, []int{200, 503}, r.status)
		// The store timeout is 1 s; nothing may hang far past it.
		require.Less(t, r.took, 5*time.Second, "a request hung while the database was away")
	}
	// Nothing acknowledged is lost: each person's history holds at least
	// the transcodes acknowledged for them, and verifies.
	for id, n := range acked {
		var h struct {
			Entries  []map[string]any `json:"entries"`
			Verified struct {
				OK bool `json:"ok"`
			} `json:"verified"`
		}
		require.Equal(t, 200, s.do("POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id), &h))
		require.True(t, h.Verified.OK)
		manual := 0
		for _, e := range h.Entries {
			if a, _ := e["actor"].(string); a != "" {
				manual++
			}
		}
		require.GreaterOrEqual(t, manual, n, "acknowledged transcodes lost")
	}
}
