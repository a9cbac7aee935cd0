package auditexport

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cursor is the last record known delivered: its Seq and Hash, so that
// the record read after it can be checked to follow it.
type cursor struct {
	Seq  uint64
	Hash [32]byte
}

// The cursor file holds one line, "SEQ HASH\n", HASH in hex.

// loadCursor reads the cursor file at path; a missing file is the zero
// cursor (nothing delivered yet).
func loadCursor(path string) (cursor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cursor{}, nil
	}
	if err != nil {
		return cursor{}, fmt.Errorf("auditexport: read cursor: %w", err)
	}
	bad := fmt.Errorf("auditexport: cursor file %s: want one line \"SEQ HASH\", have %q", path, b)
	line, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		return cursor{}, bad
	}
	seqText, hashText, ok := strings.Cut(line, " ")
	if !ok {
		return cursor{}, bad
	}
	var c cursor
	c.Seq, err = strconv.ParseUint(seqText, 10, 64)
	if err != nil || c.Seq == 0 || len(hashText) != 2*len(c.Hash) {
		return cursor{}, bad
	}
	if _, err := hex.Decode(c.Hash[:], []byte(hashText)); err != nil {
		return cursor{}, bad
	}
	return c, nil
}

// saveCursor replaces the cursor file atomically: a temporary file in the
// same directory, synced, renamed over it, and the directory synced, so
// that after a crash the file holds the old cursor or the new one.
func saveCursor(path string, c cursor) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("auditexport: save cursor: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("auditexport: save cursor: %w", err)
		}
	}()
	line := strconv.FormatUint(c.Seq, 10) + " " + hex.EncodeToString(c.Hash[:]) + "\n"
	if _, err := tmp.WriteString(line); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
