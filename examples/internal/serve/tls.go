package serve

import (
	"crypto/tls"
	"fmt"
)

// TLSConfig loads a PEM certificate chain and its private key and returns
// a server configuration with modern defaults: TLS 1.2 at least, Go's
// default cipher suites and key exchanges, and HTTP/2 offered before
// HTTP/1.1 by ALPN. A missing or unreadable file, or a key that is not the
// certificate's, fails here, when the server starts, not at the first
// handshake. The leaf is parsed (Certificates[0].Leaf) so that the caller
// can check its validity against its own clock.
//
// Use the same configuration for tls.NewListener and http.Server.TLSConfig:
// http.Server.Serve then speaks HTTP/2 on connections that negotiated "h2"
// and Serve (in this package) runs it unchanged.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("serve: tls certificate %s, key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}
