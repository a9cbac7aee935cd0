// Command healthcoded is the reference health-code server: the codes and
// rules packages wired together behind an HTTP API that sheds load before
// it falls over. See README.md for the endpoints and curl lines.
//
//	go run ./examples/healthcoded          # listens on 127.0.0.1:8080, data in ./healthcoded-data
//	go run ./examples/healthcoded token -file tokens.json -actor ops-zhang -roles transcoder,auditor
//	go run ./examples/healthcoded import -source sc-2026-12-06 -actor ops-zhang codes.csv
//
// It exits 0 after a clean shutdown (SIGINT, SIGTERM) and 1 when it
// refuses to start or fails, with the reason on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "healthcoded:", err)
		os.Exit(1)
	}
}

// run parses flags into a Config, opens the app and serves until ctx ends;
// `healthcoded token ...` makes an admin token instead (runToken),
// `healthcoded audit verify` checks the audit trail (runAudit), and
// `healthcoded import` loads codes from an earlier platform (runImport).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "audit" {
		return runAudit(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "import" {
		return runImport(ctx, args[1:], stdout, stderr)
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("healthcoded", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (use 127.0.0.1:0 for any free port)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory: code store, keys, demo population, scans")
	fs.StringVar(&cfg.Store, "store", os.Getenv("HEALTHCODE_STORE"), "code store: empty for the embedded bbolt file in -data, or a postgres:// URL that several nodes share (default $HEALTHCODE_STORE)")
	fs.DurationVar(&cfg.StoreTimeout, "store-timeout", cfg.StoreTimeout, "longest a database statement may take before the request fails with 503 (postgres store)")
	fs.StringVar(&cfg.KeysDir, "keys", "", "directory of the keying secret and token-signing key (default: -data); nodes sharing a store must share these")
	fs.StringVar(&cfg.TokensFile, "tokens", "", "admin token file (JSON, mode 0600; make one with `healthcoded token -file FILE -actor NAME -roles ROLES`). Empty means the built-in demo tokens, accepted on a loopback -addr only; off loopback the file's tokens must be hashed")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS (HTTP/2 and HTTP/1.1, TLS 1.2+) with this PEM certificate chain; needs -tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&cfg.Node, "node", "", "this server's name in audit records (default the host name)")
	fs.StringVar(&cfg.AlarmsFile, "alarms", "", "alarm rules and notifiers (YAML, examples/alarms/README.md); reread on SIGHUP or POST /admin/alarms/reload. Empty: no alarms")
	fs.DurationVar(&cfg.AlarmTick, "alarm-tick", cfg.AlarmTick, "how often alarms check the anomaly figures and resolve quiet causes")
	fs.DurationVar(&cfg.AlarmRetry, "alarm-retry", cfg.AlarmRetry, "first wait before a failed alarm delivery is retried (doubling to 5m)")
	fs.StringVar(&cfg.QualityFile, "quality", "", "data-quality check rules (YAML, examples/quality/README.md): runs on their schedule and by POST /admin/quality/run. Empty: none")
	fs.StringVar(&cfg.QualityBase, "quality-data", "", "directory the quality rules' dataset paths are relative to (default: the rules file's)")
	fs.StringVar(&cfg.Syslog, "syslog", "", "export the audit trail as RFC 5424 syslog to tcp://host:port (octet counting; at least once) or udp://host:port (best effort). Empty: no export")
	fs.StringVar(&cfg.TraceSnapshot, "trace-snapshot", "", "a snapshot written by `tracectl ingest` for the console's person finder to start from (its persons: keys, document numbers or phones); the scans this server records are added to it. Empty: the recorded scans only")
	fs.IntVar(&cfg.TraceRetainDays, "trace-retain-days", cfg.TraceRetainDays, "days of scans the person finder keeps, counted back from the latest it holds (0: every day)")
	fs.IntVar(&cfg.DemoPeople, "demo-people", cfg.DemoPeople, "synthetic people seeded on first start (0: none)")
	fs.Uint64Var(&cfg.DemoSeed, "demo-seed", cfg.DemoSeed, "seed of the synthetic demo population")
	fs.Int64Var(&cfg.Registry.CacheEntries, "cache-entries", cfg.Registry.CacheEntries, "non-green states the registry's cache keeps; size it to the hot set. Its admission sketch costs about 48 bytes an entry, used or not, and every collection's heap grows with it")
	fs.UintVar(&cfg.Registry.ExpectedNonGreen, "expected-nongreen", cfg.Registry.ExpectedNonGreen, "non-green keys the registry's filter is sized for (1.2 bytes each at 1 % false positives)")
	fs.Float64Var(&cfg.Limits.GlobalRPS, "rps", cfg.Limits.GlobalRPS, "requests per second admitted in all")
	fs.IntVar(&cfg.Limits.GlobalBurst, "burst", cfg.Limits.GlobalBurst, "global token bucket size")
	fs.Float64Var(&cfg.Limits.ClientRPS, "client-rps", cfg.Limits.ClientRPS, "requests per second admitted per client IP")
	fs.IntVar(&cfg.Limits.ClientBurst, "client-burst", cfg.Limits.ClientBurst, "per-client token bucket size")
	fs.IntVar(&cfg.Limits.MaxInFlight, "max-inflight", cfg.Limits.MaxInFlight, "requests handled at once")
	fs.IntVar(&cfg.Limits.MaxQueue, "max-queue", cfg.Limits.MaxQueue, "requests waiting for a slot at once")
	fs.DurationVar(&cfg.Limits.QueueWait, "queue-wait", cfg.Limits.QueueWait, "longest wait for a slot before 429")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", cfg.TokenTTL, "lifetime of offline tokens")
	fs.DurationVar(&cfg.Grace, "grace", cfg.Grace, "time in-flight requests get to finish at shutdown")
	quiet := fs.Bool("quiet", false, "log warnings and errors only")
	cpuProf := fs.String("cpuprofile", "", "write a CPU profile to this file until shutdown (go tool pprof)")
	traceFile := fs.String("trace", "", "write an execution trace to this file until shutdown (go tool trace; large: tens of MB a second under load)")
	memProf := fs.String("memprofile", "", "write a heap profile (live and allocated since start) to this file at shutdown (go tool pprof)")
	gogc := fs.Int("gogc", 200, "garbage-collector target percentage (Go's GOGC). Each collection takes CPU for a spell as long as tracing the live heap takes (15 MB with 10 k demo people: 5-13 ms), and near saturation the queue a spell leaves is what the p99 pays. 200 has half the collections of 100 for about 20 MB more heap; on the 2-core development VM their p99s at 17-21.5 k lookups/s were within its noise (compare settings with benchmarks/cmd/hcsettings)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The process's GC setting belongs to main: an explicit GOGC in the
	// environment wins over the flag default.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gogc)
	}
	for _, p := range []struct {
		path  string
		start func(io.Writer) error
		stop  func()
	}{{*cpuProf, pprof.StartCPUProfile, pprof.StopCPUProfile}, {*traceFile, trace.Start, trace.Stop}} {
		if p.path == "" {
			continue
		}
		stop, err := recordTo(p.path, p.start, p.stop)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *memProf != "" {
		defer writeHeapProfile(*memProf, stderr)
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	a, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "healthcoded listening on %s (data in %s)\n", a.URL(ln), cfg.DataDir)
	srv := a.HTTPServer()
	// SIGHUP rereads the alarm rules; a file with problems leaves the
	// rules in force running.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := a.ReloadAlarms(); err != nil {
					a.log.Error("alarm rules not reloaded; the rules in force keep running", "err", err)
				}
			}
		}
	}()
	return serve.Serve(ctx, srv, ln, cfg.Grace, a.Flush, a.log)
}

// recordTo starts a recording (a CPU profile, an execution trace) into a
// new file at path; the func it returns stops it and closes the file.
func recordTo(path string, start func(io.Writer) error, stop func()) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		stop()
		f.Close()
	}, nil
}

// writeHeapProfile writes the heap profile at shutdown; a failure is
// reported, not fatal, since the server has already done its work.
func writeHeapProfile(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "healthcoded: heap profile:", err)
	}
}
