package console

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestBrowser drives the console in headless Chromium over the fake
// backend: sign in, look a person up, transcode without a reason (an
// inline error, nothing changed) and with one, the statistics and the
// dashboard, then sign out; no page logs an error or a CSP violation.
// -update-screenshots rewrites testdata/screens/*.png.
func TestBrowser(t *testing.T) {
	b := browse(t)
	f, srv, ctx, d, errs, c := b.f, b.srv, b.ctx, b.d, b.errs, b.c
	do, text, count, tctx := d.Do, d.Text, d.Count, d.Ctx
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	do("sign-in page", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(css("#token")))
	browsertest.Screenshot(t, ctx, "testdata/screens/signin.png")
	do("sign in", chromedp.SendKeys(css("#token"), "t-token"), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#lookup-form")))
	assert.Equal(t, "alice", text("#actor"))

	do("look up", chromedp.SendKeys(css("#id"), rawID), chromedp.Click(css("#lookup")), chromedp.WaitVisible(css("#displayed")))
	assert.Equal(t, "黄码", text("#displayed"))
	assert.Equal(t, 30, count("#history tbody tr"))
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.outerHTML.includes("`+rawID+`") || location.href.includes("`+rawID+`")`))
	require.NoError(t, err)
	assert.False(t, raw, "the raw document number is nowhere on the page or in its URL")

	do("transcode without reason",
		chromedp.SetValue(css("#colour"), "red"),
		chromedp.SendKeys(css("#authorisation"), "卫健委〔2022〕12号"),
		chromedp.Click(css("#transcode")),
		chromedp.WaitVisible(css("#reason-error")))
	assert.Equal(t, "黄码", text("#displayed"), "nothing changed")
	assert.Empty(t, f.transcodeLog())
	browsertest.Screenshot(t, ctx, "testdata/screens/person-error.png")

	do("transcode", chromedp.SendKeys(css("#reason"), "密接，流调确认"), chromedp.Click(css("#transcode")), chromedp.WaitVisible(css("#notice")))
	assert.Equal(t, "红码", text("#displayed"))
	assert.Equal(t, []string{"alice red 卫健委〔2022〕12号 密接，流调确认 " + rawID}, f.transcodeLog())
	browsertest.Screenshot(t, ctx, "testdata/screens/person.png")

	do("statistics", chromedp.Navigate(srv.URL+"/console/stats"), chromedp.WaitVisible(css("#chart-days")))
	assert.Positive(t, count("#chart-days svg rect, #chart-days svg path, #chart-days tbody tr"), "the per-day chart rendered")
	assert.Contains(t, text(".anomaly"), "red total")
	browsertest.Screenshot(t, ctx, "testdata/screens/stats.png")

	do("dashboard", chromedp.Navigate(srv.URL+"/console/screen"), chromedp.WaitVisible(css("#trend")))
	assert.Positive(t, count("#trend svg rect, #trend svg path, #trend tbody tr"), "the trend chart rendered")
	assert.Equal(t, "24", text("#t-red"))
	// The page polls every 10 s; fetch once now as screen.js does, so a
	// CSP or session problem with it shows without waiting.
	status, err := chromedp.Run(tctx, chromedp.Evaluate[int](`fetch("/console/screen.json", {credentials: "same-origin"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	browsertest.Screenshot(t, ctx, "testdata/screens/screen.png")

	do("sign out", chromedp.Navigate(srv.URL+"/console/person"), chromedp.WaitVisible(css("#signout")), chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#token")))
	assert.Equal(t, 0, c.sessions.len())

	// The refused transcode is answered 422 on purpose (the form with its
	// inline error); Chromium logs that status. Anything else is a fault.
	var faults []string
	for _, e := range errs() {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/console/person/transcode") {
			faults = append(faults, e)
		}
	}
	assert.Empty(t, faults, "console errors or CSP violations")
}

// browserEnv is a console over a fresh fake backend (its clock at
// 2022-05-15 10:00 UTC), served, with a browser tab open for the test.
type browserEnv struct {
	f    *fakeBackend
	c    *Console
	srv  *httptest.Server
	ctx  context.Context     // the tab
	d    *browsertest.Driver // its steps, a minute for all
	errs func() []string     // the tab's console errors and CSP violations so far
}

func browse(t *testing.T) browserEnv {
	t.Helper()
	f := newFake()
	c, err := New(Config{Backend: f, Now: func() time.Time { return time.Date(2022, 5, 15, 10, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	return browserEnv{f: f, c: c, srv: srv, ctx: ctx, d: browsertest.Drive(t, ctx, 60*time.Second), errs: browsertest.ConsoleErrors(ctx)}
}
