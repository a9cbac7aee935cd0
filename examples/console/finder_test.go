package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake's finder: three venues; a case (rawID) with a contact per
// venue window and two more at hop 2; a cap that cuts people.
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

func (f *fakeBackend) Find(_ context.Context, p Principal, q FinderQuery, _ string) (FinderResult, error) {
	if q.Who.ID != "" && q.Who.ID != rawID {
		return FinderResult{}, &FieldError{Field: "id", Msg: "no scans recorded for this person"}
	}
	f.mu.Lock()
	f.finds = append(f.finds, q)
	f.mu.Unlock()
	at := time.Date(2022, 5, 14, 9, 30, 0, 0, time.UTC)
	res := FinderResult{Took: 3 * time.Millisecond}
	if q.Who.ID != "" {
		res.Case = mask(q.Who)
	}
	for i, v := range fakeVenues {
		res.Contacts = append(res.Contacts, ContactView{Hop: 1, Person: fmt.Sprintf("a1b2c%d…9e0b", i), Venue: v.ID, VenueName: v.Name, Time: at.Add(time.Duration(i) * time.Hour), Via: "case01…0001", ViaTime: at})
	}
	cut := 0
	if q.MaxPerWindow > 0 {
		cut = 17
	}
	res.Hops = []HopView{{Hop: 1, Windows: 3, Contacts: 3, CappedWindows: min(cut, 1), CutByWindow: cut}}
	if q.Depth == 2 {
		for i := range 2 {
			res.Contacts = append(res.Contacts, ContactView{Hop: 2, Person: fmt.Sprintf("d4e5f%d…1234", i), Venue: "v2", VenueName: fakeVenues[1].Name, Time: at.Add(5 * time.Hour), Via: "a1b2c1…9e0b", ViaTime: at.Add(time.Hour)})
		}
		res.Hops = append(res.Hops, HopView{Hop: 2, Windows: 4, Contacts: 2, CutByHop: 5})
	}
	return res, nil
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

var exportRE = regexp.MustCompile(`href="(/console/finder/export/[^"]+)"`)

func TestFinderRoles(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{"t-token", "a-token", "x-token"} {
		c := e.client()
		csrf := e.finderCSRF(c, tok)
		assert.Contains(t, e.get(c, "/console/person").body, `id="nav-finder"`, tok)
		r := e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {rawID}, "before": {"120"}, "after": {"120"}, "depth": {"1"}})
		assert.Equal(t, http.StatusOK, r.status, tok)
		assert.Contains(t, r.body, `id="contact-count">3<`, tok)
	}
	// A rules admin neither sees the link nor runs a query.
	c := e.client()
	csrf := e.signIn(c, "r-token")
	assert.NotContains(t, e.get(c, "/console/person").body, "nav-finder")
	assert.Equal(t, http.StatusForbidden, e.get(c, "/console/finder").status)
	n := len(e.fake.findLog())
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {rawID}}).status)
	assert.Len(t, e.fake.findLog(), n)
	last := e.fake.auditLog()[len(e.fake.auditLog())-1]
	assert.Equal(t, "console_finder", last.Action)
	assert.Equal(t, "forbidden", last.Outcome)
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
	e.finderCSRF(c, "t-token")
	for _, path := range []string{"/console/finder", "/console/finder/venues"} {
		r := e.post(c, path, url.Values{"csrf": {"wrong"}, "id": {rawID}, "venue_q": {"春熙路"}})
		assert.Equal(t, http.StatusForbidden, r.status, path)
	}
	assert.Empty(t, e.fake.findLog())
}

func TestFinderQuery(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "a-token")
	r := e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {rawID}, "since": {"2022-05-10T00:00"},
		"before": {"30"}, "after": {"60"}, "depth": {"2"}, "max_per_window": {"50"}, "max_per_hop": {"1000"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	q := e.fake.findLog()[0]
	assert.Equal(t, Who{ID: rawID}, q.Who)
	assert.Equal(t, 30*time.Minute, q.Before)
	assert.Equal(t, time.Hour, q.After)
	assert.Equal(t, 2, q.Depth)
	assert.Equal(t, 50, q.MaxPerWindow)
	assert.Equal(t, 1000, q.MaxPerHop)
	assert.Equal(t, 2022, q.Since.Year())
	// Provenance, hops and the caps' cut counts.
	assert.Equal(t, 5, strings.Count(r.body, `class="contact"`))
	assert.Contains(t, r.body, "成都市锦江区春熙路太古里店")
	assert.Contains(t, r.body, "a1b2c1…9e0b")
	assert.Contains(t, r.body, `<td class="cut-window">17</td>`)
	assert.Contains(t, r.body, `<td class="cut-hop">5</td>`)
	assert.Contains(t, r.body, `&lt;b&gt;春熙&lt;/b&gt;`)
	assert.Contains(t, r.body, `id="case">`+mask(Who{ID: rawID}))

	// Bad fields are shown next to the field, and nothing runs.
	n := len(e.fake.findLog())
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {rawID}, "depth": {"3"}, "before": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Len(t, e.fake.findLog(), n)
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="id-error"`)
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {"110105194912310011"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, "no scans recorded")
}

func TestFinderVenues(t *testing.T) {
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

	// Reported visits need their time range.
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "venue": {"v1", "v2"}, "venue_q": {"成都"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="visit-from-error"`)
	r = e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "venue": {"v1", "v2"}, "venue_q": {"成都"},
		"visit_from": {"2022-05-14T09:00"}, "visit_to": {"2022-05-14T11:00"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	q := e.fake.findLog()[0]
	assert.Equal(t, Who{}, q.Who)
	require.Len(t, q.Visits, 2)
	assert.Equal(t, "v2", q.Visits[1].Venue)
	assert.Equal(t, 2*time.Hour, q.Visits[0].To.Sub(q.Visits[0].From))
	assert.Contains(t, r.body, `value="v1" checked`)
}

// TestFinderNoRawIdentity: the identity typed in is never written to the
// page, the export link or the CSV.
func TestFinderNoRawIdentity(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	for _, who := range []url.Values{{"id": {rawID}}, {"phone": {rawPhone}}} {
		form := url.Values{"csrf": {csrf}, "depth": {"2"}}
		for k, v := range who {
			form[k] = v
		}
		r := e.post(c, "/console/finder", form)
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.NotContains(t, r.body, rawID)
		assert.NotContains(t, r.body, rawPhone)
		m := exportRE.FindStringSubmatch(r.body)
		require.NotNil(t, m, r.body)
		assert.NotContains(t, m[1], rawID)
		x := e.get(c, m[1])
		require.Equal(t, http.StatusOK, x.status, x.body)
		assert.Equal(t, "text/csv; charset=utf-8", x.header.Get("Content-Type"))
		assert.NotContains(t, x.body, rawID)
		assert.NotContains(t, x.body, rawPhone)
		rows, err := csv.NewReader(strings.NewReader(x.body)).ReadAll()
		require.NoError(t, err)
		assert.Equal(t, finderColumns, rows[0])
		assert.Len(t, rows, 6)
		assert.Equal(t, []string{"2", "d4e5f0…1234", "v2", fakeVenues[1].Name, "2022-05-14T14:30:00Z", "a1b2c1…9e0b", "2022-05-14T10:30:00Z"}, rows[4])
		// The export re-ran the saved query.
		last := e.fake.findLog()[len(e.fake.findLog())-1]
		assert.Equal(t, 2, last.Depth)

		// Another session cannot use the id.
		o := e.client()
		e.signIn(o, "t-token")
		assert.Equal(t, http.StatusNotFound, e.get(o, m[1]).status)
	}
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/finder/export/nope").status)
}

func TestFinderNoInlineScript(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.finderCSRF(c, "t-token")
	for name, r := range map[string]resp{
		"page":    e.get(c, "/console/finder"),
		"venues":  e.post(c, "/console/finder/venues", url.Values{"csrf": {csrf}, "venue_q": {"春熙路"}}),
		"result":  e.post(c, "/console/finder", url.Values{"csrf": {csrf}, "id": {rawID}, "depth": {"2"}}),
		"refused": e.post(c, "/console/finder", url.Values{"csrf": {csrf}}),
	} {
		assert.Equal(t, CSP, r.header.Get("Content-Security-Policy"), name)
		assert.Empty(t, inlineRE.FindAllString(r.body, -1), name)
	}
}
