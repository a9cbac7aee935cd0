package console

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FinderBackend is what the person finder (精准找人, tender 2.3.1) needs of
// the server. A Backend that also implements it gets the page
// (/console/finder) and its nav link; one that does not is served as
// before. Implementations must be safe for concurrent use.
type FinderBackend interface {
	// FindVenues returns up to k venues whose names match a partial,
	// out-of-order query ("太古里 春熙路"), best first.
	FindVenues(ctx context.Context, query string, k int) ([]VenueView, error)
	// Find runs a query and audits it (p, client). A bad identity, an
	// unknown venue or a person with no recorded scans is a *FieldError.
	// Every person in the result is masked.
	Find(ctx context.Context, p Principal, q FinderQuery, client string) (FinderResult, error)
}

// VenueView is a venue found by name.
type VenueView struct {
	ID   string // the venue code scans carry
	Name string
}

// FinderQuery is one person-finder query: an index case (Who), or the
// visits of a report, or both.
type FinderQuery struct {
	Who    Who           // the index case; zero for a report's visits only
	Visits []FinderVisit // venue stays from an epidemiological report
	// Since and Until bound which of the case's scans count (zero:
	// unbounded).
	Since, Until time.Time
	// Before and After widen each visit into a window: a scan this long
	// before or after it is a contact.
	Before, After time.Duration
	Depth         int // 1: direct contacts; 2: also theirs
	MaxPerWindow  int // cap on contacts from one venue window (0: none)
	MaxPerHop     int // cap on new contacts per hop (0: none)
}

// FinderVisit is a stay at a venue from From to To.
type FinderVisit struct {
	Venue    string // VenueView.ID
	From, To time.Time
}

// FinderResult is a query's contacts, each with its provenance, and the
// counts per hop.
type FinderResult struct {
	Case     string // the index case, masked; "" for visits only
	Contacts []ContactView
	Hops     []HopView
	Took     time.Duration
}

// ContactView is one contact. Person and Via are masked.
type ContactView struct {
	Hop       int
	Person    string
	Venue     string // code
	VenueName string
	Time      time.Time // the contact's scan
	Via       string    // the person it came through ("" for a reported visit)
	ViaTime   time.Time // that person's scan
}

// HopView counts one hop: the windows searched, the contacts kept and the
// people the caps left out.
type HopView struct {
	Hop, Windows, Contacts, CappedWindows, CutByWindow, CutByHop int
}

// Limits of the finder's form.
const (
	maxFinderDepth  = 2
	maxVenueMatches = 20
	maxSavedQueries = 1024
)

// finderPages serves the finder over a FinderBackend. Safe for concurrent
// use.
type finderPages struct {
	b FinderBackend

	mu    sync.Mutex
	saved map[string]savedQuery // opaque id -> a session's query, for its CSV
	order []string              // oldest first, to bound saved
}

// savedQuery is a query a session ran, kept so its CSV link names it by
// an opaque id instead of carrying the identity in the URL.
type savedQuery struct {
	session [32]byte
	q       FinderQuery
}

func (fp *finderPages) save(k [32]byte, q FinderQuery) string {
	id := randomToken()
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for len(fp.order) >= maxSavedQueries {
		delete(fp.saved, fp.order[0])
		fp.order = fp.order[1:]
	}
	fp.saved[id] = savedQuery{session: k, q: q}
	fp.order = append(fp.order, id)
	return id
}

func (fp *finderPages) load(k [32]byte, id string) (FinderQuery, bool) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	s, ok := fp.saved[id]
	if !ok || s.session != k {
		return FinderQuery{}, false
	}
	return s.q, true
}

// roleFinder may run the finder.
const roleFinder = RoleAuditor + "|" + RoleTranscoder

// finderRoutes adds the finder when the Backend implements FinderBackend.
func (c *Console) finderRoutes(mux *http.ServeMux) {
	fb, ok := c.b.(FinderBackend)
	if !ok {
		return
	}
	c.finder = &finderPages{b: fb, saved: map[string]savedQuery{}}
	mux.Handle("GET /console/finder", c.get(c.finderPage))
	mux.Handle("POST /console/finder/venues", c.post("console_finder", roleFinder, c.finderVenues))
	mux.Handle("POST /console/finder", c.post("console_finder", roleFinder, c.finderRun))
	mux.Handle("GET /console/finder/export/{id}", c.get(c.finderExport))
}

// finderPage is the finder page's data.
type finderPage struct {
	Form   map[string]string // the form's values, kept
	Venues []VenueView       // matches of the venue search, to choose from
	Chosen map[string]bool   // venue ids ticked
	Result *FinderResult
	Export string // the result's opaque id, for the CSV link
	Errors map[string]string
	Depths []int
}

func newFinderPage() finderPage {
	return finderPage{Form: map[string]string{"before": "120", "after": "120", "depth": "1"}, Chosen: map[string]bool{},
		Errors: map[string]string{}, Depths: []int{1, 2}}
}

// canFind refuses (403, audited) a session that may not use the finder.
func (c *Console) canFind(w http.ResponseWriter, r *http.Request, q *request) bool {
	if hasRole(q.s.p, roleFinder) {
		return true
	}
	c.refuse(w, r, q, AuditAttempt{Actor: q.s.p.Actor, Action: "console_finder", Role: roleFinder, Outcome: "forbidden", Detail: "lacks role " + roleFinder}, "forbidden")
	return false
}

func (c *Console) finderPage(w http.ResponseWriter, r *http.Request, q *request) {
	if c.canFind(w, r, q) {
		c.render(w, q, http.StatusOK, "finder", newFinderPage())
	}
}

// finderFields are the form's fields kept across a search or a refusal;
// identities (id, phone) are never echoed back.
var finderFields = []string{"doc_type", "venue_q", "visit_from", "visit_to", "since", "until", "before", "after", "depth", "max_per_window", "max_per_hop"}

func formPage(r *http.Request) finderPage {
	page := newFinderPage()
	for _, f := range finderFields {
		if v := strings.TrimSpace(r.PostFormValue(f)); v != "" || f == "venue_q" {
			page.Form[f] = v
		}
	}
	for _, v := range r.PostForm["venue"] {
		page.Chosen[v] = true
	}
	return page
}

// finderVenues searches venue names and shows the matches to choose from.
func (c *Console) finderVenues(w http.ResponseWriter, r *http.Request, q *request) {
	page := formPage(r)
	c.searchVenues(r, q, &page)
	c.render(w, q, http.StatusOK, "finder", page)
}

func (c *Console) searchVenues(r *http.Request, q *request, page *finderPage) {
	query := page.Form["venue_q"]
	if query == "" {
		return
	}
	vs, err := c.finder.b.FindVenues(r.Context(), query, maxVenueMatches)
	if err != nil {
		c.cfg.Logger.Error("console: find venues", "err", err)
	}
	page.Venues = vs
	if len(vs) == 0 {
		page.Errors["venue_q"] = q.T["no_match"]
	}
}

// finderRun runs the query and shows the result.
func (c *Console) finderRun(w http.ResponseWriter, r *http.Request, q *request) {
	page := formPage(r)
	c.searchVenues(r, q, &page)
	fq, ok := parseFinder(r, q, &page)
	if !ok {
		c.render(w, q, http.StatusUnprocessableEntity, "finder", page)
		return
	}
	res, err := c.finder.b.Find(r.Context(), q.s.p, fq, clientHost(r))
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		page.Errors[fe.Field] = fe.Msg
		c.render(w, q, http.StatusUnprocessableEntity, "finder", page)
		return
	case err != nil:
		c.internal(w, q, "finder", err)
		return
	}
	page.Result, page.Export = &res, c.finder.save(q.s.key, fq)
	c.render(w, q, http.StatusOK, "finder", page)
}

// finderTime is the form's datetime-local format.
const finderTime = "2006-01-02T15:04"

// parseFinder reads the query from the form, noting each bad field.
func parseFinder(r *http.Request, q *request, page *finderPage) (FinderQuery, bool) {
	loc := time.Local
	bad := func(f string) { page.Errors[f] = q.T["bad_value"] }
	fq := FinderQuery{Who: Who{ID: strings.TrimSpace(r.PostFormValue("id")), DocType: r.PostFormValue("doc_type"), Phone: strings.TrimSpace(r.PostFormValue("phone"))}}
	if fq.Who.DocType == "resident_id" {
		fq.Who.DocType = ""
	}
	when := func(f string) time.Time {
		s := page.Form[f]
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(finderTime, s, loc)
		if err != nil {
			bad(f)
		}
		return t
	}
	num := func(f string, lo, hi int) int {
		s := page.Form[f]
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			bad(f)
		}
		return n
	}
	fq.Since, fq.Until = when("since"), when("until")
	fq.Before = time.Duration(num("before", 0, 7*24*60)) * time.Minute
	fq.After = time.Duration(num("after", 0, 7*24*60)) * time.Minute
	fq.Depth = max(1, num("depth", 1, maxFinderDepth))
	fq.MaxPerWindow = num("max_per_window", 0, 1_000_000)
	fq.MaxPerHop = num("max_per_hop", 0, 10_000_000)
	if venues := r.PostForm["venue"]; len(venues) > 0 {
		from, to := when("visit_from"), when("visit_to")
		switch {
		case from.IsZero():
			page.Errors["visit_from"] = required[q.lang]
		case to.IsZero():
			page.Errors["visit_to"] = required[q.lang]
		case to.Before(from):
			bad("visit_to")
		}
		for _, v := range venues {
			fq.Visits = append(fq.Visits, FinderVisit{Venue: v, From: from, To: to})
		}
	}
	if fq.Who == (Who{}) && len(fq.Visits) == 0 {
		page.Errors["id"] = q.T["no_case"]
	}
	return fq, len(page.Errors) == 0
}

// finderColumns are the CSV's header.
var finderColumns = []string{"hop", "person", "venue", "venue_name", "time", "via", "via_time"}

// finderExport re-runs a saved query and writes its contacts as CSV.
func (c *Console) finderExport(w http.ResponseWriter, r *http.Request, q *request) {
	if !c.canFind(w, r, q) {
		return
	}
	fq, ok := c.finder.load(q.s.key, r.PathValue("id"))
	if !ok {
		c.render(w, q, http.StatusNotFound, "error", errorPage{Message: q.T["no_result"]})
		return
	}
	res, err := c.finder.b.Find(r.Context(), q.s.p, fq, clientHost(r))
	if err != nil {
		c.internal(w, q, "finder export", err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(finderColumns)
	for _, ct := range res.Contacts {
		cw.Write([]string{strconv.Itoa(ct.Hop), ct.Person, ct.Venue, ct.VenueName, ct.Time.Format(time.RFC3339), ct.Via, timeOrEmpty(ct.ViaTime)})
	}
	cw.Flush()
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
