package auditexport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// Source is where the exporter reads the audit trail: the read half of
// codes.AuditTrail, which every store implements.
type Source interface {
	// ReadAudit returns up to max records with Seq greater than after, in
	// Seq order.
	ReadAudit(ctx context.Context, after uint64, max int) ([]codes.AuditRecord, error)
}

var _ Source = codes.AuditTrail(nil)

// ErrCursorMismatch is returned by Run when the first record read after
// the cursor file's record does not link to it (its Prev is not the hash
// the cursor holds): the file belongs to another trail, or the store was
// restored to an earlier state. Nothing is sent; remove the cursor file to
// export the trail from its start.
var ErrCursorMismatch = errors.New("auditexport: the trail does not continue from the cursor")

// Config configures an Exporter. A zero field means its default (see
// DefaultConfig); URL and Cursor are required.
type Config struct {
	// URL is the collector: "tcp://host:port" (RFC 6587 octet counting,
	// "LEN SP MSG") or "udp://host:port" (RFC 5426, one message per
	// datagram; best effort, see the package documentation).
	URL string
	// Cursor is the file holding the Seq and hash of the last record known
	// delivered, replaced atomically after each batch. The records after
	// it are the queue: they stay in the store's trail while the collector
	// is away, so nothing is queued in memory or lost.
	Cursor string
	// Hostname and AppName are the HOSTNAME and APP-NAME fields of the
	// messages: printable US-ASCII, at most 255 and 48 bytes. Default
	// os.Hostname() and "healthcoded".
	Hostname, AppName string
	// SDID is the SD-ID of the structured data element. Default
	// DefaultSDID, under the documentation enterprise number 32473; a
	// deployment should use "audit@" and its own enterprise number.
	SDID string
	// Facility is the syslog facility, 1 to 23; default 13 (log audit).
	// Severity is per record: 5 (notice) for outcome "ok", else 4 (warning).
	Facility int
	// MaxMessage bounds a message's length in bytes, framing excluded;
	// longer ones drop MSG and then cut text fields (never seq, hash or
	// prev). Default 8192 for TCP, 2048 for UDP (RFC 5426 3.2); at least
	// 1024.
	MaxMessage int
	// Poll is how often to look for new records when idle; Notify wakes
	// the exporter at once. Default 1s.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// failure (doubling, with jitter). Default 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds dialling and writing a batch. Default 10s.
	Timeout time.Duration
	// Probe is how long to wait, after writing a batch, for the collector
	// to hang up before the batch counts as delivered. Default 100ms.
	Probe time.Duration
	// Batch is the most records read and written at a time, each batch
	// followed by the probe. Default 500 for TCP, and 32 for UDP, which
	// paces datagrams so that a receiver's socket buffer (200 KiB on
	// Linux by default) is not overrun: what overruns it is dropped.
	Batch int
	// Log receives connects, disconnects and failures; nil discards.
	Log *slog.Logger
}

// DefaultConfig returns the defaults of every field but URL, Cursor, Log,
// Hostname (which New takes from os.Hostname), and MaxMessage and Batch
// for UDP (2048 and 32).
func DefaultConfig() Config {
	return Config{
		AppName:    "healthcoded",
		SDID:       DefaultSDID,
		Facility:   13,
		Poll:       time.Second,
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 30 * time.Second,
		Timeout:    10 * time.Second,
		Probe:      100 * time.Millisecond,
		Batch:      500,
	}
}

// Validate checks c as given (zero fields stand for their defaults) and
// names the first field that is wrong.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("auditexport: Config.%s: %s", field, fmt.Sprintf(format, args...))
	}
	if _, _, err := parseURL(c.URL); err != nil {
		return bad("URL", "%v", err)
	}
	if c.Cursor == "" {
		return bad("Cursor", "required: the file that says which records were delivered")
	}
	if err := checkASCII(c.Hostname, 255); err != nil {
		return bad("Hostname", "%v", err)
	}
	if err := checkASCII(c.AppName, 48); err != nil {
		return bad("AppName", "%v", err)
	}
	if c.SDID != "" {
		if err := checkASCII(c.SDID, 32); err != nil {
			return bad("SDID", "%v", err)
		}
		if strings.ContainsAny(c.SDID, `= ]"`) || !strings.Contains(c.SDID, "@") {
			return bad("SDID", "%q is not NAME@NUMBER without '=', ' ', ']' or '\"' (RFC 5424 6.3.2)", c.SDID)
		}
	}
	if c.Facility < 0 || c.Facility > 23 {
		return bad("Facility", "%d is not 1 to 23", c.Facility)
	}
	if c.MaxMessage != 0 && c.MaxMessage < 1024 {
		return bad("MaxMessage", "%d is less than 1024", c.MaxMessage)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Poll", c.Poll}, {"MinBackoff", c.MinBackoff}, {"MaxBackoff", c.MaxBackoff}, {"Timeout", c.Timeout}, {"Probe", c.Probe}} {
		if d.v < 0 {
			return bad(d.name, "%v is negative", d.v)
		}
	}
	if c.MinBackoff != 0 && c.MaxBackoff != 0 && c.MinBackoff > c.MaxBackoff {
		return bad("MinBackoff", "%v is more than MaxBackoff %v", c.MinBackoff, c.MaxBackoff)
	}
	if c.Batch < 0 {
		return bad("Batch", "%d is negative", c.Batch)
	}
	return nil
}

func parseURL(s string) (network, addr string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "tcp" && u.Scheme != "udp" {
		return "", "", fmt.Errorf("%q: want tcp://host:port or udp://host:port", s)
	}
	if u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", "", fmt.Errorf("%q: want only scheme://host:port", s)
	}
	if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil || u.Hostname() == "" {
		return "", "", fmt.Errorf("%q: want a host and a port", s)
	}
	return u.Scheme, u.Host, nil
}

func checkASCII(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes (at most %d)", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return fmt.Errorf("%q: byte %d is not printable US-ASCII", s, i)
		}
	}
	return nil
}

// Stats is a snapshot of an exporter's progress.
type Stats struct {
	Sent      uint64 // messages written to the collector, resends included
	Delivered uint64 // Seq of the last record known delivered (the cursor)
	Lag       uint64 // records read from the trail and not yet delivered
	Broken    uint64 // records that did not verify against the one before (sent all the same)
	Errors    uint64 // failed dials, sends, reads and cursor saves
	Connected bool   // a connection to the collector is open
}

// Exporter sends a store's audit trail to a syslog collector. Notify and
// Stats are safe for concurrent use, also while Run runs; Run runs one at
// a time.
type Exporter struct {
	src     Source
	cfg     Config
	network string
	addr    string
	f       formatter
	log     *slog.Logger
	wake    chan struct{}
	running atomic.Bool

	cur    cursor // only Run touches it once New returns
	loaded bool   // cur came from the file and its link is unchecked

	mu sync.Mutex
	st Stats
}

// New returns an exporter of src's trail with cfg's defaults filled in,
// resuming after the record its cursor file names. It fails on an invalid
// cfg or an unreadable cursor file.
func New(src Source, cfg Config) (*Exporter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := DefaultConfig()
	if cfg.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || checkASCII(h, 255) != nil {
			h = ""
		}
		cfg.Hostname = h
	}
	if cfg.AppName == "" {
		cfg.AppName = d.AppName
	}
	if cfg.SDID == "" {
		cfg.SDID = d.SDID
	}
	if cfg.Facility == 0 {
		cfg.Facility = d.Facility
	}
	network, addr, _ := parseURL(cfg.URL)
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = 8192
		if network == "udp" {
			cfg.MaxMessage = 2048
		}
	}
	if cfg.Poll == 0 {
		cfg.Poll = d.Poll
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(d.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = min(d.MinBackoff, cfg.MaxBackoff)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.Probe == 0 {
		cfg.Probe = d.Probe
	}
	if cfg.Batch == 0 {
		cfg.Batch = d.Batch
		if network == "udp" {
			cfg.Batch = 32
		}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cur, err := loadCursor(cfg.Cursor)
	if err != nil {
		return nil, err
	}
	x := &Exporter{
		src:     src,
		cfg:     cfg,
		network: network,
		addr:    addr,
		f:       formatter{hostname: cfg.Hostname, app: cfg.AppName, sdid: cfg.SDID, facility: cfg.Facility, max: cfg.MaxMessage},
		log:     log.With("collector", cfg.URL),
		wake:    make(chan struct{}, 1),
		cur:     cur,
		loaded:  cur.Seq > 0,
	}
	x.st.Delivered = cur.Seq
	return x, nil
}

// Notify tells the exporter that records were appended, so that it looks
// for them now rather than at its next poll. It never blocks.
func (x *Exporter) Notify() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Stats returns the exporter's counters.
func (x *Exporter) Stats() Stats {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.st
}

func (x *Exporter) update(f func(*Stats)) {
	x.mu.Lock()
	f(&x.st)
	x.mu.Unlock()
}

// Run exports the trail until ctx ends, and then returns ctx.Err(): it
// reads the records after the cursor, writes them to the collector,
// checks that the collector did not hang up, advances the cursor, and
// waits for Notify or the next poll when there is nothing new. Failures
// (collector away, a read of the store failing) are logged, counted and
// retried with backoff; the only other error is ErrCursorMismatch.
func (x *Exporter) Run(ctx context.Context) error {
	if !x.running.CompareAndSwap(false, true) {
		return errors.New("auditexport: Run is already running")
	}
	defer x.running.Store(false)

	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
		x.update(func(s *Stats) { s.Connected = false })
	}()
	drop := func() {
		conn.Close()
		conn = nil
		x.update(func(s *Stats) { s.Connected = false })
	}

	verifier := codes.VerifyAuditFrom(codes.AuditRecord{Seq: x.cur.Seq, Hash: x.cur.Hash})
	var (
		pending []codes.AuditRecord // read, not yet delivered
		seen    = x.cur.Seq         // highest Seq read
		fails   int                 // consecutive failures, for the backoff
		dirty   bool                // x.cur is ahead of the cursor file
		buf     []byte
		ends    []int
	)
	fail := func(what string, err error) {
		x.update(func(s *Stats) { s.Errors++ })
		x.log.Warn("auditexport: "+what, "err", err, "retry", fails+1)
		d := x.backoff(fails)
		fails++
		sleep(ctx, d, nil)
	}
	for ctx.Err() == nil {
		if len(pending) == 0 {
			if dirty {
				if err := saveCursor(x.cfg.Cursor, x.cur); err != nil {
					x.update(func(s *Stats) { s.Errors++ })
					x.log.Error("auditexport: cursor not saved; a restart will resend from the last saved one", "err", err)
				} else {
					dirty = false
				}
			}
			recs, err := x.src.ReadAudit(ctx, x.cur.Seq, x.cfg.Batch)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				fail("read the audit trail", err)
				continue
			}
			if len(recs) == 0 {
				if conn != nil && !x.alive(conn, time.Millisecond) {
					x.log.Info("auditexport: the collector hung up while idle")
					drop()
				}
				sleep(ctx, x.cfg.Poll, x.wake)
				continue
			}
			for i := range recs {
				if err := verifier.Next(&recs[i]); err != nil {
					if x.loaded && recs[i].Prev != x.cur.Hash {
						return fmt.Errorf("%w: record %d after cursor %d in %s: %v", ErrCursorMismatch, recs[i].Seq, x.cur.Seq, x.cfg.Cursor, err)
					}
					x.update(func(s *Stats) { s.Broken++ })
					x.log.Error("auditexport: the audit trail does not verify; exporting it as it is", "seq", recs[i].Seq, "err", err)
					verifier = codes.VerifyAuditFrom(recs[i])
				}
				x.loaded = false
			}
			pending = recs
			seen = max(seen, recs[len(recs)-1].Seq)
			x.update(func(s *Stats) { s.Lag = seen - x.cur.Seq })
		}
		if conn == nil {
			c, err := x.dial(ctx)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				seen = x.peek(ctx, seen)
				fail("connect to the collector", err)
				continue
			}
			conn = c
			x.update(func(s *Stats) { s.Connected = true })
			x.log.Info("auditexport: connected", "from", x.cur.Seq+1)
		}
		buf, ends = buf[:0], ends[:0]
		for i := range pending {
			buf = x.frame(buf, &pending[i])
			ends = append(ends, len(buf))
		}
		err := x.send(ctx, conn, buf, ends)
		x.update(func(s *Stats) { s.Sent += uint64(len(pending)) })
		if err != nil {
			drop()
			if ctx.Err() != nil {
				break
			}
			fail("send to the collector; resending from the cursor", err)
			continue
		}
		last := &pending[len(pending)-1]
		x.cur = cursor{Seq: last.Seq, Hash: last.Hash}
		dirty = true
		pending = pending[:0]
		fails = 0
		x.update(func(s *Stats) {
			s.Delivered = x.cur.Seq
			s.Lag = seen - x.cur.Seq
		})
	}
	if dirty {
		if err := saveCursor(x.cfg.Cursor, x.cur); err != nil {
			x.update(func(s *Stats) { s.Errors++ })
			x.log.Error("auditexport: cursor not saved; a restart will resend from the last saved one", "err", err)
		}
	}
	return ctx.Err()
}

// frame appends r's message with the transport's framing: TCP's octet
// count (RFC 6587 3.4.1), nothing for UDP.
func (x *Exporter) frame(b []byte, r *codes.AuditRecord) []byte {
	if x.network == "udp" {
		return x.f.append(b, r)
	}
	// Format after a placeholder wide enough for any length, then move
	// the message up against its length.
	start := len(b)
	const room = 12
	b = append(b, make([]byte, room)...)
	b = x.f.append(b, r)
	n := len(b) - start - room
	var head [room]byte
	h := append(strconv.AppendInt(head[:0], int64(n), 10), ' ')
	copy(b[start:], h)
	copy(b[start+len(h):], b[start+room:])
	return b[:start+len(h)+n]
}

func (x *Exporter) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: x.cfg.Timeout}
	return d.DialContext(ctx, x.network, x.addr)
}

// send writes buf, the messages ending at ends (one datagram each for
// UDP), then probes the connection: TCP syslog has no
// acknowledgements, and a message written to a socket whose peer has just
// closed is lost without an error. A collector never sends on a syslog
// session, so a read that times out means it is still there, and EOF or
// a reset means it went away (for UDP: a port-unreachable reply, when the
// network delivers one).
func (x *Exporter) send(ctx context.Context, c net.Conn, buf []byte, ends []int) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.SetWriteDeadline(time.Now().Add(x.cfg.Timeout)); err != nil {
		return err
	}
	if x.network == "udp" {
		start := 0
		for _, end := range ends {
			if _, err := c.Write(buf[start:end]); err != nil {
				return err
			}
			start = end
		}
	} else if _, err := c.Write(buf); err != nil {
		return err
	}
	if !x.alive(c, x.cfg.Probe) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errors.New("the collector hung up")
	}
	return nil
}

// alive reads from c for up to wait: a timeout means the peer is still
// there; EOF, a reset or a refusal means it is not. Bytes a collector
// sends are discarded.
func (x *Exporter) alive(c net.Conn, wait time.Duration) bool {
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return false
	}
	var b [512]byte
	_, err := c.Read(b[:])
	if err == nil {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// peek reads ahead of seen while the collector is away, so that Lag
// keeps counting the records that wait.
func (x *Exporter) peek(ctx context.Context, seen uint64) uint64 {
	recs, err := x.src.ReadAudit(ctx, seen, x.cfg.Batch)
	if err == nil && len(recs) > 0 {
		seen = recs[len(recs)-1].Seq
		x.update(func(s *Stats) { s.Lag = seen - x.cur.Seq })
	}
	return seen
}

// backoff returns the wait before retry n+1: MinBackoff doubled n times,
// at most MaxBackoff, less up to half of it at random so that exporters
// that failed together do not retry together.
func (x *Exporter) backoff(n int) time.Duration {
	d := x.cfg.MaxBackoff
	if n < 62 && x.cfg.MinBackoff<<n > 0 && x.cfg.MinBackoff<<n < d {
		d = x.cfg.MinBackoff << n
	}
	return d - rand.N(d/2+1)
}

// sleep waits for d, a value on wake (nil: none) or the end of ctx.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
