package main

import (
	"encoding/csv"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// scanLog appends venue scans to a CSV file (unix time, venue, person key)
// that tracectl ingests. The person column is the keyed pseudonym, never a
// raw identity. Each scan is written through to the operating system before
// it is acknowledged, so it survives a crash of the process (not of the
// machine). Safe for concurrent use.
type scanLog struct {
	mu sync.Mutex
	f  *os.File
	cw *csv.Writer
}

func openScanLog(path string) (*scanLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	l := &scanLog{f: f, cw: csv.NewWriter(f)}
	if st.Size() == 0 {
		_ = l.cw.Write([]string{"time", "venue", "person"})
		l.cw.Flush()
		if err := l.cw.Error(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *scanLog) Append(t time.Time, venue string, person codes.Key) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.cw.Write([]string{strconv.FormatInt(t.Unix(), 10), venue, person.String()})
	l.cw.Flush()
	return l.cw.Error()
}

func (l *scanLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cw.Flush()
	if err := l.cw.Error(); err != nil {
		return err
	}
	return l.f.Sync()
}

func (l *scanLog) Close() error {
	return errors.Join(l.Flush(), l.f.Close())
}
