package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/rules"
	"github.com/stretchr/testify/require"
)

// testClock is an App's Config.Now that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

// openAt opens an App on a fresh data directory whose clock starts at t,
// served by an httptest server; it stops when the test ends.
func openAt(t *testing.T, t0 time.Time) (*App, *server, *testClock) {
	t.Helper()
	clk := &testClock{t: t0}
	cfg := DefaultConfig()
	cfg.DataDir, cfg.DemoPeople, cfg.Now = t.TempDir(), 300, clk.now
	a, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(a.Routes())
	var once sync.Once
	stop := func() { once.Do(func() { srv.Close(); require.NoError(t, a.Close()) }) }
	t.Cleanup(stop)
	return a, &server{t: t, stop: stop, base: srv.URL, data: cfg.DataDir}, clk
}

// rulesState is GET /admin/rules, reduced to versions and times.
type rulesState struct {
	Active    string
	Scheduled []string // "version effective_from"
}

func (s *server) rulesState() rulesState {
	s.t.Helper()
	var r struct {
		Active struct {
			Version string `json:"version"`
		} `json:"active"`
		Scheduled []struct {
			Version       string    `json:"version"`
			EffectiveFrom time.Time `json:"effective_from"`
		} `json:"scheduled"`
	}
	require.Equal(s.t, 200, s.do("GET", "/admin/rules", auditor, "", &r))
	st := rulesState{Active: r.Active.Version}
	for _, x := range r.Scheduled {
		st.Scheduled = append(st.Scheduled, x.Version+" "+x.EffectiveFrom.UTC().Format(time.RFC3339))
	}
	return st
}

const yellowSet = `id: everyone
version: %s
default: green
rules:
  - id: everyone-yellow
    when: "true"
    colour: yellow
    reason: scheduled test
`

// TestRulesActivateAtChosenTime: POST /admin/rules/activate with
// effective_at schedules the set at that time on the App's clock; it is
// listed as scheduled with it, the set before stays in force until then
// and the new one after; the audit record names the time. Bad and far
// times are refused with the field named; a past time means at once.
func TestRulesActivateAtChosenTime(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 12, 6, 15, 30, 0, 0, cst)
	midnight := time.Date(2026, 12, 7, 0, 0, 0, 0, cst)
	a, s, clk := openAt(t, t0)
	// The colour a person would be given now (the registry keeps states
	// decided earlier; bulk evaluation applies new ones).
	colour := func() rules.Colour {
		t.Helper()
		d, err := a.engine.Evaluate(context.Background(), &rules.Facts{Now: clk.now(), Tests: []rules.Test{{Kind: "pcr", Sampled: clk.now().Add(-time.Hour)}}})
		require.NoError(t, err)
		return d.Colour
	}
	start := s.rulesState()
	require.Empty(t, start.Scheduled)

	require.Equal(t, 200, s.do("POST", "/admin/rules", rulesAdmin, fmt.Sprintf(yellowSet, "y-1"), nil))
	for _, tc := range []struct {
		body, field, msg string
	}{
		{`{"version":"y-1","effective_at":"2026-12-07 00:00"}`, "effective_at", "RFC 3339"},
		{`{"version":"y-1","effective_at":"2026-12-07T00:00:00"}`, "effective_at", "RFC 3339"}, // no offset
		{`{"version":"y-1","effective_at":"2027-03-07T15:31:00+08:00"}`, "effective_at", "more than 90 days ahead"},
		{`{"effective_at":"2026-12-07T00:00:00+08:00"}`, "version", "required"},
	} {
		var e struct {
			Error   string            `json:"error"`
			Message string            `json:"message"`
			Details map[string]string `json:"details"`
		}
		require.Equal(t, 400, s.do("POST", "/admin/rules/activate", rulesAdmin, tc.body, &e), tc.body)
		require.Equal(t, tc.field, e.Details["field"], tc.body)
		require.Contains(t, e.Message, tc.msg, tc.body)
	}
	require.Equal(t, start, s.rulesState(), "a refused activation changes nothing")

	var got struct {
		State         string    `json:"state"`
		EffectiveFrom time.Time `json:"effective_from"`
	}
	require.Equal(t, 200, s.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"y-1","effective_at":"2026-12-07T00:00:00+08:00"}`, &got))
	require.Equal(t, "scheduled", got.State)
	require.True(t, midnight.Equal(got.EffectiveFrom), got.EffectiveFrom)
	require.Equal(t, rulesState{Active: start.Active, Scheduled: []string{"y-1 2026-12-06T16:00:00Z"}}, s.rulesState())
	require.Equal(t, rules.Green, colour())

	clk.set(midnight.Add(-time.Second))
	require.Equal(t, start.Active, s.rulesState().Active)
	require.Equal(t, rules.Green, colour())
	clk.set(midnight)
	require.Equal(t, rulesState{Active: "y-1"}, s.rulesState())
	require.Equal(t, rules.Yellow, colour())

	// A time already past: in force at once.
	clk.add(time.Hour)
	require.Equal(t, 200, s.do("POST", "/admin/rules", rulesAdmin, fmt.Sprintf(yellowSet, "y-2"), nil))
	require.Equal(t, 200, s.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"y-2","effective_at":"2026-12-06T00:00:00Z"}`, &got))
	require.Equal(t, "active", got.State)
	require.Equal(t, rulesState{Active: "y-2"}, s.rulesState())

	s.stop()
	recs := trail(t, s.data)
	var details []string
	for _, r := range recs {
		if r.Action == "rules_activate" {
			details = append(details, r.Outcome+" "+r.Detail)
		}
	}
	require.Len(t, details, 6)
	require.Contains(t, details[2], "more than 90 days ahead")
	require.Equal(t, []string{
		"ok scheduled; effective_at 2026-12-07T00:00:00+08:00",
		"ok active; effective_at 2026-12-06T00:00:00Z",
	}, details[4:])
}

// TestActivateNotes applies activation notes as a node finds them on the
// feed: an old note (no effective_at, written by a node of the previous
// version) schedules the set at its own effective_from as before; a new
// one at the chosen time, whatever the set's own.
func TestActivateNotes(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 7, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, note string
		want       rulesState
	}{
		{"old note", `{"version":"n-1","at":"2026-12-06T07:30:00Z"}`, rulesState{Scheduled: []string{"n-1 2026-12-08T16:00:00Z"}}},
		{"chosen time", `{"version":"n-1","at":"2026-12-06T07:30:00Z","effective_at":"2026-12-07T00:00:00+08:00"}`, rulesState{Scheduled: []string{"n-1 2026-12-06T16:00:00Z"}}},
		{"chosen time past", `{"version":"n-1","at":"2026-12-06T07:30:00Z","effective_at":"2026-12-06T07:29:59Z"}`, rulesState{Active: "n-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, s, _ := openAt(t, t0)
			set := strings.Replace(fmt.Sprintf(yellowSet, "n-1"), "default:", "effective_from: 2026-12-09T00:00:00+08:00\ndefault:", 1)
			require.NoError(t, a.applyNote(topicUpload, []byte(set)))
			require.NoError(t, a.applyNote(topicActivate, []byte(tc.note)))
			got := s.rulesState()
			if tc.want.Active == "" {
				tc.want.Active = got.Active // the default set, unchanged
				require.NotEqual(t, "n-1", got.Active)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestClusterScheduledActivation: a set scheduled at a chosen time on one
// node is scheduled at the same instant on the other.
func TestClusterScheduledActivation(t *testing.T) {
	eachWire(t, testScheduledActivation)
}

func testScheduledActivation(t *testing.T, fresh func(testing.TB) string) {
	a, b := twoNodes(t, fresh)
	require.Equal(t, 200, a.do("POST", "/admin/rules", rulesAdmin, fmt.Sprintf(yellowSet, "c-at"), nil))
	until(t, "b holds c-at as pending", func() bool {
		var r map[string]any
		b.do("GET", "/admin/rules", auditor, "", &r)
		for _, p := range asSlice(r["pending"]) {
			if p.(map[string]any)["version"] == "c-at" {
				return true
			}
		}
		return false
	})
	at := time.Now().Add(6 * time.Hour).Truncate(time.Minute).In(time.FixedZone("CST", 8*3600))
	body := fmt.Sprintf(`{"version":"c-at","effective_at":%q}`, at.Format(time.RFC3339))
	require.Equal(t, 200, b.do("POST", "/admin/rules/activate", rulesAdmin, body, nil))
	want := []string{"c-at " + at.UTC().Format(time.RFC3339)}
	require.Equal(t, want, b.rulesState().Scheduled)
	until(t, "a schedules c-at at the same instant", func() bool {
		return fmt.Sprint(a.rulesState().Scheduled) == fmt.Sprint(want)
	})
	require.NotEqual(t, "c-at", a.rulesState().Active)
	// Rollback on a undoes the schedule on both.
	require.Equal(t, 200, a.do("POST", "/admin/rules/rollback", rulesAdmin, "", nil))
	until(t, "b dropped the schedule", func() bool { return len(b.rulesState().Scheduled) == 0 })
}

// TestConsoleRulesActivateAt: the console's activate form with a chosen
// time (Beijing wall time) goes the admin API's way: the set is scheduled
// at that instant and the audit detail names it; a time too far ahead is
// refused next to the field.
func TestConsoleRulesActivateAt(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	_, s, _ := openAt(t, time.Date(2026, 12, 6, 15, 30, 0, 0, cst))
	cc := signInConsole(t, s, rulesAdmin)
	status, body := cc.send("POST", "/console/rules/upload", url.Values{"csrf": {cc.csrf}, "source": {fmt.Sprintf(yellowSet, "y-c")}})
	require.Equal(t, http.StatusOK, status, body)

	activate := func(at string) (int, string) {
		t.Helper()
		status, body := cc.send("POST", "/console/rules/activate/confirm", url.Values{"csrf": {cc.csrf}, "version": {"y-c"}, "effective_at": {at}})
		require.Equal(t, http.StatusOK, status, body)
		tok := confirmField.FindStringSubmatch(body)[1]
		return cc.send("POST", "/console/rules/activate", url.Values{"csrf": {cc.csrf}, "version": {"y-c"}, "effective_at": {at}, "confirm": {tok}})
	}
	status, body = activate("2027-03-08T00:00")
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, `id="effective-at-y-c" value="2027-03-08T00:00">`)
	require.Regexp(t, `id="effective-at-error">healthcoded: effective_at: more than 90 days ahead`, body)

	status, body = activate("2026-12-07T00:00")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<tr class="scheduled"><th>已排期</th><td>everyone@y-c</td><td>2026-12-07 00:00</td>`)
	require.Equal(t, []string{"y-c 2026-12-06T16:00:00Z"}, s.rulesState().Scheduled)

	s.stop()
	recs := trail(t, s.data)
	var got []string
	for _, r := range recs {
		if r.Action == "console_rules_activate" {
			got = append(got, r.Outcome+" "+r.Target+" "+r.Detail)
		}
	}
	require.Len(t, got, 2)
	require.Contains(t, got[0], "refused y-c effective_at: more than 90 days ahead")
	require.Equal(t, "ok everyone@y-c scheduled; effective_at 2026-12-07T00:00:00+08:00", got[1])
}
