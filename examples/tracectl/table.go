package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"slices"
	"strings"
)

// rowError is a bad value in an input file: which file, line and field.
type rowError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *rowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *rowError) Unwrap() error { return e.Err }

// table reads a CSV file with a header row, by column name.
type table struct {
	file string
	r    *csv.Reader
	cols map[string]int
	row  []string
	line int
}

// openTable reads the header of a CSV file. Every required column must be
// present; a column that is neither required nor optional is refused, so a
// misspelt header fails loudly instead of being ignored.
func openTable(file string, rd io.Reader, required, optional []string) (*table, error) {
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	t := &table{file: file, r: r, cols: map[string]int{}}
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &rowError{File: file, Line: 1, Err: errors.New("empty file: want a header row")}
	}
	if err != nil {
		return nil, t.csvErr(err)
	}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(required, h) && !slices.Contains(optional, h) {
			return nil, &rowError{File: file, Line: 1, Field: h, Err: fmt.Errorf("unknown column (want %s)", strings.Join(append(slices.Clone(required), optional...), ","))}
		}
		if _, dup := t.cols[h]; dup {
			return nil, &rowError{File: file, Line: 1, Field: h, Err: errors.New("column appears twice")}
		}
		t.cols[h] = i
	}
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			return nil, &rowError{File: file, Line: 1, Field: c, Err: errors.New("missing column")}
		}
	}
	return t, nil
}

// next reads the next row; false at the end of the file.
func (t *table) next() (bool, error) {
	for {
		row, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, t.csvErr(err)
		}
		t.line, _ = t.r.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		if len(row) != len(t.cols) {
			return false, &rowError{File: t.file, Line: t.line, Err: fmt.Errorf("%d fields, header has %d", len(row), len(t.cols))}
		}
		t.row = row
		return true, nil
	}
}

// get returns a column of the current row, trimmed; "" when the column is
// optional and absent.
func (t *table) get(col string) string {
	i, ok := t.cols[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(t.row[i])
}

// errf is an error about a column of the current row.
func (t *table) errf(col string, err error) error {
	return &rowError{File: t.file, Line: t.line, Field: col, Err: err}
}

func (t *table) csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &rowError{File: t.file, Line: pe.Line, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", t.file, err)
}
