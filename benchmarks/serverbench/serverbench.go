package serverbench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// Config sizes the scenarios.
type Config struct {
	DemoPeople int           // population healthcoded seeds
	Workers    int           // closed-loop load generator workers
	Step       time.Duration // length of each open-loop step of the ramp
	Rounds     int           // times the ramp's steps are run; figures are the median round
	Overload   time.Duration // length of the 3x overload
	BulkPeople int           // people in the kill -9 bulk upload (several 10 000-change batches)
	BadRules   time.Duration // length of the bad-rules-under-load run
	Cluster    time.Duration // length of the server/cluster run
	// Env is added to healthcoded's environment (GOGC, GOMEMLIMIT, ...);
	// the generator's own is left as it is.
	Env []string
}

// ConfigFor returns the sizes for a scale: Small keeps every scenario to a
// few seconds for CI; Full is what the figures are stated at.
func ConfigFor(s bench.Scale) Config {
	if s == bench.Full {
		return Config{DemoPeople: 10_000, Workers: 64, Step: 5 * time.Second, Rounds: 5, Overload: 60 * time.Second, BulkPeople: 50_000, BadRules: 10 * time.Second, Cluster: 60 * time.Second}
	}
	return Config{DemoPeople: 1_000, Workers: 32, Step: 500 * time.Millisecond, Rounds: 1, Overload: 2 * time.Second, BulkPeople: 25_000, BadRules: time.Second, Cluster: 2 * time.Second}
}

// Workloads returns the server scenarios at scale s.
func Workloads(s bench.Scale) []bench.Workload {
	cfg := ConfigFor(s)
	bins := &binaries{}
	return []bench.Workload{
		{
			Name: "server/lookup", Unit: "lookup",
			Doc: "POST /v1/code by document number over loopback, closed loop; every answer's colour checked. Baseline: net/http reading a plain map.",
			Subjects: []bench.Subject{
				{Name: "healthcoded", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newLookup(ctx, bins, cfg, false)
				}},
				{Name: "net/http+map", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newLookup(ctx, bins, cfg, true)
				}},
			},
		},
		{
			Name: "server/ramp", Unit: "ramp",
			Doc:      "Open-loop lookups over 32 keep-alive connections at 25, 50, 75 and 90 % of each server's saturation: the highest open-loop rate it sustains (answers keep up with the offer, p90 under 5 ms), found by bisection between half and all of its closed-loop throughput on the same connections, in trials as long as a step, the rate found confirmed by a second trial (5 % lower until one passes). healthcoded beside the plain net/http map server. Each step runs Rounds times, round by round; figures are the median round, p99-worst the worst. Connections open before a step's clock starts and its first tenth (at most 0.5 s) is warm-up, sent but not measured. stalls: silences over 2 ms in which no answer arrived though requests were due (whichever of server, generator or machine held them).",
			Subjects: rampSubjects(bins, cfg),
		},
		{
			Name: "server/overload", Unit: "run",
			Doc: "Admission limit at 1/6 of measured capacity, open-loop lookups at 3x the limit: the server stays up with bounded memory, admitted requests fast, the rest 429 at once.",
			Subjects: []bench.Subject{{Name: "healthcoded", Setup: func(ctx context.Context) (bench.Runner, error) {
				return newOverload(ctx, bins, cfg)
			}}},
		},
		{
			Name: "server/kill9-bulk", Unit: "crash",
			Doc: "kill -9 after the first acknowledged batch of a bulk evaluation, restart: every acknowledged change present, histories verify.",
			Subjects: []bench.Subject{{Name: "healthcoded", Setup: func(ctx context.Context) (bench.Runner, error) {
				return newKill9(ctx, bins, cfg)
			}}},
		},
		{
			Name: "server/bad-rules-under-load", Unit: "run",
			Doc: "A broken rule set uploaded every 50 ms during closed-loop lookups: every upload refused with errors, zero failed lookups.",
			Subjects: []bench.Subject{{Name: "healthcoded", Setup: func(ctx context.Context) (bench.Runner, error) {
				return newBadRules(ctx, bins, cfg)
			}}},
		},
	}
}

// target is a running server with its demo population.
type target struct {
	p       *proc
	data    string
	people  []demoPerson
	client  *http.Client
	metrics []bench.Metric
}

// unlimited lets the load generator, not the shedder, set the pace.
var unlimited = []string{"-rps", "1e9", "-burst", "1000000", "-client-rps", "-1", "-max-inflight", "4096"}

func startHealthcoded(ctx context.Context, bins *binaries, cfg Config, data string, extra ...string) (*target, error) {
	hc, _, err := bins.build(ctx)
	if err != nil {
		return nil, err
	}
	if data == "" {
		if data, err = os.MkdirTemp("", "serverbench-data-"); err != nil {
			return nil, err
		}
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-data", data, "-demo-people", strconv.Itoa(cfg.DemoPeople), "-quiet"}, extra...)
	p, err := startProc(ctx, cfg.Env, hc, args...)
	if err != nil {
		return nil, err
	}
	people, err := readPeople(data)
	if err != nil {
		p.kill()
		return nil, err
	}
	return &target{p: p, data: data, people: people, client: loadgen.NewClient(max(cfg.Workers, 256))}, nil
}

func (t *target) Close() error {
	if t.p != nil && t.p.alive() {
		t.p.kill()
	}
	return os.RemoveAll(t.data)
}

func (t *target) Metrics() []bench.Metric { return t.metrics }

// lookupLoad is the closed or open-loop lookup load against t, checking
// every 200 against the colour the population was seeded with.
func (t *target) lookupLoad(rate float64, workers, requests int, d time.Duration) loadgen.Config {
	bodies := make([][]byte, len(t.people))
	for i, p := range t.people {
		bodies[i] = []byte(`{"id":"` + p.id + `"}`)
	}
	return loadgen.Config{
		URL: t.p.base + "/v1/code", Rate: rate, Workers: workers, Requests: requests, Duration: d,
		Body:  func(i int) []byte { return bodies[i%len(bodies)] },
		Check: checkColour,
	}
}

// colourPrefix opens every lookup answer: both servers encode the colour
// first.
var colourPrefix = []byte(`{"colour":"`)

// checkColour checks a lookup answer holds a colour the population has.
// The answer does not say whom it is for, so the colour is all there is to
// check. It reads the colour in place: a json.Unmarshal per answer had the
// generator allocate ~500 B a request, and its collections took CPU from
// the server it measures on the same two cores.
func checkColour(_ int, body []byte) error {
	if rest, ok := bytes.CutPrefix(body, colourPrefix); ok {
		colour, _, closed := bytes.Cut(rest, []byte(`"`))
		switch string(colour) {
		case "green", "yellow", "red":
			if closed {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: want {\"colour\":\"green|yellow|red\",...}, got %.60q", bench.ErrWrongAnswer, body)
}

func latencyMetrics(prefix string, r loadgen.Result) []bench.Metric {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return []bench.Metric{
		{Name: prefix + "p50", Value: ms(r.P50), Unit: "ms"},
		{Name: prefix + "p99", Value: ms(r.P99), Unit: "ms"},
		{Name: prefix + "p999", Value: ms(r.P999), Unit: "ms"},
	}
}

// ----- server/lookup -----

type lookupRunner struct {
	*target
	cfg Config
}

func newLookup(ctx context.Context, bins *binaries, cfg Config, baseline bool) (bench.Runner, error) {
	t, err := startServer(ctx, bins, cfg, baseline)
	if err != nil {
		return nil, err
	}
	return &lookupRunner{target: t, cfg: cfg}, nil
}

// startServer starts healthcoded with no admission limits, or, for the
// baseline, the map server over the same population.
func startServer(ctx context.Context, bins *binaries, cfg Config, baseline bool) (*target, error) {
	if baseline {
		return startMapServer(ctx, bins, cfg)
	}
	return startHealthcoded(ctx, bins, cfg, "", unlimited...)
}

// startMapServer starts the baseline: net/http answering from a plain map
// of the population healthcoded seeds, so it needs the same
// demo-people.csv: a short-lived healthcoded writes it first.
func startMapServer(ctx context.Context, bins *binaries, cfg Config) (*target, error) {
	t, err := startHealthcoded(ctx, bins, cfg, "")
	if err != nil {
		return nil, err
	}
	t.p.kill()
	_, ms, err := bins.build(ctx)
	if err == nil {
		t.p, err = startProc(ctx, nil, ms, "-addr", "127.0.0.1:0", "-people", t.data+"/demo-people.csv")
	}
	if err != nil {
		t.p = nil
		_ = t.Close()
		return nil, err
	}
	return t, nil
}

// Run sends n lookups with the configured workers and fails on any error,
// shed request or wrong answer.
func (l *lookupRunner) Run(ctx context.Context, n int) error {
	res, err := loadgen.Run(ctx, l.lookupLoad(0, l.cfg.Workers, n, 10*time.Minute))
	if err != nil {
		return err
	}
	if res.Failed > 0 || res.Shed > 0 || res.OK != n {
		return fmt.Errorf("%w: %d of %d ok, %d shed, %d failed: %s", bench.ErrWrongAnswer, res.OK, n, res.Shed, res.Failed, res.FirstError)
	}
	l.metrics = latencyMetrics("", res)
	return nil
}

// ----- server/ramp -----

// rampConns is the connections of every ramp step, and of the closed-loop
// run that measures capacity first (the server's cost per request depends
// on how many connections it serves): a code platform's servers sit behind
// a reverse proxy that keeps a pool of upstream connections (nginx's
// upstream keepalive 32, the figure its documentation uses), not one
// connection per phone.
const rampConns = 32

type rampRunner struct {
	*target
	cfg Config
}

// rampSubjects are healthcoded's ramp and the map server's, each at its
// own measured capacity.
func rampSubjects(bins *binaries, cfg Config) []bench.Subject {
	return []bench.Subject{
		{Name: "healthcoded", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
			return newRamp(ctx, bins, cfg, false)
		}},
		{Name: "net/http+map", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
			return newRamp(ctx, bins, cfg, true)
		}},
	}
}

func newRamp(ctx context.Context, bins *binaries, cfg Config, baseline bool) (bench.Runner, error) {
	t, err := startServer(ctx, bins, cfg, baseline)
	if err != nil {
		return nil, err
	}
	return &rampRunner{target: t, cfg: cfg}, nil
}

// capacity measures closed-loop throughput for d.
func (t *target) capacity(ctx context.Context, workers int, d time.Duration) (float64, error) {
	res, err := loadgen.Run(ctx, t.lookupLoad(0, workers, 0, d))
	if err != nil {
		return 0, err
	}
	if res.Failed > 0 {
		return 0, fmt.Errorf("capacity run: %d failed: %s", res.Failed, res.FirstError)
	}
	return res.Throughput, nil
}

func (r *rampRunner) Run(ctx context.Context, n int) error {
	pcts := []int{25, 50, 75, 90}
	for range n {
		capa, err := r.capacity(ctx, rampConns, 2*r.cfg.Step)
		if err != nil {
			return err
		}
		sat, err := r.saturation(ctx, capa)
		if err != nil {
			return err
		}
		// The steps run round by round (25, 50, 75, 90, 25, ...), so that
		// a slow spell of the machine lands in one round of a step rather
		// than in every round of one step, and each figure is the median
		// round, with the worst beside it.
		rounds := max(r.cfg.Rounds, 1)
		res := make([][]loadgen.Result, len(pcts))
		for range rounds {
			for i, pct := range pcts {
				rr, err := loadgen.Run(ctx, r.stepLoad(sat*float64(pct)/100, r.cfg.Step))
				if err != nil {
					return err
				}
				if rr.Failed > 0 {
					return fmt.Errorf("%w: at %d%% of saturation %d failed: %s", bench.ErrWrongAnswer, pct, rr.Failed, rr.FirstError)
				}
				res[i] = append(res[i], rr)
			}
		}
		r.metrics = []bench.Metric{{Name: "closed-loop", Value: capa, Unit: "req/s"}, {Name: "saturation", Value: sat, Unit: "req/s"}}
		for i, pct := range pcts {
			r.metrics = append(r.metrics, stepMetrics(fmt.Sprintf("at%d%%-", pct), res[i], r.cfg.Step-warmup(r.cfg.Step))...)
		}
	}
	return nil
}

// warmup is the start of an open-loop run of length d left out of its
// figures (loadgen.Config.Warmup): a tenth, at most half a second.
func warmup(d time.Duration) time.Duration { return min(d/10, 500*time.Millisecond) }

// stepLoad is one open-loop step of the ramp at rate for d.
func (r *rampRunner) stepLoad(rate float64, d time.Duration) loadgen.Config {
	cfg := r.lookupLoad(rate, rampConns, 0, d)
	cfg.Warmup = warmup(d)
	return cfg
}

// stepMetrics are the median round's figures of one step, plus the worst
// round's p99; window is the measured part of each round.
func stepMetrics(prefix string, rounds []loadgen.Result, window time.Duration) []bench.Metric {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	med := func(f func(loadgen.Result) float64) float64 { return Median(rounds, f) }
	out := []bench.Metric{
		{Name: prefix + "p50", Value: med(func(r loadgen.Result) float64 { return ms(r.P50) }), Unit: "ms"},
		{Name: prefix + "p99", Value: med(func(r loadgen.Result) float64 { return ms(r.P99) }), Unit: "ms"},
		{Name: prefix + "p999", Value: med(func(r loadgen.Result) float64 { return ms(r.P999) }), Unit: "ms"},
	}
	if len(rounds) > 1 {
		worst := slices.MaxFunc(rounds, func(a, b loadgen.Result) int { return cmp.Compare(a.P99, b.P99) })
		out = append(out, bench.Metric{Name: prefix + "p99-worst", Value: ms(worst.P99), Unit: "ms"})
	}
	return append(out,
		bench.Metric{Name: prefix + "throughput", Value: med(func(r loadgen.Result) float64 { return r.Throughput }), Unit: "req/s"},
		bench.Metric{Name: prefix + "shed", Value: med(func(r loadgen.Result) float64 { return r.ShedRate * 100 }), Unit: "%"},
		bench.Metric{Name: prefix + "stalls", Value: med(func(r loadgen.Result) float64 { return float64(r.Stalls) / window.Seconds() }), Unit: "/s"},
		bench.Metric{Name: prefix + "longest-stall", Value: med(func(r loadgen.Result) float64 { return ms(r.LongestStall) }), Unit: "ms"})
}

// saturation bisects for the highest open-loop rate the server sustains,
// between half and all of its closed-loop throughput capa: a closed loop
// always has requests queued and so batches work an open loop, arriving
// one request at a time, does not. Sustained: answers keep up with the
// offer (98 %) and nine in ten take under 5 ms, i.e. no queue builds (the
// tenth is left to the p99 the ramp then measures).
//
// Trials are as long as a step, and the rate found must pass a second
// trial (it steps down 5 % until one does): a trial that passed once may
// have held no collection and no stall of the machine, and a saturation
// found that way put the 90 % step past what the server sustains.
func (r *rampRunner) saturation(ctx context.Context, capa float64) (float64, error) {
	d := max(r.cfg.Step, 250*time.Millisecond)
	sustains := func(rate float64) (bool, error) {
		res, err := loadgen.Run(ctx, r.stepLoad(rate, d))
		if err != nil {
			return false, err
		}
		return res.Failed == 0 && res.Throughput >= 0.98*rate && res.P90 < 5*time.Millisecond, nil
	}
	lo, hi := capa/2, capa
	for range 5 {
		mid := (lo + hi) / 2
		ok, err := sustains(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	for range 4 {
		ok, err := sustains(lo)
		if err != nil || ok {
			return lo, err
		}
		lo *= 0.95
	}
	return lo, nil
}

// ----- server/overload -----

// On one 2-core machine a load generator cannot offer three times what the
// server can serve: both need about the same CPU per request, and once the
// cores are saturated every latency measures the CPU queue, not the
// server. So the scenario sets the server's admission limit to a sixth of
// its measured capacity and offers three times that limit, open loop:
// half the machine, leaving CPU for the generator, so the figures show how
// the shedder treats the excess. The offered/limit ratio is measured and
// must reach 2.9 (3 minus scheduling slack).

type overloadRunner struct {
	*target
	cfg   Config
	limit float64
}

func newOverload(ctx context.Context, bins *binaries, cfg Config) (bench.Runner, error) {
	t, err := startHealthcoded(ctx, bins, cfg, "", unlimited...)
	if err != nil {
		return nil, err
	}
	capa, err := t.capacity(ctx, cfg.Workers, time.Second)
	if err != nil {
		t.Close()
		return nil, err
	}
	if err := t.p.stop(); err != nil {
		t.Close()
		return nil, err
	}
	limit := capa / 6
	t2, err := startHealthcoded(ctx, bins, cfg, t.data, "-rps", strconv.FormatFloat(limit, 'f', 0, 64),
		"-burst", strconv.Itoa(int(limit/20)+1), "-client-rps", "-1", "-max-inflight", "64", "-max-queue", "64", "-queue-wait", "20ms")
	if err != nil {
		t.Close()
		return nil, err
	}
	t2.metrics = []bench.Metric{{Name: "capacity", Value: capa, Unit: "req/s"}}
	return &overloadRunner{target: t2, cfg: cfg, limit: limit}, nil
}

func (o *overloadRunner) Run(ctx context.Context, n int) error {
	for range n {
		rssBefore := o.p.peakRSS()
		res, err := loadgen.Run(ctx, o.lookupLoad(3*o.limit, 256, 0, o.cfg.Overload))
		if err != nil {
			return err
		}
		if !o.p.alive() {
			return fmt.Errorf("%w: healthcoded died under overload: %s", bench.ErrWrongAnswer, o.p.stderr.String())
		}
		if res.Failed > 0 {
			return fmt.Errorf("%w: %d requests failed under overload: %s", bench.ErrWrongAnswer, res.Failed, res.FirstError)
		}
		offered := float64(res.Sent) / res.Elapsed.Seconds()
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		o.metrics = append(o.metrics[:1],
			bench.Metric{Name: "limit", Value: o.limit, Unit: "req/s"},
			bench.Metric{Name: "offered", Value: offered, Unit: "req/s"},
			bench.Metric{Name: "offered/limit", Value: offered / o.limit, Unit: "x"},
			bench.Metric{Name: "admitted", Value: res.Throughput, Unit: "req/s"},
			bench.Metric{Name: "shed", Value: res.ShedRate * 100, Unit: "%"},
			bench.Metric{Name: "admitted-p99", Value: ms(res.OKP99), Unit: "ms"},
			bench.Metric{Name: "429-p99", Value: ms(res.ShedP99), Unit: "ms"},
			bench.Metric{Name: "rss-peak-before", Value: rssBefore / (1 << 20), Unit: "MiB"},
			bench.Metric{Name: "rss-peak-after", Value: o.p.peakRSS() / (1 << 20), Unit: "MiB"},
		)
		if offered < 2.9*o.limit {
			return fmt.Errorf("the generator offered only %.1fx the limit (%.0f of %.0f req/s); the scenario needs 3x", offered/o.limit, offered, o.limit)
		}
	}
	return nil
}

// ----- server/kill9-bulk -----

type kill9Runner struct {
	*target
	bins *binaries
	cfg  Config
	bulk []byte
	ids  []string
}

const adminToken = "demo-rules-token"

func newKill9(ctx context.Context, bins *binaries, cfg Config) (bench.Runner, error) {
	t, err := startHealthcoded(ctx, bins, cfg, "", unlimited...)
	if err != nil {
		return nil, err
	}
	// People outside the demo population, each with a positive test two
	// hours ago: every decision is red, so after the crash a green person
	// among the acknowledged is a lost change.
	ppl := synth.New(99).People(cfg.BulkPeople)
	sampled := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	var b strings.Builder
	ids := make([]string, 0, len(ppl))
	for _, p := range ppl {
		if p.ResidentID == "" {
			continue
		}
		ids = append(ids, p.ResidentID)
		fmt.Fprintf(&b, `{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":true,"sampled":%q}]}}`+"\n", p.ResidentID, sampled)
	}
	return &kill9Runner{target: t, bins: bins, cfg: cfg, bulk: []byte(b.String()), ids: ids}, nil
}

func (k *kill9Runner) Run(ctx context.Context, n int) error {
	for range n {
		acked, err := k.bulkUntilFirstAck(ctx)
		if err != nil {
			return err
		}
		k.p.kill()
		start := time.Now()
		t, err := startHealthcoded(ctx, k.bins, k.cfg, k.data, unlimited...)
		if err != nil {
			return fmt.Errorf("restart after kill -9: %w", err)
		}
		restart := time.Since(start)
		k.p = t.p
		if err := k.verify(ctx, acked); err != nil {
			return err
		}
		k.metrics = []bench.Metric{
			{Name: "acknowledged", Value: float64(acked), Unit: "changes"},
			{Name: "restart", Value: restart.Seconds(), Unit: "s"},
		}
	}
	return nil
}

// bulkUntilFirstAck uploads the bulk file and returns as soon as the
// server acknowledges a committed batch, leaving the rest in flight.
func (k *kill9Runner) bulkUntilFirstAck(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", k.p.base+"/admin/evaluate", strings.NewReader(string(k.bulk)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := k.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("bulk evaluate: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]int
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["applied"] > 0 {
			if m["applied"] >= len(k.ids) {
				return 0, errors.New("the whole bulk committed before the kill; raise BulkPeople")
			}
			return m["applied"], nil
		}
	}
	return 0, fmt.Errorf("bulk evaluate ended without an acknowledgement: %v", sc.Err())
}

// verify checks every acknowledged person is red, and that the history of
// a sample verifies its hash chain.
func (k *kill9Runner) verify(ctx context.Context, acked int) error {
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= acked {
					return
				}
				if err := k.checkRed(ctx, k.ids[i], i%500 == 0); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

func (k *kill9Runner) checkRed(ctx context.Context, id string, history bool) error {
	var code struct{ Colour string }
	if err := k.post(ctx, "/v1/code", "", `{"id":"`+id+`"}`, &code); err != nil {
		return err
	}
	if code.Colour != "red" {
		return fmt.Errorf("%w: an acknowledged change was lost: colour %s after restart", bench.ErrWrongAnswer, code.Colour)
	}
	if !history {
		return nil
	}
	var h struct {
		Verified struct {
			OK bool `json:"ok"`
		} `json:"verified"`
	}
	if err := k.post(ctx, "/admin/history", "demo-auditor-token", `{"id":"`+id+`"}`, &h); err != nil {
		return err
	}
	if !h.Verified.OK {
		return fmt.Errorf("%w: history chain does not verify after restart", bench.ErrWrongAnswer)
	}
	return nil
}

func (t *target) post(ctx context.Context, path, token, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "POST", t.p.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// ----- server/bad-rules-under-load -----

type badRulesRunner struct {
	*target
	cfg Config
}

func newBadRules(ctx context.Context, bins *binaries, cfg Config) (bench.Runner, error) {
	t, err := startHealthcoded(ctx, bins, cfg, "", unlimited...)
	if err != nil {
		return nil, err
	}
	return &badRulesRunner{target: t, cfg: cfg}, nil
}

const brokenRules = "id: broken\nversion: v-bad\ndefault: green\nrules:\n  - id: r1\n    when: undeclared_fact > 1\n    colour: red\n    reason: x\n"

func (b *badRulesRunner) Run(ctx context.Context, n int) error {
	for range n {
		done := make(chan struct{})
		var uploads, refused atomic.Int64
		var upErr atomic.Value
		go func() {
			defer close(done)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			end := time.After(b.cfg.BadRules)
			for {
				select {
				case <-end:
					return
				case <-tick.C:
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", b.p.base+"/admin/rules", strings.NewReader(brokenRules))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				resp, err := b.client.Do(req)
				uploads.Add(1)
				if err != nil {
					upErr.CompareAndSwap(nil, err.Error())
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusUnprocessableEntity {
					refused.Add(1)
				} else {
					upErr.CompareAndSwap(nil, fmt.Sprintf("broken rule set answered %d", resp.StatusCode))
				}
			}
		}()
		res, err := loadgen.Run(ctx, b.lookupLoad(0, b.cfg.Workers, 0, b.cfg.BadRules))
		<-done
		if err != nil {
			return err
		}
		if v := upErr.Load(); v != nil {
			return fmt.Errorf("%w: %v", bench.ErrWrongAnswer, v)
		}
		if res.Failed > 0 || res.Shed > 0 {
			return fmt.Errorf("%w: %d lookups failed, %d shed during bad uploads: %s", bench.ErrWrongAnswer, res.Failed, res.Shed, res.FirstError)
		}
		b.metrics = []bench.Metric{
			{Name: "lookups", Value: float64(res.OK), Unit: "ok"},
			{Name: "failed", Value: float64(res.Failed), Unit: "lookups"},
			{Name: "uploads-refused", Value: float64(refused.Load()), Unit: "of " + strconv.FormatInt(uploads.Load(), 10)},
		}
	}
	return nil
}
