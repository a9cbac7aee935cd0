package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/console"
)

// The console's person finder over healthcoded's scan index (finder.go),
// its saved tasks (finder_tasks.go) and push for coding (finder_push.go).

var _ console.FinderBackend = consoleBackend{}

func (b consoleBackend) FindVenues(ctx context.Context, query string, k int) ([]console.VenueView, error) {
	st, err := b.a.finder.refresh(ctx)
	if err != nil {
		return nil, err
	}
	var out []console.VenueView
	for _, m := range st.names.Search(query, k) {
		out = append(out, console.VenueView{ID: st.venues[m.ID], Name: m.Name})
	}
	return out, nil
}

// Find runs a person-finder query on the current index as a new saved
// task and audits it (action "console_finder", the case's pseudonym as
// target).
func (b consoleBackend) Find(ctx context.Context, p console.Principal, q console.FinderQuery, client string) (console.TaskView, error) {
	a := b.a
	rec := codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: "auditor|transcoder", Action: "console_finder", Client: client, Actor: p.Actor}
	t, outcome, err := b.find(ctx, p, q, &rec)
	rec.Outcome = outcome
	a.record(ctx, rec)
	if err != nil {
		return console.TaskView{}, err
	}
	return t.view(), nil
}

// proximities are the console's co-travel policies.
var proximities = map[string]contacttrace.ProximityPolicy{
	console.ProximityPlan:      contacttrace.NationalPlan(),
	console.ProximityPlanBus3:  contacttrace.NationalPlanBusRows(3),
	console.ProximityWholeTrip: contacttrace.WholeTrip(),
}

func (b consoleBackend) find(ctx context.Context, p console.Principal, q console.FinderQuery, rec *codes.AuditRecord) (*savedTask, string, error) {
	a := b.a
	st, err := a.finder.refresh(ctx)
	if err != nil {
		return nil, "error", err
	}
	invalid := func(field, detail, msg string) (*savedTask, string, error) {
		rec.Detail = detail
		return nil, "invalid", &console.FieldError{Field: field, Msg: msg}
	}
	search := q.Search
	if search == "" {
		search = searchAll
	}
	tr := st.tracers[search]
	if tr == nil {
		return invalid("search", "bad search", fmt.Sprintf("want %s, %s or %s", searchAll, searchVenues, searchTrips))
	}
	ct := contacttrace.Query{Since: q.Since, Until: q.Until, Before: q.Before, After: q.After, Depth: q.Depth,
		MaxPerWindow: q.MaxPerWindow, MaxPerHop: q.MaxPerHop}
	if q.Proximity != "" {
		if ct.Proximity = proximities[q.Proximity]; ct.Proximity == nil {
			return invalid("proximity", "bad proximity", fmt.Sprintf("unknown policy %q", q.Proximity))
		}
	}
	task := &savedTask{TaskSummary: console.TaskSummary{Name: strings.TrimSpace(q.Name), Actor: p.Actor, At: a.now()}}
	if q.Who != (console.Who{}) {
		cases, masked, err := b.caseKeys(ctx, st, q.Who)
		if err != nil {
			rec.Detail = "bad identity"
			return nil, "invalid", err
		}
		rec.Target, task.Case = cases[0], masked
		for _, k := range cases {
			if id, ok := st.personIdx[k]; ok {
				ct.Cases = append(ct.Cases, id)
				task.Cases = append(task.Cases, k)
			}
		}
		if len(ct.Cases) == 0 {
			field := "id"
			if q.Who.ID == "" {
				field = "phone"
			}
			return invalid(field, "no scans", "no scans or trips recorded for this person")
		}
	}
	for _, v := range q.Visits {
		id, ok := st.venueIdx[v.Venue]
		if !ok {
			return invalid("venue", "unknown venue", fmt.Sprintf("unknown venue %q", v.Venue))
		}
		ct.Visits = append(ct.Visits, contacttrace.Visit{Venue: id, From: v.From, To: v.To})
	}
	for i, t := range q.Trips {
		refs, err := st.tripRefs(t)
		if err != nil {
			return invalid(fmt.Sprintf("number_%d", i), "unknown trip", err.Error())
		}
		ct.Trips = append(ct.Trips, refs...)
	}
	if len(q.Exclude) > 0 {
		ct.Exclude = contacttrace.NewPersonSet()
		for _, id := range q.Exclude {
			earlier, err := a.tasks.get(id)
			if err != nil {
				return invalid("exclude", "unknown task", fmt.Sprintf("no task %q", id))
			}
			for _, k := range earlier.identified() {
				if d, ok := st.personIdx[k]; ok {
					ct.Exclude.Add(d)
				}
			}
			task.Excluded = append(task.Excluded, id)
		}
	}
	if err := ct.Validate(); err != nil {
		return invalid("id", "bad query", err.Error())
	}
	start := time.Now()
	r, err := tr.Trace(ctx, ct)
	if err != nil {
		return nil, "error", fmt.Errorf("finder: %w", err)
	}
	task.Took = time.Since(start)
	task.Found = make([]savedContact, len(r.Contacts))
	for i, c := range r.Contacts {
		task.Found[i] = st.savedContact(c)
	}
	for _, h := range r.Hops {
		task.Hops = append(task.Hops, console.HopView{Hop: h.Hop, Windows: h.Windows, Contacts: h.Contacts,
			CappedWindows: h.CappedWindows, CutByWindow: h.CutByWindow, CutByHop: h.CutByHop})
	}
	task.TaskSummary.Contacts = len(task.Found)
	task.Query = describeQuery(q, search)
	if err := a.tasks.add(task); err != nil {
		return nil, "error", fmt.Errorf("finder: save task: %w", err)
	}
	rec.Detail = fmt.Sprintf("task %s: %d contacts, depth %d, %d cut, excluding %d tasks", task.ID, len(r.Contacts), max(q.Depth, 1), r.Cut(), len(task.Excluded))
	return task, "ok", nil
}

// caseKeys resolves the index case to its keys: by document, or by phone.
// A phone also brings the people who own it (linked as owner): a person
// with a document scans under the document's key, so the phone a report
// gives finds them too. The first key is the case's own.
func (b consoleBackend) caseKeys(ctx context.Context, st *traceState, w console.Who) ([]string, string, error) {
	key, _, masked, err := b.a.key(who{ID: w.ID, DocType: w.DocType, Phone: w.Phone})
	if err != nil {
		return nil, "", consoleFieldError(err)
	}
	keys := []string{key.String()}
	if w.ID == "" {
		links, err := b.a.links.PersonsOf(ctx, key)
		if err != nil {
			return nil, "", fmt.Errorf("finder: links: %w", err)
		}
		for _, l := range links {
			if l.Role == codes.RoleOwner {
				keys = append(keys, l.Person.String())
			}
		}
	}
	return keys, masked, nil
}

// tripRefs finds the trips a report names by mode, number and day: every
// departure that day, each with the case's seat.
func (st *traceState) tripRefs(t console.FinderTrip) ([]contacttrace.TripRef, error) {
	mode, err := parseTripMode(t.Mode)
	if err != nil {
		return nil, err
	}
	var refs []contacttrace.TripRef
	end := t.Day.AddDate(0, 0, 1)
	for _, i := range st.byTrip[tripName{mode, t.Number}] {
		tr := st.trips.Trip(int(i))
		if !tr.Date.Before(t.Day) && tr.Date.Before(end) {
			ref := contacttrace.TripRef{Mode: mode, Number: t.Number, Date: tr.Date, Car: t.Car, Row: t.Row}
			if t.Seat != "" {
				ref.Seat = t.Seat[0]
			}
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("no %s %s on %s", t.Mode, t.Number, t.Day.Format(time.DateOnly))
	}
	return refs, nil
}

// savedContact is a contact as a task keeps it: people by key.
func (st *traceState) savedContact(c contacttrace.Contact) savedContact {
	sc := savedContact{Hop: int(c.Hop), Person: st.persons[c.Person], Kind: c.Kind.String(), Time: c.Time}
	if c.Via != contacttrace.NoPerson {
		sc.Via, sc.ViaTime = st.persons[c.Via], c.ViaTime
	}
	if c.Kind == contacttrace.KindTrip {
		tr := st.trips.Trip(int(c.Trip))
		sc.Trip = tr.Number + " " + tr.Date.Local().Format("2006-01-02 15:04")
		if s, ok := st.trips.Seat(c); ok {
			sc.Seat = seatLabel(tr.Mode, s)
		}
		return sc
	}
	sc.Venue, sc.VenueName = st.venues[c.Venue], st.venueName[c.Venue]
	return sc
}

// seatLabel is how a ticket names a seat: "3车12F", "12排C", "5号包厢".
func seatLabel(m contacttrace.Mode, s contacttrace.Seat) string {
	seat := ""
	if s.Seat != 0 {
		seat = string(rune(s.Seat))
	}
	switch m {
	case contacttrace.ModeTrainSealed:
		return fmt.Sprintf("%d车%d%s", s.Car, s.Row, seat)
	case contacttrace.ModeTrainUnsealed:
		return fmt.Sprintf("%d车%d号包厢%s", s.Car, s.Row, seat)
	}
	return fmt.Sprintf("%d排%s", s.Row, seat)
}

// describeQuery is a task's query in one line, without identities.
func describeQuery(q console.FinderQuery, search string) string {
	var parts []string
	if q.Who != (console.Who{}) {
		parts = append(parts, "case")
	}
	if n := len(q.Visits); n > 0 {
		parts = append(parts, fmt.Sprintf("%d visits", n))
	}
	if n := len(q.Trips); n > 0 {
		parts = append(parts, fmt.Sprintf("%d trips", n))
	}
	parts = append(parts, "search "+search, fmt.Sprintf("depth %d", max(q.Depth, 1)),
		fmt.Sprintf("window -%v/+%v", q.Before, q.After))
	if q.Proximity != "" && search != searchVenues {
		parts = append(parts, "co-travel "+q.Proximity)
	}
	if q.MaxPerWindow > 0 {
		parts = append(parts, fmt.Sprintf("≤%d/window", q.MaxPerWindow))
	}
	if q.MaxPerHop > 0 {
		parts = append(parts, fmt.Sprintf("≤%d/hop", q.MaxPerHop))
	}
	return strings.Join(parts, ", ")
}

func (b consoleBackend) Tasks(_ context.Context, limit int) ([]console.TaskSummary, error) {
	return b.a.tasks.list(limit)
}

// Task returns a saved task and audits the view (action
// "console_finder_view"): its contacts are personal data.
func (b consoleBackend) Task(ctx context.Context, p console.Principal, id, client string) (console.TaskView, error) {
	a := b.a
	t, err := a.tasks.get(id)
	rec := codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: "auditor|transcoder", Action: "console_finder_view",
		Client: client, Actor: p.Actor, Outcome: "ok", Detail: "task " + clipDetail(id)}
	switch {
	case errors.Is(err, console.ErrNoTask):
		rec.Outcome = "invalid"
		rec.Detail += ": no such task"
	case err != nil:
		rec.Outcome = "error"
	}
	a.record(ctx, rec)
	if err != nil {
		return console.TaskView{}, err
	}
	v := t.view()
	v.Pushes = a.pushes.merge(t.ID, v.Pushes)
	return v, nil
}

// clipDetail bounds a client-given string in an audit record.
func clipDetail(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
