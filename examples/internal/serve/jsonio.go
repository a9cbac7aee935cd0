package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// BodyError says what is wrong with a request body and where.
type BodyError struct {
	Line, Column int    // 1-based position of the problem, 0 if unknown
	Field        string // JSON path of the offending field, if known
	Err          error
}

func (e *BodyError) Error() string {
	var b bytes.Buffer
	b.WriteString("serve: request body")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d column %d", e.Line, e.Column)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " field %q", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *BodyError) Unwrap() error { return e.Err }

// ErrBodyTooLarge is wrapped when a body exceeds the decoder's limit.
var ErrBodyTooLarge = errors.New("body too large")

// DecodeJSON reads one JSON value of at most limit bytes from r into v,
// refusing unknown fields and trailing data. Errors are *BodyError with the
// line and column (and field, for type errors) of the problem.
func DecodeJSON(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return &BodyError{Err: err}
	}
	if int64(len(data)) > limit {
		return &BodyError{Err: fmt.Errorf("%w (limit %d bytes)", ErrBodyTooLarge, limit)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		be := &BodyError{Err: err}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			// Offset counts the bad byte itself; point at it.
			be.Line, be.Column = position(data, syn.Offset-1)
		case errors.As(err, &typ):
			be.Line, be.Column = position(data, typ.Offset)
			be.Field = typ.Field
			be.Err = fmt.Errorf("want %s, got JSON %s", typ.Type, typ.Value)
		case errors.Is(err, io.EOF):
			be.Err = errors.New("empty body")
		default:
			be.Line, be.Column = position(data, dec.InputOffset())
		}
		return be
	}
	if dec.More() {
		line, col := position(data, dec.InputOffset())
		return &BodyError{Line: line, Column: col, Err: errors.New("data after the JSON value")}
	}
	return nil
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error   string `json:"error"`   // machine-readable code: "bad_request", "overloaded"
	Message string `json:"message"` // what was wrong, and where
	Details any    `json:"details,omitempty"`
}

// WriteError writes an ErrorBody with status.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	WriteJSON(w, status, ErrorBody{Error: code, Message: msg})
}
