package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHashedOnlyNamesTheFirstClearEntry(t *testing.T) {
	tok, err := LoadTokens(strings.NewReader(fmt.Sprintf(`{"tokens": [
 {"actor": "ops-li", "roles": ["auditor"], "token_sha256": "%x"},
 {"actor": "ops-zhang", "roles": ["transcoder"], "token": "in-the-clear"},
 {"actor": "ops-wang", "roles": ["auditor"], "token": "also-clear"}
]}`, sha256sum("hashed"))))
	require.NoError(t, err)
	err = tok.HashedOnly()
	require.ErrorIs(t, err, ErrClearToken)
	var ce *ClearTokenError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Equal(t, ClearTokenError{Index: 1, Actor: "ops-zhang"}, *ce)
	require.ErrorContains(t, err, "tokens[1] (ops-zhang)")
	require.ErrorContains(t, err, "token_sha256")
	require.NotContains(t, err.Error(), "in-the-clear", "the message never repeats a token")

	tok, err = LoadTokens(strings.NewReader(fmt.Sprintf(`{"tokens": [
 {"actor": "ops-li", "roles": ["auditor"], "token_sha256": "%s"}
]}`, HashToken("hashed"))))
	require.NoError(t, err)
	require.NoError(t, tok.HashedOnly())
}

func TestHashTokenIsHexSHA256(t *testing.T) {
	require.Equal(t, fmt.Sprintf("%x", sha256sum("demo-auditor")), HashToken("demo-auditor"))
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and ::1,
// valid from notBefore to notAfter, and the key signKey (the certificate's
// own key unless another is given) as PEM files in dir.
func writeCert(t *testing.T, dir string, notBefore, notAfter time.Time, otherKey bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "healthcoded test"},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	if otherKey {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

func TestTLSConfigModernDefaults(t *testing.T) {
	cert, key := writeCert(t, t.TempDir(), t0, t0.AddDate(1, 0, 0), false)
	c, err := TLSConfig(cert, key)
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS12), c.MinVersion)
	require.Equal(t, []string{"h2", "http/1.1"}, c.NextProtos, "HTTP/2 offered first")
	require.Nil(t, c.CipherSuites, "Go's default suites")
	require.Len(t, c.Certificates, 1)
	require.NotNil(t, c.Certificates[0].Leaf)
	require.Equal(t, t0.AddDate(1, 0, 0), c.Certificates[0].Leaf.NotAfter)
}

func TestTLSConfigRefusesAMismatchedOrMissingPair(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, t0, t0.AddDate(1, 0, 0), true)
	_, err := TLSConfig(cert, key)
	require.ErrorContains(t, err, "does not match")
	_, err = TLSConfig(filepath.Join(dir, "nope.pem"), key)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "nope.pem")
}
