package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RulesBackend is what the rules page needs of the server. A Backend that
// also implements it gets the page (/console/rules) and its nav link;
// one that does not is served as before. Implementations must be safe for
// concurrent use.
type RulesBackend interface {
	// Rules returns the sets in force, scheduled and uploaded.
	Rules(ctx context.Context) (RulesView, error)
	// UploadRules compiles a rule set (YAML or JSON), keeps it as
	// uploaded and dry-runs it against the population. A set that does
	// not compile is a *RulesProblems and is not kept. client is the
	// peer's address, for the audit trail.
	UploadRules(ctx context.Context, p Principal, src []byte, client string) (DryRunView, error)
	// ActivateRules puts an uploaded set in force, or schedules it. With
	// a zero at it takes effect at once or at its own effective-from
	// time, if that is later; else at at, the time the admin chose (a
	// time not after now meaning at once). A refusal the admin can act on
	// is a *FieldError: Field "version" for no such version,
	// "effective_at" for a time the server will not schedule.
	ActivateRules(ctx context.Context, p Principal, version string, at time.Time, client string) error
	// RollbackRules returns to the sets before the last activation. A
	// refusal (nothing to roll back to) is a *FieldError with Field
	// "rollback".
	RollbackRules(ctx context.Context, p Principal, client string) error
}

// RulesView is what the rules page lists.
type RulesView struct {
	Active    *RuleSetView  // nil: no set in force
	Scheduled []RuleSetView // taking effect later, soonest first
	Uploaded  []RuleSetView // compiled, not activated
	RiskAreas string        // the risk-area snapshot's version and size, "" if none
}

// RuleSetView is one rule set.
type RuleSetView struct {
	ID            string
	Version       string
	EffectiveFrom time.Time
	Rules         int
}

// DryRunView is a dry run of an uploaded set against the population.
type DryRunView struct {
	Candidate   string // "id@version"
	Version     string // what ActivateRules takes
	Total       int    // people evaluated
	Changed     int    // people whose colour would change
	Errors      int    // people for whom an evaluation failed
	Transitions []TransitionView
}

// TransitionView counts the people who would move From one colour
// (decided by FromRule in the set in force) To another (decided by ToRule
// in the upload). An empty rule is the default colour.
type TransitionView struct {
	From, To         string // "green", "yellow", "red"
	FromRule, ToRule string
	Count            int
}

// RulesProblems is an uploaded set that does not compile: every problem,
// each at its line and column in the upload.
type RulesProblems struct {
	Problems []Problem
}

// Problem is one reason a rule set does not compile.
type Problem struct {
	Line, Column int // 1-based; 0 when the problem has no position
	RuleID       string
	Msg          string
}

func (e *RulesProblems) Error() string {
	return fmt.Sprintf("console: rule set does not compile: %d problems", len(e.Problems))
}

// roleRulesView may see the rules page; only RoleRulesAdmin may act.
const roleRulesView = RoleAuditor + "|" + RoleRulesAdmin

// maxRuleSet bounds an upload (the form, file or textarea).
const maxRuleSet = 1 << 20

// confirmTTL is how long a confirmation page's token stays good.
const confirmTTL = 10 * time.Minute

// rulesZone is the wall time of the page's times, shown and chosen:
// Asia/Shanghai, which has kept UTC+8 without summer time since 1991, so
// no tz database is needed.
var rulesZone = time.FixedZone("CST", 8*3600)

// rulesTime is the datetime-local format of the activate form's
// effective_at (the finder's finderTime).
const rulesTime = "2006-01-02T15:04"

// parseEffectiveAt reads the activate form's optional effective_at, a
// datetime-local value in rulesZone; "" is the zero time.
func parseEffectiveAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(rulesTime, s, rulesZone)
	if err != nil {
		return time.Time{}, &FieldError{Field: "effective_at", Msg: err.Error()}
	}
	return t, nil
}

// rulesPages serves the rules page over a RulesBackend. Safe for
// concurrent use.
type rulesPages struct {
	b RulesBackend

	mu       sync.Mutex
	confirms map[string]confirmation // token -> what it confirms
}

// confirmation is one confirmation page's token: single use, for one
// session and one action.
type confirmation struct {
	session [32]byte
	action  string // "activate" or "rollback"
	version string
	at      time.Time // the chosen effective_at, zero if none
	expires time.Time
}

// maxConfirms bounds the tokens outstanding; the oldest go first.
const maxConfirms = 1024

// issue returns a new token confirming action on version, at the chosen
// time at, for session k.
func (rp *rulesPages) issue(k [32]byte, action, version string, at, now time.Time) string {
	tok := randomToken()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for t, c := range rp.confirms {
		if !now.Before(c.expires) {
			delete(rp.confirms, t)
		}
	}
	for len(rp.confirms) >= maxConfirms {
		var oldest string
		for t, c := range rp.confirms {
			if oldest == "" || c.expires.Before(rp.confirms[oldest].expires) {
				oldest = t
			}
		}
		delete(rp.confirms, oldest)
	}
	rp.confirms[tok] = confirmation{session: k, action: action, version: version, at: at, expires: now.Add(confirmTTL)}
	return tok
}

// redeem spends tok if it confirms action on version at at for session k.
func (rp *rulesPages) redeem(k [32]byte, tok, action, version string, at, now time.Time) bool {
	if tok == "" {
		return false
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	c, ok := rp.confirms[tok]
	if !ok {
		return false
	}
	delete(rp.confirms, tok)
	return c.session == k && c.action == action && c.version == version && c.at.Equal(at) && now.Before(c.expires)
}

// rulesRoutes adds the rules page when the Backend implements
// RulesBackend.
func (c *Console) rulesRoutes(mux *http.ServeMux) {
	rb, ok := c.b.(RulesBackend)
	if !ok {
		return
	}
	c.rules = &rulesPages{b: rb, confirms: map[string]confirmation{}}
	mux.Handle("GET /console/rules", c.get(c.rulesPage))
	mux.Handle("POST /console/rules/upload", c.postMax("console_rules_upload", RoleRulesAdmin, maxRuleSet+64<<10, c.rulesUpload))
	mux.Handle("POST /console/rules/activate/confirm", c.post("console_rules_activate", RoleRulesAdmin, c.rulesConfirm("activate")))
	mux.Handle("POST /console/rules/activate", c.post("console_rules_activate", RoleRulesAdmin, c.rulesAct("activate")))
	mux.Handle("POST /console/rules/rollback/confirm", c.post("console_rules_rollback", RoleRulesAdmin, c.rulesConfirm("rollback")))
	mux.Handle("POST /console/rules/rollback", c.post("console_rules_rollback", RoleRulesAdmin, c.rulesAct("rollback")))
}

// rulesPage is the rules page's data.
type rulesPage struct {
	Rules    RulesView
	Report   *matrix   // the upload's dry run, before activation
	Problems []Problem // the upload's, shown inline
	Source   string    // the upload, kept on a refusal
	Activate activateForm
	Notice   string
	Error    string
}

// activateForm is a refused activate form: its version, the time as
// typed, and why, shown next to the field.
type activateForm struct {
	Version     string
	EffectiveAt string // datetime-local
	Error       string
}

// confirmPage is the confirmation step's data.
type confirmPage struct {
	Action      string // "activate" or "rollback"
	Version     string
	EffectiveAt string    // datetime-local, "" if none was chosen
	At          time.Time // the chosen time in rulesZone
	AtOnce      bool      // the chosen time is not after now
	Token       string
}

// transitionCols are the matrix's columns, from→to.
var transitionCols = [][2]string{{"green", "yellow"}, {"green", "red"}, {"yellow", "green"}, {"yellow", "red"}, {"red", "green"}, {"red", "yellow"}}

// matrix is a dry run as a from→to colour matrix, a row per rule.
type matrix struct {
	Run    DryRunView
	Cols   [][2]string
	Rows   []matrixRow
	Totals []int
}

// matrixRow is one rule's counts, in Cols order.
type matrixRow struct {
	Rule   string // "" is the default colour
	Counts []int
}

// makeMatrix groups a dry run's transitions by the rule that makes the
// change: the upload's deciding rule, or, for a move to the default
// colour, the rule in force that no longer decides. Rows keep the order
// of their first transition (the report's, most frequent first).
func makeMatrix(d DryRunView) *matrix {
	m := &matrix{Run: d, Cols: transitionCols, Totals: make([]int, len(transitionCols))}
	row := map[string]int{}
	for _, t := range d.Transitions {
		rule := t.ToRule
		if rule == "" {
			rule = t.FromRule
		}
		col := -1
		for i, c := range transitionCols {
			if c[0] == t.From && c[1] == t.To {
				col = i
			}
		}
		if col < 0 {
			continue
		}
		i, ok := row[rule]
		if !ok {
			i = len(m.Rows)
			row[rule] = i
			m.Rows = append(m.Rows, matrixRow{Rule: rule, Counts: make([]int, len(transitionCols))})
		}
		m.Rows[i].Counts[col] += t.Count
		m.Totals[col] += t.Count
	}
	return m
}

// canViewRules refuses (403, audited) a session that may not see the
// rules page.
func (c *Console) canViewRules(w http.ResponseWriter, r *http.Request, q *request) bool {
	if hasRole(q.s.p, roleRulesView) {
		return true
	}
	c.refuse(w, r, q, AuditAttempt{Actor: q.s.p.Actor, Action: "console_rules", Role: roleRulesView, Outcome: "forbidden", Detail: "lacks role " + roleRulesView}, "forbidden")
	return false
}

func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request, q *request) {
	if c.canViewRules(w, r, q) {
		c.showRules(w, r, q, http.StatusOK, rulesPage{})
	}
}

// showRules renders the rules page with the sets as they are now.
func (c *Console) showRules(w http.ResponseWriter, r *http.Request, q *request, status int, page rulesPage) {
	v, err := c.rules.b.Rules(r.Context())
	if err != nil {
		c.internal(w, q, "rules", err)
		return
	}
	inZone(v.Active)
	for i := range v.Scheduled {
		inZone(&v.Scheduled[i])
	}
	for i := range v.Uploaded {
		inZone(&v.Uploaded[i])
	}
	page.Rules = v
	c.render(w, q, status, "rules", page)
}

// inZone shows a set's effective-from time in rulesZone.
func inZone(v *RuleSetView) {
	if v != nil && !v.EffectiveFrom.IsZero() {
		v.EffectiveFrom = v.EffectiveFrom.In(rulesZone)
	}
}

func (c *Console) rulesUpload(w http.ResponseWriter, r *http.Request, q *request) {
	src := r.PostFormValue("source")
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, maxRuleSet+1))
		f.Close()
		if err == nil && len(b) > 0 {
			src = string(b)
		}
	}
	if strings.TrimSpace(src) == "" {
		c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Error: q.T["no_upload"]})
		return
	}
	if len(src) > maxRuleSet {
		c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Error: q.T["too_large"]})
		return
	}
	d, err := c.rules.b.UploadRules(r.Context(), q.s.p, []byte(src), clientHost(r))
	var rp *RulesProblems
	switch {
	case errors.As(err, &rp):
		c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Problems: rp.Problems, Source: src})
		return
	case err != nil:
		c.internal(w, q, "upload rules", err)
		return
	}
	c.showRules(w, r, q, http.StatusOK, rulesPage{Report: makeMatrix(d)})
}

// rulesConfirm is the confirmation step: a page naming the action, whose
// form carries a single-use token the final POST must bring back.
func (c *Console) rulesConfirm(action string) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		page := confirmPage{Action: action}
		if action == "activate" {
			if page.Version = strings.TrimSpace(r.PostFormValue("version")); page.Version == "" {
				c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Error: q.T["no_version"]})
				return
			}
			raw := strings.TrimSpace(r.PostFormValue("effective_at"))
			at, err := parseEffectiveAt(raw)
			if err != nil {
				c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Activate: activateForm{Version: page.Version, EffectiveAt: raw, Error: q.T["bad_effective_at"]}})
				return
			}
			if !at.IsZero() {
				page.EffectiveAt, page.At, page.AtOnce = raw, at, !at.After(c.cfg.Now())
			}
		}
		page.Token = c.rules.issue(q.s.key, action, page.Version, page.At, c.cfg.Now())
		c.render(w, q, http.StatusOK, "rules_confirm", page)
	}
}

// rulesAct activates or rolls back, given the confirmation page's token;
// without it the POST is refused (403, audited).
func (c *Console) rulesAct(action string) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, q *request) {
		version, raw := "", ""
		var at time.Time
		var badAt error
		if action == "activate" {
			version = strings.TrimSpace(r.PostFormValue("version"))
			raw = strings.TrimSpace(r.PostFormValue("effective_at"))
			at, badAt = parseEffectiveAt(raw)
		}
		// The token binds the time too: a time other than the one
		// confirmed (or one that does not parse) is not confirmed.
		if badAt != nil || !c.rules.redeem(q.s.key, r.PostFormValue("confirm"), action, version, at, c.cfg.Now()) {
			c.refuse(w, r, q, AuditAttempt{Actor: q.s.p.Actor, Action: "console_rules_" + action, Role: RoleRulesAdmin,
				Outcome: "forbidden", Detail: "confirmation token missing or wrong"}, "not_confirmed")
			return
		}
		var err error
		if action == "activate" {
			err = c.rules.b.ActivateRules(r.Context(), q.s.p, version, at, clientHost(r))
		} else {
			err = c.rules.b.RollbackRules(r.Context(), q.s.p, clientHost(r))
		}
		var fe *FieldError
		switch {
		case errors.As(err, &fe) && fe.Field == "effective_at":
			c.showRules(w, r, q, http.StatusUnprocessableEntity, rulesPage{Activate: activateForm{Version: version, EffectiveAt: raw, Error: fe.Msg}})
		case errors.As(err, &fe):
			c.showRules(w, r, q, http.StatusConflict, rulesPage{Error: fe.Msg})
		case err != nil:
			c.internal(w, q, action+" rules", err)
		case action == "activate" && at.After(c.cfg.Now()):
			c.showRules(w, r, q, http.StatusOK, rulesPage{Notice: fmt.Sprintf(q.T["done_schedule"], at.Format("2006-01-02 15:04"))})
		default:
			c.showRules(w, r, q, http.StatusOK, rulesPage{Notice: q.T["done_"+action]})
		}
	}
}
