package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
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
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(tctx, steps...), what)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return v
	}

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

	do("statistics", chromedp.Navigate(s.base+"/console/stats"), chromedp.WaitVisible(css("#chart-days")))
	do("dashboard", chromedp.Navigate(s.base+"/console/screen"), chromedp.WaitVisible(css("body")))
	var problems []string
	for _, e := range errs() {
		// Chromium logs the 422 the refused transcode is answered with;
		// that refusal is the point of the step above.
		if !strings.Contains(e, "status of 422") {
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
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	recs, err := st.ReadAudit(context.Background(), 0, 1000)
	require.NoError(t, err)
	var console []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "console") {
			console = append(console, fmt.Sprintf("%s %s %s", r.Actor, r.Action, r.Outcome))
			require.NotContains(t, fmt.Sprintf("%+v", r), id)
		}
	}
	require.Contains(t, console, "demo-transcoder console_transcode ok", "the console's transcode is audited with its actor: %v", console)
}
