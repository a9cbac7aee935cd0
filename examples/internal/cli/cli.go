// Package cli holds what the example CLIs (tracectl, dedupe, slacalc) share:
// CSV tables read by column name with errors that name file, line and field,
// refusing values that are not UTF-8;
// output files renamed into place only when complete; and "-" as stdin.
package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// RowError is a bad value in an input file: which file, line and field.
// It prints as file:line: or, when Column is known, file:line:column:.
type RowError struct {
	File string
	Line int
	// Column is the 1-based byte column, as encoding/csv counts it, where
	// the bad field starts (its opening quote, if quoted) or where the CSV
	// syntax broke; 0 when not known.
	Column int
	Field  string
	Err    error
}

func (e *RowError) Error() string {
	pos := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Column > 0 {
		pos += fmt.Sprintf(":%d", e.Column)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %v", pos, e.Err)
	}
	return fmt.Sprintf("%s: field %q: %v", pos, e.Field, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Table reads a CSV file with a header row, by column name. Every value,
// the header's included, must be valid UTF-8.
type Table struct {
	file  string
	r     *csv.Reader
	cols  map[string]int
	names []string // column names by index
	row   []string
	line  int
}

// OpenTable reads the header of a CSV file. Every required column must be
// present; a column that is neither required nor optional is refused, so a
// misspelt header fails loudly instead of being ignored.
func OpenTable(file string, rd io.Reader, required, optional []string) (*Table, error) {
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	t := &Table{file: file, r: r, cols: map[string]int{}}
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RowError{File: file, Line: 1, Err: errors.New("empty file: want a header row")}
	}
	if err != nil {
		return nil, t.CSVErr(err)
	}
	if i, off := firstInvalid(head); i >= 0 {
		line, col := r.FieldPos(i)
		return nil, &RowError{File: file, Line: line, Column: col, Err: fmt.Errorf("header: not valid UTF-8 (byte %d of the value)", off+1)}
	}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(required, h) && !slices.Contains(optional, h) {
			return nil, &RowError{File: file, Line: 1, Field: h, Err: fmt.Errorf("unknown column (want %s)", strings.Join(append(slices.Clone(required), optional...), ","))}
		}
		if _, dup := t.cols[h]; dup {
			return nil, &RowError{File: file, Line: 1, Field: h, Err: errors.New("column appears twice")}
		}
		t.cols[h] = i
		t.names = append(t.names, h)
	}
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			return nil, &RowError{File: file, Line: 1, Field: c, Err: errors.New("missing column")}
		}
	}
	return t, nil
}

// Next reads the next row; false at the end of the file.
func (t *Table) Next() (bool, error) {
	for {
		row, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, t.CSVErr(err)
		}
		t.line, _ = t.r.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		if len(row) != len(t.cols) {
			return false, &RowError{File: t.file, Line: t.line, Err: fmt.Errorf("%d fields, header has %d", len(row), len(t.cols))}
		}
		if i, off := firstInvalid(row); i >= 0 {
			line, col := t.r.FieldPos(i)
			return false, &RowError{File: t.file, Line: line, Column: col, Field: t.names[i], Err: fmt.Errorf("not valid UTF-8 (byte %d of the value)", off+1)}
		}
		t.row = row
		return true, nil
	}
}

// Get returns a column of the current row, trimmed; "" when the column is
// optional and absent.
func (t *Table) Get(col string) string {
	i, ok := t.cols[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(t.row[i])
}

// Errf is an error about a column of the current row.
func (t *Table) Errf(col string, err error) error {
	return &RowError{File: t.file, Line: t.line, Field: col, Err: err}
}

// Line is the line of the current row.
func (t *Table) Line() int { return t.line }

// CSVErr turns a csv.Reader error into a RowError with its line and
// column.
func (t *Table) CSVErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{File: t.file, Line: pe.Line, Column: pe.Column, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", t.file, err)
}

// firstInvalid returns the first value of row that is not valid UTF-8 and
// the offset of its first bad byte; -1 when all are valid.
func firstInvalid(row []string) (field, offset int) {
	for i, v := range row {
		if utf8.ValidString(v) {
			continue
		}
		off := 0
		for off < len(v) {
			r, size := utf8.DecodeRuneInString(v[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return i, off
	}
	return -1, 0
}

// Opener opens input files; "-" is stdin, which may be read once.
type Opener struct {
	Stdin     io.Reader
	stdinUsed bool // Stdin may be read once
}

func (o *Opener) Open(name string) (io.ReadCloser, error) {
	if name == "-" {
		if o.stdinUsed {
			return nil, errors.New("stdin (-) given for more than one input")
		}
		o.stdinUsed = true
		return io.NopCloser(o.Stdin), nil
	}
	return os.Open(name)
}

// OutFile is an output written to a temporary file beside its target and
// renamed into place by Commit, so an interrupted or failed run leaves no
// half-written file under the target name.
type OutFile struct {
	*os.File
	target string
}

// CreateOut creates the temporary file for target.
func CreateOut(target string) (*OutFile, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &OutFile{File: f, target: target}, nil
}

// Commit closes the file and renames it into place.
func (o *OutFile) Commit() error {
	if err := o.Close(); err != nil {
		os.Remove(o.Name())
		return err
	}
	return os.Rename(o.Name(), o.target)
}

// Abort closes and removes the temporary file.
func (o *OutFile) Abort() {
	o.Close()
	os.Remove(o.Name())
}
