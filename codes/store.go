package codes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store keeps the current state and the hash-chained history of every key.
// Implementations must be safe for concurrent use, must apply each change
// atomically for its key (Advance and the append happen in one step), must
// apply the changes of a batch in order, and must refuse a whole batch that
// fails ValidateChanges without changing anything. A change with a RequestID
// that the store already holds for its key appends nothing (Applied.Duplicate),
// so a batch retried after a lost acknowledgement appends nothing twice.
// Acknowledged changes of a persistent store survive a crash. MemStore is the
// in-memory implementation; codes/boltstore the persistent default;
// codes/pgstore shares one state between processes (see Feed). The
// conformance suite codes/storetest checks every rule above.
type Store interface {
	// Get returns the last history entry of key, or false if it has none.
	Get(ctx context.Context, key Key) (Entry, bool, error)
	// Apply appends one entry per real change (see Advance).
	Apply(ctx context.Context, changes []Change) (Applied, error)
	// History returns every entry of key, oldest first.
	History(ctx context.Context, key Key) ([]Entry, error)
	// Scan calls fn with every key that has a history and the colour of its
	// last entry, in no particular order, stopping at the first error fn
	// returns. It is how a Registry fills its filter, so it must be cheap
	// per key.
	Scan(ctx context.Context, fn func(Key, Colour) error) error
}

// Role is the relation of a person to a phone number.
type Role uint8

// Roles. A phone has at most one owner, and any number of people registered
// through it by proxy (a child registering parents).
const (
	RoleOwner Role = 1
	RoleProxy Role = 2
)

func (r Role) String() string {
	switch r {
	case RoleOwner:
		return "owner"
	case RoleProxy:
		return "proxy"
	}
	return "role?"
}

// Link records that Person (a document key, or a phone key for people
// without a document) is registered through Phone.
type Link struct {
	Phone  Key
	Person Key
	Role   Role
	Since  time.Time
}

// Errors of links.
var (
	ErrPhoneOwned = errors.New("codes: phone already has another owner")
	ErrBadLink    = errors.New("codes: invalid link")
)

// LinkStore keeps the phone-to-persons relation. Implementations are safe
// for concurrent use. Linking an existing pair again updates its role.
type LinkStore interface {
	Link(ctx context.Context, l Link) error
	Unlink(ctx context.Context, phone, person Key) error
	// PhonesOf returns the links of person, ordered by phone key.
	PhonesOf(ctx context.Context, person Key) ([]Link, error)
	// PersonsOf returns the links of phone, ordered by person key.
	PersonsOf(ctx context.Context, phone Key) ([]Link, error)
}

// ValidateLink checks a link before it is stored.
func ValidateLink(l Link) error {
	if l.Phone.IsZero() || l.Person.IsZero() || (l.Role != RoleOwner && l.Role != RoleProxy) {
		return ErrBadLink
	}
	return nil
}

// MemStore is an in-memory Store, LinkStore and AuditTrail, safe for
// concurrent use. Its zero value is not usable; call NewMemStore.
type MemStore struct {
	shards [memShards]memShard
	linkMu sync.RWMutex
	phones map[Key]map[Key]Link // phone -> person -> link
	people map[Key]map[Key]Link // person -> phone -> link

	auditMu sync.Mutex
	audit   [][]byte // record Seq i+1: its AppendAuditRecord bytes
}

const memShards = 64

type memShard struct {
	mu       sync.RWMutex
	hist     map[Key][]Entry
	requests map[requestKey]struct{} // RequestIDs applied, by key
}

type requestKey struct {
	key Key
	id  string
}

var (
	_ Store      = (*MemStore)(nil)
	_ LinkStore  = (*MemStore)(nil)
	_ AuditTrail = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	s := &MemStore{phones: map[Key]map[Key]Link{}, people: map[Key]map[Key]Link{}}
	for i := range s.shards {
		s.shards[i].hist = map[Key][]Entry{}
		s.shards[i].requests = map[requestKey]struct{}{}
	}
	return s
}

func (s *MemStore) shard(k Key) *memShard { return &s.shards[k[15]%memShards] }

// Get implements Store.
func (s *MemStore) Get(_ context.Context, key Key) (Entry, bool, error) {
	sh := s.shard(key)
	sh.mu.RLock()
	h := sh.hist[key]
	sh.mu.RUnlock()
	if len(h) == 0 {
		return Entry{}, false, nil
	}
	return h[len(h)-1], true, nil
}

// Apply implements Store.
func (s *MemStore) Apply(ctx context.Context, changes []Change) (Applied, error) {
	var a Applied
	if err := ValidateChanges(changes); err != nil {
		return a, err
	}
	for i, ch := range changes {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return a, err
			}
		}
		sh := s.shard(ch.Key)
		sh.mu.Lock()
		if ch.RequestID != "" {
			rk := requestKey{ch.Key, ch.RequestID}
			if _, dup := sh.requests[rk]; dup {
				sh.mu.Unlock()
				a.Duplicate++
				continue
			}
			sh.requests[rk] = struct{}{}
		}
		h := sh.hist[ch.Key]
		var head Entry
		if len(h) > 0 {
			head = h[len(h)-1]
		}
		next, changed := Advance(head, len(h) > 0, ch)
		if changed {
			sh.hist[ch.Key] = append(h, next)
			a.Changed++
		} else {
			a.Unchanged++
		}
		sh.mu.Unlock()
	}
	return a, nil
}

// History implements Store.
func (s *MemStore) History(_ context.Context, key Key) ([]Entry, error) {
	sh := s.shard(key)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return slices.Clone(sh.hist[key]), nil
}

// Scan implements Store. fn runs without any lock held.
func (s *MemStore) Scan(ctx context.Context, fn func(Key, Colour) error) error {
	var heads []Entry
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &s.shards[i]
		sh.mu.RLock()
		heads = heads[:0]
		for _, h := range sh.hist {
			heads = append(heads, h[len(h)-1])
		}
		sh.mu.RUnlock()
		for _, e := range heads {
			if err := fn(e.Key, e.State.Colour); err != nil {
				return err
			}
		}
	}
	return nil
}

// Link implements LinkStore.
func (s *MemStore) Link(_ context.Context, l Link) error {
	if err := ValidateLink(l); err != nil {
		return err
	}
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	if l.Role == RoleOwner {
		for p, old := range s.phones[l.Phone] {
			if old.Role == RoleOwner && p != l.Person {
				return ErrPhoneOwned
			}
		}
	}
	if s.phones[l.Phone] == nil {
		s.phones[l.Phone] = map[Key]Link{}
	}
	if s.people[l.Person] == nil {
		s.people[l.Person] = map[Key]Link{}
	}
	s.phones[l.Phone][l.Person] = l
	s.people[l.Person][l.Phone] = l
	return nil
}

// Unlink implements LinkStore.
func (s *MemStore) Unlink(_ context.Context, phone, person Key) error {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	delete(s.phones[phone], person)
	delete(s.people[person], phone)
	return nil
}

// PhonesOf implements LinkStore.
func (s *MemStore) PhonesOf(_ context.Context, person Key) ([]Link, error) {
	s.linkMu.RLock()
	defer s.linkMu.RUnlock()
	return sortedLinks(s.people[person], func(l Link) Key { return l.Phone }), nil
}

// PersonsOf implements LinkStore.
func (s *MemStore) PersonsOf(_ context.Context, phone Key) ([]Link, error) {
	s.linkMu.RLock()
	defer s.linkMu.RUnlock()
	return sortedLinks(s.phones[phone], func(l Link) Key { return l.Person }), nil
}

func sortedLinks(m map[Key]Link, by func(Link) Key) []Link {
	out := make([]Link, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Link) int {
		ka, kb := by(a), by(b)
		return bytes.Compare(ka[:], kb[:])
	})
	return out
}

// AppendAudit implements AuditTrail.
func (s *MemStore) AppendAudit(ctx context.Context, recs []AuditRecord) ([]AuditRecord, error) {
	for i := range recs {
		if err := ValidateAudit(&recs[i]); err != nil {
			return nil, fmt.Errorf("%w (record %d of the batch)", err, i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	var head AuditRecord
	if n := len(s.audit); n > 0 {
		var err error
		if head, err = DecodeAuditAt(uint64(n), s.audit[n-1]); err != nil {
			return nil, err
		}
	}
	out := make([]AuditRecord, len(recs))
	stored := make([][]byte, len(recs))
	for i := range recs {
		head = ChainAudit(head, recs[i])
		out[i] = head
		stored[i] = AppendAuditRecord(nil, &head)
	}
	s.audit = append(s.audit, stored...)
	return out, nil
}

// ReadAudit implements AuditTrail.
func (s *MemStore) ReadAudit(ctx context.Context, after uint64, max int) ([]AuditRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	var out []AuditRecord
	for seq := after + 1; seq <= uint64(len(s.audit)) && len(out) < max; seq++ {
		r, err := DecodeAuditAt(seq, s.audit[seq-1])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
