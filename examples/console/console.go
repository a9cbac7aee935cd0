package console

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Roles the console knows (those of the admin tokens).
const (
	RoleTranscoder = "transcoder"
	RoleAuditor    = "auditor"
	RoleRulesAdmin = "rules-admin"
)

// Principal is who a session acts as: the token's actor and roles.
type Principal struct {
	Actor string
	Roles []string
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// Who identifies a person as typed into the lookup form: a document number
// (with its type, "" meaning a resident ID or whatever parses) or a phone.
// It is never written to a page, URL or log.
type Who struct {
	ID      string
	DocType string
	Phone   string
}

// PersonView is what the person page shows. Every identity in it is masked
// by the Backend.
type PersonView struct {
	Masked     string   // the masked document number or phone
	Colour     string   // the displayed code: "green", "yellow" or "red"
	Sources    []Source // the provenance of each state the displayed code is made of
	History    []HistoryRow
	ChainOK    bool   // the history's hash chain verifies
	ChainError string // if not, the first broken link
}

// Source is the provenance of one state: a rule (id and version) or a
// person (actor and authorisation).
type Source struct {
	Kind          string // "document" or "phone"
	Colour        string
	Reason        string
	RuleID        string
	RuleVersion   string
	Actor         string
	Authorisation string
	Since         time.Time
}

// HistoryRow is one change in a person's history.
type HistoryRow struct {
	Seq           uint64
	At            time.Time
	Colour        string
	Reason        string
	RuleID        string
	RuleVersion   string
	Actor         string
	Authorisation string
	Hash          string // hex, shown shortened
}

// StatsView is what the statistics page and the dashboard show.
type StatsView struct {
	Today     string   // "2006-01-02"
	Days      []DayRow // oldest first, today last
	Causes    []Ranked // red/yellow causes, most first
	Regions   []Ranked // red/yellow by region, most first
	Anomalies []string // today's anomaly check, one line each; empty when normal
	// Venues are the venue statistics (tender 2.3.2) over the same days;
	// nil when the server keeps no scan log.
	Venues *VenueStats
}

// VenueStats are the venue statistics: how many venues there are, how
// much they are scanned, and which most.
type VenueStats struct {
	Registered int         // venues registered (named in the server's venue list)
	Active     int         // venues scanned at least once over the days
	Days       []VenueDay  // scans a day, oldest first, today last
	Today      int         // scans today
	TopToday   []VenueRank // the most scanned venues today, most first
	TopWeek    []VenueRank // the most scanned over the last 7 days (today included), most first
}

// VenueDay is one day's scans, at every venue.
type VenueDay struct {
	Date  string // "2006-01-02"
	Scans int
}

// VenueRank is one venue in a ranking.
type VenueRank struct {
	Code  string // the venue code scans carry
	Name  string // its registered name; the code when it has none
	Scans int
}

// DayRow is one day's codes issued, by colour.
type DayRow struct {
	Date               string
	Red, Yellow, Green int
}

// Ranked is one label and its count.
type Ranked struct {
	Label string
	Count int
}

// AuditAttempt is a refusal the console made itself (a failed sign-in, a
// POST without its CSRF token, a role refusal), for the server's audit
// trail.
type AuditAttempt struct {
	At      time.Time
	Actor   string // "" when nobody is signed in
	Action  string // "console_signin", "console_transcode", ...
	Role    string // the role the action needs
	Outcome string // "unauthenticated", "forbidden"
	Detail  string
	Client  string // the peer's address
}

// FieldError is a refusal of one form field, shown next to it.
type FieldError struct {
	Field string // "colour", "authorisation", "reason", "id", "phone", "doc_type"
	Msg   string
}

func (e *FieldError) Error() string { return "console: " + e.Field + ": " + e.Msg }

// ErrUnauthenticated is what Backend.Authenticate returns for a token it
// does not know.
var ErrUnauthenticated = errors.New("console: unknown token")

// Backend is what the console needs of the server. Implementations must be
// safe for concurrent use.
type Backend interface {
	// Authenticate returns the principal of an admin token.
	Authenticate(token string) (Principal, error)
	// Person looks a person up; a bad identity is a *FieldError.
	Person(ctx context.Context, who Who) (PersonView, error)
	// Transcode changes a person's code by hand through the server's
	// authorised, audited path; a refusal is a *FieldError and changes
	// nothing. client is the peer's address, for the audit trail.
	Transcode(ctx context.Context, p Principal, who Who, colour, authorisation, reason, client string) error
	// Stats returns the statistics as of now.
	Stats(ctx context.Context, now time.Time) (StatsView, error)
	// Audit appends a refusal the console made to the audit trail.
	Audit(ctx context.Context, rec AuditAttempt)
}

// Config configures a Console. Zero fields mean defaults.
type Config struct {
	Backend Backend // required
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Secure marks cookies Secure: set it when served over TLS.
	Secure bool
	// SessionIdle ends a session unused this long (default 30 min).
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in (default 8 h).
	SessionMax time.Duration
	// MaxSessions bounds the sessions kept; the oldest is evicted
	// (default 10 000).
	MaxSessions int
	// Lang is the default language, "zh" or "en" (default "zh").
	Lang string
	// Logger logs internal errors (never personal data); nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults (without a Backend).
func DefaultConfig() Config {
	return Config{Now: time.Now, SessionIdle: 30 * time.Minute, SessionMax: 8 * time.Hour, MaxSessions: 10000, Lang: "zh"}
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Backend == nil:
		return errors.New("console: Config.Backend is nil")
	case c.SessionIdle < 0:
		return errors.New("console: Config.SessionIdle is negative")
	case c.SessionMax < 0:
		return errors.New("console: Config.SessionMax is negative")
	case c.MaxSessions < 0:
		return errors.New("console: Config.MaxSessions is negative")
	case c.Lang != "" && c.Lang != "zh" && c.Lang != "en":
		return fmt.Errorf("console: Config.Lang %q: want zh or en", c.Lang)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.SessionMax == 0 {
		c.SessionMax = d.SessionMax
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = d.MaxSessions
	}
	if c.Lang == "" {
		c.Lang = d.Lang
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console serves the admin console. Safe for concurrent use.
type Console struct {
	cfg      Config
	b        Backend
	sessions *sessions
	pages    map[string]*template.Template
	preKey   [32]byte     // signs the sign-in form's CSRF token before any session exists
	rules    *rulesPages  // nil unless the Backend is a RulesBackend
	finder   *finderPages // nil unless the Backend is a FinderBackend
	users    UsersBackend // nil unless the Backend is a UsersBackend
	handler  http.Handler
}

// New returns a console, or the first problem with cfg or its templates.
func New(cfg Config) (*Console, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Console{cfg: cfg, b: cfg.Backend, sessions: newSessions(cfg.MaxSessions, cfg.SessionIdle, cfg.SessionMax)}
	rand.Read(c.preKey[:])
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: static: %w", err)
	}
	c.handler = c.routes(static)
	if err := c.addUsers(); err != nil {
		return nil, err
	}
	return c, nil
}

// Handler returns the console's handler, to mount at /console/.
func (c *Console) Handler() http.Handler { return c.handler }
