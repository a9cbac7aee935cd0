package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/alarms"
	"github.com/healthcode-sdk/healthcode/examples/auditexport"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/healthcode-sdk/healthcode/examples/quality"
	"github.com/healthcode-sdk/healthcode/rules"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything healthcoded needs; flags fill it in main.
type Config struct {
	Addr    string
	DataDir string
	// Store picks the code store: "" for the embedded bbolt file in
	// DataDir, or a postgres:// (postgresql://) URL for codes/pgstore, which
	// several healthcoded nodes share.
	Store string
	// StoreTimeout bounds every database statement (pgstore's
	// QueryTimeout): a request that needs the database fails with 503
	// within it rather than hang while the database is away.
	StoreTimeout time.Duration
	// KeysDir holds the keying secret and the token-signing key; "" means
	// DataDir. Nodes that share a store must share these two files.
	KeysDir string
	// TokensFile holds the admin tokens (JSON, serve.TokenFile), mode 0600
	// or narrower. "" means the embedded demo tokens, which Open accepts
	// only when Addr is a loopback address (127.0.0.0/8, ::1, localhost);
	// elsewhere it returns ErrDemoTokens. Off loopback the file's tokens
	// must be hashed (token_sha256), as `healthcoded token` writes them.
	TokensFile string
	// TLSCert and TLSKey are PEM files of the certificate chain and its
	// private key: both set serves HTTPS (HTTP/2 and HTTP/1.1, TLS 1.2 and
	// up), both empty plain HTTP, one alone is ErrTLSPair.
	TLSCert, TLSKey string
	DemoPeople      int // synthetic people seeded on first start
	DemoSeed        uint64
	// Registry sizes the code registry's filter and cache (codes.Config);
	// zero fields take the package defaults. Links and Logger are set by Open.
	Registry codes.Config
	Limits   serve.LimitConfig
	TokenTTL time.Duration
	Grace    time.Duration
	// Node names this server in its audit records; default the host name.
	Node string
	// AlarmsFile holds the alarm rules and notifiers (examples/alarms);
	// "" runs no alarms. Deliveries wait in DataDir/alarms-outbox.db.
	AlarmsFile string
	// AlarmTick is how often the alarm engine checks the anomalies and
	// resolves quiet alarms; AlarmRetry is the first retry delay of a
	// failed delivery (it doubles up to 5 minutes).
	AlarmTick, AlarmRetry time.Duration
	// Syslog is the audit trail's collector: tcp://host:port (RFC 6587
	// octet counting) or udp://host:port; "" exports nothing. Its cursor
	// is DataDir/audit-export.cursor.
	Syslog string
	// QualityFile holds data-quality check rules (examples/quality); ""
	// runs none. Their dataset paths are relative to QualityBase (default
	// the file's directory); runs are kept in DATA/quality-runs.db.
	QualityFile, QualityBase string
	// TraceSnapshot is a tracectl snapshot (examples/tracectl) the
	// console's person finder starts from, before the scans this server
	// records; "" for none. Its persons may be keys in hex, document
	// numbers or phones.
	TraceSnapshot string
	// TraceRetainDays is how many days of scans the finder keeps, counted
	// back from the latest day it holds; older days drop out as a new day
	// arrives. Zero keeps every day.
	TraceRetainDays int
	Logger          *slog.Logger     // nil discards
	Now             func() time.Time // nil means time.Now
}

// DefaultConfig serves on loopback with 10 000 demo people.
func DefaultConfig() Config {
	return Config{
		Addr: "127.0.0.1:8080", DataDir: "healthcoded-data",
		DemoPeople: 10_000, DemoSeed: 2022,
		// One 2-core instance's share of a province, not the province:
		// 64 Ki cached states (3 MB of admission sketch, against 48 MB at
		// the package's 1 Mi) and a filter for a million non-green keys.
		// A smaller heap makes each collection shorter; near saturation
		// the p99 pays for the longest one (benchmarks/REPORT.md, ramp).
		Registry: codes.Config{CacheEntries: 1 << 16, ExpectedNonGreen: 1_000_000},
		Limits:   serve.DefaultLimitConfig(),
		TokenTTL: 5 * time.Minute, Grace: 10 * time.Second,
		AlarmTick: 10 * time.Second, AlarmRetry: time.Second,
		StoreTimeout:    2 * time.Second,
		TraceRetainDays: contacttrace.DefaultRetainDays,
	}
}

//go:embed demo-tokens.json
var demoTokens []byte

// App is the server's state: the SDK objects and what the handlers share.
type App struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	store   codeStore
	feed    codes.Feed // nil: the store is this process's alone
	links   *linkCache
	reg     *codes.Registry
	keyer   *codes.Keyer
	tokens  *codes.TokenCache
	verify  *codes.Verifier
	env     *rules.Env
	engine  *rules.Engine
	admins  *serve.Tokens
	metrics *serve.Metrics
	shed    *serve.Shedder
	// storeErrors counts requests answered 503 for want of the store.
	storeErrors *prometheus.CounterVec
	// What leaves the process (ops.go): the audit trail (the store's),
	// the alarm engine and its outbox, the syslog export; nil when off.
	audit       codes.AuditTrail
	auditErrors prometheus.Counter
	alarms      *alarms.Engine
	outbox      *alarms.Outbox
	notifiers   map[string]alarms.Notifier
	export      *auditexport.Exporter
	trailWake   chan struct{}   // an audit record was appended here
	quality     *quality.Runner // nil: no -quality rules
	qstore      *quality.Store
	stopOps     func()
	tls         *tls.Config // nil: plain HTTP
	// loopbackOnly: the admin tokens are the demo ones or in clear, so
	// Listen refuses a listener that is not on loopback.
	loopbackOnly bool
	stats        *dailyStats
	colours      *colourGauge
	scans        *scanLog
	finder       *finder     // the person finder's index of scans
	tasks        *taskStore  // the finder's saved tasks
	pushes       *pushRunner // the finder's pushes for coding

	mu         sync.Mutex
	pending    map[string]*rules.Compiled // uploaded, compiled, not yet active; by version
	population population                 // facts for dry runs (last seeded or bulk-evaluated)
	noteErrs   map[uint64]error           // what applying each recent shared note gave, by feed position

	stopFollow func() // ends the registry's Follow and waits for it

	ready atomic.Bool

	// consoleStats is what the console's statistics compute once
	// (console_stats.go).
	consoleStats consoleStatsCache

	// answers recycles lookup answers (*codeAnswer: the display and its
	// JSON) with their source arrays: a lookup is the one request every
	// client sends, and what it allocates sets how often the collector runs
	// at full load.
	answers sync.Pool
}

// Open opens (or creates) the data directory, the store and every SDK
// object, and seeds the demo population on first start. It checks the
// admin tokens and the TLS certificate first, and refuses (ErrDemoTokens,
// *TokenFileModeError, *serve.ClearTokenError, ErrTLSPair) before it
// creates or opens anything else; it never listens.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Limits.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	if cfg.AlarmTick <= 0 {
		cfg.AlarmTick = DefaultConfig().AlarmTick
	}
	admins, loopbackOnly, err := loadAdmins(cfg, demoTokens)
	if err != nil {
		return nil, err
	}
	tlsConf, err := loadTLS(cfg, cfg.Now())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if cfg.KeysDir == "" {
		cfg.KeysDir = cfg.DataDir
	}
	if err := os.MkdirAll(cfg.KeysDir, 0o700); err != nil {
		return nil, fmt.Errorf("keys dir: %w", err)
	}
	a := &App{cfg: cfg, log: cfg.Logger, now: cfg.Now, pending: map[string]*rules.Compiled{}, noteErrs: map[uint64]error{},
		admins: admins, loopbackOnly: loopbackOnly, tls: tlsConf, trailWake: make(chan struct{}, 1)}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	if a.keyer, err = openKeyer(cfg.KeysDir); err != nil {
		return nil, err
	}
	seed, err := readOrCreateKey(filepath.Join(cfg.KeysDir, "signing.ed25519"), ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	signer, err := codes.NewEd25519Signer("hc-1", ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, err
	}
	if a.tokens, err = codes.NewTokenCache(signer, codes.TokenCacheConfig{TTL: cfg.TokenTTL}); err != nil {
		return nil, err
	}
	if a.verify, err = codes.NewVerifier(codes.VerifierConfig{}, signer.Public()); err != nil {
		return nil, err
	}

	switch {
	case cfg.TokensFile == "":
		a.log.Warn("admin API on the built-in demo tokens, loopback only; pass -tokens for real ones")
	case loopbackOnly:
		a.log.Warn("admin token file gives tokens in clear, loopback only", "file", cfg.TokensFile)
	}
	if tlsConf != nil {
		a.log.Info("tls", "cert", cfg.TLSCert, "not_after", tlsConf.Certificates[0].Leaf.NotAfter)
	}

	if a.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	a.feed, _ = a.store.(codes.Feed)
	a.links = newLinkCache(a.store, 1<<20)
	rc := cfg.Registry
	rc.Links, rc.Logger, rc.OnFeed = a.links, a.log, a.onFeed
	if a.reg, err = codes.Open(ctx, a.store, rc); err != nil {
		return nil, err
	}
	if a.env, err = rules.NewEnv(); err != nil {
		return nil, err
	}
	if a.engine, err = rules.NewEngine(rules.DefaultEngineConfig()); err != nil {
		return nil, err
	}
	def, err := a.env.CompileYAML("default.yaml", rules.DefaultRuleSetYAML())
	if err != nil {
		return nil, err
	}
	if err := a.engine.Swap(def, a.now()); err != nil {
		return nil, err
	}

	a.metrics = serve.NewMetrics("healthcoded")
	if a.shed, err = serve.NewShedder(cfg.Limits, a.metrics.Shed); err != nil {
		return nil, err
	}
	a.colours = newColourGauge(a.metrics)
	registerLookupMetrics(a.metrics, a.reg)
	a.registerOpsMetrics()
	a.audit = a.store
	if err := a.openOps(); err != nil {
		return nil, err
	}
	if err := a.openQuality(); err != nil {
		return nil, err
	}
	if a.feed != nil {
		registerFeedMetrics(a.metrics, a.reg)
	}
	if err := a.store.Scan(ctx, func(_ codes.Key, c codes.Colour) error {
		a.colours.add(c, 1)
		return nil
	}); err != nil {
		return nil, err
	}
	if a.stats, err = loadStats(filepath.Join(cfg.DataDir, "stats.json")); err != nil {
		return nil, err
	}
	if a.scans, err = openScanLog(filepath.Join(cfg.DataDir, "scans.csv")); err != nil {
		return nil, err
	}
	if err := a.seedDemo(ctx); err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	if a.finder, err = newFinder(ctx, finderSources{Scans: filepath.Join(cfg.DataDir, "scans.csv"), Venues: a.venuesPath(),
		Trips: a.tripsPath(), Snapshot: cfg.TraceSnapshot, RetainDays: cfg.TraceRetainDays, Person: a.personKey}, a.log); err != nil {
		return nil, err
	}
	if a.tasks, err = openTaskStore(filepath.Join(cfg.DataDir, "finder-tasks.db")); err != nil {
		return nil, err
	}
	a.pushes = newPushRunner()
	if err := a.replayNotes(ctx); err != nil {
		return nil, err
	}
	if a.feed != nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = a.reg.Follow(fctx) // returns when fctx ends; failures are retried inside
		}()
		a.stopFollow = func() { cancel(); <-done }
	}
	a.stopOps = a.startOps(ctx)
	ok = true
	a.ready.Store(true)
	return a, nil
}

// Listen opens the configured address, with TLS if the Config has a
// certificate. With admin tokens fit for loopback only it refuses
// (ErrDemoTokens) a listener that a loopback name bound elsewhere.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, err
	}
	if a.loopbackOnly {
		if err := checkBoundLoopback(ln.Addr()); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if a.tls != nil {
		ln = tls.NewListener(ln, a.tls)
	}
	return ln, nil
}

// URL is how clients reach the server on ln: https:// when it has a
// certificate, else http://.
func (a *App) URL(ln net.Listener) string {
	if a.tls != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// HTTPServer returns the server with every route and sane timeouts. With
// TLS, its TLSConfig is the listener's, whose "h2" makes Serve speak
// HTTP/2 on the connections that negotiate it.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		TLSConfig:         a.tls,
		ErrorLog:          httpErrorLog(a.log),
		Handler:           a.Routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // bulk evaluation streams progress
		IdleTimeout:       2 * time.Minute,
	}
}

// Flush makes everything acknowledged durable: the store is fsynced on
// every commit already; scans and statistics are written out here.
func (a *App) Flush(ctx context.Context) error {
	a.ready.Store(false)
	return errors.Join(a.scans.Flush(), a.stats.save())
}

// Close releases the store and caches. It is safe to call on a partly
// opened App.
func (a *App) Close() error {
	var errs []error
	if a.stopFollow != nil {
		a.stopFollow()
	}
	if a.stopOps != nil {
		a.stopOps()
	}
	if a.outbox != nil {
		errs = append(errs, a.outbox.Close())
	}
	if a.qstore != nil {
		errs = append(errs, a.qstore.Close())
	}
	if a.pushes != nil {
		a.pushes.close() // before the store: a push transcodes through it
	}
	if a.tasks != nil {
		errs = append(errs, a.tasks.Close())
	}
	if a.reg != nil {
		a.reg.Close()
	}
	if a.scans != nil {
		errs = append(errs, a.scans.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}

// readOrCreateKey returns the n random bytes stored at path, creating them
// on first start (mode 0600, written to a temporary file and renamed so a
// crash never leaves half a key).
// openKeyer returns the keyer of the secret in keysDir (keying.secret),
// made on first use: the server and `healthcoded import` key the same way.
func openKeyer(keysDir string) (*codes.Keyer, error) {
	secret, err := readOrCreateKey(filepath.Join(keysDir, "keying.secret"), 32)
	if err != nil {
		return nil, err
	}
	return codes.NewKeyer(codes.HMACSHA256, secret)
}

// personKeyOf keys id, a document number or else a phone. When it is
// neither, the error is the document parser's (its input masked).
func personKeyOf(keyer *codes.Keyer, id string) (codes.Key, error) {
	doc, err := codes.Parse(id)
	if err == nil {
		return keyer.Document(doc), nil
	}
	if ph, perr := codes.ParsePhone(id); perr == nil {
		return keyer.Phone(ph), nil
	}
	return codes.Key{}, err
}

func readOrCreateKey(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != n {
			return nil, fmt.Errorf("%s: want %d bytes, found %d", path, n, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	return b, os.Rename(tmp, path)
}
