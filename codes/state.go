package codes

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Colour is a code colour, ordered by severity: a larger value is more
// severe. The zero value is Green. Deployments that need more levels (an
// orange between yellow and red, say) define their own constants between
// the named ones; MostSevere and the registry only compare values.
type Colour uint8

// The three colours of the national scheme.
const (
	Green  Colour = 0
	Yellow Colour = 100
	Red    Colour = 200
)

func (c Colour) String() string {
	switch c {
	case Green:
		return "green"
	case Yellow:
		return "yellow"
	case Red:
		return "red"
	}
	return "colour(" + strconv.Itoa(int(c)) + ")"
}

// MostSevere returns the more severe of a and b.
func MostSevere(a, b Colour) Colour { return max(a, b) }

// Cause attributes a state to a rule decision (RuleID and RuleVersion) or to
// a manual transcode by a person (Actor and Authorisation, with the reason in
// State.Reason). Exactly one of the two forms is set.
type Cause struct {
	RuleID        string // id of the rule that matched
	RuleVersion   string // version of the rule set it belongs to
	Actor         string // who transcoded (an operator id, not a name)
	Authorisation string // reference of the document authorising the transcode
}

// Manual reports whether the cause is a manual transcode.
func (c Cause) Manual() bool { return c.Actor != "" || c.Authorisation != "" }

func (c Cause) String() string {
	if c.Manual() {
		return "manual:" + c.Actor + "/" + c.Authorisation
	}
	return "rule:" + c.RuleID + "@" + c.RuleVersion
}

// State is the code state of a key. The zero State is green with no record.
// States are plain values: copy them freely; the Registry never hands out a
// State it still writes to.
type State struct {
	Colour  Colour
	Reason  string    // text shown to the person and to the auditor
	Cause   Cause     // who or what set the state
	Since   time.Time // when the state was set
	Expires time.Time // zero: no expiry; from Expires on, the state reads as Green
}

// ColourAt returns the colour in force at t: Green once the state has
// expired, else Colour.
func (s State) ColourAt(t time.Time) Colour {
	if !s.Expires.IsZero() && !t.Before(s.Expires) {
		return Green
	}
	return s.Colour
}

// Change asks a store to set the state of Key. State.Since is the time of the
// change and is required. A plain value.
type Change struct {
	Key   Key
	State State
	// RequestID, if set, names the request that made the change (an
	// HTTP Idempotency-Key, a transcode form's number): a store appends a
	// change whose Key and RequestID it already holds at most once, and
	// counts the repeat in Applied.Duplicate. It is what makes a batch safe
	// to send again after its acknowledgement was lost: rule decisions are
	// repeat-safe by themselves (an unchanged colour appends nothing), a
	// manual transcode is not, because the act itself is recorded. The ID
	// is kept beside the entry, not in its hash. At most 128 bytes.
	RequestID string
}

// Errors of changes. A *ChangeError wraps one of them.
var (
	ErrMissingCause  = errors.New("codes: change has neither a rule nor an actor")
	ErrAmbiguous     = errors.New("codes: change names both a rule and an actor")
	ErrUnauthorised  = errors.New("codes: manual transcode without actor or authorisation")
	ErrMissingReason = errors.New("codes: manual transcode without a reason")
	ErrBadChange     = errors.New("codes: invalid change")
)

// maxField bounds every text field of a state.
const maxField = 1024

// maxRequestID bounds Change.RequestID.
const maxRequestID = 128

// ChangeError reports an invalid change in a batch. Nothing of the batch was
// applied.
type ChangeError struct {
	Index int    // position of the change in the batch
	Key   Key    // its key (a pseudonym, safe to log)
	Field string // offending field, e.g. "Cause.Authorisation"
	Err   error  // sentinel
}

func (e *ChangeError) Error() string {
	msg := e.Err.Error()
	if len(msg) > 7 && msg[:7] == "codes: " {
		msg = msg[7:]
	}
	return fmt.Sprintf("codes: change %d (key %s): %s: %s", e.Index, e.Key.String()[:12], e.Field, msg)
}

// Unwrap returns the sentinel.
func (e *ChangeError) Unwrap() error { return e.Err }

var (
	minTime = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2261, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate checks one change; index is reported in the error.
func (c Change) Validate(index int) error {
	fail := func(field string, err error) error {
		return &ChangeError{Index: index, Key: c.Key, Field: field, Err: err}
	}
	s := c.State
	if c.Key.IsZero() {
		return fail("Key", ErrBadChange)
	}
	if len(c.RequestID) > maxRequestID || !utf8.ValidString(c.RequestID) {
		return fail("RequestID", ErrBadChange)
	}
	if s.Since.Before(minTime) || !s.Since.Before(maxTime) {
		return fail("State.Since", ErrBadChange)
	}
	if !s.Expires.IsZero() && (!s.Expires.After(s.Since) || !s.Expires.Before(maxTime)) {
		return fail("State.Expires", ErrBadChange)
	}
	for _, f := range []struct{ name, v string }{
		{"State.Reason", s.Reason}, {"Cause.RuleID", s.Cause.RuleID}, {"Cause.RuleVersion", s.Cause.RuleVersion},
		{"Cause.Actor", s.Cause.Actor}, {"Cause.Authorisation", s.Cause.Authorisation},
	} {
		if len(f.v) > maxField || !utf8.ValidString(f.v) {
			return fail(f.name, ErrBadChange)
		}
	}
	rule := s.Cause.RuleID != "" || s.Cause.RuleVersion != ""
	switch {
	case s.Cause.Manual() && rule:
		return fail("Cause", ErrAmbiguous)
	case s.Cause.Manual():
		if s.Cause.Actor == "" {
			return fail("Cause.Actor", ErrUnauthorised)
		}
		if s.Cause.Authorisation == "" {
			return fail("Cause.Authorisation", ErrUnauthorised)
		}
		if s.Reason == "" {
			return fail("State.Reason", ErrMissingReason)
		}
	case rule:
		if s.Cause.RuleID == "" {
			return fail("Cause.RuleID", ErrMissingCause)
		}
		if s.Cause.RuleVersion == "" {
			return fail("Cause.RuleVersion", ErrMissingCause)
		}
	default:
		return fail("Cause", ErrMissingCause)
	}
	return nil
}

// ValidateChanges validates a batch, returning the first *ChangeError.
func ValidateChanges(changes []Change) error {
	for i := range changes {
		if err := changes[i].Validate(i); err != nil {
			return err
		}
	}
	return nil
}

// Entry is one link of a key's hash-chained history. The current state of a
// key is its last entry. Hash is SHA-256 over the canonical encoding of the
// entry (see AppendEntry) which includes Prev, the Hash of the previous entry
// (zero for the first), so changing, removing or reordering an entry breaks
// every later link. A plain value, safe to share once built.
type Entry struct {
	Key   Key
	Seq   uint64 // position in the history, from 0
	State State
	Prev  [32]byte
	Hash  [32]byte
}

// Applied counts the outcome of a batch.
type Applied struct {
	Changed   int // changes that appended a history entry
	Unchanged int // changes that matched the current state and appended nothing
	Duplicate int // changes whose Key and RequestID the store already held: appended nothing
}

// Advance decides whether ch changes the key whose last entry is head
// (exists false: no history yet) and returns the entry to append. A change
// appends nothing (changed false) when it is a rule decision and the colour
// in force at ch.State.Since and the expiry are what head already says; a
// manual transcode always appends, because the act itself must be on
// record. Store implementations call Advance inside the transaction that
// appends the entry, so that every store chains the same way.
func Advance(head Entry, exists bool, ch Change) (Entry, bool) {
	if !ch.State.Cause.Manual() {
		cur, exp := Green, time.Time{}
		if exists {
			cur, exp = head.State.ColourAt(ch.State.Since), head.State.Expires
			if cur == Green && !head.State.Expires.IsZero() && !ch.State.Since.Before(head.State.Expires) {
				exp = time.Time{} // an expired state is plain green
			}
		}
		if cur == ch.State.Colour && exp.Equal(ch.State.Expires) {
			return head, false
		}
	}
	next := Entry{Key: ch.Key, State: normState(ch.State)}
	if exists {
		next.Seq = head.Seq + 1
		next.Prev = head.Hash
	}
	var scratch [512]byte
	next.Hash = sha256.Sum256(appendCanonical(scratch[:0], &next))
	return next, true
}

// normState drops the monotonic clock and location so that a state reads the
// same before and after a round trip through storage.
func normState(s State) State {
	s.Since = time.Unix(0, s.Since.UnixNano()).UTC()
	if !s.Expires.IsZero() {
		s.Expires = time.Unix(0, s.Expires.UnixNano()).UTC()
	}
	return s
}

const entryMagic = "HCE1"

// appendCanonical appends the canonical encoding of e without its Hash.
func appendCanonical(b []byte, e *Entry) []byte {
	b = append(b, entryMagic...)
	b = append(b, e.Key[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = append(b, byte(e.State.Colour))
	b = binary.BigEndian.AppendUint64(b, uint64(e.State.Since.UnixNano()))
	var exp int64
	if !e.State.Expires.IsZero() {
		exp = e.State.Expires.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	for _, s := range [...]string{e.State.Reason, e.State.Cause.RuleID, e.State.Cause.RuleVersion, e.State.Cause.Actor, e.State.Cause.Authorisation} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, e.Prev[:]...)
}

// AppendEntry appends the storage encoding of e (its canonical encoding
// followed by Hash) to b.
func AppendEntry(b []byte, e *Entry) []byte {
	b = appendCanonical(b, e)
	return append(b, e.Hash[:]...)
}

// ErrCorrupt is returned when stored bytes do not decode as an entry.
var ErrCorrupt = errors.New("codes: corrupt entry encoding")

// DecodeEntry decodes the storage encoding written by AppendEntry. It does
// not check the hash; VerifyHistory does.
func DecodeEntry(b []byte) (Entry, error) {
	var e Entry
	if len(b) < 4+16+8+1+8+8+5+32+32 || string(b[:4]) != entryMagic {
		return e, ErrCorrupt
	}
	p := 4
	copy(e.Key[:], b[p:p+16])
	p += 16
	e.Seq = binary.BigEndian.Uint64(b[p:])
	p += 8
	e.State.Colour = Colour(b[p])
	p++
	e.State.Since = time.Unix(0, int64(binary.BigEndian.Uint64(b[p:]))).UTC()
	p += 8
	if exp := int64(binary.BigEndian.Uint64(b[p:])); exp != 0 {
		e.State.Expires = time.Unix(0, exp).UTC()
	}
	p += 8
	var fields [5]string
	for i := range fields {
		n, w := binary.Uvarint(b[p:])
		if w <= 0 || n > maxField || uint64(len(b)-p-w) < n {
			return Entry{}, ErrCorrupt
		}
		p += w
		fields[i] = string(b[p : p+int(n)])
		p += int(n)
	}
	e.State.Reason, e.State.Cause.RuleID, e.State.Cause.RuleVersion, e.State.Cause.Actor, e.State.Cause.Authorisation =
		fields[0], fields[1], fields[2], fields[3], fields[4]
	if len(b)-p != 64 {
		return Entry{}, ErrCorrupt
	}
	copy(e.Prev[:], b[p:p+32])
	copy(e.Hash[:], b[p+32:])
	return e, nil
}

// ErrTampered is wrapped by the *ChainError VerifyHistory returns.
var ErrTampered = errors.New("codes: history chain broken")

// ChainError names the first broken link of a history.
type ChainError struct {
	Key    Key
	Index  int    // index of the first entry that does not verify
	Reason string // what does not match
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("codes: history of key %s broken at entry %d: %s", e.Key.String()[:12], e.Index, e.Reason)
}

// Unwrap returns ErrTampered.
func (e *ChainError) Unwrap() error { return ErrTampered }

// VerifyHistory checks that entries form an unbroken chain for key: entry i
// has Seq i, the key, Prev equal to the previous Hash (zero for the first)
// and a Hash that matches its contents. If head is non-nil (the current
// entry a store reported), the chain must contain it at position head.Seq,
// which catches a history cut short; entries appended after head was read
// are allowed. It returns nil or a *ChainError naming the first broken link.
func VerifyHistory(key Key, entries []Entry, head *Entry) error {
	var prev [32]byte
	var buf []byte
	for i := range entries {
		e := &entries[i]
		fail := func(why string) error { return &ChainError{Key: key, Index: i, Reason: why} }
		if e.Key != key {
			return fail("entry belongs to another key")
		}
		if e.Seq != uint64(i) {
			return fail("sequence number " + strconv.FormatUint(e.Seq, 10) + " out of place")
		}
		if e.Prev != prev {
			return fail("previous-hash link does not match")
		}
		buf = appendCanonical(buf[:0], e)
		if sha256.Sum256(buf) != e.Hash {
			return fail("contents do not match the hash")
		}
		prev = e.Hash
	}
	if head != nil {
		if head.Seq >= uint64(len(entries)) {
			return &ChainError{Key: key, Index: len(entries), Reason: "history ends before the current state"}
		}
		if entries[head.Seq].Hash != head.Hash {
			return &ChainError{Key: key, Index: int(head.Seq), Reason: "current state is not in the history"}
		}
	}
	return nil
}
