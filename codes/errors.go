package codes

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of identity parsing. An *IDError wraps exactly one of them,
// so callers branch with errors.Is(err, codes.ErrChecksum).
var (
	ErrEmpty     = errors.New("codes: empty input")
	ErrLength    = errors.New("codes: wrong length")
	ErrChar      = errors.New("codes: unexpected character")
	ErrChecksum  = errors.New("codes: check digit mismatch")
	ErrDate      = errors.New("codes: impossible date")
	ErrRegion    = errors.New("codes: unknown region")
	ErrFormat    = errors.New("codes: unrecognised document format")
	ErrNotMobile = errors.New("codes: not a mainland mobile number")
)

// IDError describes why an identity or phone number was rejected. Input is
// masked (see Mask): no IDError carries the raw number. It is a plain value
// and safe to share between goroutines.
type IDError struct {
	Kind  Kind   // document kind being parsed; KindUnknown for Parse's guess and for phones
	Err   error  // one of the sentinels above
	Input string // the normalised input, masked
	// Pos is the 1-based position of the offending character among the
	// significant characters of the input (after full-width folding and with
	// white space removed); 0 when the error is not about one character.
	Pos  int
	Got  string // what was found (a length, a character, a check digit, a date), may be empty
	Want string // what was expected, may be empty
}

func (e *IDError) Error() string {
	var b strings.Builder
	b.WriteString("codes: ")
	if e.Kind == KindUnknown {
		b.WriteString("identity")
	} else {
		b.WriteString(e.Kind.String())
	}
	if e.Input != "" {
		b.WriteString(" ")
		b.WriteString(e.Input)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "codes: "))
	if e.Pos > 0 {
		fmt.Fprintf(&b, " at position %d", e.Pos)
	}
	switch {
	case e.Got != "" && e.Want != "":
		fmt.Fprintf(&b, ": got %s, want %s", e.Got, e.Want)
	case e.Got != "":
		fmt.Fprintf(&b, ": %s", e.Got)
	case e.Want != "":
		fmt.Fprintf(&b, ": want %s", e.Want)
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *IDError) Unwrap() error { return e.Err }

// Mask hides the middle of a document or phone number so it can appear in
// logs and errors: 18 characters become 110***********123X, 11 digits
// 138****8000; shorter numbers keep their first and last two characters at
// most, and anything longer than 24 characters is cut.
func Mask(s string) string {
	r := []rune(s)
	cut := false
	if len(r) > 24 {
		r, cut = r[:24], true
	}
	n := len(r)
	head, tail := 0, 0
	switch {
	case n >= 11:
		head, tail = 3, 4
	case n >= 7:
		head, tail = 1, 2
	case n >= 4:
		head, tail = 0, 1
	}
	out := make([]rune, 0, n+3)
	out = append(out, r[:head]...)
	for i := head; i < n-tail; i++ {
		out = append(out, '*')
	}
	out = append(out, r[n-tail:]...)
	if cut {
		out = append(out, '.', '.', '.')
	}
	return string(out)
}

func idErr(kind Kind, sentinel error, norm string, pos int, got, want string) *IDError {
	return &IDError{Kind: kind, Err: sentinel, Input: Mask(norm), Pos: pos, Got: got, Want: want}
}
