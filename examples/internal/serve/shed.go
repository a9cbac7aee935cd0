package serve

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimitConfig bounds what a server admits. Zero fields take the value from
// DefaultLimitConfig; a negative rate disables that bucket.
type LimitConfig struct {
	GlobalRPS   float64       // requests per second admitted in all
	GlobalBurst int           // global bucket size
	ClientRPS   float64       // requests per second per client
	ClientBurst int           // per-client bucket size
	MaxClients  int           // clients tracked at once (least recently seen evicted)
	MaxInFlight int           // requests handled at once
	MaxQueue    int           // requests waiting for a slot at once
	QueueWait   time.Duration // longest wait for a slot before 429
}

// DefaultLimitConfig suits the reference server on a 2-core machine.
func DefaultLimitConfig() LimitConfig {
	return LimitConfig{
		GlobalRPS: 100_000, GlobalBurst: 20_000,
		ClientRPS: 50_000, ClientBurst: 10_000, MaxClients: 10_000,
		MaxInFlight: 256, MaxQueue: 256, QueueWait: 50 * time.Millisecond,
	}
}

func (c LimitConfig) withDefaults() LimitConfig {
	d := DefaultLimitConfig()
	if c.GlobalRPS == 0 {
		c.GlobalRPS = d.GlobalRPS
	}
	if c.GlobalBurst == 0 {
		c.GlobalBurst = d.GlobalBurst
	}
	if c.ClientRPS == 0 {
		c.ClientRPS = d.ClientRPS
	}
	if c.ClientBurst == 0 {
		c.ClientBurst = d.ClientBurst
	}
	if c.MaxClients == 0 {
		c.MaxClients = d.MaxClients
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = d.MaxInFlight
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = d.MaxQueue
	}
	if c.QueueWait == 0 {
		c.QueueWait = d.QueueWait
	}
	return c
}

// Validate reports the first field that cannot work.
func (c LimitConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.GlobalRPS > 0 && c.GlobalBurst < 1:
		return errors.New("serve: LimitConfig.GlobalBurst must be at least 1")
	case c.ClientRPS > 0 && c.ClientBurst < 1:
		return errors.New("serve: LimitConfig.ClientBurst must be at least 1")
	case c.MaxClients < 1:
		return errors.New("serve: LimitConfig.MaxClients must be at least 1")
	case c.MaxInFlight < 1:
		return errors.New("serve: LimitConfig.MaxInFlight must be at least 1")
	case c.MaxQueue < 0:
		return errors.New("serve: LimitConfig.MaxQueue must not be negative")
	case c.QueueWait < 0:
		return errors.New("serve: LimitConfig.QueueWait must not be negative")
	}
	return nil
}

// Shed reasons, as counted in metrics.
const (
	ShedGlobalRate  = "global_rate"
	ShedClientRate  = "client_rate"
	ShedConcurrency = "concurrency"
)

// Shedder admits or refuses requests. It is safe for concurrent use.
type Shedder struct {
	cfg     LimitConfig
	global  *rate.Limiter
	slots   chan struct{}
	release func() // frees a slot; one func for every Admit, not a closure each
	queued  chan struct{}
	clients *clientLimiters
	onShed  func(reason string)
	now     func() time.Time
}

// NewShedder builds a Shedder. onShed, if not nil, is told each refusal.
func NewShedder(cfg LimitConfig, onShed func(reason string)) (*Shedder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Shedder{
		cfg:    cfg,
		slots:  make(chan struct{}, cfg.MaxInFlight),
		queued: make(chan struct{}, max(cfg.MaxQueue, 0)),
		onShed: onShed,
		now:    time.Now,
	}
	s.release = func() { <-s.slots }
	if cfg.GlobalRPS > 0 {
		s.global = rate.NewLimiter(rate.Limit(cfg.GlobalRPS), cfg.GlobalBurst)
	}
	if cfg.ClientRPS > 0 {
		s.clients = &clientLimiters{
			max: cfg.MaxClients, rps: rate.Limit(cfg.ClientRPS), burst: cfg.ClientBurst,
			byKey: map[string]*list.Element{}, lru: list.New(),
		}
	}
	return s, nil
}

// Refusal is why a request was not admitted, and when to retry.
type Refusal struct {
	Reason     string
	RetryAfter time.Duration
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("serve: overloaded (%s), retry after %s", r.Reason, r.RetryAfter)
}

// Admit decides for one request from client at time now. On success it
// returns a release function that must be called when the request is done.
// It waits at most QueueWait, and only while the queue has room.
func (s *Shedder) Admit(ctx context.Context, client string, now time.Time) (release func(), err error) {
	if s.global != nil {
		if d, ok := take(s.global, now); !ok {
			return nil, s.refuse(ShedGlobalRate, d)
		}
	}
	if s.clients != nil {
		if d, ok := take(s.clients.get(client), now); !ok {
			return nil, s.refuse(ShedClientRate, d)
		}
	}
	release = s.release
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	// No free slot: wait briefly, but only if the queue has room.
	select {
	case s.queued <- struct{}{}:
	default:
		return nil, s.refuse(ShedConcurrency, time.Second)
	}
	defer func() { <-s.queued }()
	t := time.NewTimer(s.cfg.QueueWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, s.refuse(ShedConcurrency, time.Second)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take consumes one token at now if one is there; otherwise it reports how
// long until one will be, consuming nothing.
func take(l *rate.Limiter, now time.Time) (time.Duration, bool) {
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	d := r.DelayFrom(now)
	if d == 0 {
		return 0, true
	}
	r.CancelAt(now)
	return d, false
}

func (s *Shedder) refuse(reason string, d time.Duration) error {
	if s.onShed != nil {
		s.onShed(reason)
	}
	return &Refusal{Reason: reason, RetryAfter: d}
}

// Middleware sheds load in front of next. clientOf names the client of a
// request (nil means the remote IP).
func (s *Shedder) Middleware(clientOf func(*http.Request) string, next http.Handler) http.Handler {
	if clientOf == nil {
		clientOf = RemoteIP
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := s.Admit(r.Context(), clientOf(r), s.now())
		if err != nil {
			var ref *Refusal
			if errors.As(err, &ref) {
				secs := int(math.Ceil(ref.RetryAfter.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				WriteError(w, http.StatusTooManyRequests, "overloaded", ref.Error())
				return
			}
			return // the client went away while queued
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// RemoteIP is the client key by default: the peer address without port.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientLimiters is a bounded LRU of per-client token buckets.
type clientLimiters struct {
	mu    sync.Mutex
	max   int
	rps   rate.Limit
	burst int
	byKey map[string]*list.Element
	lru   *list.List // front = most recently seen
}

type clientEntry struct {
	key string
	lim *rate.Limiter
}

func (c *clientLimiters) get(key string) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*clientEntry).lim
	}
	if c.lru.Len() >= c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.byKey, old.Value.(*clientEntry).key)
	}
	ent := &clientEntry{key: key, lim: rate.NewLimiter(c.rps, c.burst)}
	c.byKey[key] = c.lru.PushFront(ent)
	return ent.lim
}
