// Package loadgen drives HTTP load at a server on loopback and measures
// throughput, latency percentiles and the share of requests shed with 429.
//
// Open-loop runs send at a fixed rate whatever the server does, and time
// each request from when it was due, not from when a worker got to it, so a
// stalled server shows up as latency instead of as a politely slower client
// (coordinated omission). Closed-loop runs (Rate 0) keep Workers requests
// in flight and measure the most the server can do.
//
// Requests go over raw keep-alive HTTP/1.1 connections, one per worker,
// with each request's bytes prepared once and responses parsed in place: a
// generator sharing two cores with the server must cost far less per request
// than the server, or it measures itself. net/http's client allocates about
// 60 times and 4.7 KB a request, roughly what the server under test spends.
//
// Runs are bounded by both Duration and Requests; the generator stops by
// itself. It only ever targets the URL it is given, which the benchmarks
// point at 127.0.0.1.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one load run.
type Config struct {
	URL      string
	Method   string             // default POST
	Body     func(i int) []byte // body of request i; nil means none
	Header   http.Header        // added to every request
	Rate     float64            // requests per second; 0 = closed loop
	Workers  int                // concurrent senders; default 64
	Duration time.Duration      // stop sending after this; default 5s
	Requests int                // stop after this many; 0 = Duration only
	Timeout  time.Duration      // per request; default 2s
	// Warmup is the start of the run left out of the figures: requests
	// due in it are sent and checked (failures still count) but not in
	// the latencies, Stalls or Throughput. Connections are open before
	// the clock starts either way; Warmup covers the rest of a cold start
	// (the server's first requests on new connections, the generator's
	// first collections).
	Warmup time.Duration
	Check  func(status int, body []byte) error // optional answer check for 200s
}

// Result is what a run measured. Counts cover every request sent; latency
// figures, stalls and throughput cover the requests due after
// Config.Warmup, answered with 200 or 429 alike unless named otherwise.
type Result struct {
	Rate                     float64 // the offered rate (0 for closed loop)
	Sent                     int
	OK                       int // 200 with a body that passed Check
	Shed                     int // 429
	Failed                   int // transport errors, timeouts, other statuses, failed checks
	Elapsed                  time.Duration
	Throughput               float64 // OK per second, over the run after Warmup
	ShedRate                 float64 // Shed / Sent
	P50, P90, P99, P999, Max time.Duration
	OKP99                    time.Duration // p99 of admitted (200) requests only
	ShedP99                  time.Duration // p99 of 429 answers: how fast refusals are
	// Stalls counts the gaps between consecutive answers longer than
	// StallGap during an open-loop run: moments when nothing answered
	// though requests were due, whichever process (server, generator,
	// kernel) held them up. Each delays every request due in it, and
	// those behind it, so a few stalls a second decide the p99.
	Stalls       int
	LongestStall time.Duration
	FirstError   string
}

// StallGap is the shortest silence Result.Stalls counts, unless the
// offered rate is so low that ten intervals between requests are longer.
const StallGap = 2 * time.Millisecond

func (r Result) String() string {
	return fmt.Sprintf("rate=%.0f sent=%d ok=%d shed=%d failed=%d thr=%.0f/s p50=%v p99=%v p999=%v okp99=%v shedp99=%v stalls=%d longest=%v",
		r.Rate, r.Sent, r.OK, r.Shed, r.Failed, r.Throughput, r.P50, r.P99, r.P999, r.OKP99, r.ShedP99, r.Stalls, r.LongestStall)
}

// NewClient returns an HTTP client with a keep-alive pool sized for workers,
// for the scenarios' one-off requests (Run has its own connections).
func NewClient(workers int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        workers * 2,
		MaxIdleConnsPerHost: workers * 2,
		MaxConnsPerHost:     workers * 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr}
}

type sample struct {
	lat    time.Duration
	at     time.Duration // when the answer arrived, since the start
	due    time.Duration // when the request was due, since the start
	status int
}

// Run performs one load run.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.URL == "" {
		return Result{}, errors.New("loadgen: Config.URL is empty")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	target, err := newTarget(cfg)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+cfg.Timeout+time.Second)
	defer cancel()

	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, cfg.Workers*4)
	var (
		mu       sync.Mutex
		samples  = make([]sample, 0, 1<<16)
		failed   atomic.Int64
		okN      atomic.Int64
		firstErr atomic.Value
	)
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	// Connect every worker before the clock starts: dialling inside the
	// run would time 32 handshakes as the server's latency.
	conns := make([]*conn, cfg.Workers)
	for i := range conns {
		conns[i] = &conn{target: target}
		if err := conns[i].dial(ctx); err != nil {
			for _, c := range conns[:i+1] {
				c.close()
			}
			return Result{}, fmt.Errorf("loadgen: connect: %w", err)
		}
	}
	// Room for every sample up front, so that the generator does not
	// collect garbage mid-run on account of its own bookkeeping.
	perWorker := 1024
	if cfg.Rate > 0 {
		perWorker = max(perWorker, int(cfg.Rate*cfg.Duration.Seconds()/float64(cfg.Workers)*1.1))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			local := make([]sample, 0, perWorker)
			defer c.close()
			for j := range jobs {
				st, body, err := c.do(ctx, cfg, j.i)
				now := time.Now()
				lat := now.Sub(j.due)
				if err != nil {
					fail(err)
					continue
				}
				switch st {
				case http.StatusOK:
					if cfg.Check != nil {
						if err := cfg.Check(st, body); err != nil {
							fail(err)
							continue
						}
					}
					okN.Add(1)
				case http.StatusTooManyRequests:
				default:
					fail(fmt.Errorf("loadgen: status %d: %.200s", st, body))
					continue
				}
				local = append(local, sample{lat, now.Sub(start), j.due.Sub(start), st})
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		})
	}

	sent := 0
	deadline := start.Add(cfg.Duration)
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
send:
	for ; cfg.Requests == 0 || sent < cfg.Requests; sent++ {
		due := time.Now()
		if interval > 0 {
			due = start.Add(time.Duration(sent) * interval)
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		if due.After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case jobs <- job{sent, due}:
		case <-ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)

	res := Result{Rate: cfg.Rate, Sent: sent, OK: int(okN.Load()), Failed: int(failed.Load()), Elapsed: el}
	if v, ok := firstErr.Load().(string); ok {
		res.FirstError = v
	}
	shed := 0
	for _, s := range samples {
		if s.status != http.StatusOK {
			shed++
		}
	}
	res.Shed = shed
	// The figures cover requests due after the warm-up; counts cover all.
	window := el
	if cfg.Warmup > 0 {
		measured := samples[:0]
		for _, s := range samples {
			if s.due >= cfg.Warmup {
				measured = append(measured, s)
			}
		}
		samples = measured
		window = el - cfg.Warmup
	}
	var all, oks, sheds []time.Duration
	for _, s := range samples {
		all = append(all, s.lat)
		if s.status == http.StatusOK {
			oks = append(oks, s.lat)
		} else {
			sheds = append(sheds, s.lat)
		}
	}
	if window > 0 {
		res.Throughput = float64(len(oks)) / window.Seconds()
	}
	if sent > 0 {
		res.ShedRate = float64(res.Shed) / float64(sent)
	}
	res.P50, res.P90, res.P99, res.P999, res.Max = quantile(all, .5), quantile(all, .9), quantile(all, .99), quantile(all, .999), quantile(all, 1)
	res.OKP99, res.ShedP99 = quantile(oks, .99), quantile(sheds, .99)
	if cfg.Rate > 0 {
		res.Stalls, res.LongestStall = stalls(samples, max(StallGap, time.Duration(10*float64(time.Second)/cfg.Rate)))
	}
	return res, nil
}

// stalls counts the gaps longer than gap between consecutive answers.
func stalls(samples []sample, gap time.Duration) (int, time.Duration) {
	at := make([]time.Duration, len(samples))
	for i, s := range samples {
		at[i] = s.at
	}
	slices.Sort(at)
	n, longest := 0, time.Duration(0)
	for i := 1; i < len(at); i++ {
		if d := at[i] - at[i-1]; d > gap {
			n++
			longest = max(longest, d)
		}
	}
	return n, longest
}

// quantile returns the q-quantile (nearest rank) of ds, sorting it.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
