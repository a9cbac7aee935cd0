package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
	"github.com/stretchr/testify/require"
)

// TestConsoleEndToEnd drives the console of a real healthcoded (its first
// README command's defaults, on a loopback port) in headless Chromium: a
// newcomer signs in with a demo token, looks a person up, is refused a
// transcode without a reason (nothing changes) and makes one with it; the
// code the public API shows changes, and the console's transcode is in the
// audit trail with its actor. A forged POST without the CSRF token is
// refused and audited too.
func TestConsoleEndToEnd(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	id, _ := s.person("green")

	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)
	d := browsertest.Drive(t, ctx, 60*time.Second)
	do, text, tctx := d.Do, d.Text, d.Ctx
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	do("sign in with the demo token",
		chromedp.Navigate(s.base+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), transcoder), chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#lookup-form")))
	require.Equal(t, "demo-transcoder", text("#actor"))

	do("look up", chromedp.SendKeys(css("#id"), id), chromedp.Click(css("#lookup")), chromedp.WaitVisible(css("#displayed")))
	require.Equal(t, "绿码", text("#displayed"))
	page, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.outerHTML + " " + location.href`))
	require.NoError(t, err)
	require.NotContains(t, page, id, "no raw document number on the page or in its URL")

	do("transcode without a reason",
		chromedp.SetValue(css("#colour"), "red"),
		chromedp.SendKeys(css("#authorisation"), "CDC-2026-88"),
		chromedp.Click(css("#transcode")),
		chromedp.WaitVisible(css("#reason-error")))
	require.Equal(t, "绿码", text("#displayed"), "nothing changed")
	require.Equal(t, "green", s.colour(id))

	do("transcode", chromedp.SendKeys(css("#reason"), "密接，流调确认"), chromedp.Click(css("#transcode")), chromedp.WaitVisible(css("#notice")))
	require.Equal(t, "红码", text("#displayed"))
	require.Equal(t, "red", s.colour(id), "the public API shows the console's transcode")

	bars := func(sel string) int { return d.Count(sel + " svg rect") }
	do("statistics", chromedp.Navigate(s.base+"/console/stats"), chromedp.WaitVisible(css("#chart-venue-days")))
	for _, chart := range []string{"#chart-days", "#chart-causes", "#chart-regions", "#chart-venue-days", "#chart-top-venues"} {
		require.Positive(t, bars(chart), "%s drew no bars over the demo data", chart)
	}
	do("dashboard", chromedp.Navigate(s.base+"/console/screen"), chromedp.WaitVisible(css("#trend svg")))
	require.Positive(t, bars("#trend"), "the dashboard's trend chart drew no bars")

	// An auditor sees no transcode form, and a transcode posted with the
	// auditor's own session and CSRF token is refused (403) and changes
	// nothing.
	do("sign out, sign in as auditor", chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), auditor), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#lookup-form")),
		chromedp.SendKeys(css("#id"), id), chromedp.Click(css("#lookup")), chromedp.WaitVisible(css("#displayed")))
	forms, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#transcode").length`))
	require.NoError(t, err)
	require.Zero(t, forms, "an auditor sees no transcode form")
	status, err := chromedp.Run(tctx, chromedp.Evaluate[int](`fetch("/console/person/transcode", {method: "POST",
		body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, colour: "green", authorisation: "x", reason: "y"})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "red", s.colour(id), "the refused transcode changed nothing")
	var problems []string
	for _, e := range errs() {
		// Chromium logs the 422 and the 403 the refused transcodes are
		// answered with; those refusals are the point of the steps above.
		if !strings.Contains(e, "status of 422") && !strings.Contains(e, "status of 403") {
			problems = append(problems, e)
		}
	}
	require.Empty(t, problems, "console errors or CSP violations")

	// A forged POST: no session, no CSRF token.
	resp, err := http.PostForm(s.base+"/console/person/transcode", url.Values{"colour": {"red"}, "reason": {"x"}, "authorisation": {"y"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusForbidden, http.StatusUnauthorized, http.StatusSeeOther}, resp.StatusCode)
	require.NotEqual(t, http.StatusOK, resp.StatusCode)

	s.stop()
	recs := trail(t, dir)
	var console []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "console") {
			console = append(console, fmt.Sprintf("%s %s %s", r.Actor, r.Action, r.Outcome))
			require.NotContains(t, fmt.Sprintf("%+v", r), id)
		}
	}
	require.Contains(t, console, "demo-transcoder console_transcode ok", "the console's transcode is audited with its actor: %v", console)
	require.Contains(t, console, "demo-auditor console_transcode forbidden", "the auditor's refused transcode is audited: %v", console)
}
