package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// CountingReader counts the bytes read through it, for progress.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

// Progress writes a rate-limited line to w: rows done, rate, share of the
// file read and ETA, and the bad rows skipped if any. It never prints
// record contents. A zero interval disables it. Not safe for concurrent use.
type Progress struct {
	Bad int64 // rows skipped so far; callers set or increment it

	w           io.Writer
	what        string
	every       time.Duration
	total       int64 // file size in bytes; 0 when unknown
	cr          *CountingReader
	start, last time.Time
	rows        int64
}

// NewProgress reports on reading f through cr, at most once per every.
func NewProgress(w io.Writer, what string, every time.Duration, f *os.File, cr *CountingReader) *Progress {
	p := &Progress{w: w, what: what, every: every, cr: cr, start: time.Now()}
	p.last = p.start
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		p.total = fi.Size()
	}
	return p
}

// Row counts one row and prints if the interval has passed (the clock is
// read once per 1024 rows).
func (p *Progress) Row() {
	p.rows++
	if p.every <= 0 || p.rows%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %d rows, %.0f rows/s", p.what, p.rows, float64(p.rows)/el)
	if p.total > 0 && p.cr.N > 0 {
		frac := float64(p.cr.N) / float64(p.total)
		eta := time.Duration(el * (1 - frac) / frac * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.1f%% read, ETA %v", 100*frac, eta)
	}
	if p.Bad > 0 {
		line += fmt.Sprintf(", %d bad rows skipped", p.Bad)
	}
	fmt.Fprintln(p.w, line)
}
