package dedupe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// SpillStore holds the temporary partitions of a resolve that does not fit
// in its memory budget. Implementations must be safe for concurrent use:
// partitions are created and read from several goroutines.
type SpillStore interface {
	// Create returns a new, empty spill file.
	Create() (SpillFile, error)
}

// SpillFile is one temporary partition: written once, then read back from
// the start, then closed (which releases it). A SpillFile is used by one
// goroutine at a time.
type SpillFile interface {
	io.Writer
	// Reader returns a reader from the first byte written. It is called
	// once, after the last Write.
	Reader() (io.Reader, error)
	// Close releases the file and its storage.
	Close() error
}

// DirSpill returns a SpillStore of temporary files in dir ("" means
// os.TempDir()). Each file is removed when closed.
func DirSpill(dir string) SpillStore { return dirSpill{dir: dir} }

type dirSpill struct{ dir string }

func (d dirSpill) Create() (SpillFile, error) {
	f, err := os.CreateTemp(d.dir, "dedupe-spill-*")
	if err != nil {
		return nil, fmt.Errorf("dedupe: spill: %w", err)
	}
	return &osSpillFile{f: f}, nil
}

type osSpillFile struct{ f *os.File }

func (s *osSpillFile) Write(p []byte) (int, error) { return s.f.Write(p) }

func (s *osSpillFile) Reader() (io.Reader, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("dedupe: spill: %w", err)
	}
	return s.f, nil
}

func (s *osSpillFile) Close() error {
	name := s.f.Name()
	err := s.f.Close()
	if rerr := os.Remove(name); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("dedupe: spill: %w", err)
	}
	return nil
}

// MemSpill returns a SpillStore that keeps partitions in memory. It exists
// for tests and for callers that want the partitioned path (bounded
// working set per partition) without a file system.
func MemSpill() SpillStore { return memSpill{} }

type memSpill struct{}

func (memSpill) Create() (SpillFile, error) { return &memSpillFile{}, nil }

type memSpillFile struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (m *memSpillFile) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.Write(p)
}

func (m *memSpillFile) Reader() (io.Reader, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.NewReader(m.buf.Bytes()), nil
}

func (m *memSpillFile) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = bytes.Buffer{}
	return nil
}

// errCorruptSpill is returned when a spill file does not decode; it means
// the SpillStore lost or changed data.
var errCorruptSpill = errors.New("dedupe: spill: corrupt partition")

// Spill encoding of one record: uvarint body length, then the body:
// varint ID, nine length-prefixed strings (the Fields in order), two
// times, uvarint extra count and length-prefixed name/value pairs. A time
// is a flag byte (0 zero, 1 set), then varint Unix seconds, uvarint
// nanoseconds and varint zone offset in seconds.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	_, off := t.Zone()
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

// encodeRecord appends the spill encoding of r to b, using body as
// scratch space, and returns both.
func encodeRecord(b, body []byte, r *Record) ([]byte, []byte) {
	body = body[:0]
	body = binary.AppendVarint(body, r.ID)
	for f := FieldName; int(f) < numFields; f++ {
		body = appendString(body, r.Get(f))
	}
	body = appendTime(body, r.Registered)
	body = appendTime(body, r.Updated)
	body = binary.AppendUvarint(body, uint64(len(r.Extra)))
	for _, e := range r.Extra {
		body = appendString(body, e.Name)
		body = appendString(body, e.Value)
	}
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...), body
}

// decoder reads spill-encoded records.
type decoder struct {
	r     *bufio.Reader
	buf   []byte
	zones map[int]*time.Location
}

func newDecoder(r io.Reader) *decoder {
	return &decoder{r: bufio.NewReaderSize(r, 1<<16), zones: map[int]*time.Location{0: time.UTC}}
}

// next decodes the next record into rec; io.EOF at a clean end.
func (d *decoder) next(rec *Record) error {
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return errCorruptSpill
	}
	if n > 1<<30 {
		return errCorruptSpill
	}
	if cap(d.buf) < int(n) {
		d.buf = make([]byte, n)
	}
	d.buf = d.buf[:n]
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		return errCorruptSpill
	}
	s := string(d.buf) // one allocation; the fields are substrings of it
	p := 0
	fail := false
	varint := func() int64 {
		v, k := binary.Varint(d.buf[p:])
		if k <= 0 {
			fail = true
			return 0
		}
		p += k
		return v
	}
	uvarint := func() uint64 {
		v, k := binary.Uvarint(d.buf[p:])
		if k <= 0 {
			fail = true
			return 0
		}
		p += k
		return v
	}
	str := func() string {
		l := uvarint()
		if fail || l > uint64(len(s)-p) {
			fail = true
			return ""
		}
		v := s[p : p+int(l)]
		p += int(l)
		return v
	}
	tm := func() time.Time {
		if p >= len(d.buf) {
			fail = true
			return time.Time{}
		}
		flag := d.buf[p]
		p++
		if flag == 0 {
			return time.Time{}
		}
		sec := varint()
		nsec := uvarint()
		off := int(varint())
		if fail || nsec >= 1e9 {
			fail = true
			return time.Time{}
		}
		loc, ok := d.zones[off]
		if !ok {
			loc = time.FixedZone("", off)
			d.zones[off] = loc
		}
		return time.Unix(sec, int64(nsec)).In(loc)
	}
	*rec = Record{ID: varint()}
	for f := FieldName; int(f) < numFields; f++ {
		rec.Set(f, str())
	}
	rec.Registered = tm()
	rec.Updated = tm()
	ne := uvarint()
	if !fail && ne > 0 && ne <= uint64(len(s)) {
		rec.Extra = make([]ExtraField, ne)
		for i := range rec.Extra {
			rec.Extra[i] = ExtraField{Name: str(), Value: str()}
		}
	}
	if fail || p != len(d.buf) {
		return errCorruptSpill
	}
	return nil
}
