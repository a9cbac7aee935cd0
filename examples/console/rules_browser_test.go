package console

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/healthcode-sdk/healthcode/examples/internal/browsertest"
)

// TestBrowserRules drives the rules page in headless Chromium: a set that
// does not compile shows its problem at line:column, a good one its dry
// run's matrix; activation and rollback each pass a confirmation page;
// an activation at a chosen time (the form's datetime-local, Beijing
// time) is confirmed with that time and listed under 已排期 with it.
// -update-screenshots rewrites testdata/screens/rules*.png.
func TestBrowserRules(t *testing.T) {
	b := browse(t)
	f, srv, ctx, d, errs := b.f, b.srv, b.ctx, b.d, b.errs
	do, text := d.Do, d.Text
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	do("sign in", chromedp.Navigate(srv.URL+"/console/login"), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "r-token"), chromedp.Click(css("#signin")), chromedp.WaitVisible(css("#nav-rules")))
	do("rules page", chromedp.Click(css("#nav-rules")), chromedp.WaitVisible(css("#upload-form")))
	assert.Equal(t, "sichuan@v2", text("#in-force"))

	do("upload a bad set", chromedp.SetValue(css("#source"), badRules), chromedp.Click(css("#upload")), chromedp.WaitVisible(css("#problems")))
	assert.Equal(t, "5:11", text("#problems td.pos"))
	browsertest.Screenshot(t, ctx, "testdata/screens/rules-error.png")

	do("upload a good set", chromedp.SetValue(css("#source"), goodRules), chromedp.Click(css("#upload")), chromedp.WaitVisible(css("#matrix")))
	assert.Equal(t, "1297", text("#dr-changed"))
	assert.Contains(t, text("#matrix tbody"), "1234")
	browsertest.Screenshot(t, ctx, "testdata/screens/rules.png")

	do("confirm activation", chromedp.Click(css("#activate")), chromedp.WaitVisible(css("#confirm-question")))
	assert.Equal(t, "确认激活 v3？", text("#confirm-question"))
	do("activate", chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#notice")))
	assert.Equal(t, "sichuan@v3", text("#in-force"))

	do("roll back", chromedp.Click(css("#rollback")), chromedp.WaitVisible(css("#confirm-question")),
		chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#notice")))
	assert.Equal(t, "sichuan@v2", text("#in-force"))

	// v3 again, at midnight tonight: the time goes through the confirmation.
	do("upload v3 again", chromedp.SetValue(css("#source"), goodRules), chromedp.Click(css("#upload")), chromedp.WaitVisible(css("#matrix")))
	do("choose midnight", chromedp.SetValue(css("#effective-at"), "2022-05-16T00:00"), chromedp.Click(css("#activate")),
		chromedp.WaitVisible(css("#confirm-at")))
	assert.Equal(t, "确认激活 v3？", text("#confirm-question"))
	assert.Equal(t, "生效时间（北京时间）: 2022-05-16 00:00", text("#confirm-at"))
	browsertest.Screenshot(t, ctx, "testdata/screens/rules-confirm.png")
	do("schedule", chromedp.Click(css("#confirm")), chromedp.WaitVisible(css("#notice")))
	assert.Equal(t, "已排期，2022-05-16 00:00 生效", text("#notice"))
	assert.Equal(t, "已排期\tsichuan@v3\t2022-05-16 00:00\t7", strings.TrimSpace(text("#sets tr.scheduled")))
	assert.Equal(t, "sichuan@v2", text("#in-force"), "in force until then")
	browsertest.Screenshot(t, ctx, "testdata/screens/rules-scheduled.png")
	assert.Equal(t, []string{"carol upload v3", "carol activate v3", "carol rollback", "carol upload v3", "carol activate v3 2022-05-16T00:00:00+08:00"}, f.rulesLog())

	// The bad upload is answered 422 on purpose; anything else is a fault.
	var faults []string
	for _, e := range errs() {
		if !strings.Contains(e, "status of 422") || !strings.Contains(e, "/console/rules/upload") {
			faults = append(faults, e)
		}
	}
	assert.Empty(t, faults, "console errors or CSP violations")
}
