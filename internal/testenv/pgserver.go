package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// PGServer is a PostgreSQL server of a test's own, in a temporary
// directory on a free loopback port, for tests that stop and start the
// database under load: the machine's shared server cannot be restarted
// while other packages' tests use it. The binaries are the machine's
// (PostgreSQL's initdb and pg_ctl); run as root, they run as the postgres
// user, which PostgreSQL requires.
type PGServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	user string // run the binaries as this user; "" for the current one
}

// StartPGServer initialises and starts a private server. It skips t (fails
// it under CI) when PostgreSQL's binaries are not installed.
func StartPGServer(t testing.TB) *PGServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	Require(t, len(bins) > 0, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not installed")
	s := &PGServer{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	if os.Geteuid() == 0 {
		s.user = "postgres"
	}
	base, err := os.MkdirTemp("", "hc-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	s.dir = filepath.Join(base, "data")
	if s.user != "" {
		if out, err := exec.Command("chown", s.user, base).CombinedOutput(); err != nil {
			t.Fatalf("testenv: chown %s: %v: %s", base, err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.run("initdb", "-D", s.dir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = on\nmax_connections = 50\n", s.port, base)
	f, err := os.OpenFile(filepath.Join(s.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.ctl("stop", "-m", "immediate") })
	return s
}

// URL is the server's address, database postgres.
func (s *PGServer) URL() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/postgres?sslmode=disable"
}

// Start starts the server and waits until it accepts connections.
func (s *PGServer) Start() {
	s.t.Helper()
	if err := s.ctl("start", "-w", "-t", "60", "-l", filepath.Join(filepath.Dir(s.dir), "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(s.dir), "log"))
		s.t.Fatalf("testenv: start PostgreSQL: %v\n%s", err, log)
	}
}

// Stop stops the server the way a restart does: fast shutdown, every
// client disconnected.
func (s *PGServer) Stop() {
	s.t.Helper()
	if err := s.ctl("stop", "-w", "-m", "fast"); err != nil {
		s.t.Fatalf("testenv: stop PostgreSQL: %v", err)
	}
}

func (s *PGServer) ctl(args ...string) error {
	out, err := s.command("pg_ctl", append(args, "-D", s.dir)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %w: %s", args[0], err, out)
	}
	return nil
}

func (s *PGServer) run(name string, args ...string) {
	s.t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("testenv: %s: %v: %s", name, err, out)
	}
}

func (s *PGServer) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.user != "" {
		return exec.Command("runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}
