package console

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestBrowserFinder drives the finder in headless Chromium: a venue found
// by part of its name is ticked, the query runs with a cap, and the result
// shows the contacts, the hops and their cut counts.
// -update-screenshots rewrites testdata/screens/finder.png.
func TestBrowserFinder(t *testing.T) {
	f := newFake()
	c, err := New(Config{Backend: f, Now: func() time.Time { return time.Date(2022, 5, 15, 10, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(tctx, steps...), what)
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	do("sign in", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "a-token"), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#nav-finder")))
	do("finder page", chromedp.Click(css("#nav-finder")), chromedp.WaitVisible(css("#finder-form")))
	do("search venues", chromedp.SendKeys(css("#venue_q"), "太古里 春熙路"), chromedp.Click(css("#venue-search")), chromedp.WaitVisible(css("#venues")))
	do("find", chromedp.Click(css(`#venues input[value="v1"]`)),
		chromedp.SetValue(css("#visit_from"), "2022-05-14T09:00"), chromedp.SetValue(css("#visit_to"), "2022-05-14T11:00"),
		chromedp.SetValue(css("#depth"), "2"), chromedp.SetValue(css("#max_per_window"), "50"),
		chromedp.Click(css("#find")), chromedp.WaitVisible(css("#result")))
	n, err := chromedp.Run(tctx, chromedp.Text(css("#contact-count")))
	require.NoError(t, err)
	assert.Equal(t, "5", n)
	browsertest.Screenshot(t, ctx, "testdata/screens/finder.png")
	assert.Empty(t, errs(), "console errors or CSP violations")
}
