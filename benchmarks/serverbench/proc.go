// Package serverbench holds the load and fault scenarios of the reference
// server: healthcoded's lookup throughput against a plain net/http map
// server, latency at rising rates, overload at three times capacity, kill
// -9 during a bulk apply, and a bad rule set uploaded under load.
//
// Every server runs as a child process built from the repository and
// listening on 127.0.0.1 only; every load is bounded in requests and time,
// and every child is killed when its scenario ends.
package serverbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// binaries builds healthcoded and mapserver once per Workloads call.
type binaries struct {
	once sync.Once
	dir  string
	err  error
}

func (b *binaries) build(ctx context.Context) (healthcoded, mapserver string, err error) {
	b.once.Do(func() {
		root, err := repoRoot(ctx)
		if err != nil {
			b.err = err
			return
		}
		if b.dir, err = os.MkdirTemp("", "serverbench-bin-"); err != nil {
			b.err = err
			return
		}
		for _, pkg := range []string{"./examples/healthcoded", "./benchmarks/cmd/mapserver"} {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", b.dir, pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				b.err = fmt.Errorf("go build %s: %v: %s", pkg, err, out)
				return
			}
		}
	})
	return filepath.Join(b.dir, "healthcoded"), filepath.Join(b.dir, "mapserver"), b.err
}

// repoRoot is the directory of the go.work that ties the modules together.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	w := strings.TrimSpace(string(out))
	if w == "" || w == "off" {
		return "", errors.New("serverbench: needs the repository's go.work (run from inside the repository)")
	}
	return filepath.Dir(w), nil
}

// proc is a server running as a child process.
type proc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stderr *bytes.Buffer
	done   chan error
}

// startProc runs bin with args, env added to the environment, and waits
// until it prints its address.
func startProc(ctx context.Context, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- cmd.Wait() }()
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		lines <- l
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case l := <-lines:
		_, rest, ok := strings.Cut(l, "http://")
		if !ok {
			p.kill()
			return nil, fmt.Errorf("%s did not start: %q %s", filepath.Base(bin), l, p.stderr.String())
		}
		addr, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		p.base = "http://" + addr
		return p, nil
	case <-time.After(3 * time.Minute):
		p.kill()
		return nil, fmt.Errorf("%s did not start within 3 minutes", filepath.Base(bin))
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// stop asks the server to shut down gracefully and waits.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		p.kill()
		return errors.New("server did not stop within 30s")
	}
}

// kill ends the server with SIGKILL: no shutdown, no flush.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func (p *proc) peakRSS() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// demoPerson is one row of demo-people.csv.
type demoPerson struct{ id, colour string }

func readPeople(dataDir string) ([]demoPerson, error) {
	f, err := os.Open(filepath.Join(dataDir, "demo-people.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]demoPerson, 0, len(rows))
	for _, r := range rows[1:] {
		out = append(out, demoPerson{id: r[0], colour: r[4]})
	}
	return out, nil
}
