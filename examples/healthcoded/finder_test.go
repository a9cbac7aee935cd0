package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/stretchr/testify/require"
)

var (
	contactCount = regexp.MustCompile(`id="contact-count">(\d+)<`)
	exportLink   = regexp.MustCompile(`href="(/console/finder/export/[^"]+)"`)
)

// finderCase runs the finder for each demo person in turn and returns the
// first with contacts, with the result page.
func finderCase(t *testing.T, s *server, cc *consoleClient, depth string) (id, body string) {
	t.Helper()
	for _, row := range s.people[1:] {
		status, body := cc.send("POST", "/console/finder", url.Values{"csrf": {cc.csrf}, "id": {row[0]}, "before": {"120"}, "after": {"120"}, "depth": {depth}})
		require.Equal(t, http.StatusOK, status, body)
		if m := contactCount.FindStringSubmatch(body); m != nil && m[1] != "0" {
			return row[0], body
		}
	}
	t.Fatal("no demo person has contacts")
	return "", ""
}

// TestConsoleFinder drives the real server's finder over HTTP with a
// session, on the demo scans: an index case from the demo population has
// contacts, each with its venue (by its Chinese name) and time; the CSV
// export has a header and a row per contact; no raw identity is on the
// page or in the CSV; a scan recorded after start is in the next query;
// venues are found by a partial name; and the query is audited.
func TestConsoleFinder(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	cc := signInConsole(t, s, auditor)
	status, body := cc.send("GET", "/console/finder", nil)
	require.Equal(t, http.StatusOK, status, body)

	id, body := finderCase(t, s, cc, "2")
	require.NotContains(t, body, id)
	require.Contains(t, body, `class="contact"`)
	require.Regexp(t, `<td>1</td><td class="masked">[0-9a-f]{6}…[0-9a-f]{4}</td><td>\p{Han}+ <small>demo-\d{3}</small>`, body)
	n := contactCount.FindStringSubmatch(body)[1]

	m := exportLink.FindStringSubmatch(body)
	require.NotNil(t, m)
	status, out := cc.send("GET", m[1], nil)
	require.Equal(t, http.StatusOK, status, out)
	require.NotContains(t, out, id)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"hop", "person", "venue", "venue_name", "time", "via", "via_time"}, rows[0])
	require.Equal(t, n, fmt.Sprint(len(rows)-1))

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
	status, body = cc.send("POST", "/console/finder", url.Values{"csrf": {cc.csrf}, "id": {id}, "before": {"120"}, "after": {"120"}, "depth": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<small>test-venue-1</small>")

	// Reported visits at a venue found by part of its name.
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
	status, body = cc.send("POST", "/console/finder", url.Values{"csrf": {cc.csrf}, "venue": {"demo-000"}, "visit_from": {from}, "visit_to": {to}, "depth": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	require.NotEqual(t, "0", contactCount.FindStringSubmatch(body)[1])

	// A person with no scans is refused next to the field.
	status, body = cc.send("POST", "/console/finder", url.Values{"csrf": {cc.csrf}, "id": {"11010519491231002X"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "no scans recorded")

	s.stop()
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	recs, err := st.ReadAudit(context.Background(), 0, 100000)
	require.NoError(t, err)
	var got []string
	for _, r := range recs {
		if r.Action == "console_finder" {
			got = append(got, r.Actor+" "+r.Outcome)
			require.NotContains(t, r.Detail+r.Target, id)
		}
	}
	require.Contains(t, got, "demo-auditor ok")
	require.Contains(t, got, "demo-auditor invalid")
}

// BenchmarkFinder is one two-hop person-finder query (2 h windows) over
// the demo scans of the default 10 000 people, through the console's
// backend: refresh check, identity to pseudonym, trace, masking.
func BenchmarkFinder(b *testing.B) {
	data := b.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir = data
	a, err := Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	f, err := os.Open(filepath.Join(data, "demo-people.csv"))
	if err != nil {
		b.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	be := consoleBackend{a}
	ctx := context.Background()
	p := console.Principal{Actor: "bench", Roles: []string{console.RoleAuditor}}
	contacts := 0
	b.ResetTimer()
	for i := range b.N {
		q := console.FinderQuery{Who: console.Who{ID: rows[1+i%(len(rows)-1)][0]}, Before: 2 * time.Hour, After: 2 * time.Hour, Depth: 2}
		res, err := be.Find(ctx, p, q, "127.0.0.1")
		var fe *console.FieldError
		if err != nil && !errors.As(err, &fe) {
			b.Fatal(err)
		}
		contacts += len(res.Contacts)
	}
	b.ReportMetric(float64(contacts)/float64(b.N), "contacts/op")
}
