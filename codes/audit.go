package codes

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AuditRecord is one attempt at an administrative action on the codes
// (a transcode, a history read, a rule activation, a sign-in), whatever its
// outcome: the audit trail records refusals too, since a burst of them is
// what an abusing operator leaves behind (the Henan case: staff giving red
// codes without a health reason).
//
// Records form one hash chain per store: Hash is SHA-256 over the canonical
// encoding of the record, which includes Seq and Prev (the Hash of the
// record before), so changing, removing or reordering a record breaks every
// later link. Target is a pseudonym (a Key's hex) or another non-personal
// name (a rule-set version), never a raw document number, phone or name.
//
// A plain value, safe to share once built.
type AuditRecord struct {
	Seq           uint64    // position in the trail, from 1; assigned by the store
	At            time.Time // when the attempt was made
	Node          string    // the server that handled it
	Actor         string    // who, from the credential; "" when unauthenticated
	Role          string    // the role the action needs
	Action        string    // "transcode", "history", "sign_in", ...
	Target        string    // pseudonym or non-personal name; "" for none
	Authorisation string    // the authorisation document cited, if any
	Reason        string    // the reason given, if any
	Outcome       string    // "ok", or what refused it: "forbidden", "unauthenticated", "invalid", "refused", "error"
	Detail        string    // what the server said of it: "transcoded to red", "refused: reason"
	Changed       int       // persons whose code it changed (a bulk run: many)
	Client        string    // the client's address
	Prev          [32]byte  // Hash of the record before; zero for the first
	Hash          [32]byte
}

// AuditTrail is the append-only, hash-chained log of administrative
// attempts a store keeps beside the codes. Every store in this module
// implements it (codes.MemStore, boltstore, pgstore, mysqlstore).
type AuditTrail interface {
	// AppendAudit appends recs, in order, to the one chain of the store,
	// assigning each its Seq, Prev and Hash (with ChainAudit, inside the
	// transaction that writes them), and returns them so assigned. It is
	// atomic: all of recs or none. Appenders through any handle on the
	// same data form one chain. A record that fails ValidateAudit refuses
	// the whole call with ErrBadAudit.
	AppendAudit(ctx context.Context, recs []AuditRecord) ([]AuditRecord, error)
	// ReadAudit returns up to max records with Seq greater than after, in
	// Seq order. Stored bytes that do not decode are an *AuditChainError
	// naming their Seq (they are found, not skipped).
	ReadAudit(ctx context.Context, after uint64, max int) ([]AuditRecord, error)
}

// Errors of the audit trail.
var (
	// ErrBadAudit is wrapped by ValidateAudit's errors.
	ErrBadAudit = errors.New("codes: invalid audit record")
	// ErrAuditTampered is wrapped by *AuditChainError.
	ErrAuditTampered = errors.New("codes: audit trail broken")
)

// AuditChainError names the first record of an audit trail that does not
// verify.
type AuditChainError struct {
	Seq    uint64 // the Seq at which the chain breaks
	Reason string // what does not match
}

func (e *AuditChainError) Error() string {
	return fmt.Sprintf("codes: audit trail broken at record %d: %s", e.Seq, e.Reason)
}

// Unwrap returns ErrAuditTampered.
func (e *AuditChainError) Unwrap() error { return ErrAuditTampered }

// maxAuditField bounds each text field of an audit record.
const maxAuditField = 1024

// The times an audit record can hold: UnixNano's range.
var (
	minAuditTime = time.Unix(0, math.MinInt64)
	maxAuditTime = time.Unix(0, math.MaxInt64)
)

// ValidateAudit checks a record before it is appended: each text field
// valid UTF-8 of at most 1 KiB, an Action, and a time that nanoseconds
// since 1970 in an int64 can hold (the years 1678 to 2262). The error
// wraps ErrBadAudit and names the field.
func ValidateAudit(r *AuditRecord) error {
	if r.At.IsZero() {
		return fmt.Errorf("%w: At is zero", ErrBadAudit)
	}
	if r.At.Before(minAuditTime) || r.At.After(maxAuditTime) {
		return fmt.Errorf("%w: At %v is outside the years 1678 to 2262", ErrBadAudit, r.At)
	}
	if r.Action == "" {
		return fmt.Errorf("%w: Action is empty", ErrBadAudit)
	}
	if r.Changed < 0 || r.Changed > maxAuditChanged {
		return fmt.Errorf("%w: Changed %d is outside 0 to %d", ErrBadAudit, r.Changed, maxAuditChanged)
	}
	for i, s := range r.fields() {
		name := auditFieldNames[i]
		if len(s) > maxAuditField {
			return fmt.Errorf("%w: %s is %d bytes (at most %d)", ErrBadAudit, name, len(s), maxAuditField)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrBadAudit, name)
		}
	}
	return nil
}

var auditFieldNames = [...]string{"Node", "Actor", "Role", "Action", "Target", "Authorisation", "Reason", "Outcome", "Detail", "Client"}

func (r *AuditRecord) fields() [10]string {
	return [10]string{r.Node, r.Actor, r.Role, r.Action, r.Target, r.Authorisation, r.Reason, r.Outcome, r.Detail, r.Client}
}

// maxAuditChanged bounds AuditRecord.Changed: more persons than there are.
const maxAuditChanged = 1 << 40

// ChainAudit returns rec as the record after head (head.Seq 0: rec is the
// first): its Seq, Prev and Hash set, its time normalised to UTC
// nanoseconds so that it reads the same after a round trip through
// storage. Stores call it inside the transaction that appends rec.
func ChainAudit(head AuditRecord, rec AuditRecord) AuditRecord {
	rec.Seq = head.Seq + 1
	rec.Prev = head.Hash
	if head.Seq == 0 {
		rec.Prev = [32]byte{}
	}
	rec.At = time.Unix(0, rec.At.UnixNano()).UTC()
	var scratch [512]byte
	rec.Hash = sha256.Sum256(appendAuditCanonical(scratch[:0], &rec))
	return rec
}

const auditMagic = "HCA1"

// appendAuditCanonical appends the canonical encoding of r without its Hash.
func appendAuditCanonical(b []byte, r *AuditRecord) []byte {
	b = append(b, auditMagic...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixNano()))
	for _, s := range r.fields() {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(r.Changed))
	return append(b, r.Prev[:]...)
}

// AppendAuditRecord appends the storage encoding of r (its canonical
// encoding followed by Hash) to b. Stores keep these bytes as they are, so
// that a byte changed in storage is a broken link.
func AppendAuditRecord(b []byte, r *AuditRecord) []byte {
	b = appendAuditCanonical(b, r)
	return append(b, r.Hash[:]...)
}

// DecodeAuditRecord decodes the storage encoding written by
// AppendAuditRecord. It does not check the hash; an AuditVerifier does.
// Bytes that do not decode are ErrCorrupt. A record decodes only from the
// bytes AppendAuditRecord writes for it, so a byte changed in storage is
// either ErrCorrupt or a record whose hash does not match.
func DecodeAuditRecord(b []byte) (AuditRecord, error) {
	var r AuditRecord
	if len(b) < 4+8+8+10+1+64 || string(b[:4]) != auditMagic {
		return r, ErrCorrupt
	}
	p := 4
	r.Seq = binary.BigEndian.Uint64(b[p:])
	p += 8
	r.At = time.Unix(0, int64(binary.BigEndian.Uint64(b[p:]))).UTC()
	p += 8
	var f [10]string
	for i := range f {
		n, w := binary.Uvarint(b[p:])
		// A length written in more bytes than it needs would decode to the
		// record that AppendAuditRecord writes in other bytes, and pass
		// verification: the encoding of a record is unique.
		if w <= 0 || w != uvarintLen(n) || n > maxAuditField || uint64(len(b)-p-w) < n {
			return AuditRecord{}, ErrCorrupt
		}
		p += w
		f[i] = string(b[p : p+int(n)])
		p += int(n)
	}
	r.Node, r.Actor, r.Role, r.Action, r.Target, r.Authorisation, r.Reason, r.Outcome, r.Detail, r.Client =
		f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
	n, w := binary.Uvarint(b[p:])
	if w <= 0 || w != uvarintLen(n) || n > maxAuditChanged {
		return AuditRecord{}, ErrCorrupt
	}
	r.Changed = int(n)
	p += w
	if len(b)-p != 64 {
		return AuditRecord{}, ErrCorrupt
	}
	copy(r.Prev[:], b[p:p+32])
	copy(r.Hash[:], b[p+32:])
	return r, nil
}

func uvarintLen(n uint64) int {
	w := 1
	for ; n >= 0x80; n >>= 7 {
		w++
	}
	return w
}

// DecodeAuditAt decodes the stored bytes of the record at seq, for a
// store's ReadAudit: bytes that do not decode, or that decode to another
// Seq, are an *AuditChainError naming seq.
func DecodeAuditAt(seq uint64, b []byte) (AuditRecord, error) {
	r, err := DecodeAuditRecord(b)
	if err != nil {
		return AuditRecord{}, &AuditChainError{Seq: seq, Reason: "stored bytes do not decode"}
	}
	if r.Seq != seq {
		return AuditRecord{}, &AuditChainError{Seq: seq, Reason: "stored under " + strconv.FormatUint(seq, 10) + " but numbered " + strconv.FormatUint(r.Seq, 10)}
	}
	return r, nil
}

// AuditVerifier checks an audit trail record by record, from its first
// record or from a record already verified, so that a long trail is
// verified in pages. The zero value expects the first record (Seq 1). An
// AuditVerifier is not safe for concurrent use.
type AuditVerifier struct {
	last AuditRecord // Seq 0: none yet
	buf  []byte
}

// VerifyAuditFrom returns a verifier that expects the record after last,
// which the caller has verified before (a checkpoint).
func VerifyAuditFrom(last AuditRecord) *AuditVerifier { return &AuditVerifier{last: last} }

// Next checks that r follows the last record checked: the next Seq, Prev
// equal to its Hash, and a Hash that matches r's contents. It returns nil
// or an *AuditChainError naming the Seq r should have (the last record's
// plus one: where a removed record is missing, where a changed one is).
func (v *AuditVerifier) Next(r *AuditRecord) error {
	fail := func(why string) error { return &AuditChainError{Seq: v.last.Seq + 1, Reason: why} }
	if r.Seq != v.last.Seq+1 {
		return fail("record " + strconv.FormatUint(r.Seq, 10) + " found where " + strconv.FormatUint(v.last.Seq+1, 10) + " belongs (a record removed or reordered)")
	}
	want := v.last.Hash
	if v.last.Seq == 0 {
		want = [32]byte{}
	}
	if r.Prev != want {
		return fail("previous-hash link does not match")
	}
	v.buf = appendAuditCanonical(v.buf[:0], r)
	if sha256.Sum256(v.buf) != r.Hash {
		return fail("contents do not match the hash")
	}
	v.last = *r
	return nil
}

// Last returns the last record verified (Seq 0 before any).
func (v *AuditVerifier) Last() AuditRecord { return v.last }

// VerifyAudit reads the whole trail of t in pages and verifies it. It
// returns the number of records verified and nil, or the first broken link
// as an *AuditChainError (a record that does not decode is one too; the
// records before it are verified first, so the link named is the first).
func VerifyAudit(ctx context.Context, t AuditTrail) (uint64, error) {
	const page = 1000
	var v AuditVerifier
	max := page
	for {
		recs, err := t.ReadAudit(ctx, v.last.Seq, max)
		if err != nil {
			var ce *AuditChainError
			if errors.As(err, &ce) && ce.Seq > v.last.Seq+1 && ce.Seq-v.last.Seq-1 < uint64(max) {
				// A record of the page does not decode: verify the ones
				// before it, then fail at it.
				max = int(ce.Seq - v.last.Seq - 1)
				continue
			}
			return v.last.Seq, err
		}
		if len(recs) == 0 {
			return v.last.Seq, nil
		}
		for i := range recs {
			if err := v.Next(&recs[i]); err != nil {
				return v.last.Seq, err
			}
		}
	}
}
