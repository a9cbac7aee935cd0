package dedupe

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these where
// the condition is one a caller may want to branch on; test with errors.Is.
var (
	// ErrUnknownField is returned for a field name that is not a Field.
	ErrUnknownField = errors.New("dedupe: unknown field")
	// ErrInvalidPolicy is wrapped by Policy.Validate and the policy loaders.
	ErrInvalidPolicy = errors.New("dedupe: invalid policy")
	// ErrInvalidConfig is wrapped by the Validate methods of the configs.
	ErrInvalidConfig = errors.New("dedupe: invalid config")

	// ErrRequired: a required field is empty.
	ErrRequired = errors.New("dedupe: required field is empty")
	// ErrFormat: a field does not have the expected shape (length,
	// characters).
	ErrFormat = errors.New("dedupe: bad format")
	// ErrChecksum: an 18-character ID fails the ISO 7064 MOD 11-2 check.
	ErrChecksum = errors.New("dedupe: ID checksum mismatch")
	// ErrDate: a date or time does not parse or is not a real date.
	ErrDate = errors.New("dedupe: bad date")
	// ErrCSV: a CSV row could not be read (quotes, column count).
	ErrCSV = errors.New("dedupe: bad CSV row")
	// ErrEncoding: a field is not valid UTF-8 (often a file exported as
	// GBK or GB 18030: convert it to UTF-8 first).
	ErrEncoding = errors.New("dedupe: not valid UTF-8")

	// ErrDuplicateID: two input records carry the same Record.ID.
	ErrDuplicateID = errors.New("dedupe: duplicate record id")

	// ErrUnknownGroup: a review decision names a group that is not open.
	ErrUnknownGroup = errors.New("dedupe: unknown review group")
	// ErrInvalidDecision: a review decision is incomplete or inconsistent.
	ErrInvalidDecision = errors.New("dedupe: invalid review decision")

	// ErrIdentity: a reconciliation's counts do not add up
	// (|source| != matched + missing or |issued| != matched + extra).
	ErrIdentity = errors.New("dedupe: reconciliation identity violated")
)

// FieldError reports what is wrong with one field of one record. Its
// message never contains the field's value. The error types of this
// package are plain values, safe to share read-only.
type FieldError struct {
	Field  Field  // 0 for a column that is not a Field (id, times, extra columns)
	Column string // CSV column, when known
	Reason string // what is wrong, e.g. "want 18 characters, got 17"
	Err    error  // the sentinel: ErrRequired, ErrFormat, ErrChecksum, ErrDate, ErrEncoding
	// Line and Col locate the problem in the CSV input, 1-based, with
	// columns counted in bytes as encoding/csv counts them: the first
	// byte that is not UTF-8 for ErrEncoding, else where the field
	// starts. Both are 0 when the record was not read by a Reader.
	Line, Col int
}

func (e *FieldError) Error() string {
	name := e.Field.String()
	if !e.Field.valid() {
		name = "column " + e.Column
	} else if e.Column != "" && e.Column != name {
		name += " (column " + e.Column + ")"
	}
	return fmt.Sprintf("dedupe: %s: %s", name, e.Reason)
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

// RowError reports why a CSV row or record was rejected: its line in the
// input (1-based, counting the header; 0 when not read from CSV), its
// record id when it could be read, and every field problem found. Its
// message starts with the position of the first problem (see Pos).
type RowError struct {
	Line   int
	ID     int64 // 0 when the id could not be read
	Fields []*FieldError
	Err    error // a row-level error (ErrCSV), if the row could not be split into fields
	// Col is the 1-based byte column, on line Line, where encoding/csv
	// stopped for a row-level error; 0 when unknown (no Err, or the
	// error came on a later line of a quoted field that spans lines).
	Col int
}

// Pos returns where the row's first problem is: the row-level error's
// line and column, else the first field problem's, else (Line, 0).
func (e *RowError) Pos() (line, col int) {
	if e.Err != nil {
		return e.Line, e.Col
	}
	for _, f := range e.Fields {
		if f.Line > 0 {
			return f.Line, f.Col
		}
	}
	return e.Line, 0
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString("dedupe: ")
	switch line, col := e.Pos(); {
	case line > 0 && col > 0:
		fmt.Fprintf(&b, "line %d, column %d", line, col)
	case line > 0:
		fmt.Fprintf(&b, "line %d", line)
	default:
		fmt.Fprintf(&b, "record %d", e.ID)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "dedupe: "))
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(f.Error(), "dedupe: "))
	}
	return b.String()
}

// Unwrap returns the row-level error and the field errors, so that
// errors.Is(err, ErrChecksum) finds a checksum problem in any field.
func (e *RowError) Unwrap() []error {
	errs := make([]error, 0, len(e.Fields)+1)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	for _, f := range e.Fields {
		errs = append(errs, f)
	}
	return errs
}

// DecisionError reports a refused review decision: its index in the batch,
// the group it names and what is wrong. When any decision of a batch is
// refused, nothing of the batch is applied.
type DecisionError struct {
	Index  int
	Group  string
	Reason string
	Err    error // ErrUnknownGroup or ErrInvalidDecision
}

func (e *DecisionError) Error() string {
	return fmt.Sprintf("dedupe: decision %d (group %s): %s", e.Index, e.Group, e.Reason)
}

// Unwrap returns the sentinel.
func (e *DecisionError) Unwrap() error { return e.Err }
