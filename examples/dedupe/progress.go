package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// progress writes a rate-limited line to w: rows done, share of the file
// read, rate and ETA. It never prints record contents. A zero every
// disables it.
type progress struct {
	w      io.Writer
	what   string
	every  time.Duration
	total  int64 // file size in bytes; 0 when unknown
	bytes  *countingReader
	start  time.Time
	last   time.Time
	rows   int64
	bad    int64
	active bool
}

func newProgress(w io.Writer, what string, every time.Duration, f *os.File, cr *countingReader) *progress {
	p := &progress{w: w, what: what, every: every, bytes: cr, active: every > 0}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		p.total = fi.Size()
	}
	p.start = time.Now()
	p.last = p.start
	return p
}

// row counts one row and maybe prints.
func (p *progress) row() {
	p.rows++
	if !p.active || p.rows%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %d rows, %.0f rows/s", p.what, p.rows, float64(p.rows)/el)
	if p.total > 0 && p.bytes.n > 0 {
		frac := float64(p.bytes.n) / float64(p.total)
		eta := time.Duration(el * (1 - frac) / frac * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.1f%% read, ETA %v", 100*frac, eta)
	}
	if p.bad > 0 {
		line += fmt.Sprintf(", %d bad rows skipped", p.bad)
	}
	fmt.Fprintln(p.w, line)
}

// countingRecords counts the records a RecordReader yields.
type countingRecords struct {
	src dedupe.RecordReader
	p   *progress
}

func (c countingRecords) Read() (dedupe.Record, error) {
	r, err := c.src.Read()
	if err == nil {
		c.p.row()
	}
	return r, err
}
