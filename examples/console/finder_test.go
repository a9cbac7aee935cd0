package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake's finder: three venues; a case (rawID) with a contact per
// venue window and two more at hop 2; a cap that cuts people; a reported
// trip adds a co-traveller. Tasks are the queries run, in order ("T1",
// ...), recomputed when read; a task excluding earlier ones drops their
// people.
var fakeVenues = []VenueView{
	{ID: "v1", Name: "成都市锦江区春熙路太古里店"},
	{ID: "v2", Name: "成都市武侯区科华北路万达广场"},
	{ID: "v3", Name: "成都市锦江区红星路<b>春熙</b>坊"},
}

var _ FinderBackend = (*fakeBackend)(nil)

func (f *fakeBackend) FindVenues(_ context.Context, query string, k int) ([]VenueView, error) {
	var out []VenueView
	for _, v := range fakeVenues {
		all := true
		for term := range strings.FieldsSeq(query) {
			all = all && strings.Contains(v.Name, term)
		}
		if all && len(out) < k {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f *fakeBackend) Find(ctx context.Context, p Principal, q FinderQuery, client string) (TaskView, error) {
	if q.Who.ID != "" && q.Who.ID != rawID {
		return TaskView{}, &FieldError{Field: "id", Msg: "no scans recorded for this person"}
	}
	for _, id := range q.Exclude {
		if _, err := f.Task(ctx, p, id, client); err != nil {
			return TaskView{}, &FieldError{Field: "exclude", Msg: "no task " + id}
		}
	}
	f.mu.Lock()
	f.finds = append(f.finds, q)
	n := len(f.finds)
	f.mu.Unlock()
	return f.Task(ctx, p, "T"+strconv.Itoa(n), client)
}

// fakeTask computes task n (1-based) from its query.
func (f *fakeBackend) fakeTask(n int, q FinderQuery) TaskView {
	at := time.Date(2022, 5, 14, 9, 30, 0, 0, time.UTC)
	t := TaskView{TaskSummary: TaskSummary{ID: "T" + strconv.Itoa(n), Name: q.Name, Actor: "alice", At: at, Query: fmt.Sprintf("depth %d", max(q.Depth, 1)), Excluded: q.Exclude}}
	if t.Name == "" {
		t.Name = "任务 " + t.ID
	}
	res := FinderResult{Took: 3 * time.Millisecond}
	if q.Who.ID != "" || q.Who.Phone != "" {
		res.Case = mask(q.Who)
	}
	excluded := map[string]bool{}
	for _, id := range q.Exclude {
		if k, err := strconv.Atoi(strings.TrimPrefix(id, "T")); err == nil && k < n {
			for _, c := range f.fakeTask(k, f.findLog()[k-1]).Result.Contacts {
				excluded[c.Person] = true
			}
		}
	}
	add := func(c ContactView) {
		if !excluded[c.Person] {
			res.Contacts = append(res.Contacts, c)
		}
	}
	for i, v := range fakeVenues {
		add(ContactView{Hop: 1, Kind: "venue", Person: fmt.Sprintf("a1b2c%d…9e0b", i), Venue: v.ID, VenueName: v.Name, Time: at.Add(time.Duration(i) * time.Hour), Via: "case01…0001", ViaTime: at})
	}
	for _, tr := range q.Trips {
		add(ContactView{Hop: 1, Kind: "trip", Person: "77aa00…5555", Trip: tr.Number + " " + tr.Day.Format(time.DateOnly), Seat: "3车12F", Time: tr.Day})
	}
	cut := 0
	if q.MaxPerWindow > 0 {
		cut = 17
	}
	res.Hops = []HopView{{Hop: 1, Windows: 3, Contacts: len(res.Contacts), CappedWindows: min(cut, 1), CutByWindow: cut}}
	if q.Depth == 2 {
		for i := range 2 {
			add(ContactView{Hop: 2, Kind: "venue", Person: fmt.Sprintf("d4e5f%d…1234", i), Venue: "v2", VenueName: fakeVenues[1].Name, Time: at.Add(5 * time.Hour), Via: "a1b2c1…9e0b", ViaTime: at.Add(time.Hour)})
		}
		res.Hops = append(res.Hops, HopView{Hop: 2, Windows: 4, Contacts: 2, CutByHop: 5})
	}
	t.Result, t.Contacts, t.Case = res, len(res.Contacts), res.Case
	for _, pv := range f.pushLog() {
		if pv.Task == t.ID {
			t.Pushes = append([]PushView{pv}, t.Pushes...)
		}
	}
	return t
}

func (f *fakeBackend) Tasks(context.Context, int) ([]TaskSummary, error) {
	var out []TaskSummary
	for i, q := range f.findLog() {
		out = append(out, f.fakeTask(i+1, q).TaskSummary)
	}
	slices.Reverse(out)
	return out, nil
}

func (f *fakeBackend) Task(_ context.Context, _ Principal, id, _ string) (TaskView, error) {
	finds := f.findLog()
	n, err := strconv.Atoi(strings.TrimPrefix(id, "T"))
	if err != nil || n < 1 || n > len(finds) || !strings.HasPrefix(id, "T") {
		return TaskView{}, ErrNoTask
	}
	return f.fakeTask(n, finds[n-1]), nil
}

func (f *fakeBackend) Push(ctx context.Context, p Principal, req PushRequest, client string) (PushView, error) {
	if !slices.Contains([]string{"green", "yellow", "red"}, req.Colour) {
		return PushView{}, &FieldError{Field: "colour", Msg: "want green, yellow or red"}
	}
	t, err := f.Task(ctx, p, req.Task, client)
	if err != nil {
		return PushView{}, err
	}
	people := map[string]bool{}
	for _, c := range t.Result.Contacts {
		if req.MaxHop == 0 || c.Hop <= req.MaxHop {
			people[c.Person] = true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	pv := PushView{ID: t.ID + "-P" + strconv.Itoa(len(t.Pushes)+1), Task: t.ID, Actor: p.Actor, Colour: req.Colour,
		State: PushRunning, Total: len(people), Done: len(people) / 2, Started: t.At}
	f.pushes = append(f.pushes, pv)
	return pv, nil
}

func (f *fakeBackend) pushLog() []PushView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pushes)
}

func (f *fakeBackend) PushStatus(_ context.Context, id string) (PushView, error) {
	for _, pv := range f.pushLog() {
		if pv.ID == id {
			return pv, nil
		}
	}
	return PushView{}, ErrNoTask
}

func (f *fakeBackend) StopPush(_ context.Context, _ Principal, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.pushes {
		if f.pushes[i].ID == id {
			f.pushes[i].State = PushStopped
			return nil
		}
	}
	return ErrNoTask
}

func (f *fakeBackend) findLog() []FinderQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FinderQuery(nil), f.finds...)
}

// finderCSRF signs in with token and returns the finder page's CSRF
// token.
func (e *env) finderCSRF(c *http.Client, token string) string {
	e.t.Helper()
	e.signIn(c, token)
	r := e.get(c, "/console/finder")
	require.Equal(e.t, http.StatusOK, r.status, r.body)
	return csrfOf(e.t, r.body)
}

// find posts the finder form and follows the redirect to the task's page.
func (e *env) find(c *http.Client, form url.Values) (resp, string) {
	e.t.Helper()
	r := e.post(c, "/console/finder", form)
	require.Equal(e.t, http.StatusSeeOther, r.status, r.body)
	loc := r.header.Get("Location")
	require.True(e.t, strings.HasPrefix(loc, "/console/finder/tasks/T"), loc)
	page := e.get(c, loc)
	require.Equal(e.t, http.StatusOK, page.status, page.body)
	return page, strings.TrimPrefix(loc, "/console/finder/tasks/")
}

func caseForm(csrf string, kv ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "id": {rawID}, "before": {"120"}, "after": {"120"}, "depth": {"1"}, "search": {SearchAll}, "proximity": {ProximityPlan}}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = append(v[kv[i]][:0], kv[i+1])
	}
	return v
}

func TestFinderRoles(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{"t-token", "a-token", "x-token"} {
		c := e.client()
		csrf := e.finderCSRF(c, tok)
		assert.Contains(t, e.get(c, "/console/person").body, `id="nav-finder"`, tok)
		page, _ := e.find(c, caseForm(csrf))
		assert.Contains(t, page.body, `id="contact-count">3<`, tok)
		// Only a transcoder gets the push form.
		assert.Equal(t, roles[tok].Has(RoleTranscoder), strings.Contains(page.body, `id="push-form"`), tok)
	}
	// A rules admin neither sees the link nor runs a query nor reads a task.
	c := e.client()
	csrf := e.signIn(c, "r-token")
	assert.NotContains(t, e.get(c, "/console/person").body, "nav-finder")
	assert.Equal(t, http.StatusForbidden, e.get(c, "/console/finder").status)
	assert.Equal(t, http.StatusForbidden, e.get(c, "/console/finder/tasks/T1").status)
	assert.Equal(t, http.StatusForbidden, e.get(c, "/console/finder/tasks/T1/contacts.csv").status)
	n := len(e.fake.findLog())
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/finder", caseForm(csrf)).status)
	assert.Len(t, e.fake.findLog(), n)
	last := e.fake.auditLog()[len(e.fake.auditLog())-1]
	assert.Equal(t, "console_finder", last.Action)
	assert.Equal(t, "forbidden", last.Outcome)

	// An auditor may not push: 403, audited, nothing started.
	a := e.client()
	csrf = e.finderCSRF(a, "a-token")
	r := e.post(a, "/console/finder/tasks/T1/push", url.Values{"csrf": {csrf}, "colour": {"red"}, "authorisation": {"川疾控〔2022〕1号"}, "reason": {"密接"}, "confirm": {"yes"}, "max_hop": {"0"}})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Empty(t, e.fake.pushLog())
	last = e.fake.auditLog()[len(e.fake.auditLog())-1]
	assert.Equal(t, AuditAttempt{Actor: "bob", Action: "console_push", Role: RoleTranscoder, Outcome: "forbidden", Detail: "lacks role transcoder"},
		AuditAttempt{Actor: last.Actor, Action: last.Action, Role: last.Role, Outcome: last.Outcome, Detail: last.Detail})
}

// TestFinderOptional: a Backend without the finder has no page and no
// link to it.
func TestFinderOptional(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Backend = struct{ Backend }{c.Backend} })
	c := e.client()
	e.signIn(c, "t-token")
	assert.NotContains(t, e.get(c, "/console/person").body, "/console/finder")
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/finder").status)
}

func TestFinderCSRF(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	e.find(c, caseForm(csrf))
	for _, path := range []string{"/console/finder", "/console/finder/venues", "/console/finder/tasks/T1/push", "/console/finder/push/T1-P1/stop"} {
		r := e.post(c, path, url.Values{"csrf": {"wrong"}, "id": {rawID}, "venue_q": {"春熙路"}, "colour": {"red"}, "authorisation": {"x"}, "reason": {"y"}, "confirm": {"yes"}, "max_hop": {"0"}})
		assert.Equal(t, http.StatusForbidden, r.status, path)
	}
	assert.Len(t, e.fake.findLog(), 1)
	assert.Empty(t, e.fake.pushLog())
}

func TestFinderQuery(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "a-token")
	page, id := e.find(c, caseForm(csrf, "name", "春熙路聚集 <1>", "since", "2022-05-10T00:00", "before", "30", "after", "60", "depth", "2",
		"max_per_window", "50", "max_per_hop", "1000", "search", SearchVenues, "proximity", ProximityWholeTrip))
	assert.Equal(t, "T1", id)
	q := e.fake.findLog()[0]
	assert.Equal(t, Who{ID: rawID}, q.Who)
	assert.Equal(t, "春熙路聚集 <1>", q.Name)
	assert.Equal(t, 30*time.Minute, q.Before)
	assert.Equal(t, time.Hour, q.After)
	assert.Equal(t, 2, q.Depth)
	assert.Equal(t, 50, q.MaxPerWindow)
	assert.Equal(t, 1000, q.MaxPerHop)
	assert.Equal(t, 2022, q.Since.Year())
	assert.Equal(t, SearchVenues, q.Search)
	assert.Equal(t, ProximityWholeTrip, q.Proximity)
	// Provenance, hops and the caps' cut counts.
	assert.Equal(t, 5, strings.Count(page.body, `class="contact contact-venue"`))
	assert.Contains(t, page.body, "成都市锦江区春熙路太古里店")
	assert.Contains(t, page.body, "a1b2c1…9e0b")
	assert.Contains(t, page.body, `<td class="cut-window">17</td>`)
	assert.Contains(t, page.body, `<td class="cut-hop">5</td>`)
	assert.Contains(t, page.body, `&lt;b&gt;春熙&lt;/b&gt;`)
	assert.Contains(t, page.body, `春熙路聚集 &lt;1&gt;`)
	assert.Contains(t, page.body, `id="case" class="masked">`+mask(Who{ID: rawID}))

	// Bad fields are shown next to the field, and nothing runs.
	n := len(e.fake.findLog())
	for name, form := range map[string]url.Values{
		"depth 3":       caseForm(csrf, "depth", "3", "before", "x"),
		"search":        caseForm(csrf, "search", "everything"),
		"proximity":     caseForm(csrf, "proximity", "same-row"),
		"long name":     caseForm(csrf, "name", strings.Repeat("名", 65)),
		"id in name":    caseForm(csrf, "name", "病例"+rawID),
		"phone in name": caseForm(csrf, "name", rawPhone+"的密接"),
		"trip no day":   caseForm(csrf, "mode_0", "plane", "number_0", "CA4193"),
		"trip mode":     caseForm(csrf, "mode_0", "rocket", "number_0", "CA4193", "day_0", "2022-05-14"),
		"trip seat":     caseForm(csrf, "mode_0", "plane", "number_0", "CA4193", "day_0", "2022-05-14", "seat_0", "AB"),
		"trip car":      caseForm(csrf, "mode_0", "train-sealed", "number_0", "G1234", "day_0", "2022-05-14", "car_0", "-1"),
		"unknown task":  caseForm(csrf, "exclude", "T99"),
	} {
		r := e.post(c, "/console/finder", form)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, name)
		assert.Contains(t, r.body, `class="field-error"`, name)
		assert.NotContains(t, r.body, rawID, name)
		assert.NotContains(t, r.body, rawPhone, name)
	}
	assert.Len(t, e.fake.findLog(), n)
	r := e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "search": {SearchAll}, "proximity": {ProximityPlan}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="id-error"`)
	r = e.post(c, "/console/finder", caseForm(csrf, "id", "110105194912310011"))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, "no scans recorded")
}

// TestFinderVisitsAndTrips: each chosen venue has its own time range,
// kept across a second search; the shared range fills a blank one; a
// reported trip is read with its seat.
func TestFinderVisitsAndTrips(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	// Partial, out-of-order terms; the matches come back to choose from.
	r := e.post(c, "/console/finder/venues", url.Values{"csrf": {csrf}, "venue_q": {"太古里 春熙路"}, "before": {"45"}})
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="venues"`)
	assert.Contains(t, r.body, `value="v1"`)
	assert.NotContains(t, r.body, `value="v2"`)
	assert.Contains(t, r.body, `id="before" name="before" value="45"`)
	assert.Contains(t, e.post(c, "/console/finder/venues", url.Values{"csrf": {csrf}, "venue_q": {"北京"}}).body, `id="venue-error"`)

	// v1 is ticked with its range; a second search for another venue keeps
	// it, ticked, with its range.
	r = e.post(c, "/console/finder/venues", url.Values{"csrf": {csrf}, "venue_q": {"万达"}, "venue": {"v1"}, "vname_v1": {fakeVenues[0].Name},
		"from_v1": {"2022-05-14T09:00"}, "to_v1": {"2022-05-14T09:40"}})
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `value="v1" id="venue-v1" checked`)
	assert.Contains(t, r.body, `value="v2" id="venue-v2">`)
	assert.Contains(t, r.body, `name="from_v1" id="from-v1" value="2022-05-14T09:00"`)
	assert.Contains(t, r.body, fakeVenues[0].Name)

	// A chosen venue needs a range, its own or the shared one.
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "venue": {"v1", "v2"}, "search": {SearchAll}, "proximity": {ProximityPlan}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `name="from_v1" id="from-v1" value=""><span class="field-error">`)
	_, id := e.find(c, url.Values{"csrf": {csrf}, "venue": {"v1", "v2"}, "search": {SearchAll}, "proximity": {ProximityPlan},
		"from_v1": {"2022-05-14T09:00"}, "to_v1": {"2022-05-14T09:40"},
		"visit_from": {"2022-05-14T12:00"}, "visit_to": {"2022-05-14T14:00"},
		"mode_0": {"train-sealed"}, "number_0": {"G1234"}, "day_0": {"2022-05-14"}, "car_0": {"3"}, "row_0": {"12"}, "seat_0": {"f"}})
	q := e.fake.findLog()[0]
	assert.Equal(t, Who{}, q.Who)
	require.Len(t, q.Visits, 2)
	assert.Equal(t, "v1", q.Visits[0].Venue)
	assert.Equal(t, 40*time.Minute, q.Visits[0].To.Sub(q.Visits[0].From))
	assert.Equal(t, "v2", q.Visits[1].Venue)
	assert.Equal(t, 12, q.Visits[1].From.Hour())
	assert.Equal(t, []FinderTrip{{Mode: "train-sealed", Number: "G1234", Day: time.Date(2022, 5, 14, 0, 0, 0, 0, time.Local), Car: 3, Row: 12, Seat: "F"}}, q.Trips)
	page := e.get(c, "/console/finder/tasks/"+id)
	assert.Equal(t, 1, strings.Count(page.body, `class="contact contact-trip"`))
	assert.Contains(t, page.body, "G1234 2022-05-14")
}

// TestFinderExclude: a later task excludes the people an earlier one
// identified; the finder lists the earlier tasks to tick.
func TestFinderExclude(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	first, _ := e.find(c, caseForm(csrf, "name", "第一轮"))
	assert.Contains(t, first.body, `id="contact-count">3<`)
	form := e.get(c, "/console/finder")
	assert.Contains(t, form.body, `name="exclude" value="T1"`)
	assert.Contains(t, form.body, "第一轮")
	second, _ := e.find(c, caseForm(csrf, "name", "第二轮", "depth", "2", "exclude", "T1"))
	assert.Equal(t, []string{"T1"}, e.fake.findLog()[1].Exclude)
	// The three hop-1 people of T1 are gone; the hop-2 people remain.
	assert.Contains(t, second.body, `id="contact-count">2<`)
	assert.Contains(t, second.body, `id="excluded">T1<`)
	list := e.get(c, "/console/finder")
	assert.Less(t, strings.Index(list.body, "第二轮"), strings.Index(list.body, "第一轮"), "newest first")
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/finder/tasks/T9").status)
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/finder/tasks/x").status)
}

// TestFinderNoRawIdentity: the identity typed in is never written to the
// page, a URL or the CSV.
func TestFinderNoRawIdentity(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	for _, who := range []url.Values{{"id": {rawID}}, {"id": {""}, "phone": {rawPhone}}} {
		form := caseForm(csrf, "depth", "2")
		for k, v := range who {
			form[k] = v
		}
		r := e.post(c, "/console/finder", form)
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		loc := r.header.Get("Location")
		assert.NotContains(t, loc, rawID)
		assert.NotContains(t, loc, rawPhone)
		page := e.get(c, loc)
		assert.NotContains(t, page.body, rawID)
		assert.NotContains(t, page.body, rawPhone)
		x := e.get(c, loc+"/contacts.csv")
		require.Equal(t, http.StatusOK, x.status, x.body)
		assert.Equal(t, "text/csv; charset=utf-8", x.header.Get("Content-Type"))
		assert.NotContains(t, x.body, rawID)
		assert.NotContains(t, x.body, rawPhone)
		rows, err := csv.NewReader(strings.NewReader(x.body)).ReadAll()
		require.NoError(t, err)
		assert.Equal(t, finderColumns, rows[0])
		assert.Len(t, rows, 6)
		assert.Equal(t, []string{"2", "d4e5f0…1234", "venue", "v2", fakeVenues[1].Name, "", "", "2022-05-14T14:30:00Z", "a1b2c1…9e0b", "2022-05-14T10:30:00Z"}, rows[4])
	}
	// The finder form never echoes an identity back.
	r := e.post(c, "/console/finder", caseForm(csrf, "depth", "7"))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.NotContains(t, r.body, rawID)
}

func TestFinderPush(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	e.find(c, caseForm(csrf, "depth", "2"))
	ok := url.Values{"csrf": {csrf}, "colour": {"yellow"}, "authorisation": {"川疾控〔2022〕1号"}, "reason": {"时空伴随"}, "confirm": {"yes"}, "max_hop": {"1"}}
	// Each missing piece is refused inline, and nothing starts.
	for _, drop := range []string{"authorisation", "reason", "confirm"} {
		form := url.Values{}
		for k, v := range ok {
			if k != drop {
				form[k] = v
			}
		}
		r := e.post(c, "/console/finder/tasks/T1/push", form)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, drop)
		assert.Contains(t, r.body, `id="push-`+drop+`-error"`, drop)
		assert.Contains(t, r.body, `id="contact-count">5<`, drop)
	}
	r := e.post(c, "/console/finder/tasks/T1/push", url.Values{"csrf": {csrf}, "colour": {"purple"}, "authorisation": {"a"}, "reason": {"b"}, "confirm": {"yes"}, "max_hop": {"0"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, http.StatusNotFound, e.post(c, "/console/finder/tasks/T7/push", ok).status)
	assert.Empty(t, e.fake.pushLog())

	r = e.post(c, "/console/finder/tasks/T1/push", ok)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Equal(t, "/console/finder/push/T1-P1", r.header.Get("Location"))
	pv := e.fake.pushLog()[0]
	assert.Equal(t, 3, pv.Total, "hop 1 only")
	assert.Equal(t, "yellow", pv.Colour)
	assert.Equal(t, "alice", pv.Actor)

	page := e.get(c, "/console/finder/push/T1-P1")
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `<progress id="push-progress" max="3" value="1">`)
	assert.Contains(t, page.body, `src="/console/static/push.js"`)
	assert.Contains(t, page.body, `id="push-stop"`)
	st := e.get(c, "/console/finder/push/T1-P1/status")
	require.Equal(t, http.StatusOK, st.status)
	var js pushStatus
	require.NoError(t, json.Unmarshal([]byte(st.body), &js))
	assert.Equal(t, pushStatus{State: PushRunning, Label: labels["zh"]["push_running"], Total: 3, Done: 1}, js)

	r = e.post(c, "/console/finder/push/T1-P1/stop", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, PushStopped, e.fake.pushLog()[0].State)
	assert.NotContains(t, e.get(c, "/console/finder/push/T1-P1").body, `id="push-stop"`)
	assert.Contains(t, e.get(c, "/console/finder/tasks/T1").body, `href="/console/finder/push/T1-P1"`)
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/finder/push/T1-P9").status)
}

func TestFinderNoInlineScript(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	task, _ := e.find(c, caseForm(csrf, "depth", "2"))
	e.post(c, "/console/finder/tasks/T1/push", url.Values{"csrf": {csrf}, "colour": {"red"}, "authorisation": {"a"}, "reason": {"b"}, "confirm": {"yes"}, "max_hop": {"0"}})
	for name, r := range map[string]resp{
		"page":    e.get(c, "/console/finder"),
		"venues":  e.post(c, "/console/finder/venues", url.Values{"csrf": {csrf}, "venue_q": {"春熙路"}}),
		"task":    task,
		"push":    e.get(c, "/console/finder/push/T1-P1"),
		"refused": e.post(c, "/console/finder", url.Values{"csrf": {csrf}}),
	} {
		assert.Equal(t, CSP, r.header.Get("Content-Security-Policy"), name)
		assert.Empty(t, inlineRE.FindAllString(r.body, -1), name)
	}
}

// TestTaskPageCap: a task's page lists its first maxTaskRows contacts and
// says how many more the CSV has.
func TestTaskPageCap(t *testing.T) {
	c, err := New(Config{Backend: newFake()})
	require.NoError(t, err)
	tv := TaskView{TaskSummary: TaskSummary{ID: "T1", Name: "大任务"}}
	for i := range maxTaskRows + 234 {
		tv.Result.Contacts = append(tv.Result.Contacts, ContactView{Hop: 1, Kind: "venue", Person: fmt.Sprintf("p%05d", i)})
	}
	page := newTaskPage(tv)
	require.Len(t, page.Shown, maxTaskRows)
	require.Equal(t, 234, page.Hidden)
	var buf strings.Builder
	require.NoError(t, c.pages["finder_task"].ExecuteTemplate(&buf, "base", view{T: labels["zh"], Lang: "zh", Data: page, Can: map[string]bool{}}))
	assert.Equal(t, maxTaskRows, strings.Count(buf.String(), `<tr class="contact`))
	assert.Contains(t, buf.String(), `id="hidden-contacts">`+labels["zh"]["more_in_csv"]+`: <b>234</b>`)
	assert.Contains(t, buf.String(), `id="contact-count">1234<`)
}
