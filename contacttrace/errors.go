package contacttrace

import (
	"errors"
	"fmt"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrInvalid is wrapped by every error about a bad argument (a field
	// of a Config, a Query or a Trip).
	ErrInvalid = errors.New("contacttrace: invalid argument")
	// ErrTooLarge means the data exceeds what the index layout can hold:
	// more than MaxScans scans, a venue or person id at or above the
	// configured maximum, or a time span of 2^32 seconds or more.
	ErrTooLarge = errors.New("contacttrace: too large")
	// ErrCorrupt is wrapped by every [SnapshotError]: the snapshot is
	// truncated, fails a checksum, or is inconsistent.
	ErrCorrupt = errors.New("contacttrace: corrupt snapshot")
	// ErrVersion means the snapshot was written by an unknown format
	// version.
	ErrVersion = errors.New("contacttrace: unsupported snapshot version")
	// ErrUnknownTrip means a [TripRef] names no trip in the [Trips] index.
	ErrUnknownTrip = errors.New("contacttrace: unknown trip")
)

// FieldError reports a bad field of a Config, Query or input record.
// Field is a path such as "Visits[2].To"; it never holds personal data.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("contacttrace: %s: %s", e.Field, e.Reason)
}

// Unwrap returns [ErrInvalid].
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// SnapshotError says where a snapshot failed to load: the section being
// read ("header", "venue-offsets", ...) and the byte offset in the stream.
type SnapshotError struct {
	Section string
	Offset  int64
	Reason  string
	Err     error // ErrCorrupt or ErrVersion, possibly joined with an I/O error
}

func (e *SnapshotError) Error() string {
	return fmt.Sprintf("contacttrace: snapshot section %s at byte %d: %s", e.Section, e.Offset, e.Reason)
}

// Unwrap returns the underlying sentinel and I/O error.
func (e *SnapshotError) Unwrap() error { return e.Err }
