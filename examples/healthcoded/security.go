package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdlog "log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

// ErrDemoTokens is what Open (and Listen) return when the admin API would
// run on the built-in demo tokens, which are public, on an address other
// machines can reach.
var ErrDemoTokens = errors.New("the built-in demo tokens are accepted on a loopback address only")

// ErrTLSPair: -tls-cert and -tls-key name the certificate and its key, so
// both are given or neither.
var ErrTLSPair = errors.New("-tls-cert and -tls-key go together: give both or neither")

// TokenFileModeError refuses a token file that others than its owner may
// read or write: whoever can read it can read the tokens (or, hashed, who
// holds which roles), and whoever can write it can grant themselves any.
type TokenFileModeError struct {
	Path string
	Mode fs.FileMode
}

func (e *TokenFileModeError) Error() string {
	return fmt.Sprintf("-tokens %s: mode %04o lets others than its owner read or write it; chmod 600 %s", e.Path, e.Mode.Perm(), e.Path)
}

// makeTokenFile is how the refusals say to make a token file.
const makeTokenFile = "make a token file with `healthcoded token -file tokens.json -actor NAME -roles transcoder,auditor` " +
	"(it prints the token once and stores only its SHA-256, mode 0600) and start with -tokens tokens.json"

// isLoopback reports whether addr (host:port) names a loopback address:
// an IP in 127.0.0.0/8 or ::1, or the name localhost. Any other name is
// not loopback, whatever it resolves to here and now; an empty host, 0.0.0.0
// and :: listen on every interface.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("-addr: %w", err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback(), nil
}

// checkBoundLoopback refuses a listener that a loopback -addr (localhost,
// say, in a hosts file that maps it elsewhere) bound to another address.
func checkBoundLoopback(bound net.Addr) error {
	ap, err := netip.ParseAddrPort(bound.String())
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("-addr bound %s, which is not loopback: %w; %s", bound, ErrDemoTokens, makeTokenFile)
	}
	return nil
}

// loadAdmins returns the admin tokens cfg names and whether they may serve
// on loopback only: the embedded demo tokens, or a file with tokens in
// clear. Off loopback it refuses both before anything is opened.
func loadAdmins(cfg Config, demo []byte) (tokens *serve.Tokens, loopbackOnly bool, err error) {
	loopback, err := isLoopback(cfg.Addr)
	if err != nil {
		return nil, false, err
	}
	if cfg.TokensFile == "" {
		if !loopback {
			return nil, false, fmt.Errorf("-addr %s is not a loopback address and -tokens is empty: %w; %s", cfg.Addr, ErrDemoTokens, makeTokenFile)
		}
		tokens, err = serve.LoadTokens(bytes.NewReader(demo))
		return tokens, true, err
	}
	b, err := readTokenFile(cfg.TokensFile)
	if err != nil {
		return nil, false, err
	}
	if tokens, err = serve.LoadTokens(bytes.NewReader(b)); err != nil {
		return nil, false, fmt.Errorf("-tokens %s: %w", cfg.TokensFile, err)
	}
	clear := tokens.HashedOnly()
	if clear != nil && !loopback {
		return nil, false, fmt.Errorf("-tokens %s: -addr %s is not a loopback address, so tokens are accepted hashed only: %w; %s",
			cfg.TokensFile, cfg.Addr, clear, makeTokenFile)
	}
	return tokens, clear != nil, nil
}

// readTokenFile reads a token file that only its owner may read and write
// (mode 0600 or narrower). The mode is that of the file opened, so a file
// swapped in between the check and the read is checked too.
func readTokenFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-tokens: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("-tokens: %w", err)
	}
	if err := checkTokenFileMode(path, fi.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("-tokens: %w", err)
	}
	return b, nil
}

// checkTokenFileMode refuses a token file that is not a regular file or
// whose permission bits give group or others any access. Windows has no
// such bits (Go reports 0666 or 0444 for every file); its ACLs are the
// operator's to set.
func checkTokenFileMode(path string, mode fs.FileMode) error {
	if !mode.IsRegular() {
		return fmt.Errorf("-tokens %s: not a regular file (%v)", path, mode.Type())
	}
	if runtime.GOOS != "windows" && mode.Perm()&0o077 != 0 {
		return &TokenFileModeError{Path: path, Mode: mode}
	}
	return nil
}

// loadTLS loads the certificate pair cfg names, if any, and refuses one
// that has expired or is not valid yet at now: a server that starts with
// it fails every handshake instead.
func loadTLS(cfg Config, now time.Time) (*tls.Config, error) {
	switch {
	case cfg.TLSCert == "" && cfg.TLSKey == "":
		return nil, nil
	case cfg.TLSCert == "":
		return nil, fmt.Errorf("-tls-key without -tls-cert: %w", ErrTLSPair)
	case cfg.TLSKey == "":
		return nil, fmt.Errorf("-tls-cert without -tls-key: %w", ErrTLSPair)
	}
	c, err := serve.TLSConfig(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, err
	}
	leaf := c.Certificates[0].Leaf
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("-tls-cert %s: expired at %s", cfg.TLSCert, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("-tls-cert %s: not valid before %s", cfg.TLSCert, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// httpErrorLog is the http.Server's ErrorLog: its lines go to log as JSON.
// A failed TLS handshake (a scanner, a client that does not trust the
// certificate, plain HTTP to the HTTPS port) is logged at debug level and
// without the client's address, which is personal data and, from the open
// internet, a flood.
func httpErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(httpErrorWriter{log}, "", 0)
}

type httpErrorWriter struct{ log *slog.Logger }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	if rest, ok := strings.CutPrefix(msg, "http: TLS handshake error from "); ok {
		_, reason, _ := strings.Cut(rest, ": ")
		w.log.Debug("tls handshake failed", "reason", reason)
		return len(p), nil
	}
	w.log.Warn("http server", "error", msg)
	return len(p), nil
}
