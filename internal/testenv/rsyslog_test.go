package testenv_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

// TestRsyslogdRestarts: a message sent over TCP (octet counting) and one
// over UDP arrive as lines of the file, raw; after Stop the TCP port
// refuses, and after Start the same ports and file work again.
func TestRsyslogdRestarts(t *testing.T) {
	r := testenv.StartRsyslogd(t)
	send := func(url, msg string) {
		t.Helper()
		network, addr, _ := strings.Cut(url, "://")
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if network == "tcp" {
			msg = fmt.Sprintf("%d %s", len(msg), msg)
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	waitLines := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var got []string
			for _, l := range r.Lines() {
				got = append(got, string(l))
			}
			if strings.Join(got, "\n") == strings.Join(want, "\n") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("lines %q, want %q", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	const m1 = "<13>1 2022-04-01T08:00:00Z h app - one - first"
	const m2 = "<13>1 2022-04-01T08:00:01Z h app - two - second"
	const m3 = "<13>1 2022-04-01T08:00:02Z h app - three - third"
	send(r.TCPURL(), m1)
	waitLines(m1)
	send(r.UDPURL(), m2)
	waitLines(m1, m2)

	r.Stop()
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(r.TCPURL(), "tcp://"), time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped rsyslogd accepts")
	}
	r.Start()
	send(r.TCPURL(), m3)
	waitLines(m1, m2, m3)
}
