package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// securityConfig is a Config that opens fast: no demo people, a fresh
// data directory (not yet created) under the test's temporary directory.
func securityConfig(t *testing.T, addr, tokens string) Config {
	cfg := DefaultConfig()
	cfg.Addr, cfg.TokensFile, cfg.DemoPeople = addr, tokens, 0
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	return cfg
}

// tokenFile writes a token file with mode perm; each entry's token is
// given in clear, or hashed when hashed is set.
func tokenFile(t *testing.T, perm fs.FileMode, hashed bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"tokens": [`)
	for i, e := range []struct{ actor, role, token string }{
		{"ops-li", "auditor", "li-token"},
		{"ops-zhang", "transcoder", "zhang-token"},
	} {
		if i > 0 {
			b.WriteString(",")
		}
		if hashed {
			fmt.Fprintf(&b, `{"actor":%q,"roles":[%q],"token_sha256":%q}`, e.actor, e.role, serve.HashToken(e.token))
		} else {
			fmt.Fprintf(&b, `{"actor":%q,"roles":[%q],"token":%q}`, e.actor, e.role, e.token)
		}
	}
	b.WriteString("]}")
	path := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	require.NoError(t, os.Chmod(path, perm)) // whatever the umask
	return path
}

func TestDemoTokensOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		loopback bool
	}{
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"[::]:8080", false},
		{"192.168.1.20:8080", false},
		{"10.0.0.5:0", false},
		{"[fe80::1]:8080", false},
		{"healthcode.example.org:8080", false}, // a name may resolve anywhere
		{"localhost.localdomain:8080", false},
		{"127.0.0.1:0", true},
		{"127.0.0.2:8080", true},
		{"[::1]:0", true},
		{"localhost:0", true},
		{"LOCALHOST:0", true},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			cfg := securityConfig(t, tc.addr, "")
			a, err := Open(context.Background(), cfg) // Open never binds
			if tc.loopback {
				require.NoError(t, err)
				require.NoError(t, a.Close())
				return
			}
			require.ErrorIs(t, err, ErrDemoTokens)
			require.ErrorContains(t, err, tc.addr)
			require.ErrorContains(t, err, "healthcoded token -file", "the message says how to make a token file")
			require.ErrorContains(t, err, "-tokens")
			_, statErr := os.Stat(cfg.DataDir)
			require.ErrorIs(t, statErr, os.ErrNotExist, "refused before anything is created")
		})
	}
}

func TestRunRefusesDemoTokensOffLoopback(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var stdout, stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"-addr", "0.0.0.0:0", "-data", data, "-demo-people", "0"}, &stdout, &stderr)
	require.ErrorIs(t, err, ErrDemoTokens) // main prints it and exits 1
	require.Empty(t, stdout.String(), "never listened")
}

func TestListenRefusesADemoAddressThatBindsElsewhere(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"192.168.1.20:8080", false},
		{"[::]:8080", false},
	} {
		ap, err := net.ResolveTCPAddr("tcp", tc.addr)
		require.NoError(t, err)
		err = checkBoundLoopback(ap)
		if tc.ok {
			require.NoError(t, err, tc.addr)
		} else {
			require.ErrorIs(t, err, ErrDemoTokens, tc.addr)
		}
	}
}

func TestTokenFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	for _, tc := range []struct {
		perm fs.FileMode
		ok   bool
	}{{0o644, false}, {0o640, false}, {0o604, false}, {0o660, false}, {0o600, true}, {0o400, true}} {
		t.Run(fmt.Sprintf("%04o", tc.perm), func(t *testing.T) {
			path := tokenFile(t, tc.perm, false)
			a, err := Open(context.Background(), securityConfig(t, "127.0.0.1:0", path))
			if tc.ok {
				require.NoError(t, err)
				require.NoError(t, a.Close())
				return
			}
			var me *TokenFileModeError
			require.True(t, errors.As(err, &me), "%v", err)
			require.Equal(t, path, me.Path)
			require.Equal(t, tc.perm, me.Mode.Perm())
			require.ErrorContains(t, err, fmt.Sprintf("%04o", tc.perm))
			require.ErrorContains(t, err, "chmod 600 "+path)
		})
	}
}

func TestClearTokensOnlyOnLoopback(t *testing.T) {
	clear, hashed := tokenFile(t, 0o600, false), tokenFile(t, 0o600, true)
	for _, tc := range []struct {
		addr, file string
		ok         bool
	}{
		{"0.0.0.0:8080", clear, false},
		{":8080", clear, false},
		{"192.168.1.20:8080", clear, false},
		{"0.0.0.0:8080", hashed, true},
		{"192.168.1.20:8080", hashed, true},
		{"127.0.0.1:0", clear, true},
		{"127.0.0.1:0", hashed, true},
	} {
		a, err := Open(context.Background(), securityConfig(t, tc.addr, tc.file))
		if tc.ok {
			require.NoError(t, err, tc.addr)
			require.NoError(t, a.Close())
			continue
		}
		require.ErrorIs(t, err, serve.ErrClearToken, tc.addr)
		var ce *serve.ClearTokenError
		require.True(t, errors.As(err, &ce))
		require.Equal(t, serve.ClearTokenError{Index: 0, Actor: "ops-li"}, *ce)
		require.ErrorContains(t, err, "tokens[0] (ops-li)")
		require.ErrorContains(t, err, "healthcoded token")
		require.NotContains(t, err.Error(), "li-token")
	}
}

func TestTokenCommandMakesAFileThatAuthenticates(t *testing.T) {
	t.Chdir(t.TempDir()) // nothing lands in the package directory
	path := filepath.Join(t.TempDir(), "tokens.json")
	mint := func(actor, roles string) (string, error) {
		var stdout, stderr strings.Builder
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := run(ctx, []string{"token", "-file", path, "-actor", actor, "-roles", roles}, &stdout, &stderr)
		return strings.TrimSuffix(stdout.String(), "\n"), err
	}
	zhang, err := mint("ops-zhang", "transcoder,auditor")
	require.NoError(t, err)
	li, err := mint("ops-li", "auditor")
	require.NoError(t, err)
	require.Len(t, zhang, 43, "32 random bytes, base64url")
	require.NotEqual(t, zhang, li)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(b), zhang, "the file holds hashes only")
	require.Contains(t, string(b), serve.HashToken(zhang))

	// Refusals: nothing is added.
	for _, bad := range [][2]string{{"", "auditor"}, {"ops-wang", ""}, {"ops-wang", "auditer"}, {"ops wang", "auditor"}} {
		_, err := mint(bad[0], bad[1])
		require.Error(t, err, "%q", bad)
	}
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, b, after)

	// The file is good for a public address (hashed only) ...
	a, err := Open(context.Background(), securityConfig(t, "0.0.0.0:8080", path))
	require.NoError(t, err)
	require.NoError(t, a.Close())

	// ... and its tokens authenticate, with their roles; demo tokens do not.
	s := start(t, t.TempDir(), "-tokens", path)
	green, _ := s.person("green")
	body := fmt.Sprintf(`{"id":%q}`, green)
	require.Equal(t, 200, s.do("POST", "/admin/history", zhang, body, nil))
	require.Equal(t, 200, s.do("POST", "/admin/history", li, body, nil))
	require.Equal(t, 403, s.do("POST", "/admin/transcode", li, fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"x","reason":"y"}`, green), nil))
	require.Equal(t, 401, s.do("POST", "/admin/history", auditor, body, nil))
}

func TestTokenCommandRefusesAnOpenFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	t.Chdir(t.TempDir())
	path := tokenFile(t, 0o644, true)
	var stdout strings.Builder
	err := run(context.Background(), []string{"token", "-file", path, "-actor", "ops-wang", "-roles", "auditor"}, &stdout, io.Discard)
	var me *TokenFileModeError
	require.True(t, errors.As(err, &me), "%v", err)
	require.Empty(t, stdout.String(), "no token printed")
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1, ::1 and
// localhost, valid until notAfter, and a key (another one if otherKey) as
// PEM files in dir; the pool trusts the certificate.
func writeCert(t *testing.T, dir string, notAfter time.Time, otherKey bool) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "healthcoded test"},
		NotBefore:    notAfter.AddDate(-1, 0, 0), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	if otherKey {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile, pool
}

// startTLS runs healthcoded with TLS on a loopback port until the test
// ends and returns the host:port it printed after https://.
func startTLS(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testenv.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo-people", "0"}, args...), pw, stderr)
		pw.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "server did not start: %s", stderr.String())
	go io.Copy(io.Discard, pr)
	_, rest, ok := strings.Cut(line, "https://")
	require.True(t, ok, "the startup line says https: %s", line)
	addr, _, _ := strings.Cut(rest, " ")
	return addr
}

func TestTLSServesHTTP2(t *testing.T) {
	cert, key, pool := writeCert(t, t.TempDir(), time.Now().AddDate(1, 0, 0), false)
	addr := startTLS(t, "-tls-cert", cert, "-tls-key", key)

	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer h2.CloseIdleConnections()
	resp, err := h2.Get("https://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.NotNil(t, resp.TLS)
	require.Equal(t, 2, resp.ProtoMajor, "HTTP/2 over TLS")
	require.Equal(t, "h2", resp.TLS.NegotiatedProtocol)

	// A client that speaks only HTTP/1.1 is still served.
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer h1.CloseIdleConnections()
	resp, err = h1.Get("https://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 1, resp.ProtoMajor)

	// TLS 1.1 and below are refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	defer old.CloseIdleConnections()
	_, err = old.Get("https://" + addr + "/healthz")
	require.Error(t, err)

	// Plain HTTP to the TLS port gets no answer from the API.
	resp, err = http.Get("http://" + addr + "/healthz")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 400, resp.StatusCode)
		require.Contains(t, string(b), "HTTPS server")
	}
}

func TestTLSRefusesABadPairAtStart(t *testing.T) {
	dir := t.TempDir()
	mismatched, mkey, _ := writeCert(t, filepath.Join(dir), time.Now().AddDate(1, 0, 0), true)
	expDir := filepath.Join(dir, "expired")
	require.NoError(t, os.Mkdir(expDir, 0o700))
	expired, ekey, _ := writeCert(t, expDir, time.Now().Add(-time.Hour), false)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"mismatched key", []string{"-tls-cert", mismatched, "-tls-key", mkey}, "does not match"},
		{"missing cert", []string{"-tls-cert", filepath.Join(dir, "nope.pem"), "-tls-key", mkey}, "nope.pem"},
		{"expired", []string{"-tls-cert", expired, "-tls-key", ekey}, "expired"},
		{"cert only", []string{"-tls-cert", mismatched}, "-tls-key"},
		{"key only", []string{"-tls-key", mkey}, "-tls-cert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-demo-people", "0"}, tc.args...), &stdout, io.Discard)
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, stdout.String(), "never listened")
			if strings.HasSuffix(tc.name, "only") {
				require.ErrorIs(t, err, ErrTLSPair)
			}
		})
	}
}

func TestHTTPErrorLogDropsHandshakeAddresses(t *testing.T) {
	var b strings.Builder
	l := httpErrorLog(slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Printf("http: TLS handshake error from 203.0.113.7:51234: client sent an HTTP request to an HTTPS server")
	l.Printf("http: Accept error: too many open files; retrying in 5ms")
	require.NotContains(t, b.String(), "203.0.113.7")
	require.Contains(t, b.String(), `"level":"DEBUG","msg":"tls handshake failed","reason":"client sent an HTTP request to an HTTPS server"`)
	require.Contains(t, b.String(), `"level":"WARN","msg":"http server","error":"http: Accept error: too many open files; retrying in 5ms"`)
}
