package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake's venue statistics: 15 days of scans ending on the fake's
// today, and two rankings whose first venue has a name to escape.
func fakeVenueStats(days []DayRow) *VenueStats {
	v := &VenueStats{Registered: 300, Active: 287}
	for i, d := range days {
		v.Days = append(v.Days, VenueDay{Date: d.Date, Scans: 1900 + 37*i})
	}
	v.Today = v.Days[len(v.Days)-1].Scans
	for i := range 10 {
		v.TopToday = append(v.TopToday, VenueRank{Code: fmt.Sprintf("demo-%03d", i), Name: fmt.Sprintf("成都市锦江区春熙路%d号店", i), Scans: 90 - 7*i})
		v.TopWeek = append(v.TopWeek, VenueRank{Code: fmt.Sprintf("demo-%03d", 10+i), Name: fmt.Sprintf("成都市武侯区科华北路%d号", i), Scans: 600 - 40*i})
	}
	v.TopWeek[0].Name = "<b>万达</b>广场"
	return v
}

// fakeUsers are the fake's red/yellow people: 137 of them, over four
// regions (two in Chengdu, 5101xx), three rules and the 15 days,
// already masked as a server would mask them.
var fakeUsers = func() []UserRow {
	regions := []string{"510104", "510107", "440305", "110105"}
	rules := []string{"sichuan/contact", "sichuan/positive", "manual"}
	var out []UserRow
	for i := range 137 {
		u := UserRow{Person: fmt.Sprintf("%06x…%04x", 0xa1b2c3+i*7919, i), Colour: "yellow",
			Region: regions[i%len(regions)], Rule: rules[i%len(rules)], RuleVersion: "v3", Reason: "规则赋码",
			Since: time.Date(2022, 5, 1+i%15, 9, i%60, 0, 0, time.UTC)}
		if i%5 == 0 {
			u.Colour = "red"
		}
		if u.Rule == "manual" {
			u.RuleVersion, u.Reason = "", "流调确认 <b>密接</b>"
		}
		out = append(out, u)
	}
	slices.SortStableFunc(out, func(a, b UserRow) int { return b.Since.Compare(a.Since) })
	return out
}()

var _ UsersBackend = (*fakeBackend)(nil)

// Users filters fakeUsers as a server would and audits the view.
func (f *fakeBackend) Users(ctx context.Context, p Principal, q UsersQuery, client string) (UsersResult, error) {
	if q.Rule == "no-such/rule" {
		return UsersResult{}, &FieldError{Field: "rule", Msg: "no such rule"}
	}
	var res UsersResult
	for _, u := range fakeUsers {
		if !slices.Contains(res.Regions, u.Region) {
			res.Regions = append(res.Regions, u.Region)
		}
		if !slices.Contains(res.Rules, u.Rule) {
			res.Rules = append(res.Rules, u.Rule)
		}
		day := u.Since.Format(time.DateOnly)
		if (q.Colour != "" && u.Colour != q.Colour) || !strings.HasPrefix(u.Region, q.Region) || (q.Rule != "" && u.Rule != q.Rule) ||
			(q.Since != "" && day < q.Since) || (q.Until != "" && day > q.Until) {
			continue
		}
		if res.Total >= q.Offset && (q.Limit == 0 || len(res.Rows) < q.Limit) {
			res.Rows = append(res.Rows, u)
		}
		res.Total++
	}
	slices.Sort(res.Regions)
	slices.Sort(res.Rules)
	f.Audit(ctx, AuditAttempt{At: time.Now(), Actor: p.Actor, Action: "console_users", Role: roleUsers, Outcome: "ok",
		Detail: fmt.Sprintf("%d of %d", len(res.Rows), res.Total), Client: client})
	return res, nil
}

var (
	userRowRE = regexp.MustCompile(`<tr class="user"><td class="masked">([^<]+)</td><td><span class="code colour-(\w+)">[^<]*</span></td><td class="region">(\d+)</td><td class="rule">([^< ]+)`)
	maskedRE  = regexp.MustCompile(`^[0-9a-f]{6}…[0-9a-f]{4}$`)
	totalRE   = regexp.MustCompile(`id="users-total">(\d+)<`)
)

// userRows are the list's rows on a page: person, colour, region, rule.
func userRows(body string) [][]string {
	var out [][]string
	for _, m := range userRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1:])
	}
	return out
}

// TestUsersList pages through the list and filters it: 50 rows a page,
// page 2 follows page 1, the links keep the filter, every person masked.
func TestUsersList(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "a-token")

	r := e.get(c, "/console/stats/users")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []string{"137"}, totalRE.FindStringSubmatch(r.body)[1:])
	p1 := userRows(r.body)
	require.Len(t, p1, usersPerPage)
	assert.Equal(t, fakeUsers[0].Person, p1[0][0], "newest state first")
	assert.NotContains(t, r.body, `id="prev"`)
	assert.Contains(t, r.body, `href="/console/stats/users?page=2" id="next"`)

	r = e.get(c, "/console/stats/users?page=2")
	p2 := userRows(r.body)
	require.Len(t, p2, usersPerPage)
	assert.Equal(t, fakeUsers[usersPerPage].Person, p2[0][0])
	assert.Contains(t, r.body, `href="/console/stats/users?page=1" id="prev"`)
	r = e.get(c, "/console/stats/users?page=3")
	assert.Len(t, userRows(r.body), 137-2*usersPerPage)
	assert.NotContains(t, r.body, `id="next"`)
	assert.Contains(t, r.body, `id="page-no">3</b> / 3`)

	// Region 5101 (Chengdu) prefix, red only, a date range: every row
	// matches, and the next link carries the filter.
	r = e.get(c, "/console/stats/users?colour=red&region=5101&since=2022-05-01&until=2022-05-15")
	require.Equal(t, http.StatusOK, r.status)
	rows := userRows(r.body)
	require.NotEmpty(t, rows)
	want := 0
	for _, u := range fakeUsers {
		if u.Colour == "red" && strings.HasPrefix(u.Region, "5101") {
			want++
		}
	}
	assert.Equal(t, fmt.Sprint(want), totalRE.FindStringSubmatch(r.body)[1])
	for _, row := range rows {
		assert.Equal(t, "red", row[1])
		assert.True(t, strings.HasPrefix(row[2], "5101"), row)
	}
	assert.Contains(t, r.body, `value="5101"`, "the filter is kept in the form")
	r = e.get(c, "/console/stats/users?rule=manual&since=2022-05-09&until=2022-05-12")
	for _, row := range userRows(r.body) {
		assert.Equal(t, "manual", row[3])
	}
	assert.NotEmpty(t, userRows(r.body))

	for _, row := range append(p1, p2...) {
		assert.Regexp(t, maskedRE, row[0])
	}
	for _, a := range e.fake.auditLog() {
		assert.Equal(t, "console_users", a.Action)
		assert.Equal(t, "bob", a.Actor)
	}
	assert.Len(t, e.fake.auditLog(), 5, "every view audited by the backend")
}

// TestUsersListBadFilter: each bad value is named next to its field with
// 422, and nothing is listed or asked of the backend.
func TestUsersListBadFilter(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "t-token")
	for _, tc := range []struct{ query, field string }{
		{"colour=green", "colour"},
		{"region=51a", "region"},
		{"region=5", "region"},
		{"region=5101041", "region"},
		{"rule=" + url.QueryEscape("<script>"), "rule"},
		{"since=2022-13-01", "since"},
		{"until=yesterday", "until"},
		{"since=2022-05-10&until=2022-05-01", "until"},
		{"page=0", "page"},
		{"page=x", "page"},
	} {
		r := e.get(c, "/console/stats/users?"+tc.query)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, tc.query)
		assert.Contains(t, r.body, `id="`+tc.field+`-error"`, tc.query)
		assert.NotContains(t, r.body, `id="users"`, tc.query)
	}
	assert.Empty(t, e.fake.auditLog(), "refused before the backend")
	// A refusal of the backend's is shown the same way.
	r := e.get(c, "/console/stats/users?rule=no-such/rule")
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `<span class="field-error" id="rule-error">no such rule</span>`)
	r = e.get(c, "/console/stats/users?lang=en&region=x")
	assert.Contains(t, r.body, "want a region code of 2 to 6 digits")
}

// TestUsersListRole: a session without auditor or transcoder is refused
// (403, audited, nothing listed) and sees no link; the others see it.
func TestUsersListRole(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "r-token")
	r := e.get(c, "/console/stats/users")
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.NotContains(t, r.body, `class="masked"`)
	a := e.fake.auditLog()
	require.Len(t, a, 1)
	assert.Equal(t, AuditAttempt{Actor: "carol", Action: "console_users", Role: roleUsers, Outcome: "forbidden", Detail: "lacks role auditor|transcoder", Client: "127.0.0.1"},
		AuditAttempt{Actor: a[0].Actor, Action: a[0].Action, Role: a[0].Role, Outcome: a[0].Outcome, Detail: a[0].Detail, Client: a[0].Client})
	assert.NotContains(t, e.get(c, "/console/stats").body, `id="users-link"`)

	for _, tok := range []string{"a-token", "x-token"} {
		c := e.client()
		e.signIn(c, tok)
		assert.Contains(t, e.get(c, "/console/stats").body, `href="/console/stats/users" id="users-link"`, tok)
		assert.Equal(t, http.StatusOK, e.get(c, "/console/stats/users").status, tok)
	}
	// Signed out: the sign-in page, as everywhere.
	assert.Equal(t, http.StatusSeeOther, e.get(e.client(), "/console/stats/users").status)
	// Only GET.
	assert.NotEqual(t, http.StatusOK, e.post(c, "/console/stats/users", nil).status)
}

// noUsers is a Backend without the users list.
type noUsers struct{ Backend }

// TestUsersListOptional: without a UsersBackend there is no page and no
// link, and the rest of the console is served as before.
func TestUsersListOptional(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Backend = noUsers{c.Backend} })
	c := e.client()
	e.signIn(c, "t-token")
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/stats/users").status)
	r := e.get(c, "/console/stats")
	assert.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.body, "/console/stats/users")
}

// TestVenueStats: the venue section's figures, its two charts and its
// rankings; without a scan log the section says so.
func TestVenueStats(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.stats.Venues = fakeVenueStats(e.fake.stats.Days)
	c := e.client()
	e.signIn(c, "r-token")
	r := e.get(c, "/console/stats")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="venues-registered">300<`)
	assert.Contains(t, r.body, `id="venues-active">287<`)
	assert.Contains(t, r.body, `id="scans-today">2418<`)
	assert.Equal(t, 10, strings.Count(chartOf(t, r.body, "chart-top-venues"), "</rect>"), "a bar a venue")
	assert.Equal(t, 15, strings.Count(chartOf(t, r.body, "chart-venue-days"), "</rect>"), "a bar a day")
	assert.Contains(t, r.body, "<td>2022-05-15</td><td>2418</td>")
	assert.Contains(t, r.body, "<td>成都市锦江区春熙路0号店</td><td>demo-000</td><td>90</td>")
	assert.Contains(t, r.body, "<td>&lt;b&gt;万达&lt;/b&gt;广场</td><td>demo-010</td><td>600</td>")
	assert.NotContains(t, r.body, "<b>万达")

	e.fake.stats.Venues = nil
	r = e.get(c, "/console/stats")
	assert.Contains(t, r.body, `id="no-scan-log"`)
	assert.NotContains(t, r.body, `id="chart-venue-days"`)
}

func chartOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `"><svg[^>]*>(.*?)</svg>`).FindStringSubmatch(body)
	require.NotNil(t, m, id)
	return m[1]
}

// TestUsersListNoRawIdentity: no page of the list, and no link on it,
// holds the fake's raw identities; the masked persons are all there is.
func TestUsersListNoRawIdentity(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "t-token")
	for _, q := range []string{"", "?page=2", "?colour=yellow&region=44"} {
		r := e.get(c, "/console/stats/users"+q)
		for _, raw := range []string{rawID, rawPhone} {
			assert.NotContains(t, r.body, raw)
		}
		for _, row := range userRows(r.body) {
			assert.Regexp(t, maskedRE, row[0])
		}
	}
}
