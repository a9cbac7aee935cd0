package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Rsyslogd is a real rsyslogd (Debian package rsyslog) of a test's own,
// for tests of syslog export that stop and restart the collector: its
// configuration, work directory and output file in t.TempDir(), listening
// with imtcp and imudp on free loopback ports, and writing each message's
// raw bytes (%rawmsg%, without transport framing) as one line of a file.
//
// Start and Stop are for the test's goroutine; Lines and the URLs are safe
// for concurrent use.
type Rsyslogd struct {
	t        testing.TB
	bin      string
	dir      string
	conf     string
	out      string
	tcp, udp int
	cmd      *exec.Cmd
	exited   chan struct{}
	stderr   Buffer
}

// StartRsyslogd configures and starts an rsyslogd, and checks its
// configuration with -N1 first; it stops when t ends. It skips t (fails it
// under CI) when rsyslogd is not installed.
func StartRsyslogd(t testing.TB) *Rsyslogd {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		bin = "/usr/sbin/rsyslogd"
		_, err = os.Stat(bin)
	}
	Require(t, err == nil, "rsyslogd not installed (apt-get install rsyslog)")
	r := &Rsyslogd{t: t, bin: bin, dir: t.TempDir()}
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
		t.Fatalf("testenv: rsyslogd -N1: %v\n%s", err, out)
	}
	r.Start()
	t.Cleanup(r.Stop)
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

// Start starts rsyslogd (again, after Stop) on the same ports and file,
// and waits until its TCP port accepts. It does nothing when rsyslogd
// runs.
func (r *Rsyslogd) Start() {
	r.t.Helper()
	if r.cmd != nil {
		return
	}
	r.stderr.Reset()
	cmd := exec.Command(r.bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	cmd.Stdout = &r.stderr
	cmd.Stderr = &r.stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("testenv: start rsyslogd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.cmd, r.exited = cmd, exited
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
		case <-exited:
			r.cmd = nil
			r.t.Fatalf("testenv: rsyslogd exited: %s", r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			r.cmd = nil
			r.t.Fatalf("testenv: rsyslogd does not accept on %s: %v\n%s", r.tcpAddr(), err, r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops rsyslogd with SIGTERM, as a service manager does, and waits
// for it to exit (killing it after 15 s, which fails t). It does nothing
// when rsyslogd is stopped.
func (r *Rsyslogd) Stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		r.t.Errorf("testenv: rsyslogd did not stop on SIGTERM; killed")
	}
	r.cmd = nil
}

func (r *Rsyslogd) tcpAddr() string { return "127.0.0.1:" + strconv.Itoa(r.tcp) }

// TCPURL is rsyslogd's imtcp input, tcp://127.0.0.1:port.
func (r *Rsyslogd) TCPURL() string { return "tcp://" + r.tcpAddr() }

// UDPURL is rsyslogd's imudp input, udp://127.0.0.1:port.
func (r *Rsyslogd) UDPURL() string { return "udp://127.0.0.1:" + strconv.Itoa(r.udp) }

// Lines returns the messages rsyslogd has written so far, one per line,
// without the newline. A line rsyslogd is still writing (no newline yet)
// is left out, so every line returned is whole; a test polls until the
// lines it expects are there.
func (r *Rsyslogd) Lines() [][]byte {
	b, err := os.ReadFile(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		r.t.Fatalf("testenv: %v", err)
	}
	i := bytes.LastIndexByte(b, '\n')
	if i <= 0 {
		return nil
	}
	return bytes.Split(b[:i], []byte("\n"))
}
