package sla

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNoCalendarData reports an instant outside the years a working-hours
	// calendar has holiday data for. The package never guesses a year's
	// holidays: add a year with HolidaySet.Merge (or a contract's holidays:
	// file) when its notice is published. Messages wrapping it say so.
	ErrNoCalendarData = errors.New("sla: no calendar data for that year")
	// ErrInvalid reports a bad argument or a bad contract document.
	ErrInvalid = errors.New("sla: invalid input")
	// ErrEventOrder reports incident events that cannot be replayed (a
	// resume without a pause, an event before "opened", times going back).
	ErrEventOrder = errors.New("sla: events out of order")
	// ErrUnknownLevel reports an incident level the policy does not define.
	ErrUnknownLevel = errors.New("sla: unknown level")
)

// FieldError is a bad value in a document or a config: which field, where in
// the source (Line and Column are 1-based, 0 when unknown), and why. File
// names the source when it is not the document parsed (a holiday file a
// contract names); empty otherwise. It unwraps to ErrInvalid and to Err
// when set.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type FieldError struct {
	File   string
	Field  string
	Line   int
	Column int
	Msg    string
	Err    error
}

func (e *FieldError) Error() string {
	pos := ""
	if e.Line > 0 {
		pos = fmt.Sprintf("%d:%d: ", e.Line, e.Column)
	}
	if e.File != "" {
		pos = e.File + ":" + pos
		if e.Line == 0 {
			pos += " "
		}
	}
	return fmt.Sprintf("sla: %s%s: %s", pos, e.Field, e.Msg)
}

// Unwrap returns ErrInvalid and the underlying cause, if any.
func (e *FieldError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
