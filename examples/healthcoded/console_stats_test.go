package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/stretchr/testify/require"
)

var (
	userRowRE   = regexp.MustCompile(`<tr class="user"><td class="masked">([^<]*)</td><td><span class="code colour-(\w+)">[^<]*</span></td><td class="region">([^<]*)</td><td class="rule">([^< ]*)`)
	usersTotal  = regexp.MustCompile(`id="users-total">(\d+)<`)
	maskedKeyRE = regexp.MustCompile(`^[0-9a-f]{6}…[0-9a-f]{4}$`)
)

func figure(t *testing.T, body, id string) int {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(body)
	require.NotNil(t, m, id)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// scanOracle counts the scan log the simple way: scans a day (Shanghai),
// by venue today and over 7 days.
type scanOracle struct {
	perDay       map[string]int
	today, week  map[string]int // venue -> scans
	active       map[string]bool
	todayKey     string
	windowByDate []string
}

func readScans(t *testing.T, path string, now time.Time) scanOracle {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	o := scanOracle{perDay: map[string]int{}, today: map[string]int{}, week: map[string]int{}, active: map[string]bool{}, todayKey: dayOf(now)}
	for i := demoDays; i >= 0; i-- {
		o.windowByDate = append(o.windowByDate, dayOf(now.AddDate(0, 0, -i)))
	}
	for _, r := range rows[1:] {
		sec, err := strconv.ParseInt(r[0], 10, 64)
		require.NoError(t, err)
		day := dayOf(time.Unix(sec, 0))
		i := slices.Index(o.windowByDate, day)
		if i < 0 {
			continue
		}
		o.perDay[day]++
		o.active[r[1]] = true
		if i == demoDays {
			o.today[r[1]]++
		}
		if i >= demoDays-6 {
			o.week[r[1]]++
		}
	}
	return o
}

// best is the venue with the most scans (ties by code) and its count.
func best(m map[string]int) (string, int) {
	var code string
	n := -1
	for k, v := range m {
		if v > n || (v == n && k < code) {
			code, n = k, v
		}
	}
	return code, n
}

// TestConsoleStats drives the real server's statistics over HTTP with a
// session, on the demo data of 1 000 people: the venue figures and
// rankings against a count of scans.csv; the red/yellow users list against
// demo-people.csv (total, by region, by rule), paged 50 at a time, page 2
// not page 1, every person masked and no document number or phone on any
// page, link or log line; a bad filter named with 422; a role without the
// right refused with 403; and every view audited.
func TestConsoleStats(t *testing.T) {
	dir := t.TempDir()
	// The demo tokens all hold auditor; one more, without it, to be refused.
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(tokens, []byte(`{"tokens": [
		{"actor": "demo-auditor", "roles": ["auditor"], "token": "`+auditor+`"},
		{"actor": "rules-only", "roles": ["rules-admin"], "token": "rules-only-token"}]}`), 0o600))
	s := start(t, dir, "-demo-people", "1000", "-tokens", tokens)
	cc := signInConsole(t, s, auditor)

	status, body := cc.send("GET", "/console/stats", nil)
	require.Equal(t, http.StatusOK, status, body)
	o := readScans(t, filepath.Join(dir, "scans.csv"), time.Now())
	require.Equal(t, demoVenues, figure(t, body, "venues-registered"))
	require.Equal(t, len(o.active), figure(t, body, "venues-active"))
	require.Equal(t, o.perDay[o.todayKey], figure(t, body, "scans-today"))
	for _, d := range o.windowByDate {
		require.Contains(t, body, fmt.Sprintf("<tr><td>%s</td><td>%d</td></tr>", d, o.perDay[d]), d)
	}
	m := regexp.MustCompile(`id="chart-venue-days"><svg[^>]*>(.*?)</svg>`).FindStringSubmatch(body)
	require.NotNil(t, m, "the scans-a-day chart")
	require.Equal(t, demoDays+1, strings.Count(m[1], "</rect>"), "a bar a day")
	code, n := best(o.week)
	require.Regexp(t, `<table id="top-week"><thead>.*?</thead><tbody><tr><td>\p{Han}[^<]*</td><td>`+code+`</td><td>`+strconv.Itoa(n)+`</td>`, body)
	if len(o.today) > 0 {
		code, n = best(o.today)
		require.Regexp(t, `<table id="top-today"><thead>.*?</thead><tbody><tr><td>[^<]*</td><td>`+code+`</td><td>`+strconv.Itoa(n)+`</td>`, body)
	}
	require.Contains(t, body, `href="/console/stats/users" id="users-link"`)

	// The oracle: the seeded colours, regions and rules of demo-people.csv.
	type person struct{ colour, region, rule string }
	var people []person
	for _, row := range s.people[1:] {
		p := person{colour: row[4], rule: row[5]}
		if id, err := codes.Parse(row[0]); err == nil {
			if r, ok := id.(codes.ResidentID); ok {
				p.region = r.Region()
			}
		}
		if p.colour == "red" || p.colour == "yellow" {
			people = append(people, p)
		}
	}
	count := func(keep func(person) bool) int {
		n := 0
		for _, p := range people {
			if keep(p) {
				n++
			}
		}
		return n
	}
	require.Greater(t, len(people), 2*50, "enough for three pages")

	var seen []string
	views := 0
	page := func(query string, want int) [][]string {
		t.Helper()
		status, body := cc.send("GET", "/console/stats/users"+query, nil)
		views++
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, strconv.Itoa(want), usersTotal.FindStringSubmatch(body)[1], query)
		for _, row := range s.people[1:] {
			require.NotContains(t, body, row[0], "no document number")
			if row[2] != "" {
				require.NotContains(t, body, row[2], "no phone")
			}
		}
		var rows [][]string
		for _, m := range userRowRE.FindAllStringSubmatch(body, -1) {
			require.Regexp(t, maskedKeyRE, m[1])
			rows = append(rows, m[1:])
			seen = append(seen, m[1])
		}
		return rows
	}
	p1 := page("", len(people))
	p2 := page("?page=2", len(people))
	require.Len(t, p1, 50)
	require.Len(t, p2, 50)
	for _, r := range p2 {
		require.NotContains(t, p1, r, "page 2 is not page 1")
	}

	region := people[0].region
	for _, p := range people {
		if p.region != "" && count(func(q person) bool { return q.region == p.region }) > 1 {
			region = p.region
			break
		}
	}
	require.NotEmpty(t, region)
	rows := page("?region="+region, count(func(p person) bool { return p.region == region }))
	require.NotEmpty(t, rows)
	for _, r := range rows {
		require.Equal(t, region, r[2])
	}
	prov := region[:2]
	page("?colour=red&region="+prov, count(func(p person) bool { return p.colour == "red" && strings.HasPrefix(p.region, prov) }))
	// By rule: the rule a person's list row shows is the one that set
	// the colour in force (a later decision of the same colour appends
	// nothing), so the oracle is that the rules partition the list.
	_, body = cc.send("GET", "/console/stats/users", nil)
	views++
	list := regexp.MustCompile(`<datalist id="rule-list">(.*?)</datalist>`).FindStringSubmatch(body)
	require.NotNil(t, list)
	rules := regexp.MustCompile(`<option value="([^"]+)">`).FindAllStringSubmatch(list[1], -1)
	require.Greater(t, len(rules), 1)
	sum := 0
	for _, r := range rules {
		status, body := cc.send("GET", "/console/stats/users?since="+dayOf(time.Now().AddDate(0, 0, -20))+"&rule="+url.QueryEscape(r[1]), nil)
		views++
		require.Equal(t, http.StatusOK, status)
		n, err := strconv.Atoi(usersTotal.FindStringSubmatch(body)[1])
		require.NoError(t, err)
		require.Positive(t, n, r[1])
		sum += n
		for _, m := range userRowRE.FindAllStringSubmatch(body, -1) {
			require.Equal(t, r[1], m[4])
		}
	}
	require.Equal(t, len(people), sum, "every red/yellow person under one rule")
	page("?since=2000-01-01&until=2000-12-31", 0)

	status, body = cc.send("GET", "/console/stats/users?region=51x", nil)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, `id="region-error"`)

	rc := signInConsole(t, s, "rules-only-token")
	status, body = rc.send("GET", "/console/stats/users", nil)
	require.Equal(t, http.StatusForbidden, status)
	require.NotContains(t, body, `class="masked"`)
	_, body = rc.send("GET", "/console/stats", nil)
	require.NotContains(t, body, `id="users-link"`)

	s.stop()
	log := s.stderr.String()
	for _, row := range s.people[1:] {
		require.NotContains(t, log, row[0])
	}
	recs := trail(t, dir)
	var got []string
	for _, r := range recs {
		if r.Action == "console_users" {
			got = append(got, r.Actor+" "+r.Outcome)
			for _, m := range seen {
				require.NotContains(t, r.Detail+r.Target, m)
			}
		}
	}
	require.Equal(t, views, strings.Count(strings.Join(got, "\n"), "demo-auditor ok"), "every view audited: %v", got)
	require.Contains(t, got, "rules-only forbidden")
}

// TestVenueStatsOf checks venueStatsOf against a count by hand on a small
// index: days at the window's edges, scans outside it, a registered venue
// never scanned, rankings tied by code.
func TestVenueStatsOf(t *testing.T) {
	now := time.Date(2022, 5, 15, 10, 0, 0, 0, shanghai)
	at := func(daysAgo, h, m int) int64 { return time.Date(2022, 5, 15-daysAgo, h, m, 0, 0, shanghai).Unix() }
	venues := []string{"v-a", "v-b", "v-c", "v-d"}
	var scans []contacttrace.Scan
	add := func(ts int64, venue uint32) {
		scans = append(scans, contacttrace.Scan{Person: uint32(len(scans)), Venue: venue, Time: ts})
	}
	add(at(0, 0, 0), 0) // today's first second
	add(at(0, 9, 59), 0)
	add(at(0, 9, 0), 1)
	add(at(0, 23, 59), 1) // later today, still today
	add(at(3, 12, 0), 2)
	add(at(3, 12, 0), 2)
	add(at(3, 12, 0), 2)
	add(at(14, 0, 0), 3)   // the window's first day
	add(at(15, 23, 59), 3) // the day before: out
	add(at(-1, 0, 0), 3)   // tomorrow: out
	segs, err := contacttrace.NewSegments(contacttrace.SegmentConfig{Location: shanghai, RetainDays: -1}).Append(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	st := &traceState{segs: segs, venues: venues, venueName: []string{"甲", "乙", "丙", "v-d"},
		named: map[string]string{"v-a": "甲", "v-b": "乙", "v-c": "丙", "v-x": "未扫"}}

	v := venueStatsOf(st, now, 15)
	require.Equal(t, 4, v.Registered)
	require.Equal(t, 4, v.Active)
	require.Len(t, v.Days, 15)
	require.Equal(t, "2022-05-01", v.Days[0].Date)
	require.Equal(t, "2022-05-15", v.Days[14].Date)
	require.Equal(t, 1, v.Days[0].Scans)
	require.Equal(t, 3, v.Days[11].Scans)
	require.Equal(t, 4, v.Days[14].Scans)
	require.Equal(t, 4, v.Today)
	sum := 0
	for _, d := range v.Days {
		sum += d.Scans
	}
	require.Equal(t, 8, sum)
	require.Equal(t, "v-a 甲 2, v-b 乙 2", ranks(v.TopToday))
	require.Equal(t, "v-c 丙 3, v-a 甲 2, v-b 乙 2", ranks(v.TopWeek), "v-d is outside the 7 days")

	empty := venueStatsOf(&traceState{named: st.named}, now, 15)
	require.Equal(t, 4, empty.Registered)
	require.Zero(t, empty.Active)
	require.Len(t, empty.Days, 15)
}

func ranks(rs []console.VenueRank) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s %s %d", r.Code, r.Name, r.Scans))
	}
	return strings.Join(out, ", ")
}
