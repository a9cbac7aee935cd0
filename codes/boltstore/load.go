package boltstore

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	bolt "go.etcd.io/bbolt"
)

var _ codes.Loader = (*Store)(nil)

// Load implements codes.Loader: it applies a stream of changes larger than
// memory, as an initial load of a province or a daily re-evaluation of every
// key needs.
//
// Apply sorts each batch, so a stream applied batch by batch writes the
// random keys of every batch all over the heads bucket: each transaction
// rewrites pages of the whole tree, and the cost of a batch grows with the
// store (at 20 M keys a batch ran at 0.12x the pace of the first; see
// benchmarks/bulkbench). Load sorts the whole stream first, an external
// sort:
//
//  1. It reads the stream, validating each change, and cuts it into runs of
//     Config.LoadRun changes, each sorted by key (a key's changes in stream
//     order) and spilled to a file in a directory of its own under
//     Config.LoadDir. A stream that fits in one run is not spilled.
//  2. It merges the runs and writes the changes in key order, in
//     transactions of Config.BatchSize changes holding whole keys, prepared
//     and written as Apply's are. Each transaction's keys follow the last
//     one's, so every page of the heads bucket is written about once; into
//     an empty heads bucket pages are filled completely, as appends are.
//
// The directory of runs is removed when Load returns. One left by a process
// killed during a load (named .boltstore-load-*) holds nothing the store
// needs and can be removed. Load holds the store's write lock from the start
// of the merge to the last commit (Apply waits meanwhile); reading the
// stream does not hold it, and readers are never blocked.
func (s *Store) Load(ctx context.Context, changes iter.Seq2[codes.Change, error], progress func(codes.LoadProgress)) (codes.Applied, error) {
	var p codes.LoadProgress
	report := func() {
		if progress != nil {
			progress(p)
		}
	}
	dir := s.cfg.LoadDir
	if dir == "" {
		dir = filepath.Dir(s.db.Path())
	}
	sp := &spill{dir: dir}
	defer sp.remove()
	buf := make([]codes.Change, 0, min(s.cfg.LoadRun, 1<<16))
	for ch, err := range changes {
		if err != nil {
			return codes.Applied{}, fmt.Errorf("boltstore: load: change %d: %w", p.Read, err)
		}
		if err := ch.Validate(p.Read); err != nil {
			return codes.Applied{}, err
		}
		buf = append(buf, ch)
		p.Read++
		if p.Read%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return codes.Applied{}, err
			}
		}
		if len(buf) == s.cfg.LoadRun {
			if err := sp.write(buf); err != nil {
				return codes.Applied{}, err
			}
			buf = buf[:0]
			report()
		}
	}
	if err := ctx.Err(); err != nil {
		return codes.Applied{}, err
	}
	var next func() (batch, bool, error)
	if len(sp.files) == 0 {
		// One run: sort it in memory and cut it as Apply does.
		order := sortedOrder(buf)
		next = func() (batch, bool, error) {
			if len(order) == 0 {
				return batch{}, false, nil
			}
			cut := min(len(order), s.cfg.BatchSize)
			for cut < len(order) && buf[order[cut]].Key == buf[order[cut-1]].Key {
				cut++
			}
			b := batch{buf, order[:cut]}
			order = order[cut:]
			return b, true, nil
		}
	} else {
		if len(buf) > 0 {
			if err := sp.write(buf); err != nil {
				return codes.Applied{}, err
			}
		}
		buf = nil
		report()
		m, err := sp.merge()
		if err != nil {
			return codes.Applied{}, err
		}
		next = func() (batch, bool, error) { return m.batch(s.cfg.BatchSize) }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var fill float64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketHeads).Cursor().First(); k == nil {
			fill = 1 // keys arrive in order into an empty bucket: fill each page
		}
		return nil
	})
	if err != nil {
		return codes.Applied{}, fmt.Errorf("boltstore: load: %w", err)
	}
	a, err := s.pipeline(ctx, next, fill, func(n int, a codes.Applied) {
		p.Committed += n
		p.Applied.Changed += a.Changed
		p.Applied.Unchanged += a.Unchanged
		p.Applied.Duplicate += a.Duplicate
		report()
	})
	if err != nil {
		err = fmt.Errorf("boltstore: load: %w", err)
	}
	return a, err
}

// spill holds the sorted runs of a load, one file each.
type spill struct {
	dir   string // where the load's own directory goes
	own   string // the load's directory, once made
	files []string
	enc   []byte
}

// write sorts run by key and writes it as the next run file.
func (sp *spill) write(run []codes.Change) error {
	if sp.own == "" {
		own, err := os.MkdirTemp(sp.dir, ".boltstore-load-")
		if err != nil {
			return fmt.Errorf("boltstore: load: spill: %w", err)
		}
		sp.own = own
	}
	name := filepath.Join(sp.own, fmt.Sprintf("run-%05d", len(sp.files)))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("boltstore: load: spill: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, i := range sortedOrder(run) {
		sp.enc = appendSpilled(sp.enc[:0], &run[i])
		if _, err = w.Write(sp.enc); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("boltstore: load: spill %s: %w", name, err)
	}
	sp.files = append(sp.files, name)
	return nil
}

func (sp *spill) remove() {
	if sp.own != "" {
		_ = os.RemoveAll(sp.own)
	}
}

// A spilled change: its length (uvarint), the key, the colour, Since and
// Expires (Unix nanoseconds, 0 for no expiry, as the heads bucket keeps
// it), then Reason, the cause's four fields and RequestID, each a uvarint
// length and its bytes. Only this process reads it back.
func appendSpilled(b []byte, ch *codes.Change) []byte {
	var body [16 + 1 + 8 + 8]byte
	copy(body[:], ch.Key[:])
	body[16] = byte(ch.State.Colour)
	binary.BigEndian.PutUint64(body[17:], uint64(ch.State.Since.UnixNano()))
	if !ch.State.Expires.IsZero() {
		binary.BigEndian.PutUint64(body[25:], uint64(ch.State.Expires.UnixNano()))
	}
	c := &ch.State.Cause
	texts := [...]string{ch.State.Reason, c.RuleID, c.RuleVersion, c.Actor, c.Authorisation, ch.RequestID}
	n := len(body)
	for _, t := range texts {
		n += uvarintLen(len(t)) + len(t)
	}
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, body[:]...)
	for _, t := range texts {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// errSpill reports a run file that does not read back as written.
var errSpill = errors.New("boltstore: load: a spilled run does not decode")

// readSpilled reads the next spilled change from r into ch; io.EOF at the
// end of the run.
func readSpilled(r *bufio.Reader, ch *codes.Change, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if err == io.EOF {
			return buf, io.EOF
		}
		return buf, errSpill
	}
	if n < 33 || n > 1<<20 {
		return buf, errSpill
	}
	buf = append(buf[:0], make([]byte, n)...)
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, errSpill
	}
	*ch = codes.Change{}
	copy(ch.Key[:], buf)
	ch.State.Colour = codes.Colour(buf[16])
	ch.State.Since = time.Unix(0, int64(binary.BigEndian.Uint64(buf[17:]))).UTC()
	if exp := int64(binary.BigEndian.Uint64(buf[25:])); exp != 0 {
		ch.State.Expires = time.Unix(0, exp).UTC()
	}
	rest := buf[33:]
	c := &ch.State.Cause
	for _, t := range [...]*string{&ch.State.Reason, &c.RuleID, &c.RuleVersion, &c.Actor, &c.Authorisation, &ch.RequestID} {
		l, k := binary.Uvarint(rest)
		if k <= 0 || l > uint64(len(rest)-k) {
			return buf, errSpill
		}
		*t = string(rest[k : k+int(l)])
		rest = rest[k+int(l):]
	}
	if len(rest) != 0 {
		return buf, errSpill
	}
	return buf, nil
}

// merger merges the runs: a heap of each run's next change, ordered by key
// and then by run, so that a key's changes keep their stream order.
type merger struct {
	runs  []*runReader
	heads runHeap
}

type runReader struct {
	i   int
	f   *os.File
	r   *bufio.Reader
	ch  codes.Change
	buf []byte
}

func (sp *spill) merge() (*merger, error) {
	m := &merger{}
	for i, name := range sp.files {
		f, err := os.Open(name)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("boltstore: load: merge: %w", err)
		}
		rr := &runReader{i: i, f: f, r: bufio.NewReaderSize(f, 256<<10)}
		m.runs = append(m.runs, rr)
		more, err := m.advance(rr)
		if err != nil {
			m.close()
			return nil, err
		}
		if more {
			m.heads = append(m.heads, rr)
		}
	}
	heap.Init(&m.heads)
	return m, nil
}

// advance reads rr's next change; false at the end of its run, which it
// closes.
func (m *merger) advance(rr *runReader) (bool, error) {
	var err error
	rr.buf, err = readSpilled(rr.r, &rr.ch, rr.buf)
	if err == io.EOF {
		return false, rr.f.Close()
	}
	if err != nil {
		return false, fmt.Errorf("%w (%s)", err, rr.f.Name())
	}
	return true, nil
}

func (m *merger) close() {
	for _, rr := range m.runs {
		_ = rr.f.Close()
	}
}

// batch returns the next up to size changes in key order, more if the last
// key has more changes.
func (m *merger) batch(size int) (batch, bool, error) {
	if len(m.heads) == 0 {
		return batch{}, false, nil
	}
	out := make([]codes.Change, 0, size)
	for len(m.heads) > 0 {
		rr := m.heads[0]
		if len(out) >= size && rr.ch.Key != out[len(out)-1].Key {
			break
		}
		out = append(out, rr.ch)
		more, err := m.advance(rr)
		if err != nil {
			m.close()
			return batch{}, false, err
		}
		if more {
			heap.Fix(&m.heads, 0)
		} else {
			heap.Pop(&m.heads)
		}
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	return batch{out, order}, true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].ch.Key[:], h[j].ch.Key[:]); c != 0 {
		return c < 0
	}
	return h[i].i < h[j].i
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
