package console

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestBrowserFinder drives the finder in headless Chromium: a venue found
// by part of its name is ticked with its own range, the query runs with a
// cap and a reported train, and the task's page shows the contacts, the
// hops and their cut counts; a second task excludes the first; the first
// task's contacts are pushed for coding and the progress page follows the
// push. -update-screenshots rewrites testdata/screens/finder.png,
// finder-task.png and finder-push.png.
func TestBrowserFinder(t *testing.T) {
	b := browse(t)
	f, srv, ctx, d, errs := b.f, b.srv, b.ctx, b.d, b.errs
	do, text := d.Do, d.Text
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	do("sign in", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "t-token"), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#nav-finder")))
	do("first task", chromedp.Click(css("#nav-finder")), chromedp.WaitVisible(css("#finder-form")),
		chromedp.SendKeys(css("#id"), rawID), chromedp.SendKeys(css("#name"), "春熙路聚集 第一轮"), chromedp.Click(css("#find")),
		chromedp.WaitVisible(css("#result")))
	assert.Equal(t, "3", text("#contact-count"))
	do("search venues", chromedp.Click(css("#nav-finder")), chromedp.WaitVisible(css("#finder-form")),
		chromedp.SendKeys(css("#venue_q"), "太古里 春熙路"), chromedp.Click(css("#venue-search")), chromedp.WaitVisible(css("#venues")))
	do("choose", chromedp.Click(css("#venue-v1")),
		chromedp.SetValue(css("#from-v1"), "2022-05-14T09:00"), chromedp.SetValue(css("#to-v1"), "2022-05-14T11:00"),
		chromedp.SetValue(css("#mode-0"), "train-sealed"), chromedp.SendKeys(css("#number-0"), "G8501"),
		chromedp.SetValue(css("#day-0"), "2022-05-14"),
		chromedp.SetValue(css("#depth"), "2"), chromedp.SetValue(css("#max_per_window"), "50"),
		chromedp.Click(css(`#exclude input[value="T1"]`)), chromedp.SendKeys(css("#name"), "第二轮（排除第一轮）"))
	browsertest.Screenshot(t, ctx, "testdata/screens/finder.png")
	do("find", chromedp.Click(css("#find")), chromedp.WaitVisible(css("#result")))
	q := f.findLog()[1]
	require.Len(t, q.Visits, 1)
	assert.Equal(t, 2*time.Hour, q.Visits[0].To.Sub(q.Visits[0].From))
	assert.Equal(t, []string{"T1"}, q.Exclude)
	assert.Equal(t, "G8501", q.Trips[0].Number)
	// T1's three people are excluded; the trip's and hop 2's remain.
	assert.Equal(t, "3", text("#contact-count"))
	assert.Equal(t, "T1", text("#excluded"))
	browsertest.Screenshot(t, ctx, "testdata/screens/finder-task.png")

	do("push", chromedp.Navigate(srv.URL+"/console/finder/tasks/T1"), chromedp.WaitVisible(css("#push-form")),
		chromedp.SetValue(css("#push-colour"), "red"), chromedp.SendKeys(css("#push-authorisation"), "川疾控〔2022〕1号"),
		chromedp.SendKeys(css("#push-reason"), "时空伴随"), chromedp.Click(css("#push-confirm")), chromedp.Click(css("#push")),
		chromedp.WaitVisible(css("#push-progress")))
	assert.Equal(t, "1", text("#push-done"))
	assert.Equal(t, "3", text("#push-total"))
	browsertest.Screenshot(t, ctx, "testdata/screens/finder-push.png")
	// The page polls the status: a change on the server reaches it.
	f.mu.Lock()
	f.pushes[0].Done, f.pushes[0].State = 3, PushDone
	f.mu.Unlock()
	do("progress", chromedp.WaitVisible(css(`#push-state[data-state="done"]`)))
	assert.Equal(t, "3", text("#push-done"))
	assert.Empty(t, errs(), "console errors or CSP violations")
}
