package main

import (
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestConsoleFinderBrowser drives the real server's person finder in
// headless Chromium: a venue found by part of its name, reversed, is
// ticked with its own time range and run as a first task; a second task
// over a wider range excludes the first's people; the second task's CSV
// export (fetched with the page's session) has a row per contact; and its
// direct contacts are pushed for coding, the progress page following the
// push (static/push.js) until it is done.
func TestConsoleFinderBrowser(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	names, err := readVenueNames(filepath.Join(dir, "venues.csv"))
	require.NoError(t, err)
	// The busiest demo venue is demo-000 (synth draws venues by Zipf).
	runes := []rune(names["demo-000"])
	fuzzy := string(runes[len(runes)-3:]) + " " + string(runes[:2])

	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)
	d := browsertest.Drive(t, ctx, 90*time.Second)
	do, text, tctx := d.Do, d.Text, d.Ctx
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	people := func() map[string]bool {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#contacts tr.contact td:nth-child(2)")].map(td => td.textContent)`))
		require.NoError(t, err)
		out := map[string]bool{}
		for _, p := range v {
			out[p] = true
		}
		return out
	}
	now := time.Now()
	day := func(d int) string { return now.AddDate(0, 0, d).Format("2006-01-02T15:04") }

	do("sign in", chromedp.Navigate(s.base+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), transcoder), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#nav-finder")))
	do("first task: a fuzzy venue, two days",
		chromedp.Click(css("#nav-finder")), chromedp.WaitVisible(css("#finder-form")),
		chromedp.SendKeys(css("#venue_q"), fuzzy), chromedp.Click(css("#venue-search")), chromedp.WaitVisible(css("#venue-demo-000")),
		chromedp.Click(css("#venue-demo-000")),
		chromedp.SetValue(css("#from-demo-000"), day(-2)), chromedp.SetValue(css("#to-demo-000"), day(0)),
		chromedp.SendKeys(css("#name"), "第一轮"),
		chromedp.Click(css("#find")), chromedp.WaitVisible(css("#result")))
	first := text("#task-id")
	firstPeople := people()
	require.NotEmpty(t, firstPeople, "demo-000 had visitors in two days")

	do("second task: the same venue over the whole demo, excluding the first",
		chromedp.Click(css("#nav-finder")), chromedp.WaitVisible(css("#finder-form")),
		chromedp.SendKeys(css("#venue_q"), fuzzy), chromedp.Click(css("#venue-search")), chromedp.WaitVisible(css("#venue-demo-000")),
		chromedp.Click(css("#venue-demo-000")),
		chromedp.SetValue(css("#from-demo-000"), day(-15)), chromedp.SetValue(css("#to-demo-000"), day(0)),
		chromedp.Click(css(`#exclude input[value="`+first+`"]`)),
		chromedp.SendKeys(css("#name"), "第二轮"),
		chromedp.Click(css("#find")), chromedp.WaitVisible(css("#result")))
	require.Equal(t, first, text("#excluded"))
	second := people()
	require.NotEmpty(t, second)
	for p := range firstPeople {
		require.False(t, second[p], "%s was identified by %s and must be excluded", p, first)
	}
	n, err := strconv.Atoi(text("#contact-count"))
	require.NoError(t, err)

	body, err := chromedp.Run(tctx, chromedp.Evaluate[string](`fetch(document.getElementById("export").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1, "the export has a row per contact")

	do("push the direct contacts for coding",
		chromedp.SetValue(css("#push-colour"), "yellow"), chromedp.SetValue(css("#max_hop"), "1"),
		chromedp.SendKeys(css("#push-authorisation"), "川疾控〔2026〕12号"), chromedp.SendKeys(css("#push-reason"), "场所时空交集"),
		chromedp.Click(css("#push-confirm")), chromedp.Click(css("#push")),
		chromedp.WaitVisible(css("#push-progress")),
		chromedp.WaitVisible(css(`#push-state[data-state="done"]`)))
	require.Equal(t, text("#push-total"), text("#push-done"))
	require.Equal(t, "0", text("#push-failed"))
	require.Empty(t, errs(), "console errors or CSP violations")

	// The task store has the push, done, on the second task.
	s.stop()
	ts, err := openTaskStore(filepath.Join(dir, "finder-tasks.db"))
	require.NoError(t, err)
	defer ts.Close()
	list, err := ts.list(10)
	require.NoError(t, err)
	require.Equal(t, "第二轮", list[0].Name)
	tk, err := ts.get(list[0].ID)
	require.NoError(t, err)
	require.Equal(t, []string{first}, tk.Excluded)
	require.Len(t, tk.Pushes, 1)
	require.Equal(t, "done", tk.Pushes[0].State)
	require.Len(t, tk.Found, n)
}
