package contacttrace

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A snapshot directory of a Segments index holds one file per day (the
// [Index.WriteTo] format, named by its day and scan count, e.g.
// "2022-05-14.43000000.hct"), the caller's own files (the id maps that give
// the dense ids their meaning: "persons.csv", ...), and MANIFEST, which
// lists them all with their sizes and CRC-32C checksums and ends with the
// checksum of itself. A day's file never changes once written: a day that
// gains scans gets a new file, so writing a snapshot writes only the days
// that changed, and reading one reads only the days the reader lacks.

// ManifestName is the snapshot directory's manifest.
const ManifestName = "MANIFEST"

const manifestFormat = "contacttrace-segments/1"

type manifest struct {
	Format     string          `json:"format"`
	Location   string          `json:"location"`
	Offset     int             `json:"offset_seconds"` // the location's offset, for a fixed zone
	RetainDays int             `json:"retain_days"`
	Days       []manifestDay   `json:"days"`
	Files      []manifestEntry `json:"files"`
}

type manifestDay struct {
	Day   string `json:"day"` // "2006-01-02"
	Scans int    `json:"scans"`
	manifestEntry
}

type manifestEntry struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	CRC32 uint32 `json:"crc32c"`
}

func dayFile(day time.Time, scans int) string {
	return fmt.Sprintf("%s.%d.hct", day.Format(time.DateOnly), scans)
}

// WriteDir writes a snapshot of s into dir (created if missing): the day
// files not already there, each extra file (written by its function, e.g.
// the caller's id maps), then MANIFEST, by rename, so a reader sees the
// old snapshot or the new one, never a mix. Day files of days no longer
// held are removed afterwards. It returns the day files it wrote.
func (s *Segments) WriteDir(dir string, extras map[string]func(io.Writer) error) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("contacttrace: snapshot dir: %w", err)
	}
	_, offset := time.Now().In(s.cfg.Location).Zone()
	m := manifest{Format: manifestFormat, Location: s.cfg.Location.String(), Offset: offset, RetainDays: s.cfg.RetainDays}
	var wrote []string
	tab := castagnoli()
	// Day files already listed by the manifest there keep its entry (a
	// day file never changes), so only new days are written or read.
	known := map[string]manifestEntry{}
	if old, err := readManifest(dir); err == nil {
		for _, d := range old.Days {
			known[d.Name] = d.manifestEntry
		}
	}
	for _, sg := range s.segs {
		day := time.Unix(sg.day, 0).In(s.cfg.Location)
		name := dayFile(day, sg.ix.Len())
		path := filepath.Join(dir, name)
		e, ok := known[name]
		var err error
		if fi, serr := os.Stat(path); !ok || serr != nil || fi.Size() != e.Size {
			e, err = checksumFile(path)
		}
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			if e, err = writeFile(path, func(w io.Writer) error { _, err := sg.ix.WriteTo(w); return err }); err != nil {
				return nil, fmt.Errorf("contacttrace: snapshot day %s: %w", day.Format(time.DateOnly), err)
			}
			wrote = append(wrote, name)
		}
		e.Name = name
		m.Days = append(m.Days, manifestDay{Day: day.Format(time.DateOnly), Scans: sg.ix.Len(), manifestEntry: e})
	}
	for name, write := range extras {
		if name == ManifestName || strings.HasSuffix(name, ".hct") || filepath.Base(name) != name {
			return nil, fmt.Errorf("contacttrace: snapshot extra %q: want a plain file name, not MANIFEST or *.hct", name)
		}
		e, err := writeFile(filepath.Join(dir, name), write)
		if err != nil {
			return nil, fmt.Errorf("contacttrace: snapshot extra %s: %w", name, err)
		}
		e.Name = name
		m.Files = append(m.Files, e)
	}
	body, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	body = fmt.Appendf(body, "\ncrc32c %08x\n", crc32.Checksum(body, tab))
	if _, err := writeFile(filepath.Join(dir, ManifestName), func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
		return nil, fmt.Errorf("contacttrace: snapshot manifest: %w", err)
	}
	keep := map[string]bool{}
	for _, d := range m.Days {
		keep[d.Name] = true
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.hct"))
	for _, p := range old {
		if !keep[filepath.Base(p)] {
			os.Remove(p)
		}
	}
	return wrote, nil
}

// writeFile writes path by a temporary file, fsync and rename, and
// returns its size and checksum.
func writeFile(path string, write func(io.Writer) error) (manifestEntry, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return manifestEntry{}, err
	}
	defer os.Remove(tmp.Name())
	h := crc32.New(castagnoli())
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return manifestEntry{Size: cw.n, CRC32: h.Sum32()}, err
}

// checksumFile returns a file's size and CRC-32C.
func checksumFile(path string) (manifestEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return manifestEntry{}, err
	}
	defer f.Close()
	h := crc32.New(castagnoli())
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	return manifestEntry{Size: n, CRC32: h.Sum32()}, err
}

// ReadDir reads the snapshot directory dir. Days that have, with the same
// scan count, are taken from it instead of read (a server catching up
// from a newer snapshot reads only the days it lacks); have may be nil.
// Every file read, extra files included, must match its size and
// checksum in MANIFEST, and MANIFEST its own: a mismatch is a
// *SnapshotError wrapping ErrCorrupt that names the file. It returns the
// index and the extra files' paths by name, each checked.
func ReadDir(dir string, have *Segments) (*Segments, map[string]string, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	corrupt := func(file, format string, args ...any) error {
		return &SnapshotError{Section: file, Reason: fmt.Sprintf(format, args...), Err: ErrCorrupt}
	}
	loc, err := time.LoadLocation(m.Location)
	if err != nil {
		loc = time.FixedZone(m.Location, m.Offset)
	}
	out := &Segments{cfg: SegmentConfig{Location: loc, RetainDays: m.RetainDays}}
	check := func(e manifestEntry) error {
		got, err := checksumFile(filepath.Join(dir, e.Name))
		if err != nil {
			return fmt.Errorf("contacttrace: snapshot: %w", err)
		}
		if got.Size != e.Size || got.CRC32 != e.CRC32 {
			return corrupt(e.Name, "%d bytes with checksum %08x, manifest says %d bytes with %08x", got.Size, got.CRC32, e.Size, e.CRC32)
		}
		return nil
	}
	for _, d := range m.Days {
		day, err := time.ParseInLocation(time.DateOnly, d.Day, loc)
		if err != nil {
			return nil, nil, corrupt(ManifestName, "day %q", d.Day)
		}
		if have != nil {
			if ix, ok := have.Day(day); ok && ix.Len() == d.Scans {
				out.segs = append(out.segs, newSegment(day.Unix(), ix))
				continue
			}
		}
		if err := check(d.manifestEntry); err != nil {
			return nil, nil, err
		}
		f, err := os.Open(filepath.Join(dir, d.Name))
		if err != nil {
			return nil, nil, fmt.Errorf("contacttrace: snapshot: %w", err)
		}
		ix, err := ReadIndex(bufio.NewReaderSize(f, 1<<20))
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("contacttrace: snapshot %s: %w", d.Name, err)
		}
		sg := newSegment(day.Unix(), ix)
		next := day.AddDate(0, 0, 1).Unix()
		if ix.Len() != d.Scans || (ix.Len() > 0 && (sg.first < sg.day || sg.last >= next)) {
			return nil, nil, corrupt(d.Name, "%d scans from %d to %d, manifest says %d of day %s", ix.Len(), sg.first, sg.last, d.Scans, d.Day)
		}
		if n := len(out.segs); n > 0 && out.segs[n-1].day >= sg.day {
			return nil, nil, corrupt(ManifestName, "day %s out of order", d.Day)
		}
		out.segs = append(out.segs, sg)
	}
	extras := map[string]string{}
	for _, e := range m.Files {
		if filepath.Base(e.Name) != e.Name {
			return nil, nil, corrupt(ManifestName, "file name %q", e.Name)
		}
		if err := check(e); err != nil {
			return nil, nil, err
		}
		extras[e.Name] = filepath.Join(dir, e.Name)
	}
	return out, extras, nil
}

// readManifest reads and checks dir's MANIFEST.
func readManifest(dir string) (manifest, error) {
	var m manifest
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("contacttrace: snapshot: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return &SnapshotError{Section: ManifestName, Reason: fmt.Sprintf(format, args...), Err: ErrCorrupt}
	}
	i := bytes.LastIndex(raw, []byte("\ncrc32c "))
	var want uint32
	if i < 0 || len(raw) < i+len("\ncrc32c ")+9 {
		return m, corrupt("no checksum line")
	}
	if _, err := fmt.Sscanf(string(raw[i+len("\ncrc32c "):]), "%08x", &want); err != nil {
		return m, corrupt("checksum line: %v", err)
	}
	if got := crc32.Checksum(raw[:i], castagnoli()); got != want {
		return m, corrupt("checksum %08x, manifest says %08x", got, want)
	}
	if err := json.Unmarshal(raw[:i], &m); err != nil {
		return m, corrupt("%v", err)
	}
	if m.Format != manifestFormat {
		return m, &SnapshotError{Section: ManifestName, Reason: fmt.Sprintf("format %q, want %q", m.Format, manifestFormat), Err: ErrVersion}
	}
	return m, nil
}
