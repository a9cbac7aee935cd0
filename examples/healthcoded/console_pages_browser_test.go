package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestConsoleBrowserPages opens the pages TestConsoleEndToEnd and
// TestConsoleFinderBrowser do not, on the real server in headless
// Chromium: the red/yellow users list (masked people, a second page) and
// the rules page, as the demo rules admin, who sees the set in force and
// the upload form.
func TestConsoleBrowserPages(t *testing.T) {
	s := start(t, t.TempDir(), "-demo-people", "1000") // over 50 red or yellow: two pages
	ctx := browsertest.New(t)
	errs := browsertest.ConsoleErrors(ctx)
	d := browsertest.Drive(t, ctx, 60*time.Second)
	do, eval := d.Do, d.Eval
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	firstColumn := `Array.from(document.querySelectorAll("#users tr.user")).map(r => r.cells[0].textContent).join("|")`

	do("sign in as the rules admin", chromedp.Navigate(s.base+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), rulesAdmin), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#actor")))
	do("users list", chromedp.Navigate(s.base+"/console/stats"), chromedp.WaitVisible(css("#users-link")),
		chromedp.Click(css("#users-link")), chromedp.WaitVisible(css("#users")))
	page1 := eval(firstColumn)
	require.Regexp(t, regexp.MustCompile(`^([0-9a-f]{6}…[0-9a-f]{4}\|?)+$`), page1, "every person masked")
	do("page 2", chromedp.Click(css("#next")), chromedp.WaitVisible(css("#prev")))
	require.NotEqual(t, page1, eval(firstColumn))
	do("rules", chromedp.Navigate(s.base+"/console/rules"), chromedp.WaitVisible(css("#in-force")))
	require.Equal(t, "healthcode-default@2022.06-9", eval(`document.querySelector("#in-force").textContent`))
	require.Equal(t, "1", eval(`String(document.querySelectorAll("#rollback").length)`), "a rules admin may roll back")
	require.Empty(t, errs(), "console errors or CSP violations")
}
