package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// A session is one signed-in admin. Its fields are guarded by sessions.mu.
type session struct {
	key      [32]byte // SHA-256 of the id: the map holds no usable cookie
	csrf     string
	p        Principal
	created  time.Time
	lastSeen time.Time
	people   map[string]Who // opaque handle -> person looked up
	handles  []string       // oldest first, to bound people
}

// maxPeople bounds the people a session remembers for its transcode forms.
const maxPeople = 16

// sessions is the in-memory session store. Safe for concurrent use.
type sessions struct {
	mu        sync.Mutex
	byKey     map[[32]byte]*session
	max       int
	idle, abs time.Duration
}

func newSessions(max int, idle, abs time.Duration) *sessions {
	return &sessions{byKey: map[[32]byte]*session{}, max: max, idle: idle, abs: abs}
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for p and returns its id (for the cookie).
func (s *sessions) create(p Principal, now time.Time) (string, *session) {
	id := randomToken()
	ss := &session{key: sha256.Sum256([]byte(id)), csrf: randomToken(), p: p, created: now, lastSeen: now, people: map[string]Who{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.byKey) >= s.max {
		s.evictOldest(now)
	}
	s.byKey[ss.key] = ss
	return id, ss
}

// evictOldest drops the expired sessions, or if none, the oldest one.
func (s *sessions) evictOldest(now time.Time) {
	var oldest *session
	dropped := false
	for k, ss := range s.byKey {
		if s.expired(ss, now) {
			delete(s.byKey, k)
			dropped = true
			continue
		}
		if oldest == nil || ss.created.Before(oldest.created) {
			oldest = ss
		}
	}
	if !dropped && oldest != nil {
		delete(s.byKey, oldest.key)
	}
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= s.idle || now.Sub(ss.created) >= s.abs
}

// get returns the live session with id and marks it used, or nil.
// It returns a copy of the fields a request reads.
func (s *sessions) get(id string, now time.Time) (sessionView, bool) {
	if id == "" {
		return sessionView{}, false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byKey[k]
	if !ok {
		return sessionView{}, false
	}
	if s.expired(ss, now) {
		delete(s.byKey, k)
		return sessionView{}, false
	}
	ss.lastSeen = now
	return sessionView{key: k, csrf: ss.csrf, p: ss.p}, true
}

// sessionView is what a request reads of its session.
type sessionView struct {
	key  [32]byte
	csrf string
	p    Principal
}

// remember keeps who in the session under a new opaque handle.
func (s *sessions) remember(k [32]byte, who Who) string {
	h := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byKey[k]
	if !ok {
		return ""
	}
	if len(ss.handles) >= maxPeople {
		delete(ss.people, ss.handles[0])
		ss.handles = ss.handles[1:]
	}
	ss.people[h] = who
	ss.handles = append(ss.handles, h)
	return h
}

// person returns the person a handle names in the session.
func (s *sessions) person(k [32]byte, handle string) (Who, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byKey[k]
	if !ok {
		return Who{}, false
	}
	w, ok := ss.people[handle]
	return w, ok
}

// remove ends a session.
func (s *sessions) remove(k [32]byte) {
	s.mu.Lock()
	delete(s.byKey, k)
	s.mu.Unlock()
}

// len is the number of sessions held.
func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}
