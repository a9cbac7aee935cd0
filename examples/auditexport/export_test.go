package auditexport

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

const (
	testHost = "hc-test.example"
	testApp  = "healthcoded"
)

// testConfig returns a config for url with a cursor in dir and short
// backoffs, logging through t.
func testConfig(t testing.TB, url, dir string) Config {
	return Config{
		URL:        url,
		Cursor:     filepath.Join(dir, "cursor"),
		Hostname:   testHost,
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 300 * time.Millisecond,
		Poll:       50 * time.Millisecond,
		Log:        slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// runExporter starts x.Run; the returned function stops it and returns
// Run's error.
func runExporter(t testing.TB, x *Exporter) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			cancel()
			err = <-done
			stopped = true
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// received parses every line rsyslogd wrote, checks each against the
// trail's record of its seq, and returns how often each seq arrived.
func received(t testing.TB, r *testenv.Rsyslogd, recs []codes.AuditRecord) map[uint64]int {
	t.Helper()
	count := map[uint64]int{}
	for _, line := range r.Lines() {
		m := parse(t, line)
		seq, err := strconv.ParseUint((*m.StructuredData)[DefaultSDID]["seq"], 10, 64)
		if err != nil || seq == 0 || seq > uint64(len(recs)) {
			t.Fatalf("seq %q not in the trail: %s", (*m.StructuredData)[DefaultSDID]["seq"], line)
		}
		checkMessage(t, m, &recs[seq-1], testHost, testApp, DefaultSDID, 13)
		count[seq]++
	}
	return count
}

// TestExportTCP: every record of a 200-record trail reaches a real
// rsyslogd over TCP, each line parses as RFC 5424 with the record's
// fields, and the cursor names the last record.
func TestExportTCP(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	var tr trail
	appendAttempts(t, &tr, 0, 200, nil)
	dir := t.TempDir()
	x, err := New(&tr, testConfig(t, r.TCPURL(), dir))
	if err != nil {
		t.Fatal(err)
	}
	stop := runExporter(t, x)
	waitFor(t, 30*time.Second, "200 records delivered", func() bool { return x.Stats().Delivered == 200 })
	waitFor(t, 10*time.Second, "200 lines written", func() bool { return len(r.Lines()) >= 200 })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	recs := tr.all()
	count := received(t, r, recs)
	for seq := uint64(1); seq <= 200; seq++ {
		if count[seq] != 1 {
			t.Errorf("seq %d arrived %d times", seq, count[seq])
		}
	}
	st := x.Stats()
	if st.Sent != 200 || st.Delivered != 200 || st.Lag != 0 || st.Errors != 0 || st.Broken != 0 || st.Connected {
		t.Errorf("stats %+v", st)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cursor"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "200 " + hex.EncodeToString(recs[199].Hash[:]) + "\n"; string(b) != want {
		t.Errorf("cursor file %q, want %q", b, want)
	}
}

// TestExportCollectorRestart: rsyslogd is stopped while records keep
// being appended and started again 2 s later; every record arrives.
// Duplicates are allowed (the guarantee is at least once) and counted.
func TestExportCollectorRestart(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	var tr trail
	x, err := New(&tr, testConfig(t, r.TCPURL(), t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	runExporter(t, x)
	const n = 600
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for i := range n {
			if _, err := tr.AppendAudit(context.Background(), []codes.AuditRecord{attempt(i)}); err != nil {
				t.Error(err)
				return
			}
			x.Notify()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitFor(t, 30*time.Second, "100 records delivered", func() bool { return x.Stats().Delivered >= 100 })
	r.Stop()
	stoppedAt := x.Stats()
	t.Logf("rsyslogd stopped after record %d", stoppedAt.Delivered)
	time.Sleep(2 * time.Second)
	away := x.Stats()
	if away.Connected || away.Errors == 0 || away.Lag == 0 {
		t.Errorf("stats while the collector is away: %+v", away)
	}
	r.Start()
	<-appended
	waitFor(t, 30*time.Second, "every record delivered", func() bool { return x.Stats().Delivered == n })
	recs := tr.all()
	var count map[uint64]int
	waitFor(t, 10*time.Second, "every record in rsyslogd's file", func() bool {
		count = received(t, r, recs)
		return len(count) == n
	})
	dups := 0
	for seq := uint64(1); seq <= n; seq++ {
		if count[seq] == 0 {
			t.Errorf("seq %d lost", seq)
		}
		dups += count[seq] - 1
	}
	st := x.Stats()
	t.Logf("%d records, %d duplicates; while away %+v; at the end %+v", n, dups, away, st)
	if st.Delivered != n || st.Lag != 0 || !st.Connected {
		t.Errorf("stats at the end: %+v", st)
	}
}

// TestExportResume: an exporter started again on the same cursor file
// sends the records after it, and only those.
func TestExportResume(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	var tr trail
	appendAttempts(t, &tr, 0, 100, nil)
	dir := t.TempDir()
	cfg := testConfig(t, r.TCPURL(), dir)
	x1, err := New(&tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runExporter(t, x1)
	waitFor(t, 30*time.Second, "100 records delivered", func() bool { return x1.Stats().Delivered == 100 })
	stop()

	appendAttempts(t, &tr, 100, 250, nil)
	x2, err := New(&tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st := x2.Stats(); st.Delivered != 100 {
		t.Fatalf("a new exporter starts at %d, want the cursor's 100", st.Delivered)
	}
	runExporter(t, x2)
	waitFor(t, 30*time.Second, "250 records delivered", func() bool { return x2.Stats().Delivered == 250 })
	if st := x2.Stats(); st.Sent != 150 {
		t.Errorf("the second exporter sent %d messages, want 150 (%+v)", st.Sent, st)
	}
	var count map[uint64]int
	waitFor(t, 10*time.Second, "250 lines written", func() bool {
		count = received(t, r, tr.all())
		return len(count) == 250
	})
	for seq := uint64(1); seq <= 250; seq++ {
		if count[seq] != 1 {
			t.Errorf("seq %d arrived %d times", seq, count[seq])
		}
	}

	// A cursor that another trail wrote is refused before anything is sent.
	var other trail
	appendAttempts(t, &other, 1, 300, nil)
	x3, err := New(&other, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := x3.Run(ctx); !errors.Is(err, ErrCursorMismatch) {
		t.Errorf("Run on another trail: %v, want ErrCursorMismatch", err)
	}
	if st := x3.Stats(); st.Sent != 0 {
		t.Errorf("sent %d messages from another trail", st.Sent)
	}
}

// TestExportUDP: messages arrive over UDP, one per datagram, and parse;
// a record too long for a datagram is cut to 2048 bytes, free text first,
// seq and hashes whole.
func TestExportUDP(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	var tr trail
	appendAttempts(t, &tr, 0, 200, nil)
	long := attempt(200)
	long.Reason, long.Authorisation = strings.Repeat("长", 340), strings.Repeat("x", 1000)
	if _, err := tr.AppendAudit(context.Background(), []codes.AuditRecord{long}); err != nil {
		t.Fatal(err)
	}
	x, err := New(&tr, testConfig(t, r.UDPURL(), t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	runExporter(t, x)
	waitFor(t, 30*time.Second, "201 records sent", func() bool { return x.Stats().Delivered == 201 })
	recs := tr.all()
	var lines [][]byte
	waitFor(t, 10*time.Second, "201 lines written", func() bool {
		lines = r.Lines()
		return len(lines) >= 201
	})
	count := map[uint64]int{}
	for _, line := range lines {
		m := parse(t, line)
		sd := (*m.StructuredData)[DefaultSDID]
		seq, _ := strconv.ParseUint(sd["seq"], 10, 64)
		count[seq]++
		if seq == 201 {
			if len(line) > 2048 || sd["truncated"] != "reason" || sd["authorisation"] != long.Authorisation || sd["hash"] != hex.EncodeToString(recs[200].Hash[:]) {
				t.Errorf("the long record: %d bytes, %v", len(line), sd)
			}
			continue
		}
		checkMessage(t, m, &recs[seq-1], testHost, testApp, DefaultSDID, 13)
	}
	for seq := uint64(1); seq <= 201; seq++ {
		if count[seq] != 1 {
			t.Errorf("seq %d arrived %d times", seq, count[seq])
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{URL: "tcp://127.0.0.1:514", Cursor: filepath.Join(t.TempDir(), "c")}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in       Config
		min, max time.Duration
		batch    int
	}{
		{ok, 100 * time.Millisecond, 30 * time.Second, 500},
		{Config{URL: "udp://h:514", Cursor: "c", MaxBackoff: 50 * time.Millisecond}, 50 * time.Millisecond, 50 * time.Millisecond, 32},
		{Config{URL: "tcp://h:514", Cursor: "c", MinBackoff: time.Minute}, time.Minute, time.Minute, 500},
	} {
		x, err := New(nil, c.in)
		if err != nil {
			t.Fatal(err)
		}
		if x.cfg.MinBackoff != c.min || x.cfg.MaxBackoff != c.max || x.cfg.Batch != c.batch {
			t.Errorf("%+v: backoff %v to %v, batch %d; want %v to %v, %d", c.in, x.cfg.MinBackoff, x.cfg.MaxBackoff, x.cfg.Batch, c.min, c.max, c.batch)
		}
	}
	for _, c := range []struct {
		field string
		edit  func(c *Config)
	}{
		{"URL", func(c *Config) { c.URL = "" }},
		{"URL", func(c *Config) { c.URL = "tls://h:6514" }},
		{"URL", func(c *Config) { c.URL = "tcp://h" }},
		{"URL", func(c *Config) { c.URL = "udp://h:514/x" }},
		{"Cursor", func(c *Config) { c.Cursor = "" }},
		{"Hostname", func(c *Config) { c.Hostname = "a b" }},
		{"AppName", func(c *Config) { c.AppName = strings.Repeat("a", 49) }},
		{"SDID", func(c *Config) { c.SDID = "audit" }},
		{"SDID", func(c *Config) { c.SDID = "au]dit@1" }},
		{"Facility", func(c *Config) { c.Facility = 24 }},
		{"MaxMessage", func(c *Config) { c.MaxMessage = 480 }},
		{"Poll", func(c *Config) { c.Poll = -1 }},
		{"MinBackoff", func(c *Config) { c.MinBackoff, c.MaxBackoff = time.Minute, time.Second }},
		{"Batch", func(c *Config) { c.Batch = -1 }},
	} {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "Config."+c.field+":") {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.field)
		}
		if _, err := New(nil, cfg); err == nil {
			t.Errorf("New accepts %+v", cfg)
		}
	}
}

func TestCursorFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cursor")
	if c, err := loadCursor(path); err != nil || c != (cursor{}) {
		t.Fatalf("missing file: %v, %v", c, err)
	}
	want := cursor{Seq: 42, Hash: [32]byte{1, 2, 3}}
	if err := saveCursor(path, want); err != nil {
		t.Fatal(err)
	}
	if c, err := loadCursor(path); err != nil || c != want {
		t.Fatalf("read back %v, %v", c, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	for _, bad := range []string{"", "42\n", "42 00\n", "x " + strings.Repeat("0", 64) + "\n", "0 " + strings.Repeat("0", 64) + "\n", "42 " + strings.Repeat("0", 64)} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, err := loadCursor(path); err == nil {
			t.Errorf("%q accepted", bad)
		}
		if _, err := New(nil, Config{URL: "udp://127.0.0.1:514", Cursor: path}); err == nil {
			t.Errorf("New accepts cursor %q", bad)
		}
	}
}
