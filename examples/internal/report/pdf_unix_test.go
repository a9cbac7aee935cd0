//go:build unix

package report

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeChromium writes a shell script that stands in for the browser and
// returns its path.
func fakeChromium(t *testing.T, body string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "chromium")
	if err := os.WriteFile(name, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestWritePDFFlags: the browser is called with the flags that keep it
// off the network and out of the caller's profile, and its PDF is what
// WritePDF writes.
func TestWritePDFFlags(t *testing.T) {
	argsFile := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_ARGS", argsFile)
	bin := fakeChromium(t, `printf '%s\n' "$@" > "$FAKE_ARGS"
for a in "$@"; do
	case $a in --print-to-pdf=*) printf '%%PDF-1.7 fake' > "${a#--print-to-pdf=}";; esac
done
`)
	var buf bytes.Buffer
	if err := WritePDF(t.Context(), &buf, sample(), PDFOptions{Chromium: bin}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "%PDF-1.7 fake" {
		t.Errorf("wrote %q", buf.String())
	}
	b, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, want := range []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=", "--no-pdf-header-footer", "--print-to-pdf=", "file:///"} {
		found := false
		for _, a := range args {
			found = found || a == want || (strings.HasSuffix(want, "=") || strings.HasSuffix(want, "/")) && strings.HasPrefix(a, want)
		}
		if !found {
			t.Errorf("no %s in %q", want, args)
		}
	}
}

// TestWritePDFCancelKillsGroup: cancelling kills the browser and every
// process it started, here a child that would otherwise sleep on.
func TestWritePDFCancelKillsGroup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		cancel  bool
		want    error
	}{
		{"cancel", 0, true, context.Canceled},
		{"timeout", 300 * time.Millisecond, false, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("FAKE_PID", pidFile)
			bin := fakeChromium(t, `sleep 300 &
echo $$ $! > "$FAKE_PID.tmp" && mv "$FAKE_PID.tmp" "$FAKE_PID"
wait
`)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- WritePDF(ctx, new(bytes.Buffer), sample(), PDFOptions{Chromium: bin, Timeout: tc.timeout})
			}()
			var pids []int
			for deadline := time.Now().Add(10 * time.Second); pids == nil; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the fake browser never started")
				}
				b, err := os.ReadFile(pidFile)
				if err != nil {
					continue
				}
				for _, f := range strings.Fields(string(b)) {
					pid, _ := strconv.Atoi(f)
					pids = append(pids, pid)
				}
			}
			if tc.cancel {
				cancel()
			}
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) {
					t.Errorf("WritePDF: %v, want %v", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("WritePDF did not return")
			}
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("process %d still running", pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

// alive reports whether pid runs, waiting briefly for a killed process to
// go; a zombie (killed, not yet reaped by init) counts as gone.
func alive(pid int) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return false
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // no /proc: wait for kill(0) to fail
		}
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// TestWritePDFFailures: the browser's stderr is in the error; a run that
// makes no PDF is an error, and nothing is written.
func TestWritePDFFailures(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"exit", "echo 'fake: cannot open display' >&2; exit 3", "exit status 3: fake: cannot open display"},
		{"no pdf", "echo 'fake: printed nothing' >&2", "made no PDF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WritePDF(t.Context(), &buf, sample(), PDFOptions{Chromium: fakeChromium(t, tc.script)})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "report: ") {
				t.Errorf("err %v, want it to say %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written", buf.Len())
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ijklmnopq", "r"} {
		tb.Write([]byte(s))
	}
	if got := tb.String(); got != "klmnopqr" {
		t.Errorf("%q", got)
	}
}
