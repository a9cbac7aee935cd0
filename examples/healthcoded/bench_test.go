package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCodeLookup drives POST /v1/code through the full handler chain
// (metrics, shedder, decode, lookup, token, encode) without the network, so
// that its allocations per lookup (-benchmem) show what the handlers cost
// the garbage collector. At full load a collection's marking steals CPU
// that the p99 pays for, and how often it comes is bytes per request.
func BenchmarkCodeLookup(b *testing.B) {
	a, rows := openDemo(b, func(cfg *Config) {
		cfg.DemoPeople = 2000
		cfg.Limits.GlobalRPS, cfg.Limits.ClientRPS = -1, -1 // measure the handlers, not the buckets
	})
	bodies := make([][]byte, 0, len(rows)-1)
	for _, r := range rows[1:] {
		bodies = append(bodies, []byte(`{"id":"`+r[0]+`"}`))
	}
	h := a.Routes()
	w := &discardWriter{h: http.Header{}}
	body := bytes.NewReader(nil)
	req := httptest.NewRequest(http.MethodPost, "/v1/code", body)
	req.RemoteAddr = "127.0.0.1:4000"
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body.Reset(bodies[i%len(bodies)])
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// discardWriter is the least a ResponseWriter can cost, so that the
// benchmark counts the handlers' allocations and not a recorder's.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	return len(p), nil
}

// openDemo opens an App over a fresh data directory, with DefaultConfig
// changed by mod (nil: none), and returns it with the rows of its
// demo-people.csv (the header first). It closes the App when b ends.
func openDemo(b *testing.B, mod func(*Config)) (*App, [][]string) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = b.TempDir()
	if mod != nil {
		mod(&cfg)
	}
	a, err := Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	f, err := os.Open(filepath.Join(cfg.DataDir, "demo-people.csv"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	return a, rows
}
