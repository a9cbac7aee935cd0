package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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

// Errors DecodeJSON wraps in a *BodyError, for errors.Is.
var (
	ErrBodyTooLarge = errors.New("body too large")
	ErrUnknownField = errors.New("unknown field")
)

// DecodeJSON reads one JSON value of at most limit bytes from r into v,
// refusing unknown fields, duplicate names and trailing data. Errors are
// *BodyError with the line and column (and field, when the value is wrong
// rather than the syntax) of the problem.
//
// Object names match struct tags exactly (no case folding), and an embedded
// struct's fields are the outer object's. Decoding uses the JSON v2
// prototype, which needs no decoder per call: the lookup path's decoding
// allocates one string instead of a kilobyte of decoder and buffers.
func DecodeJSON(r io.Reader, limit int64, v any) error {
	bp := bodyBufs.Get().(*[]byte)
	defer putBodyBuf(bp)
	data, err := readLimited(r, limit, (*bp)[:0])
	*bp = data
	if err != nil {
		return &BodyError{Err: err}
	}
	// A UTF-8 byte order mark is the encoding's signature, which Windows
	// tools write; RFC 8259 lets a parser ignore it.
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return bodyError(data, err)
	}
	return nil
}

var utf8BOM = []byte("\ufeff")

// bodyBufs recycles request-body buffers; bodies up to maxPooledBody go
// back, larger ones are left to the collector so a rare bulk upload does
// not stay resident.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBody = 64 << 10

func putBodyBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledBody {
		bodyBufs.Put(bp)
	}
}

// readLimited appends r's bytes to buf until EOF, refusing more than limit.
func readLimited(r io.Reader, limit int64, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 512), int(limit)+1-len(buf)))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, fmt.Errorf("%w (limit %d bytes)", ErrBodyTooLarge, limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// bodyError places a decoding error in data.
func bodyError(data []byte, err error) *BodyError {
	be := &BodyError{Err: err}
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && len(bytes.TrimSpace(data)) == 0:
		be.Err = errors.New("empty body")
	case errors.As(err, &syn):
		be.Line, be.Column = position(data, syn.ByteOffset)
		be.Field = fieldPath(syn.JSONPointer)
		be.Err = syn.Err
		if syn.Err == nil {
			be.Err = err
		}
	case errors.As(err, &sem):
		be.Line, be.Column = position(data, sem.ByteOffset)
		be.Field = fieldPath(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			be.Err = fmt.Errorf("%w %q", ErrUnknownField, sem.JSONPointer.LastToken())
		case sem.GoType != nil && sem.JSONKind != 0:
			want, got := jsonName(sem.GoType), kindName(sem.JSONKind)
			switch {
			case errors.Is(sem.Err, strconv.ErrSyntax) || errors.Is(sem.Err, strconv.ErrRange):
				be.Err = fmt.Errorf("want %s, got %s that is not one or is out of range", want, got)
			case sem.Err != nil:
				be.Err = fmt.Errorf("want %s, got %s: %v", want, got, sem.Err)
			default:
				be.Err = fmt.Errorf("want %s, got %s", want, got)
			}
		case sem.Err != nil:
			be.Err = sem.Err
		}
	}
	return be
}

// fieldPath turns a JSON pointer into a dotted field path: /facts/age is
// facts.age, /tokens/2/role is tokens.2.role.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// kindName names a JSON kind, with its article.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a value"
}

// jsonName names what a Go type wants in JSON terms, the words an API
// user reads: an object, not main.codeRequest.
func jsonName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// ErrMediaType is the error CheckContentType wraps: the server answers
// 415 Unsupported Media Type.
var ErrMediaType = errors.New("unsupported media type")

// CheckContentType refuses a request body the server would misread: a
// media type that is not JSON, NDJSON, YAML or plain text (a multipart form,
// XML), or a charset other than UTF-8. No Content-Type is accepted, and so
// is application/x-www-form-urlencoded, which curl -d sends by default.
func CheckContentType(h http.Header) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: Content-Type %q: %v", ErrMediaType, ct, err)
	}
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "application/x-ndjson", mt == "application/jsonl",
		mt == "application/yaml", mt == "application/x-yaml", mt == "text/yaml", mt == "text/x-yaml",
		mt == "text/plain", mt == "application/x-www-form-urlencoded":
	default:
		return fmt.Errorf("%w: Content-Type %q: want application/json (or NDJSON, YAML, text/plain)", ErrMediaType, mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return fmt.Errorf("%w: Content-Type charset %q: want utf-8", ErrMediaType, cs)
	}
	return nil
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
