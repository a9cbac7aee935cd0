package auditexport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

// rsyslogd is a real rsyslogd of a test's own: its configuration, work
// directory and output file in t.TempDir(), listening with imtcp and
// imudp on free loopback ports, and writing each message's raw bytes as
// one line of out.
type rsyslogd struct {
	t        testing.TB
	bin      string
	dir      string
	conf     string
	out      string
	tcp, udp int
	cmd      *exec.Cmd
	exited   chan struct{}
	stderr   bytes.Buffer
}

// startRsyslogd configures and starts an rsyslogd; it stops when t ends.
// It skips t (fails it under CI) when rsyslogd is not installed.
func startRsyslogd(t testing.TB) *rsyslogd {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		bin = "/usr/sbin/rsyslogd"
		_, err = os.Stat(bin)
	}
	testenv.Require(t, err == nil, "rsyslogd not installed (apt-get install rsyslog)")
	r := &rsyslogd{t: t, bin: bin, dir: t.TempDir()}
	r.conf = filepath.Join(r.dir, "rsyslog.conf")
	r.out = filepath.Join(r.dir, "out.log")
	r.tcp, r.udp = freePort(t, "tcp"), freePort(t, "udp")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
module(load="imudp")
template(name="raw" type="string" string="%%rawmsg%%\n")
ruleset(name="audit") {
  action(type="omfile" file=%q template="raw")
}
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="audit")
input(type="imudp" address="127.0.0.1" port="%d" ruleset="audit")
`, r.dir, r.out, r.tcp, r.udp)
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", r.conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1: %v\n%s", err, out)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start starts rsyslogd and waits until its TCP port accepts.
func (r *rsyslogd) start() {
	r.t.Helper()
	r.stderr.Reset()
	r.cmd = exec.Command(r.bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout = &r.stderr
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start rsyslogd: %v", err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(r.cmd, r.exited)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.tcpAddr(), time.Second)
		if err == nil {
			c.Close()
			// imudp starts beside imtcp; give it a moment too.
			time.Sleep(100 * time.Millisecond)
			return
		}
		select {
		case <-r.exited:
			r.t.Fatalf("rsyslogd exited: %s", r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.cmd.Process.Kill()
			<-r.exited
			r.t.Fatalf("rsyslogd does not accept on %s: %v\n%s", r.tcpAddr(), err, r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops rsyslogd with SIGTERM, as a service manager does, and waits
// for it to exit.
func (r *rsyslogd) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
		r.t.Errorf("rsyslogd did not stop on SIGTERM; killed")
	}
	r.cmd = nil
}

func (r *rsyslogd) tcpAddr() string { return fmt.Sprintf("127.0.0.1:%d", r.tcp) }
func (r *rsyslogd) tcpURL() string  { return "tcp://" + r.tcpAddr() }
func (r *rsyslogd) udpURL() string  { return fmt.Sprintf("udp://127.0.0.1:%d", r.udp) }

// lines returns the messages rsyslogd has written so far.
func (r *rsyslogd) lines() [][]byte {
	b, err := os.ReadFile(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte("\n"))
}

// trail is the test's audit trail: a slice behind a mutex, chained with
// codes.ChainAudit as a store chains it.
type trail struct {
	mu   sync.Mutex
	recs []codes.AuditRecord
}

var _ codes.AuditTrail = (*trail)(nil)

func (t *trail) AppendAudit(_ context.Context, recs []codes.AuditRecord) ([]codes.AuditRecord, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]codes.AuditRecord, 0, len(recs))
	for _, r := range recs {
		if err := codes.ValidateAudit(&r); err != nil {
			return nil, err
		}
		var head codes.AuditRecord
		if n := len(t.recs); n > 0 {
			head = t.recs[n-1]
		}
		r = codes.ChainAudit(head, r)
		t.recs = append(t.recs, r)
		out = append(out, r)
	}
	return out, nil
}

func (t *trail) ReadAudit(ctx context.Context, after uint64, max int) ([]codes.AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if after >= uint64(len(t.recs)) {
		return nil, nil
	}
	end := min(uint64(len(t.recs)), after+uint64(max))
	return append([]codes.AuditRecord(nil), t.recs[after:end]...), nil
}

func (t *trail) all() []codes.AuditRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]codes.AuditRecord(nil), t.recs...)
}

// attempt returns the i-th admin attempt of the tests' trails: a mix of
// actions and outcomes, with values that need escaping.
func attempt(i int) codes.AuditRecord {
	actions := []string{"transcode", "history", "sign_in", "rule_activate"}
	outcomes := []string{"ok", "ok", "ok", "forbidden", "unauthenticated"}
	r := codes.AuditRecord{
		At:      time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second + time.Duration(i)*1234567),
		Node:    "node-" + string(rune('a'+i%3)),
		Actor:   fmt.Sprintf("op%03d", i%17),
		Role:    "admin",
		Action:  actions[i%len(actions)],
		Target:  fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15),
		Outcome: outcomes[i%len(outcomes)],
		Client:  fmt.Sprintf("10.1.%d.%d:4431", i/250, i%250),
	}
	if i%2 == 0 {
		r.Authorisation = fmt.Sprintf(`order "SZ-%d" [2022]`, i)
		r.Reason = `复核 \ review]` + strings.Repeat("x", i%40)
	}
	if r.Outcome == "unauthenticated" {
		r.Actor, r.Role = "", ""
	}
	return r
}

// appendAttempts appends attempts from..to-1 one at a time.
func appendAttempts(t testing.TB, tr *trail, from, to int, after func()) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := tr.AppendAudit(context.Background(), []codes.AuditRecord{attempt(i)}); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after()
		}
	}
}
