package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProgressReportsRowsShareAndBadRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("x", 4000)), 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cr := &CountingReader{R: f}
	_, err = io.CopyN(io.Discard, cr, 1000)
	require.NoError(t, err)
	require.Equal(t, int64(1000), cr.N)

	var out bytes.Buffer
	p := NewProgress(&out, "resolve", time.Nanosecond, f, cr)
	p.Bad = 3
	for range 1023 {
		p.Row()
	}
	require.Empty(t, out.String(), "the clock is read once per 1024 rows")
	p.Row()
	require.Contains(t, out.String(), "resolve: 1024 rows")
	require.Contains(t, out.String(), "25.0% read")
	require.Contains(t, out.String(), "3 bad rows skipped")

	var zero Progress // disabled: no writer, no interval
	for range 5000 {
		zero.Row()
	}
}
