package dedupe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
// nanoseconds and varint zone offset in seconds. In a spill file each
// record is preceded by its 8-byte grouping hash (little endian), so that
// nothing is normalised twice.

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

// encodeRecord appends the length-prefixed encoding of r to b, using body
// as scratch space, and returns both.
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

// zoneCache reuses one *time.Location per zone offset while decoding.
type zoneCache map[int]*time.Location

func (z zoneCache) get(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	loc, ok := z[off]
	if !ok {
		loc = time.FixedZone("", off)
		z[off] = loc
	}
	return loc
}

// splitEncoded returns the body of the length-prefixed record at the
// start of b and the length of the whole record.
func splitEncoded(b []byte) (body []byte, n int, err error) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, 0, errCorruptSpill
	}
	return b[k : k+int(l)], k + int(l), nil
}

// decodeBody decodes one record body into rec. The strings of rec share
// one allocation.
func decodeBody(body []byte, rec *Record, zones zoneCache) error {
	s := string(body)
	p := 0
	fail := false
	varint := func() int64 {
		v, k := binary.Varint(body[p:])
		if k <= 0 {
			fail = true
			return 0
		}
		p += k
		return v
	}
	uvarint := func() uint64 {
		v, k := binary.Uvarint(body[p:])
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
		if fail || p >= len(body) {
			fail = true
			return time.Time{}
		}
		flag := body[p]
		p++
		if flag == 0 {
			return time.Time{}
		}
		sec := varint()
		nsec := uvarint()
		off := varint()
		if fail || flag != 1 || nsec >= 1e9 || off < -86400 || off > 86400 {
			fail = true
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).In(zones.get(int(off)))
	}
	*rec = Record{ID: varint()}
	for f := FieldName; int(f) < numFields; f++ {
		rec.Set(f, str())
	}
	rec.Registered = tm()
	rec.Updated = tm()
	ne := uvarint()
	if !fail && ne > 0 {
		if ne > uint64(len(s)) {
			return errCorruptSpill
		}
		rec.Extra = make([]ExtraField, ne)
		for i := range rec.Extra {
			rec.Extra[i] = ExtraField{Name: str(), Value: str()}
		}
	}
	if fail || p != len(body) {
		return errCorruptSpill
	}
	return nil
}

// fileReader reads hash-prefixed records from a spill file.
type fileReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFileReader(r io.Reader) *fileReader {
	return &fileReader{r: bufio.NewReaderSize(r, 1<<16)}
}

// next returns the next record's hash and its length-prefixed encoding
// (valid until the next call), or io.EOF at a clean end.
func (f *fileReader) next() (uint64, []byte, error) {
	var hb [8]byte
	if _, err := io.ReadFull(f.r, hb[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, errCorruptSpill
	}
	n, err := binary.ReadUvarint(f.r)
	if err != nil || n > 1<<30 {
		return 0, nil, errCorruptSpill
	}
	f.buf = binary.AppendUvarint(f.buf[:0], n)
	k := len(f.buf)
	f.buf = slices.Grow(f.buf, int(n))[:k+int(n)]
	if _, err := io.ReadFull(f.r, f.buf[k:]); err != nil {
		return 0, nil, errCorruptSpill
	}
	return binary.LittleEndian.Uint64(hb[:]), f.buf, nil
}
