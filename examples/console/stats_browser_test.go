package console

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestBrowserStats drives the statistics page and the red/yellow users
// list in headless Chromium over the fake backend: every chart of the
// page is drawn (an svg with bars); the list's next link leads to a
// different page 2; every person shown is masked; the region filter keeps
// only that region's people; a bad region is named next to its field. No
// page logs an error or a CSP violation. -update-screenshots rewrites
// testdata/screens/users.png (TestBrowser takes stats.png).
func TestBrowserStats(t *testing.T) {
	b := browse(t)
	srv, ctx, d, errs := b.srv, b.ctx, b.d, b.errs
	do, eval, count, tctx := d.Do, d.Eval, d.Count, d.Ctx
	// column returns the text of column i of the list's rows, joined by
	// "|".
	column := func(i int) string {
		return eval(`Array.from(document.querySelectorAll("#users tr.user")).map(r => r.cells[` + strconv.Itoa(i) + `].textContent).join("|")`)
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	do("sign in", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "a-token"), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#actor")))
	do("statistics", chromedp.Navigate(srv.URL+"/console/stats"), chromedp.WaitVisible(css("#chart-venue-days")))
	for _, id := range []string{"chart-days", "chart-causes", "chart-regions", "chart-venue-days", "chart-top-venues"} {
		assert.Positive(t, count("#"+id+" svg rect"), "%s: bars drawn", id)
	}
	assert.Equal(t, 15, count("#chart-venue-days svg rect title"), "a bar a day, each with its number")
	assert.Equal(t, "300", eval(`document.querySelector("#venues-registered").textContent`))
	assert.Equal(t, 10, count("#top-today tbody tr"))

	do("users list", chromedp.Click(css("#users-link")), chromedp.WaitVisible(css("#users")))
	assert.Equal(t, "137", eval(`document.querySelector("#users-total").textContent`))
	assert.Equal(t, usersPerPage, count("#users tr.user"))
	page1 := column(0)
	do("page 2", chromedp.Click(css("#next")), chromedp.WaitVisible(css("#prev")))
	assert.Equal(t, "2", eval(`document.querySelector("#page-no").textContent`))
	assert.Equal(t, usersPerPage, count("#users tr.user"))
	page2 := column(0)
	assert.NotEqual(t, page1, page2, "page 2 differs from page 1")
	for _, p := range append(splitBar(page1), splitBar(page2)...) {
		assert.Regexp(t, maskedRE, p, "only masked persons")
	}

	do("filter form", chromedp.Navigate(srv.URL+"/console/stats/users"), chromedp.WaitVisible(css("#users-form")),
		chromedp.SendKeys(css("#region"), "5101"))
	// The unfiltered page's page number goes first, so that waiting for
	// one waits for the filtered page.
	eval(`(document.querySelector("#page-no").remove(), "")`)
	do("filter by region", chromedp.Click(css("#filter")), chromedp.WaitVisible(css(`#page-no`)))
	assert.Contains(t, eval(`location.search`), "region=5101")
	want := 0
	for _, u := range fakeUsers {
		if strings.HasPrefix(u.Region, "5101") {
			want++
		}
	}
	require.Greater(t, want, usersPerPage)
	assert.Equal(t, strconv.Itoa(want), eval(`document.querySelector("#users-total").textContent`))
	regions := splitBar(column(2))
	assert.Len(t, regions, usersPerPage)
	for _, r := range regions {
		assert.True(t, strings.HasPrefix(r, "5101"), r)
	}
	assert.Contains(t, eval(`document.querySelector("#next").href`), "region=5101", "the next page keeps the filter")
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.outerHTML.includes("`+rawID+`") || document.documentElement.outerHTML.includes("`+rawPhone+`")`))
	require.NoError(t, err)
	assert.False(t, raw)
	browsertest.Screenshot(t, ctx, "testdata/screens/users.png")

	do("bad region", chromedp.SetValue(css("#region"), "51a"), chromedp.Click(css("#filter")), chromedp.WaitVisible(css("#region-error")))
	assert.Zero(t, count("#users"), "nothing listed")

	// The bad region is answered 422 on purpose; Chromium logs that status.
	var faults []string
	for _, e := range errs() {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/console/stats/users") {
			faults = append(faults, e)
		}
	}
	assert.Empty(t, faults, "console errors or CSP violations")
}

func splitBar(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}
