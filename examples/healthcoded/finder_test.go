package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
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
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
	"github.com/stretchr/testify/require"
)

var (
	contactCount = regexp.MustCompile(`id="contact-count">(\d+)<`)
	taskIDField  = regexp.MustCompile(`id="task-id">(T\d+)<`)
)

// findForm is the finder's form for a query by document number.
func findForm(csrf, id string, kv ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "id": {id}, "before": {"120"}, "after": {"120"}, "depth": {"1"}, "search": {"all"}, "proximity": {"plan"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = []string{kv[i+1]}
	}
	return v
}

// find runs the finder form; on success it returns the task's id and page.
func (cc *consoleClient) find(form url.Values) (status int, task, body string) {
	cc.t.Helper()
	status, body = cc.send("POST", "/console/finder", form)
	if m := taskIDField.FindStringSubmatch(body); m != nil {
		task = m[1]
	}
	return status, task, body
}

// finderCase runs the finder for each demo person in turn and returns the
// first with contacts, with its task and the result page.
func finderCase(t *testing.T, s *server, cc *consoleClient, depth string) (id, task, body string) {
	t.Helper()
	for _, row := range s.people[1:] {
		status, task, body := cc.find(findForm(cc.csrf, row[0], "depth", depth, "search", "venues"))
		require.Equal(t, http.StatusOK, status, body)
		if m := contactCount.FindStringSubmatch(body); m != nil && m[1] != "0" {
			return row[0], task, body
		}
	}
	t.Fatal("no demo person has contacts")
	return "", "", ""
}

// exported reads a task's CSV export: the header, then a row per contact.
func (cc *consoleClient) exported(task string) [][]string {
	cc.t.Helper()
	status, out := cc.send("GET", "/console/finder/tasks/"+task+"/contacts.csv", nil)
	require.Equal(cc.t, http.StatusOK, status, out)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(cc.t, err)
	return rows
}

// TestConsoleFinder drives the real server's finder over HTTP with a
// session, on the demo scans: an index case from the demo population has
// contacts, each with its venue (by its Chinese name) and time; the CSV
// export has a header and a row per contact; no raw identity is on the
// page or in the CSV; a scan recorded after start is in the next query;
// venues are found by a partial name, each with its own time range; and
// every query and view is audited.
func TestConsoleFinder(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	cc := signInConsole(t, s, auditor)
	status, body := cc.send("GET", "/console/finder", nil)
	require.Equal(t, http.StatusOK, status, body)

	id, task, body := finderCase(t, s, cc, "2")
	require.NotContains(t, body, id)
	require.Regexp(t, `<td>1</td><td class="masked">[0-9a-f]{6}…[0-9a-f]{4}</td><td>\p{Han}+ <small>demo-\d{3}</small>`, body)
	n := contactCount.FindStringSubmatch(body)[1]
	rows := cc.exported(task)
	require.Equal(t, []string{"hop", "person", "kind", "venue", "venue_name", "trip", "seat", "time", "via", "via_time"}, rows[0])
	require.Equal(t, n, fmt.Sprint(len(rows)-1))
	require.NotContains(t, fmt.Sprint(rows), id)

	// A scan recorded now, with a stranger at a new venue, is found.
	var other string
	for _, row := range s.people[1:] {
		if row[0] != id {
			other = row[0]
			break
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, p := range []string{id, other} {
		body := fmt.Sprintf(`{"id":%q,"venue":"test-venue-1","time":%q}`, p, now.Format(time.RFC3339))
		require.Equal(t, http.StatusCreated, s.do("POST", "/v1/scans", "", body, nil))
	}
	status, _, body = cc.find(findForm(cc.csrf, id, "search", "venues"))
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<small>test-venue-1</small>")

	// Reported visits at venues found by part of their names, each with
	// its own range: a range that misses every scan finds nobody there.
	names, err := readVenueNames(filepath.Join(dir, "venues.csv"))
	require.NoError(t, err)
	require.Len(t, names, demoVenues)
	name := names["demo-000"]
	runes := []rune(name)
	status, body = cc.send("POST", "/console/finder/venues", url.Values{"csrf": {cc.csrf}, "venue_q": {string(runes[len(runes)-4:]) + " " + string(runes[:3])}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `value="demo-000"`)
	from := now.Add(-14 * 24 * time.Hour).Local().Format("2006-01-02T15:04")
	to := now.Local().Format("2006-01-02T15:04")
	visits := url.Values{"csrf": {cc.csrf}, "venue": {"demo-000"}, "vname_demo-000": {name}, "from_demo-000": {from}, "to_demo-000": {to},
		"depth": {"1"}, "search": {"all"}, "proximity": {"plan"}}
	status, _, body = cc.find(visits)
	require.Equal(t, http.StatusOK, status, body)
	all := contactCount.FindStringSubmatch(body)[1]
	require.NotEqual(t, "0", all)
	visits["from_demo-000"] = []string{"2001-01-01T00:00"}
	visits["to_demo-000"] = []string{"2001-01-01T01:00"}
	status, _, body = cc.find(visits)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "0", contactCount.FindStringSubmatch(body)[1])

	// A person with no scans is refused next to the field.
	status, _, body = cc.find(findForm(cc.csrf, "11010519491231002X"))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "no scans or trips recorded")

	s.stop()
	got := auditActions(t, dir, id, "console_finder", "console_finder_view")
	require.Contains(t, got, "console_finder demo-auditor ok")
	require.Contains(t, got, "console_finder demo-auditor invalid")
	require.Contains(t, got, "console_finder_view demo-auditor ok")
}

// auditActions returns "action actor outcome" of the trail's records of
// the given actions, checking that none carries the raw identity id.
func auditActions(t *testing.T, dir, id string, actions ...string) []string {
	t.Helper()
	recs := trail(t, dir)
	var got []string
	for _, r := range recs {
		if slices.Contains(actions, r.Action) {
			got = append(got, r.Action+" "+r.Actor+" "+r.Outcome)
			require.NotContains(t, r.Detail+r.Target, id)
		}
	}
	return got
}

// persons are the masked people of a task's export.
func persons(rows [][]string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rows[1:] {
		out[r[1]] = true
	}
	return out
}

// TestConsoleFinderExclude: a second task for the same case, two hops
// deep, excluding the first, reports none of the first task's people and
// does not follow them; the same query without the exclusion does.
func TestConsoleFinderExclude(t *testing.T) {
	s := start(t, t.TempDir())
	cc := signInConsole(t, s, auditor)
	id, first, _ := finderCase(t, s, cc, "1")
	firstPeople := persons(cc.exported(first))
	require.NotEmpty(t, firstPeople)

	status, second, body := cc.find(findForm(cc.csrf, id, "depth", "2", "search", "venues", "exclude", first, "name", "第二轮"))
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="excluded">`+first+`<`)
	status, third, body := cc.find(findForm(cc.csrf, id, "depth", "2", "search", "venues"))
	require.Equal(t, http.StatusOK, status, body)
	excl, full := persons(cc.exported(second)), persons(cc.exported(third))
	for p := range firstPeople {
		require.False(t, excl[p], "excluded person %s reported", p)
		require.True(t, full[p], "without exclusion %s is a hop-1 contact", p)
	}
	require.Less(t, len(excl), len(full))

	// The finder lists the tasks to exclude, newest first; an unknown one
	// is refused next to the list.
	status, body = cc.send("GET", "/console/finder", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `name="exclude" value="`+first+`"`)
	require.Less(t, strings.Index(body, `value="`+third+`"`), strings.Index(body, `value="`+first+`"`))
	status, _, body = cc.find(findForm(cc.csrf, id, "exclude", "T999"))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, `id="exclude-error"`)
}

// TestConsoleFinderPush pushes a task's direct contacts for coding: the
// push runs to done, each person is yellow in the store with the
// console's actor and authorisation, each transcode is audited, and the
// task lists the push. A push without its reason starts nothing.
func TestConsoleFinderPush(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	cc := signInConsole(t, s, transcoder)
	_, task, _ := finderCase(t, s, cc, "2")
	hop1 := 0
	for _, r := range cc.exported(task)[1:] {
		if r[0] == "1" {
			hop1++
		}
	}
	require.NotZero(t, hop1)

	path := "/console/finder/tasks/" + task + "/push"
	status, body := cc.send("POST", path, url.Values{"csrf": {cc.csrf}, "colour": {"yellow"}, "authorisation": {"川疾控〔2022〕7号"}, "confirm": {"yes"}, "max_hop": {"1"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, `id="push-reason-error"`)

	status, body = cc.send("POST", path, url.Values{"csrf": {cc.csrf}, "colour": {"yellow"}, "authorisation": {"川疾控〔2022〕7号"}, "reason": {"时空伴随"}, "confirm": {"yes"}, "max_hop": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="push-progress"`)
	push := task + "-P1"
	var st struct {
		State       string
		Total, Done int
		Failed      int
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, js := cc.send("GET", "/console/finder/push/"+push+"/status", nil)
		require.Equal(t, http.StatusOK, status, js)
		require.NoError(t, json.Unmarshal([]byte(js), &st))
		if st.State != console.PushRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, console.PushDone, st.State)
	require.Zero(t, st.Failed)
	require.LessOrEqual(t, st.Total, hop1, "hop 1 only; a person reached twice is pushed once")
	require.Equal(t, st.Total, st.Done)
	status, body = cc.send("GET", "/console/finder/tasks/"+task, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `href="/console/finder/push/`+push+`"`)
	require.NotContains(t, body, `id="push-stop"`)

	s.stop()
	store, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer store.Close()
	recs, err := store.ReadAudit(context.Background(), 0, 100000)
	require.NoError(t, err)
	pushed := 0
	for _, r := range recs {
		if r.Action != "transcode" || !strings.Contains(r.Detail, push) {
			continue
		}
		pushed++
		require.Equal(t, "ok", r.Outcome)
		k, err := parseKey(r.Target)
		require.NoError(t, err)
		e, ok, err := store.Get(context.Background(), k)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, codes.Yellow, e.State.Colour)
		require.Equal(t, "demo-transcoder", e.State.Cause.Actor)
		require.Equal(t, "川疾控〔2022〕7号", e.State.Cause.Authorisation)
	}
	require.Equal(t, st.Total, pushed)
}

// TestConsoleFinderPhoneOnly: an index case known by phone only: a person
// without a document scans under the phone's key, and the finder given
// the phone finds who scanned beside them. A demo person's phone finds
// the person who owns it.
func TestConsoleFinderPhoneOnly(t *testing.T) {
	s := start(t, t.TempDir())
	cc := signInConsole(t, s, auditor)
	now := time.Now().UTC().Truncate(time.Second)
	scan := func(who string) {
		body := fmt.Sprintf(`{%s,"venue":"phone-venue","time":%q}`, who, now.Format(time.RFC3339))
		require.Equal(t, http.StatusCreated, s.do("POST", "/v1/scans", "", body, nil))
	}
	scan(`"phone":"13912345678"`)
	scan(fmt.Sprintf(`"id":%q`, s.people[1][0]))
	status, task, body := cc.find(url.Values{"csrf": {cc.csrf}, "phone": {"13912345678"}, "before": {"10"}, "after": {"10"}, "depth": {"1"}, "search": {"all"}, "proximity": {"plan"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `139****5678</span>`)
	require.NotContains(t, body, "13912345678")
	rows := cc.exported(task)
	require.Len(t, rows, 2, "the one person beside the phone-only case")
	require.Equal(t, "phone-venue", rows[1][3])

	// The owner's phone brings the owner's scans (under the document's
	// key): its contacts are the document's. The first demo person to
	// claim a phone owns it.
	claimed := map[string]bool{}
	for _, row := range s.people[1:] {
		if row[2] == "" || claimed[row[2]] {
			continue
		}
		claimed[row[2]] = true
		status, byDoc, _ := cc.find(findForm(cc.csrf, row[0], "search", "venues"))
		if status != http.StatusOK {
			continue // no scans
		}
		status, byPhone, body := cc.find(url.Values{"csrf": {cc.csrf}, "phone": {row[2]}, "before": {"120"}, "after": {"120"}, "depth": {"1"}, "search": {"venues"}, "proximity": {"plan"}})
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, persons(cc.exported(byDoc)), persons(cc.exported(byPhone)))
		return
	}
	t.Fatal("no demo phone owner with scans")
}

// demoTrip is a trip of trips.csv with its passengers' rows and seats.
type demoTrip struct {
	mode, number string
	date         time.Time
	seats        [][3]int // car, row, seat letter
}

func readDemoTrips(t *testing.T, dir string) []demoTrip {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "trips.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"mode", "number", "date", "person", "car", "row", "seat"}, rows[0])
	idx := map[string]int{}
	var out []demoTrip
	for _, r := range rows[1:] {
		k := r[0] + "|" + r[1] + "|" + r[2]
		i, ok := idx[k]
		if !ok {
			d, err := time.Parse(time.RFC3339, r[2])
			require.NoError(t, err)
			i, idx[k] = len(out), len(out)
			out = append(out, demoTrip{mode: r[0], number: r[1], date: d})
		}
		car, _ := strconv.Atoi(r[4])
		row, _ := strconv.Atoi(r[5])
		seat := 0
		if r[6] != "" {
			seat = int(r[6][0])
		}
		out[i].seats = append(out[i].seats, [3]int{car, row, seat})
	}
	return out
}

// TestConsoleFinderCoTravel: a reported flight, co-travel only: the
// national plan's rule (the same row and 3 either side) and the whole-trip
// rule find exactly the passengers trips.csv puts there.
func TestConsoleFinderCoTravel(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	cc := signInConsole(t, s, auditor)
	var plane *demoTrip
	for _, tr := range readDemoTrips(t, dir) {
		if tr.mode == "plane" && len(tr.seats) >= 4 && (plane == nil || len(tr.seats) > len(plane.seats)) {
			plane = &tr
		}
	}
	require.NotNil(t, plane, "the demo has a flight with passengers")
	at := plane.seats[0]
	day := plane.date.In(time.Local).Format(time.DateOnly)
	near := 0
	for _, seat := range plane.seats {
		if d := seat[1] - at[1]; d >= -3 && d <= 3 {
			near++
		}
	}
	for prox, want := range map[string]int{"plan": near, "whole_trip": len(plane.seats)} {
		status, task, body := cc.find(url.Values{"csrf": {cc.csrf}, "mode_0": {"plane"}, "number_0": {plane.number}, "day_0": {day},
			"row_0": {strconv.Itoa(at[1])}, "seat_0": {string(rune(at[2]))}, "depth": {"1"}, "search": {"trips"}, "proximity": {prox}})
		require.Equal(t, http.StatusOK, status, body)
		rows := cc.exported(task)
		require.Len(t, rows, want+1, prox)
		for _, r := range rows[1:] {
			require.Equal(t, "trip", r[2])
			require.True(t, strings.HasPrefix(r[5], plane.number+" "), r[5])
		}
	}
	// A flight the day does not have is refused next to its number.
	status, _, body := cc.find(url.Values{"csrf": {cc.csrf}, "mode_0": {"plane"}, "number_0": {"ZZ9999"}, "day_0": {day}, "depth": {"1"}, "search": {"trips"}, "proximity": {"plan"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "no plane ZZ9999")
}

// TestTraceSnapshot starts healthcoded from a tracectl snapshot whose
// persons are document numbers: the finder maps them to their keys, so a
// case looked up by document finds the contact the snapshot holds. A
// snapshot naming one person twice (a document and its key) is refused.
func TestTraceSnapshot(t *testing.T) {
	seed := t.TempDir()
	s := start(t, seed)
	a, b := s.people[1][0], s.people[2][0]
	s.stop()

	snap := tracesnap.New(-1)
	at := time.Date(2022, 5, 14, 10, 0, 0, 0, time.UTC).Unix()
	scans := []contacttrace.Scan{
		{Person: snap.Person(a), Venue: snap.Venue("snap-venue"), Time: at},
		{Person: snap.Person(b), Venue: snap.Venue("snap-venue"), Time: at + 600},
	}
	var err error
	snap.Segments, err = snap.Segments.Append(context.Background(), scans, contacttrace.Config{})
	require.NoError(t, err)
	snap.VenueNames[0] = "快照里的场所"
	path := filepath.Join(t.TempDir(), "trace.snap")
	_, err = snap.Save(path)
	require.NoError(t, err)

	// The seeded data directory again, with the snapshot.
	s = start(t, seed, "-trace-snapshot", path, "-trace-retain-days", "0") // its 2022 day is years before the demo's
	cc := signInConsole(t, s, auditor)
	status, task, body := cc.find(findForm(cc.csrf, a, "search", "venues"))
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "快照里的场所 <small>snap-venue</small>")
	found := false
	for _, r := range cc.exported(task)[1:] {
		found = found || r[3] == "snap-venue"
	}
	require.True(t, found)
	s.stop()

	// A's document and A's key: one person twice.
	k, _, _, err := (&App{keyer: mustKeyer(t, seed)}).key(who{ID: a})
	require.NoError(t, err)
	snap.Person(k.String())
	_, err = snap.Save(path)
	require.NoError(t, err)
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", seed, "-trace-snapshot", path, "-trace-retain-days", "0"}, &strings.Builder{}, &strings.Builder{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "same person as an earlier line")
	require.NotContains(t, err.Error(), a)
}

// mustKeyer is the keyer of a data directory's keying secret.
func mustKeyer(t *testing.T, dir string) *codes.Keyer {
	t.Helper()
	secret, err := os.ReadFile(filepath.Join(dir, "keying.secret"))
	require.NoError(t, err)
	k, err := codes.NewKeyer(codes.HMACSHA256, secret)
	require.NoError(t, err)
	return k
}

// TestConsoleFinderRetention: the finder keeps 21 days (the latest day
// held and the 20 before it): two people at a venue 40 days ago are not
// found by default, and are with -trace-retain-days 0.
func TestConsoleFinderRetention(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{{nil, "0"}, {[]string{"-trace-retain-days", "0"}, "2"}} {
		s := start(t, t.TempDir(), tc.args...)
		cc := signInConsole(t, s, auditor)
		old := time.Now().AddDate(0, 0, -40).UTC().Truncate(time.Minute)
		for _, p := range s.people[1:3] {
			body := fmt.Sprintf(`{"id":%q,"venue":"old-venue","time":%q}`, p[0], old.Format(time.RFC3339))
			require.Equal(t, http.StatusCreated, s.do("POST", "/v1/scans", "", body, nil))
		}
		status, _, body := cc.find(url.Values{"csrf": {cc.csrf}, "venue": {"old-venue"}, "vname_old-venue": {"old-venue"},
			"from_old-venue": {old.Local().Format("2006-01-02T15:04")}, "to_old-venue": {old.Add(time.Minute).Local().Format("2006-01-02T15:04")},
			"depth": {"1"}, "search": {"venues"}, "proximity": {"plan"}})
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, tc.want, contactCount.FindStringSubmatch(body)[1], "args %v", tc.args)
	}
}
