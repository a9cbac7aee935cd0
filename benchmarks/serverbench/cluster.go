package serverbench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/internal/benchdb"
	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
	"github.com/jackc/pgx/v5"
)

// Figures of server/cluster.
const (
	clusterRate    = 5000                  // lookups a second, over both nodes
	transcodeEvery = 50 * time.Millisecond // 20 transcodes a second on node a
	pollEvery      = time.Millisecond      // polls of node b per transcode
	propagateLimit = 10 * time.Second      // a transcode b has not shown by then failed
)

// PostgresWorkloads returns the scenarios of healthcoded over PostgreSQL
// at scale s, against the server dsn names: each subject creates a
// database of its own there (CREATE DATABASE) and drops it when it closes.
// The workloads can be listed with an empty dsn; their Setup then fails.
func PostgresWorkloads(s bench.Scale, dsn string) []bench.Workload {
	cfg := ConfigFor(s)
	bins := &binaries{}
	return []bench.Workload{
		clusterWorkload("server/cluster", postgresServer, bins, cfg, dsn),
		{
			Name: "server/nodes", Unit: "lookup",
			Doc: fmt.Sprintf("Closed-loop POST /v1/code (%d workers in all, split over the nodes; every colour checked) against one healthcoded over PostgreSQL, two over the same database (their sum), and one over its embedded bbolt file; caches warmed first. CPU shares are of the machine's CPU time over the timed run (wall x %d CPUs): every postgres process, the healthcoded processes, this generator, and the rest of the machine's busy time (other processes).",
				cfg.Workers, runtime.NumCPU()),
			Subjects: []bench.Subject{
				{Name: "healthcoded-x2-pg", Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newNodes(ctx, bins, cfg, postgresServer, dsn, 2)
				}},
				{Name: "healthcoded-x1-pg", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newNodes(ctx, bins, cfg, postgresServer, dsn, 1)
				}},
				{Name: "healthcoded-x1-bbolt", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
					return newNodes(ctx, bins, cfg, postgresServer, "", 1)
				}},
			},
		},
	}
}

// MySQLWorkloads returns the cluster scenario of healthcoded over a
// MySQL-wire server (MySQL, MariaDB) at scale s, against the server dsn
// names (go-sql-driver form, with or without mysql://): each subject
// creates a database of its own there and drops it when it closes. The
// workloads can be listed with an empty dsn; their Setup then fails.
func MySQLWorkloads(s bench.Scale, dsn string) []bench.Workload {
	return []bench.Workload{clusterWorkload("server/cluster-mysql", mysqlServer, &binaries{}, ConfigFor(s), dsn)}
}

// clusterWorkload is the server/cluster scenario over the server kind k.
func clusterWorkload(name string, k *dbServer, bins *binaries, cfg Config, dsn string) bench.Workload {
	return bench.Workload{
		Name: name, Unit: "run",
		Doc: fmt.Sprintf("Two healthcoded nodes over one %s database, sharing -keys, for %v: open-loop lookups at %d/s in all (half to each node), and a transcode on node a every %v (a green person each, red and yellow by turns) after whose acknowledgement node b is polled every %v until it serves the new colour: propagation = a's answer to b's first answer with the new colour; not within %v is a failure. Every lookup's colour checked. Caches warmed first. Baseline: the same nodes and lookups without the transcodes, for the lookups' latency. CPU shares as in server/nodes (cpu-%s: the database server's processes).",
			k.what, cfg.Cluster, clusterRate, transcodeEvery, pollEvery, propagateLimit, k.label),
		Subjects: []bench.Subject{
			{Name: "healthcoded-x2-" + k.short, Role: bench.Primary, Setup: func(ctx context.Context) (bench.Runner, error) {
				return newClusterRunner(ctx, bins, cfg, k, dsn, true)
			}},
			{Name: "no-transcodes", Role: bench.Baseline, Setup: func(ctx context.Context) (bench.Runner, error) {
				return newClusterRunner(ctx, bins, cfg, k, dsn, false)
			}},
		},
	}
}

// ----- a database of one's own -----

// dbServer is a kind of database server the nodes can share.
type dbServer struct {
	what   string   // in docs and errors
	short  string   // in subject names
	label  string   // in the CPU share's name, cpu-<label>
	comms  []string // its processes' names, for the CPU share
	create func(ctx context.Context, dsn string) (*database, error)
}

var (
	postgresServer = &dbServer{what: "PostgreSQL", short: "pg", label: "postgres", comms: []string{"postgres"}, create: createPostgres}
	mysqlServer    = &dbServer{what: "MySQL-wire (MariaDB, MySQL)", short: "mysql", label: "mysql", comms: []string{"mariadbd", "mysqld"}, create: createMySQL}
)

// database is a fresh database; drop removes it.
type database struct {
	url  string // healthcoded's -store
	drop func() error
}

// createPostgres creates a fresh database on the PostgreSQL server dsn
// names.
func createPostgres(ctx context.Context, dsn string) (*database, error) {
	if dsn == "" {
		return nil, errors.New("serverbench: no PostgreSQL: set HEALTHCODE_TEST_POSTGRES or hcbench -postgres")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("serverbench: PostgreSQL URL: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hcb_" + hex.EncodeToString(b[:])
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("serverbench: create database: %w", err)
	}
	u.Path = "/" + name
	return &database{url: u.String(), drop: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("serverbench: drop database %s: %w", name, err)
		}
		return nil
	}}, nil
}

// createMySQL creates a fresh database on the MySQL-wire server dsn names.
func createMySQL(ctx context.Context, dsn string) (*database, error) {
	d, err := benchdb.CreateMySQL(ctx, dsn, "hcb_srv_")
	if err != nil {
		return nil, err
	}
	return &database{url: "mysql://" + d.DSN(), drop: d.Drop}, nil
}

// ----- nodes -----

// cluster is n healthcoded nodes over one fresh database sharing a keys
// directory (n = 1 and dsn "" is one node over its bbolt file).
type cluster struct {
	nodes []*target
	kind  *dbServer
	db    *database
	keys  string
}

func startCluster(ctx context.Context, bins *binaries, cfg Config, k *dbServer, dsn string, n int) (c *cluster, err error) {
	c = &cluster{kind: k}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	var extra []string
	if dsn != "" {
		if c.db, err = k.create(ctx, dsn); err != nil {
			return nil, err
		}
		if c.keys, err = os.MkdirTemp("", "serverbench-keys-"); err != nil {
			return nil, err
		}
		extra = []string{"-store", c.db.url, "-keys", c.keys}
	}
	// The first node seeds the population; the others find it in the
	// database and get the first's list of it.
	a, err := startHealthcoded(ctx, bins, cfg, "", append(slices.Clone(unlimited), extra...)...)
	if err != nil {
		return nil, err
	}
	c.nodes = append(c.nodes, a)
	hc, _, _ := bins.build(ctx)
	for range n - 1 {
		data, err := os.MkdirTemp("", "serverbench-data-")
		if err != nil {
			return nil, err
		}
		t := &target{data: data, people: a.people, client: a.client}
		c.nodes = append(c.nodes, t)
		args := append([]string{"-addr", "127.0.0.1:0", "-data", data, "-demo-people", strconv.Itoa(cfg.DemoPeople), "-quiet"}, unlimited...)
		if t.p, err = startProc(ctx, cfg.Env, hc, append(args, extra...)...); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *cluster) Close() error {
	var errs []error
	for _, t := range c.nodes {
		errs = append(errs, t.Close())
	}
	if c.keys != "" {
		errs = append(errs, os.RemoveAll(c.keys))
	}
	if c.db != nil {
		errs = append(errs, c.db.drop())
	}
	return errors.Join(errs...)
}

// warm sends every node a closed-loop pass over the population, twice,
// so that caches hold what the timed run asks for.
func (c *cluster) warm(ctx context.Context, workers int) error {
	for _, t := range c.nodes {
		res, err := loadgen.Run(ctx, t.lookupLoad(0, workers, 2*len(t.people), time.Minute))
		if err != nil {
			return err
		}
		if res.Failed > 0 {
			return fmt.Errorf("%w: warm-up: %d failed: %s", bench.ErrWrongAnswer, res.Failed, res.FirstError)
		}
	}
	return nil
}

// ----- server/cluster -----

type clusterRunner struct {
	*cluster
	cfg       Config
	transcode bool // false: the lookups alone
	next      int  // next person of the population to transcode
	metrics   []bench.Metric
}

func newClusterRunner(ctx context.Context, bins *binaries, cfg Config, k *dbServer, dsn string, transcode bool) (*clusterRunner, error) {
	c, err := startCluster(ctx, bins, cfg, k, dsn, 2)
	if err != nil {
		return nil, err
	}
	// Warm caches, as in server/nodes: cold, the first pass over the
	// population reads every non-green person from the database, and those
	// reads (slow while the disk is busy) set the lookups' p99.
	if err := c.warm(ctx, rampConns); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &clusterRunner{cluster: c, cfg: cfg, transcode: transcode}, nil
}

func (r *clusterRunner) Metrics() []bench.Metric { return r.metrics }

func (r *clusterRunner) Run(ctx context.Context, n int) error {
	for range n {
		if err := r.once(ctx); err != nil {
			return err
		}
	}
	return nil
}

// propagation is one transcode's outcome.
type propagation struct {
	took   time.Duration
	failed bool
	err    error
}

func (r *clusterRunner) once(ctx context.Context) error {
	a, b := r.nodes[0], r.nodes[1]
	d := r.cfg.Cluster
	before := r.sampleCPU()
	var wg sync.WaitGroup
	lookups := make([]loadgen.Result, len(r.nodes))
	lookupErrs := make([]error, len(r.nodes))
	for i, t := range r.nodes {
		wg.Go(func() {
			lc := t.lookupLoad(clusterRate/float64(len(r.nodes)), rampConns/2, 0, d)
			lc.Warmup = warmup(d)
			lookups[i], lookupErrs[i] = loadgen.Run(ctx, lc)
		})
	}
	var (
		mu    sync.Mutex
		props []propagation
		pw    sync.WaitGroup
	)
	tick := time.NewTicker(transcodeEvery)
	end := time.After(d)
	for i := 0; ; i++ {
		select {
		case <-end:
		case <-ctx.Done():
		case <-tick.C:
			if !r.transcode {
				continue
			}
			id, err := r.nextGreen()
			if err != nil {
				tick.Stop()
				pw.Wait()
				wg.Wait()
				return err
			}
			to := "red"
			if i%2 == 1 {
				to = "yellow"
			}
			pw.Go(func() {
				p := propagate(ctx, a, b, id, to, i)
				mu.Lock()
				props = append(props, p)
				mu.Unlock()
			})
			continue
		}
		break
	}
	tick.Stop()
	pw.Wait()
	wg.Wait()
	cpu := r.sampleCPU().shares(before)
	if err := errors.Join(lookupErrs...); err != nil {
		return err
	}
	for i, res := range lookups {
		if res.Failed > 0 || res.Shed > 0 {
			return fmt.Errorf("%w: node %c: %d lookups failed, %d shed: %s", bench.ErrWrongAnswer, 'a'+i, res.Failed, res.Shed, res.FirstError)
		}
	}
	var took []time.Duration
	failed := 0
	for _, p := range props {
		if p.err != nil {
			return p.err
		}
		if p.failed {
			failed++
		}
		took = append(took, p.took)
	}
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	q := func(f float64) float64 {
		if len(took) == 0 {
			return 0
		}
		return ms(took[min(len(took)-1, max(0, int(f*float64(len(took))+0.5)-1))])
	}
	r.metrics = nil
	if r.transcode {
		r.metrics = []bench.Metric{
			{Name: "transcodes", Value: float64(len(props)), Unit: "on a"},
			{Name: "propagation-p50", Value: q(.5), Unit: "ms"},
			{Name: "propagation-p99", Value: q(.99), Unit: "ms"},
			{Name: "propagation-max", Value: q(1), Unit: "ms"},
			{Name: "propagation-failed", Value: float64(failed), Unit: "over " + propagateLimit.String()},
		}
	}
	var thr float64
	for i, res := range lookups {
		node := fmt.Sprintf("lookups-%c-", 'a'+i)
		r.metrics = append(r.metrics, latencyMetrics(node, res)[:2]...)
		r.metrics = append(r.metrics,
			bench.Metric{Name: node + "stalls", Value: float64(res.Stalls), Unit: "over " + loadgen.StallGap.String()},
			bench.Metric{Name: node + "longest-stall", Value: ms(res.LongestStall), Unit: "ms"})
		thr += res.Throughput
	}
	r.metrics = append(r.metrics, bench.Metric{Name: "lookups", Value: thr, Unit: "req/s"})
	r.metrics = append(r.metrics, cpu...)
	return nil
}

// pids are the nodes' process ids.
func (c *cluster) pids() []int {
	var out []int
	for _, t := range c.nodes {
		out = append(out, t.p.cmd.Process.Pid)
	}
	return out
}

// nextGreen returns the next person seeded green, never one used before.
func (r *clusterRunner) nextGreen() (string, error) {
	people := r.nodes[0].people
	for ; r.next < len(people); r.next++ {
		if people[r.next].colour == "green" {
			r.next++
			return people[r.next-1].id, nil
		}
	}
	return "", errors.New("serverbench: server/cluster ran out of green people to transcode; raise DemoPeople")
}

// propagate transcodes id to colour on a, then polls b until it serves it.
func propagate(ctx context.Context, a, b *target, id, colour string, i int) propagation {
	body := fmt.Sprintf(`{"id":%q,"colour":%q,"authorisation":"SB-%d","reason":"serverbench cluster"}`, id, colour, i)
	st, resp, err := a.call(ctx, "/admin/transcode", "demo-transcoder-token", body)
	if err != nil {
		return propagation{err: fmt.Errorf("transcode on a: %w", err)}
	}
	if st != http.StatusOK || !bytes.Contains(resp, []byte(`"colour":"`+colour+`"`)) {
		return propagation{err: fmt.Errorf("%w: transcode on a: status %d: %.200s", bench.ErrWrongAnswer, st, resp)}
	}
	acked := time.Now()
	want := []byte(`{"colour":"` + colour + `"`)
	lookup := `{"id":"` + id + `"}`
	for {
		st, resp, err := b.call(ctx, "/v1/code", "", lookup)
		if err != nil {
			return propagation{err: fmt.Errorf("poll b: %w", err)}
		}
		if st != http.StatusOK {
			return propagation{err: fmt.Errorf("%w: poll b: status %d: %.200s", bench.ErrWrongAnswer, st, resp)}
		}
		took := time.Since(acked)
		if bytes.HasPrefix(resp, want) {
			return propagation{took: took}
		}
		if err := checkColour(st, resp); err != nil {
			return propagation{err: err}
		}
		if took > propagateLimit {
			return propagation{took: took, failed: true}
		}
		time.Sleep(pollEvery)
	}
}

// call POSTs body to path and returns the status and answer.
func (t *target) call(ctx context.Context, path, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", t.p.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// ----- server/nodes -----

type nodesRunner struct {
	*cluster
	cfg     Config
	metrics []bench.Metric
}

func newNodes(ctx context.Context, bins *binaries, cfg Config, k *dbServer, dsn string, n int) (bench.Runner, error) {
	c, err := startCluster(ctx, bins, cfg, k, dsn, n)
	if err != nil {
		return nil, err
	}
	if err := c.warm(ctx, cfg.Workers); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &nodesRunner{cluster: c, cfg: cfg}, nil
}

func (r *nodesRunner) Metrics() []bench.Metric { return r.metrics }

// Run sends n lookups, split over the nodes, each node's share by its own
// closed loop of Workers/len(nodes) connections, all at once.
func (r *nodesRunner) Run(ctx context.Context, n int) error {
	before := r.sampleCPU()
	results := make([]loadgen.Result, len(r.nodes))
	errs := make([]error, len(r.nodes))
	var wg sync.WaitGroup
	for i, t := range r.nodes {
		share := n / len(r.nodes)
		if i < n%len(r.nodes) {
			share++
		}
		wg.Go(func() {
			if share == 0 {
				return
			}
			results[i], errs[i] = loadgen.Run(ctx, t.lookupLoad(0, max(1, r.cfg.Workers/len(r.nodes)), share, 10*time.Minute))
			if errs[i] == nil && (results[i].Failed > 0 || results[i].Shed > 0 || results[i].OK != share) {
				errs[i] = fmt.Errorf("%w: node %c: %d of %d ok, %d shed, %d failed: %s", bench.ErrWrongAnswer, 'a'+i, results[i].OK, share, results[i].Shed, results[i].Failed, results[i].FirstError)
			}
		})
	}
	wg.Wait()
	after := r.sampleCPU()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.metrics = after.shares(before)
	for i, res := range results {
		r.metrics = append(r.metrics, latencyMetrics(fmt.Sprintf("node-%c-", 'a'+i), res)[:2]...)
	}
	return nil
}

// ----- CPU accounting from /proc -----

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux the benchmarks run on (getconf CLK_TCK).
const clockTicks = 100

// cpuSample is the CPU time used so far by every process of the database
// server (by pid), by the given healthcoded processes and by this process.
type cpuSample struct {
	at      time.Time
	label   string // the database's, for cpu-<label>
	db      map[int]time.Duration
	servers time.Duration
	self    time.Duration
	busy    time.Duration // the machine's, all CPUs: what others ran shows as busy but none of the above
}

// sampleCPU samples the nodes' and their database server's CPU time.
func (c *cluster) sampleCPU() cpuSample {
	return sampleCPU(c.pids(), c.kind.label, c.kind.comms)
}

// sampleCPU samples the servers' CPU time, and that of every process
// named one of dbComms (the database server's, labelled label).
func sampleCPU(servers []int, label string, dbComms []string) cpuSample {
	s := cpuSample{at: time.Now(), label: label, db: map[int]time.Duration{}}
	for _, pid := range servers {
		s.servers += procCPU(pid)
	}
	s.self = procCPU(os.Getpid())
	s.busy = machineBusy()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || !slices.Contains(dbComms, strings.TrimSpace(string(comm))) {
			continue
		}
		s.db[pid] = procCPU(pid)
	}
	return s
}

// shares returns each party's share of the machine's CPU time from
// before to s, in percent. A database process started since before counts
// whole; one that ended meanwhile is lost (connections are pooled, so
// PostgreSQL's backends live as long as the nodes; MySQL's server is one
// process).
func (s cpuSample) shares(before cpuSample) []bench.Metric {
	avail := s.at.Sub(before.at).Seconds() * float64(runtime.NumCPU())
	var db time.Duration
	for pid, t := range s.db {
		db += t - before.db[pid]
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / avail }
	hc, self := s.servers-before.servers, s.self-before.self
	return []bench.Metric{
		{Name: "cpu-" + s.label, Value: pct(db), Unit: "%"},
		{Name: "cpu-healthcoded", Value: pct(hc), Unit: "%"},
		{Name: "cpu-generator", Value: pct(self), Unit: "%"},
		{Name: "cpu-other", Value: max(0, pct(s.busy-before.busy-db-hc-self)), Unit: "%"},
	}
}

// machineBusy returns the CPU time all CPUs spent not idle since boot
// (/proc/stat: user, nice, system, irq, softirq, steal); 0 if unreadable.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// procCPU returns utime+stime of pid; 0 if it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}
