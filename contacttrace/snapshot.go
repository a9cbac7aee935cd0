package contacttrace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Snapshot format, version 2, all integers little-endian:
//
//	header   magic "HCTRACE\x00", version u32, flags u32 (0), base i64,
//	         venues u32, persons u32, scans u32, reserved u32 (0),
//	         crc32c of the preceding 40 bytes
//	sections five, in order: venue-offsets (venues+1), times (scans),
//	         persons (scans), person-offsets (one per block of 64 person
//	         ids, plus one), person-positions (scans); each is tag
//	         [4]byte, count u64, count u32 values, crc32c of the values
//
// Version 1 had one person offset per person id (persons+1); ReadIndex
// still reads it.
const (
	snapshotMagic   = "HCTRACE\x00"
	snapshotVersion = 2
	headerLen       = 44
	chunkValues     = 1 << 18 // values decoded per read
)

var sectionTags = [5]string{"VOFF", "TIME", "PERS", "POFF", "PPOS"}
var sectionNames = [5]string{"venue-offsets", "times", "persons", "person-offsets", "person-positions"}

func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// WriteTo writes a snapshot of the index to w (buffered), and returns the
// number of bytes written. Load it with [ReadIndex].
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	tab := castagnoli()
	hdr := make([]byte, 0, headerLen)
	hdr = append(hdr, snapshotMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, snapshotVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(ix.base))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ix.NumVenues()))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ix.NumPersons()))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ix.Len()))
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, tab))
	if _, err := cw.Write(hdr); err != nil {
		return cw.n, fmt.Errorf("contacttrace: write snapshot header: %w", err)
	}
	buf := make([]byte, 0, 4*chunkValues)
	for i, col := range ix.columns() {
		buf = append(buf[:0], sectionTags[i]...)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(col)))
		if _, err := cw.Write(buf); err != nil {
			return cw.n, fmt.Errorf("contacttrace: write snapshot %s: %w", sectionNames[i], err)
		}
		var crc uint32
		for len(col) > 0 {
			k := min(len(col), chunkValues)
			buf = buf[:0]
			for _, v := range col[:k] {
				buf = binary.LittleEndian.AppendUint32(buf, v)
			}
			crc = crc32.Update(crc, tab, buf)
			if _, err := cw.Write(buf); err != nil {
				return cw.n, fmt.Errorf("contacttrace: write snapshot %s: %w", sectionNames[i], err)
			}
			col = col[k:]
		}
		if _, err := cw.Write(binary.LittleEndian.AppendUint32(buf[:0], crc)); err != nil {
			return cw.n, fmt.Errorf("contacttrace: write snapshot %s: %w", sectionNames[i], err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("contacttrace: write snapshot: %w", err)
	}
	return cw.n, nil
}

func (ix *Index) columns() [5][]uint32 {
	return [5][]uint32{ix.venueOff, ix.times, ix.persons, ix.personOff, ix.personPos}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadIndex loads a snapshot written by [Index.WriteTo]. It reads only the
// snapshot's bytes from r (buffered; wrap r yourself to read more after
// it). A truncated, corrupted or inconsistent snapshot gives a
// [*SnapshotError] naming the section and byte offset, wrapping
// [ErrCorrupt] (or [ErrVersion]); ReadIndex never panics on bad input.
func ReadIndex(r io.Reader) (*Index, error) {
	remaining := int64(-1) // bytes known to be available, -1 if unknown
	switch s := r.(type) {
	case interface{ Size() int64 }:
		remaining = s.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			remaining = fi.Size()
		}
	}
	if sk, ok := r.(io.Seeker); ok && remaining >= 0 {
		if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
			remaining -= pos
		}
	}
	size := 1 << 20
	if remaining >= 0 {
		size = int(max(min(remaining, 1<<20), 16))
	}
	rd := &snapReader{r: bufio.NewReaderSize(r, size), tab: castagnoli(), remaining: remaining}
	hdr := make([]byte, headerLen)
	if err := rd.full(hdr, "header"); err != nil {
		return nil, err
	}
	if string(hdr[:8]) != snapshotMagic {
		return nil, rd.fail("header", 0, ErrCorrupt, "bad magic %q", hdr[:8])
	}
	version := binary.LittleEndian.Uint32(hdr[8:])
	if version != 1 && version != snapshotVersion {
		return nil, rd.fail("header", 8, ErrVersion, "version %d, want 1 or %d", version, snapshotVersion)
	}
	if got, want := crc32.Checksum(hdr[:40], rd.tab), binary.LittleEndian.Uint32(hdr[40:]); got != want {
		return nil, rd.fail("header", 40, ErrCorrupt, "checksum %08x, want %08x", got, want)
	}
	if binary.LittleEndian.Uint32(hdr[12:]) != 0 || binary.LittleEndian.Uint32(hdr[36:]) != 0 {
		return nil, rd.fail("header", 12, ErrCorrupt, "unknown flags")
	}
	ix := &Index{base: int64(binary.LittleEndian.Uint64(hdr[16:]))}
	nv := uint64(binary.LittleEndian.Uint32(hdr[24:]))
	np := uint64(binary.LittleEndian.Uint32(hdr[28:]))
	n := uint64(binary.LittleEndian.Uint32(hdr[32:]))
	if n > MaxScans || nv == math.MaxUint32 || np == math.MaxUint32 {
		return nil, rd.fail("header", 24, ErrCorrupt, "counts out of range")
	}
	want := [5]uint64{nv + 1, n, n, uint64(personBlocks(int(np))) + 1, n}
	if version == 1 {
		want[3] = np + 1
	}
	var cols [5][]uint32
	for i := range cols {
		col, err := rd.section(i, want[i])
		if err != nil {
			return nil, err
		}
		cols[i] = col
	}
	ix.venueOff, ix.times, ix.persons, ix.personOff, ix.personPos = cols[0], cols[1], cols[2], cols[3], cols[4]
	ix.np = uint32(np)
	if version == 1 {
		// One offset per id: keep each block's first, and the end.
		if e := checkOffsets(ix.personOff, uint32(n)); e != "" {
			return nil, &SnapshotError{Section: "person-offsets", Offset: rd.n, Reason: e, Err: ErrCorrupt}
		}
		blocks := make([]uint32, personBlocks(int(np))+1)
		for b := range blocks[:len(blocks)-1] {
			blocks[b] = ix.personOff[b<<personShift]
		}
		blocks[len(blocks)-1] = uint32(n)
		ix.personOff = blocks
	}
	if err := ix.check(); err != nil {
		return nil, &SnapshotError{Section: err.section, Offset: rd.n, Reason: err.reason, Err: ErrCorrupt}
	}
	return ix, nil
}

type snapReader struct {
	r         *bufio.Reader
	tab       *crc32.Table
	n         int64 // bytes consumed
	remaining int64
}

func (rd *snapReader) fail(section string, at int64, sentinel error, format string, args ...any) error {
	return &SnapshotError{Section: section, Offset: at, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// full reads len(p) bytes or fails with a truncation error.
func (rd *snapReader) full(p []byte, section string) error {
	k, err := io.ReadFull(rd.r, p)
	rd.n += int64(k)
	if err != nil {
		reason := "truncated"
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			reason = "read failed"
		}
		return &SnapshotError{Section: section, Offset: rd.n, Reason: reason, Err: errors.Join(ErrCorrupt, err)}
	}
	return nil
}

// section reads section i, which must hold want values.
func (rd *snapReader) section(i int, want uint64) ([]uint32, error) {
	name := sectionNames[i]
	var head [12]byte
	start := rd.n
	if err := rd.full(head[:], name); err != nil {
		return nil, err
	}
	if string(head[:4]) != sectionTags[i] {
		return nil, rd.fail(name, start, ErrCorrupt, "tag %q, want %q", head[:4], sectionTags[i])
	}
	if got := binary.LittleEndian.Uint64(head[4:]); got != want {
		return nil, rd.fail(name, start+4, ErrCorrupt, "%d values, header says %d", got, want)
	}
	// Preallocate only what the input can hold; otherwise grow as bytes
	// arrive, so a lying header cannot make us allocate gigabytes.
	var col []uint32
	if rd.remaining < 0 || int64(want)*4 <= rd.remaining-rd.n {
		col = make([]uint32, 0, want)
	}
	chunk := uint64(chunkValues)
	if rd.remaining >= 0 {
		chunk = min(chunk, uint64(max(rd.remaining-rd.n, 4096))/4)
	}
	buf := make([]byte, 4*min(want, chunk))
	var crc uint32
	for left := want; left > 0; {
		k := min(left, chunk)
		b := buf[:4*k]
		if err := rd.full(b, name); err != nil {
			return nil, err
		}
		crc = crc32.Update(crc, rd.tab, b)
		at := len(col)
		col = slices.Grow(col, int(k))[:at+int(k)]
		dst := col[at:]
		for j := range dst {
			dst[j] = binary.LittleEndian.Uint32(b[4*j:])
		}
		left -= k
	}
	var sum [4]byte
	at := rd.n
	if err := rd.full(sum[:], name); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != crc {
		return nil, rd.fail(name, at, ErrCorrupt, "checksum %08x, want %08x", crc, got)
	}
	if len(col) == 0 {
		col = nil // as Build leaves an empty column
	}
	return col, nil
}

type checkErr struct{ section, reason string }

// check verifies the invariants queries rely on, so that a snapshot that
// passed its checksums but was written wrong can never make a query index
// out of range or return wrong results.
func (ix *Index) check() *checkErr {
	n := uint32(len(ix.times))
	np := ix.np
	if e := checkOffsets(ix.venueOff, n); e != "" {
		return &checkErr{"venue-offsets", e}
	}
	if e := checkOffsets(ix.personOff, n); e != "" {
		return &checkErr{"person-offsets", e}
	}
	// Phase 1, in parallel chunks: person ids in range, then each venue in
	// (time, person) order. Errors are reported in that order whatever the
	// scheduling, so the message is deterministic.
	w := runtime.GOMAXPROCS(0)
	pchunks := chunkRanges(len(ix.persons), w)
	vranges := balancedRanges(ix.venueOff, w)
	errs := make([]*checkErr, len(pchunks)+len(vranges))
	var wg sync.WaitGroup
	for i, c := range pchunks {
		wg.Go(func() {
			for pos := c[0]; pos < c[1]; pos++ {
				if p := ix.persons[pos]; p >= np {
					errs[i] = &checkErr{"persons", fmt.Sprintf("person id %d at position %d out of range", p, pos)}
					return
				}
			}
		})
	}
	for i, r := range vranges {
		wg.Go(func() {
			for v := r[0]; v < r[1]; v++ {
				a, b := ix.venueOff[v], ix.venueOff[v+1]
				for p := a + 1; p < b; p++ {
					if ix.times[p] < ix.times[p-1] || ix.times[p] == ix.times[p-1] && ix.persons[p] < ix.persons[p-1] {
						errs[len(pchunks)+i] = &checkErr{"times", fmt.Sprintf("venue %d not in time order at position %d", v, p)}
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	// Phase 2: each block's entries point at scans of the block's persons,
	// by person and then position, ascending.
	pranges := balancedRanges(ix.personOff, w)
	errs = make([]*checkErr, len(pranges))
	for i, r := range pranges {
		wg.Go(func() {
			for b := uint32(r[0]); b < uint32(r[1]); b++ {
				prevP, prevPos := int64(-1), int64(-1)
				for _, pos := range ix.personPos[ix.personOff[b]:ix.personOff[b+1]] {
					if pos >= n {
						errs[i] = &checkErr{"person-positions", fmt.Sprintf("entry of block %d points past the scans", b)}
						return
					}
					p := int64(ix.persons[pos])
					if p>>personShift != int64(b) || p < prevP || p == prevP && int64(pos) <= prevPos {
						errs[i] = &checkErr{"person-positions", fmt.Sprintf("entry of person %d does not point at its scan in order", p)}
						return
					}
					prevP, prevPos = p, int64(pos)
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func checkOffsets(off []uint32, n uint32) string {
	if len(off) == 0 || off[0] != 0 {
		return "does not start at 0"
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return fmt.Sprintf("decreases at %d", i)
		}
	}
	if off[len(off)-1] != n {
		return fmt.Sprintf("ends at %d, want %d scans", off[len(off)-1], n)
	}
	return ""
}
