package codes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/emmansun/gmsm/sm3"
)

// Key is the keyed pseudonym under which a code state is stored: the first
// 16 bytes of an HMAC over the document (or phone) number. It is a
// comparable value usable as a map key; stores, caches, logs and metrics hold
// Keys, never raw numbers. 128 bits keep the collision probability below
// 10^-20 for a population of 10^9 keys. Keys are values, safe to share.
type Key [16]byte

// String returns the key in hexadecimal.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// IsZero reports whether k is the zero Key (which no Keyer produces in
// practice and which stores refuse).
func (k Key) IsZero() bool { return k == Key{} }

// KeySuite selects the MAC a Keyer uses.
type KeySuite uint8

// Key suites. Keys from different suites (or different secrets) never match.
const (
	HMACSHA256 KeySuite = 1 // HMAC-SHA-256 (FIPS 198-1)
	HMACSM3    KeySuite = 2 // HMAC-SM3 (GB/T 32905 hash in the HMAC construction), for national commercial-cryptography deployments
)

func (s KeySuite) String() string {
	switch s {
	case HMACSHA256:
		return "HMAC-SHA256"
	case HMACSM3:
		return "HMAC-SM3"
	}
	return fmt.Sprintf("KeySuite(%d)", uint8(s))
}

// MinSecretLen is the shortest secret NewKeyer accepts.
const MinSecretLen = 16

// Errors of keying.
var (
	ErrWeakSecret = errors.New("codes: keying secret shorter than 16 bytes")
	ErrKeySuite   = errors.New("codes: unknown key suite")
	ErrNoIdentity = errors.New("codes: record has neither a document nor a phone")
)

// Source says what a Key was derived from.
type Source uint8

// Key sources.
const (
	FromDocument Source = 1
	FromPhone    Source = 2
)

func (s Source) String() string {
	switch s {
	case FromDocument:
		return "document"
	case FromPhone:
		return "phone"
	}
	return "unknown"
}

// Keyer derives Keys from identities with a secret the caller supplies (and
// keeps out of the store: whoever holds it can test guesses of an ID
// number against keys). A Keyer is safe for concurrent use.
//
// The MAC input is a version byte, a domain byte (the document Kind, or 0x80
// for phones) and the canonical number, so a passport and a resident ID with
// the same characters get different keys, and a 15-digit legacy ID gets the
// key of its 18-digit upgrade.
type Keyer struct {
	suite KeySuite
	pool  sync.Pool
}

type macState struct {
	h   hash.Hash
	in  []byte
	out []byte
}

const (
	keyVersion  = 1
	domainPhone = 0x80
)

// NewKeyer returns a Keyer for suite with a copy of secret, which must be at
// least MinSecretLen bytes (32 random bytes are recommended).
func NewKeyer(suite KeySuite, secret []byte) (*Keyer, error) {
	var newHash func() hash.Hash
	switch suite {
	case HMACSHA256:
		newHash = sha256.New
	case HMACSM3:
		newHash = sm3.New
	default:
		return nil, fmt.Errorf("%w: %d", ErrKeySuite, suite)
	}
	if len(secret) < MinSecretLen {
		return nil, ErrWeakSecret
	}
	s := append([]byte(nil), secret...)
	k := &Keyer{suite: suite}
	k.pool.New = func() any {
		return &macState{h: hmac.New(newHash, s), in: make([]byte, 0, 64), out: make([]byte, 0, 32)}
	}
	return k, nil
}

// Suite returns the Keyer's suite.
func (k *Keyer) Suite() KeySuite { return k.suite }

// Document returns the key of an identity document.
func (k *Keyer) Document(id Identity) Key {
	m := k.pool.Get().(*macState)
	m.in = append(m.in[:0], keyVersion, byte(id.Kind()))
	switch v := id.(type) {
	case ResidentID:
		m.in = append(m.in, v.num[:]...)
	case ForeignPR:
		m.in = append(m.in, v.num[:]...)
	default:
		m.in = append(m.in, id.Number()...)
	}
	key := k.sum(m)
	k.pool.Put(m)
	return key
}

// Phone returns the key of a mobile number.
func (k *Keyer) Phone(p Phone) Key {
	m := k.pool.Get().(*macState)
	m.in = append(m.in[:0], keyVersion, domainPhone)
	m.in = append(m.in, p.e164...)
	key := k.sum(m)
	k.pool.Put(m)
	return key
}

func (k *Keyer) sum(m *macState) Key {
	m.h.Reset()
	m.h.Write(m.in)
	m.out = m.h.Sum(m.out[:0])
	var key Key
	copy(key[:], m.out)
	return key
}

// Record returns the key of a registration record (tender 2.1.4): the
// document's key when doc is non-nil, else the phone's key when phone is
// non-zero, else ErrNoIdentity.
func (k *Keyer) Record(doc Identity, phone Phone) (Key, Source, error) {
	if doc != nil {
		return k.Document(doc), FromDocument, nil
	}
	if !phone.IsZero() {
		return k.Phone(phone), FromPhone, nil
	}
	return Key{}, 0, ErrNoIdentity
}
