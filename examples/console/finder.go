package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FinderBackend is what the person finder (精准找人, tender 2.3.1) needs of
// the server. A Backend that also implements it gets the pages
// (/console/finder...) and their nav link; one that does not is served as
// before. Implementations must be safe for concurrent use.
//
// Every query runs as a saved task: its result is kept under an opaque id,
// a later task may exclude the people an earlier one identified ("排除已圈
// 定的风险人群"), and a task's contacts may be pushed for coding: given a
// colour in bulk through the server's authorised, audited transcode path.
type FinderBackend interface {
	// FindVenues returns up to k venues whose names match a partial,
	// out-of-order query ("太古里 春熙路"), best first.
	FindVenues(ctx context.Context, query string, k int) ([]VenueView, error)
	// Find runs a query as a new task, saves it and audits it (p,
	// client). A bad identity, an unknown venue, trip or earlier task, or
	// a person with no recorded scans is a *FieldError. Every person in
	// the result is masked.
	Find(ctx context.Context, p Principal, q FinderQuery, client string) (TaskView, error)
	// Tasks lists the saved tasks, newest first, at most limit.
	Tasks(ctx context.Context, limit int) ([]TaskSummary, error)
	// Task returns a saved task with its result and audits the view; an
	// unknown id is ErrNoTask.
	Task(ctx context.Context, p Principal, id, client string) (TaskView, error)
	// Push starts giving a task's contacts a colour, in the background,
	// one authorised, audited transcode per person. A refusal (bad colour,
	// no authorisation or reason) is a *FieldError and starts nothing; an
	// unknown task is ErrNoTask.
	Push(ctx context.Context, p Principal, req PushRequest, client string) (PushView, error)
	// PushStatus returns a push's progress; an unknown id is ErrNoTask.
	PushStatus(ctx context.Context, id string) (PushView, error)
	// StopPush stops a running push (the people done stay done).
	StopPush(ctx context.Context, p Principal, id, client string) error
}

// ErrNoTask is what a FinderBackend returns for an unknown task or push.
var ErrNoTask = errors.New("console: no such task")

// VenueView is a venue found by name.
type VenueView struct {
	ID   string // the venue code scans carry
	Name string
}

// FinderQuery is one person-finder query: an index case (Who), or the
// visits and trips of a report, or both.
type FinderQuery struct {
	Name   string        // the task's name ("" for a default)
	Who    Who           // the index case; zero for a report's visits only
	Visits []FinderVisit // venue stays from an epidemiological report
	Trips  []FinderTrip  // trips from the report
	// Since and Until bound which of the case's scans and trips count
	// (zero: unbounded).
	Since, Until time.Time
	// Before and After widen each visit into a window: a scan this long
	// before or after it is a contact.
	Before, After time.Duration
	Depth         int // 1: direct contacts; 2: also theirs
	MaxPerWindow  int // cap on contacts from one venue window or trip (0: none)
	MaxPerHop     int // cap on new contacts per hop (0: none)
	// Search is what is searched: SearchAll (venues and co-travel),
	// SearchVenues or SearchTrips.
	Search string
	// Proximity decides who on a trip is a contact: ProximityPlan,
	// ProximityPlanBus3 or ProximityWholeTrip.
	Proximity string
	// Exclude names earlier tasks whose people are neither reported nor
	// followed.
	Exclude []string
}

// What a query searches.
const (
	SearchAll    = "all"    // venue scans and co-travel
	SearchVenues = "venues" // venue scans only
	SearchTrips  = "trips"  // co-travel only
)

// Proximity policies for co-travel.
const (
	// ProximityPlan is the national plan's rule: on a plane the same row
	// and 3 either side, on a sealed train the same carriage, on an
	// unsealed train the same or an adjacent compartment, on a bus
	// everyone.
	ProximityPlan = "plan"
	// ProximityPlanBus3 is the plan with buses limited to 3 rows either
	// side (large coaches).
	ProximityPlanBus3 = "plan_bus3"
	// ProximityWholeTrip counts everyone on board.
	ProximityWholeTrip = "whole_trip"
)

// Transport modes of a FinderTrip.
var tripModes = []string{"plane", "train-sealed", "train-unsealed", "bus"}

// FinderVisit is a stay at a venue from From to To.
type FinderVisit struct {
	Venue    string // VenueView.ID
	From, To time.Time
}

// FinderTrip is a trip of the report: a flight, train or bus on a day,
// and the seat the case had.
type FinderTrip struct {
	Mode     string    // "plane", "train-sealed", "train-unsealed" or "bus"
	Number   string    // "CA4193", "G1234", "川A·12345"
	Day      time.Time // local midnight of the travel day
	Car, Row int       // carriage (trains) and row (or compartment)
	Seat     string    // "A".."Z", or ""
}

// FinderResult is a query's contacts, each with its provenance, and the
// counts per hop.
type FinderResult struct {
	Case     string // the index case, masked; "" for a report only
	Contacts []ContactView
	Hops     []HopView
	Took     time.Duration
}

// ContactView is one contact. Person and Via are masked.
type ContactView struct {
	Hop       int
	Person    string
	Kind      string // "venue" or "trip"
	Venue     string // code (venue contacts)
	VenueName string
	Trip      string    // "G1234 2022-05-14 08:00" (trip contacts)
	Seat      string    // "car 3 12F"
	Time      time.Time // the contact's scan, or the trip's departure
	Via       string    // the person it came through ("" for a reported visit or trip)
	ViaTime   time.Time // that person's scan
}

// HopView counts one hop: the windows searched, the contacts kept and the
// people the caps left out.
type HopView struct {
	Hop, Windows, Contacts, CappedWindows, CutByWindow, CutByHop int
}

// TaskSummary is a saved task as listed.
type TaskSummary struct {
	ID       string
	Name     string
	Actor    string
	At       time.Time
	Case     string   // masked; "" for a report only
	Query    string   // a one-line description of the query, without identities
	Contacts int      // contacts found
	Excluded []string // the earlier tasks it excluded
}

// TaskView is a saved task with its result and its pushes.
type TaskView struct {
	TaskSummary
	Result FinderResult
	Pushes []PushView // newest first
}

// PushRequest asks to give a task's contacts a colour.
type PushRequest struct {
	Task                  string
	Colour                string // "yellow" or "red" (or "green", to lift)
	Authorisation, Reason string
	MaxHop                int // only contacts up to this hop (0: all)
}

// PushView is a push's progress.
type PushView struct {
	ID, Task      string
	Actor         string
	Colour        string
	State         string // PushRunning, PushDone, PushStopped or PushFailed
	Total, Done   int    // people to transcode, and transcoded
	Failed        int    // people whose transcode was refused or failed
	Error         string // why it failed or the first refusal, if any
	Started, Ends time.Time
}

// Push states.
const (
	PushRunning = "running"
	PushDone    = "done"
	PushStopped = "stopped"
	PushFailed  = "failed"
)

// Limits of the finder's form.
const (
	maxFinderDepth  = 2
	maxVenueMatches = 20
	maxChosenVenues = 20
	maxFormTrips    = 3
	maxTaskList     = 50
	maxTaskName     = 64
	// maxTaskRows bounds the contacts a task's page lists: a page of tens
	// of thousands of rows helps nobody and costs seconds to render; the
	// CSV export has them all.
	maxTaskRows = 1000
)

// finderPages serves the finder over a FinderBackend.
type finderPages struct {
	b FinderBackend
}

// roleFinder may run the finder and read its tasks.
const roleFinder = RoleAuditor + "|" + RoleTranscoder

// finderRoutes adds the finder when the Backend implements FinderBackend.
func (c *Console) finderRoutes(mux *http.ServeMux) {
	fb, ok := c.b.(FinderBackend)
	if !ok {
		return
	}
	c.finder = &finderPages{b: fb}
	mux.Handle("GET /console/finder", c.get(c.finderPage))
	mux.Handle("POST /console/finder/venues", c.post("console_finder", roleFinder, c.finderVenues))
	mux.Handle("POST /console/finder", c.post("console_finder", roleFinder, c.finderRun))
	mux.Handle("GET /console/finder/tasks/{id}", c.get(c.taskPage))
	mux.Handle("GET /console/finder/tasks/{id}/contacts.csv", c.get(c.taskExport))
	mux.Handle("POST /console/finder/tasks/{id}/push", c.post("console_push", RoleTranscoder, c.pushStart))
	mux.Handle("GET /console/finder/push/{id}", c.get(c.pushPage))
	mux.Handle("GET /console/finder/push/{id}/status", c.get(c.pushJSON))
	mux.Handle("POST /console/finder/push/{id}/stop", c.post("console_push", RoleTranscoder, c.pushStop))
}

// finderPage is the finder page's data.
type finderPage struct {
	Form    map[string]string // the form's values, kept
	Venues  []VenueView       // the chosen venues, then the search's other matches
	Chosen  map[string]bool   // venue ids ticked
	Trips   []map[string]string
	Tasks   []TaskSummary // earlier tasks, to exclude
	Exclude map[string]bool
	Errors  map[string]string
	Depths  []int
	Modes   []string
	Search  []string
	Prox    []string
}

func newFinderPage() finderPage {
	p := finderPage{Form: map[string]string{"before": "120", "after": "120", "depth": "1", "search": SearchAll, "proximity": ProximityPlan},
		Chosen: map[string]bool{}, Exclude: map[string]bool{}, Errors: map[string]string{}, Depths: []int{1, 2},
		Modes: tripModes, Search: []string{SearchAll, SearchVenues, SearchTrips},
		Prox: []string{ProximityPlan, ProximityPlanBus3, ProximityWholeTrip}}
	for range maxFormTrips {
		p.Trips = append(p.Trips, map[string]string{})
	}
	return p
}

// canFind refuses (403, audited) a session that may not use the finder.
func (c *Console) canFind(w http.ResponseWriter, r *http.Request, q *request, action string) bool {
	if hasRole(q.s.p, roleFinder) {
		return true
	}
	c.refuse(w, r, q, AuditAttempt{Actor: q.s.p.Actor, Action: action, Role: roleFinder, Outcome: "forbidden", Detail: "lacks role " + roleFinder}, "forbidden")
	return false
}

func (c *Console) finderPage(w http.ResponseWriter, r *http.Request, q *request) {
	if !c.canFind(w, r, q, "console_finder") {
		return
	}
	page := newFinderPage()
	c.listTasks(r, &page)
	c.render(w, q, http.StatusOK, "finder", page)
}

func (c *Console) listTasks(r *http.Request, page *finderPage) {
	ts, err := c.finder.b.Tasks(r.Context(), maxTaskList)
	if err != nil {
		c.cfg.Logger.Error("console: list tasks", "err", err)
	}
	page.Tasks = ts
}

// finderFields are the form's fields kept across a search or a refusal;
// identities (id, phone) are never echoed back.
var finderFields = []string{"name", "doc_type", "venue_q", "visit_from", "visit_to", "since", "until", "before", "after",
	"depth", "max_per_window", "max_per_hop", "search", "proximity"}

// tripFields are one report trip's fields, suffixed _0, _1, ...
var tripFields = []string{"mode", "number", "day", "car", "row", "seat"}

func formPage(r *http.Request) finderPage {
	page := newFinderPage()
	for _, f := range finderFields {
		if v := strings.TrimSpace(r.PostFormValue(f)); v != "" || f == "venue_q" || f == "name" {
			page.Form[f] = v
		}
	}
	// Each chosen venue keeps its name (display only) and its own time
	// range across searches.
	for _, v := range r.PostForm["venue"] {
		if page.Chosen[v] || len(page.Chosen) >= maxChosenVenues {
			continue
		}
		page.Chosen[v] = true
		page.Venues = append(page.Venues, VenueView{ID: v, Name: r.PostFormValue("vname_" + v)})
		for _, f := range []string{"from_", "to_"} {
			page.Form[f+v] = strings.TrimSpace(r.PostFormValue(f + v))
		}
	}
	for i := range page.Trips {
		for _, f := range tripFields {
			page.Trips[i][f] = strings.TrimSpace(r.PostFormValue(f + "_" + strconv.Itoa(i)))
		}
	}
	for _, id := range r.PostForm["exclude"] {
		page.Exclude[id] = true
	}
	return page
}

// finderVenues searches venue names and shows the matches to choose from.
func (c *Console) finderVenues(w http.ResponseWriter, r *http.Request, q *request) {
	page := formPage(r)
	c.searchVenues(r, q, &page)
	c.listTasks(r, &page)
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
	for _, v := range vs {
		if !page.Chosen[v.ID] {
			page.Venues = append(page.Venues, v)
		}
	}
	if len(vs) == 0 {
		page.Errors["venue_q"] = q.T["no_match"]
	}
}

// finderRun runs the query as a task and shows it (303 to the task's
// page, so a reload does not run it again).
func (c *Console) finderRun(w http.ResponseWriter, r *http.Request, q *request) {
	page := formPage(r)
	fq, ok := parseFinder(r, q, &page)
	refused := func() {
		c.searchVenues(r, q, &page)
		c.listTasks(r, &page)
		c.render(w, q, http.StatusUnprocessableEntity, "finder", page)
	}
	if !ok {
		refused()
		return
	}
	task, err := c.finder.b.Find(r.Context(), q.s.p, fq, clientHost(r))
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		page.Errors[fe.Field] = fe.Msg
		refused()
		return
	case err != nil:
		c.internal(w, q, "finder", err)
		return
	}
	http.Redirect(w, r, "/console/finder/tasks/"+task.ID, http.StatusSeeOther)
}

// identityLike matches what could be a document number or a phone: 11
// or more digits in a row (an ID card's last character may be X).
var identityLike = regexp.MustCompile(`[0-9]{11,}|[0-9]{17}[Xx]`)

// finderTime is the form's datetime-local format.
const finderTime = "2006-01-02T15:04"

// parseFinder reads the query from the form, noting each bad field.
func parseFinder(r *http.Request, q *request, page *finderPage) (FinderQuery, bool) {
	loc := time.Local
	bad := func(f string) { page.Errors[f] = q.T["bad_value"] }
	fq := FinderQuery{Name: page.Form["name"], Who: Who{ID: strings.TrimSpace(r.PostFormValue("id")), DocType: r.PostFormValue("doc_type"), Phone: strings.TrimSpace(r.PostFormValue("phone"))},
		Search: page.Form["search"], Proximity: page.Form["proximity"]}
	if fq.Who.DocType == "resident_id" {
		fq.Who.DocType = ""
	}
	switch {
	case len([]rune(fq.Name)) > maxTaskName:
		bad("name")
	case identityLike.MatchString(fq.Name):
		// The name is shown on pages and in titles: no identity there.
		page.Errors["name"] = q.T["name_identity"]
		page.Form["name"] = ""
	}
	if !slices.Contains(page.Search, fq.Search) {
		bad("search")
	}
	if !slices.Contains(page.Prox, fq.Proximity) {
		bad("proximity")
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
	num := func(s, f string, lo, hi int) int {
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			bad(f)
		}
		return n
	}
	field := func(f string, lo, hi int) int { return num(page.Form[f], f, lo, hi) }
	fq.Since, fq.Until = when("since"), when("until")
	fq.Before = time.Duration(field("before", 0, 7*24*60)) * time.Minute
	fq.After = time.Duration(field("after", 0, 7*24*60)) * time.Minute
	fq.Depth = max(1, field("depth", 1, maxFinderDepth))
	fq.MaxPerWindow = field("max_per_window", 0, 1_000_000)
	fq.MaxPerHop = field("max_per_hop", 0, 10_000_000)
	// A chosen venue's own range wins; the shared one fills in.
	from, to := when("visit_from"), when("visit_to")
	for _, v := range page.Venues {
		if !page.Chosen[v.ID] {
			continue
		}
		vf, vt := when("from_"+v.ID), when("to_"+v.ID)
		if vf.IsZero() {
			vf = from
		}
		if vt.IsZero() {
			vt = to
		}
		switch {
		case vf.IsZero():
			page.Errors["from_"+v.ID] = required[q.lang]
		case vt.IsZero():
			page.Errors["to_"+v.ID] = required[q.lang]
		case vt.Before(vf):
			bad("to_" + v.ID)
		}
		fq.Visits = append(fq.Visits, FinderVisit{Venue: v.ID, From: vf, To: vt})
	}
	for i, tr := range page.Trips {
		if tr["number"] == "" {
			continue
		}
		sfx := "_" + strconv.Itoa(i)
		ft := FinderTrip{Mode: tr["mode"], Number: tr["number"], Seat: strings.ToUpper(tr["seat"])}
		if !slices.Contains(tripModes, ft.Mode) {
			bad("mode" + sfx)
		}
		if tr["day"] == "" {
			page.Errors["day"+sfx] = required[q.lang]
		} else if d, err := time.ParseInLocation(time.DateOnly, tr["day"], loc); err != nil {
			bad("day" + sfx)
		} else {
			ft.Day = d
		}
		ft.Car = num(tr["car"], "car"+sfx, 0, 9999)
		ft.Row = num(tr["row"], "row"+sfx, 0, 9999)
		if len(ft.Seat) > 1 || (ft.Seat != "" && (ft.Seat[0] < 'A' || ft.Seat[0] > 'Z')) {
			bad("seat" + sfx)
		}
		fq.Trips = append(fq.Trips, ft)
	}
	for id := range page.Exclude {
		fq.Exclude = append(fq.Exclude, id)
	}
	slices.Sort(fq.Exclude)
	if fq.Who == (Who{}) && len(fq.Visits) == 0 && len(fq.Trips) == 0 {
		page.Errors["id"] = q.T["no_case"]
	}
	return fq, len(page.Errors) == 0
}

// taskPage is a saved task's page: its result, export, pushes and the
// push form.
type taskPage struct {
	Task    TaskView
	Shown   []ContactView // the first maxTaskRows contacts; the CSV has all
	Hidden  int
	Form    map[string]string
	Errors  map[string]string
	Colours []string
}

func (c *Console) loadTask(w http.ResponseWriter, r *http.Request, q *request) (TaskView, bool) {
	if !c.canFind(w, r, q, "console_finder_view") {
		return TaskView{}, false
	}
	t, err := c.finder.b.Task(r.Context(), q.s.p, r.PathValue("id"), clientHost(r))
	switch {
	case errors.Is(err, ErrNoTask):
		c.render(w, q, http.StatusNotFound, "error", errorPage{Message: q.T["no_task"]})
		return t, false
	case err != nil:
		c.internal(w, q, "finder task", err)
		return t, false
	}
	return t, true
}

func (c *Console) taskPage(w http.ResponseWriter, r *http.Request, q *request) {
	if t, ok := c.loadTask(w, r, q); ok {
		c.render(w, q, http.StatusOK, "finder_task", newTaskPage(t))
	}
}

func newTaskPage(t TaskView) taskPage {
	n := min(len(t.Result.Contacts), maxTaskRows)
	return taskPage{Task: t, Shown: t.Result.Contacts[:n], Hidden: len(t.Result.Contacts) - n, Form: map[string]string{"colour": "yellow", "max_hop": "0"}, Errors: map[string]string{},
		Colours: []string{"yellow", "red", "green"}}
}

// finderColumns are the CSV's header.
var finderColumns = []string{"hop", "person", "kind", "venue", "venue_name", "trip", "seat", "time", "via", "via_time"}

// taskExport writes a saved task's contacts as CSV.
func (c *Console) taskExport(w http.ResponseWriter, r *http.Request, q *request) {
	t, ok := c.loadTask(w, r, q)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contacts-`+t.ID+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write(finderColumns)
	for _, ct := range t.Result.Contacts {
		cw.Write([]string{strconv.Itoa(ct.Hop), ct.Person, ct.Kind, ct.Venue, ct.VenueName, ct.Trip, ct.Seat,
			ct.Time.Format(time.RFC3339), ct.Via, timeOrEmpty(ct.ViaTime)})
	}
	cw.Flush()
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// pushStart starts pushing a task's contacts for coding (303 to its
// progress page); a refusal is shown on the task's page.
func (c *Console) pushStart(w http.ResponseWriter, r *http.Request, q *request) {
	req := PushRequest{Task: r.PathValue("id"), Colour: r.PostFormValue("colour"),
		Authorisation: strings.TrimSpace(r.PostFormValue("authorisation")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	errs := map[string]string{}
	if r.PostFormValue("confirm") != "yes" {
		errs["confirm"] = q.T["not_confirmed"]
	}
	if req.Authorisation == "" {
		errs["authorisation"] = required[q.lang]
	}
	if req.Reason == "" {
		errs["reason"] = required[q.lang]
	}
	if h, err := strconv.Atoi(r.PostFormValue("max_hop")); err == nil && h >= 0 && h <= maxFinderDepth {
		req.MaxHop = h
	} else {
		errs["max_hop"] = q.T["bad_value"]
	}
	var pv PushView
	var err error
	if len(errs) == 0 {
		pv, err = c.finder.b.Push(r.Context(), q.s.p, req, clientHost(r))
	}
	var fe *FieldError
	switch {
	case errors.Is(err, ErrNoTask):
		c.render(w, q, http.StatusNotFound, "error", errorPage{Message: q.T["no_task"]})
		return
	case errors.As(err, &fe):
		errs[fe.Field] = fe.Msg
	case err != nil:
		c.internal(w, q, "push", err)
		return
	}
	if len(errs) == 0 {
		http.Redirect(w, r, "/console/finder/push/"+pv.ID, http.StatusSeeOther)
		return
	}
	t, err := c.finder.b.Task(r.Context(), q.s.p, req.Task, clientHost(r))
	if err != nil {
		c.internal(w, q, "finder task", err)
		return
	}
	page := newTaskPage(t)
	page.Errors = errs
	page.Form = map[string]string{"colour": req.Colour, "authorisation": req.Authorisation, "reason": req.Reason, "max_hop": r.PostFormValue("max_hop")}
	c.render(w, q, http.StatusUnprocessableEntity, "finder_task", page)
}

func (c *Console) loadPush(w http.ResponseWriter, r *http.Request, q *request) (PushView, bool) {
	if !c.canFind(w, r, q, "console_push") {
		return PushView{}, false
	}
	pv, err := c.finder.b.PushStatus(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, ErrNoTask):
		c.render(w, q, http.StatusNotFound, "error", errorPage{Message: q.T["no_task"]})
		return pv, false
	case err != nil:
		c.internal(w, q, "push status", err)
		return pv, false
	}
	return pv, true
}

// pushPage shows a push's progress; static/push.js polls its status.
func (c *Console) pushPage(w http.ResponseWriter, r *http.Request, q *request) {
	if pv, ok := c.loadPush(w, r, q); ok {
		c.render(w, q, http.StatusOK, "finder_push", pv)
	}
}

// pushStatus is the JSON static/push.js polls.
type pushStatus struct {
	State  string `json:"state"`
	Label  string `json:"label"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
	Error  string `json:"error,omitempty"`
}

func (c *Console) pushJSON(w http.ResponseWriter, r *http.Request, q *request) {
	pv, ok := c.loadPush(w, r, q)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(pushStatus{State: pv.State, Label: q.T["push_"+pv.State], Total: pv.Total, Done: pv.Done, Failed: pv.Failed, Error: pv.Error})
}

func (c *Console) pushStop(w http.ResponseWriter, r *http.Request, q *request) {
	id := r.PathValue("id")
	err := c.finder.b.StopPush(r.Context(), q.s.p, id, clientHost(r))
	switch {
	case errors.Is(err, ErrNoTask):
		c.render(w, q, http.StatusNotFound, "error", errorPage{Message: q.T["no_task"]})
		return
	case err != nil:
		c.internal(w, q, "stop push", err)
		return
	}
	http.Redirect(w, r, "/console/finder/push/"+id, http.StatusSeeOther)
}
