// Package browsertest starts headless Chromium for Go tests that drive
// pages with github.com/chromedp/chromedp.
//
// # Usage
//
//	func TestLogin(t *testing.T) {
//		ctx := browsertest.New(t)
//		errs := browsertest.ConsoleErrors(ctx) // before Navigate
//		if err := chromedp.Do(ctx,
//			chromedp.Navigate(srv.URL+"/login"),
//			chromedp.SendKeys(chromedp.CSS("#user"), "admin"),
//			chromedp.Submit(chromedp.CSS("form")),
//		); err != nil {
//			t.Fatal(err)
//		}
//		browsertest.Screenshot(t, ctx, "testdata/screens/login.png")
//		if e := errs(); len(e) > 0 {
//			t.Errorf("console errors: %q", e)
//		}
//	}
//
// The browser is Debian's /usr/bin/chromium, or the binary $CHROMIUM names.
// Without one New skips the test, or fails it under CI=true
// (internal/testenv.Require). Each New starts a browser of its own with a
// fresh profile in t.TempDir() and no background networking (this
// project's machines have no internet, and Chromium's calls to Google's
// services are refused many at a time); it is stopped, with all its child
// processes, when the test ends. A start costs about half a second.
//
// Screenshots are written only when the test runs with
// -update-screenshots; otherwise Screenshot checks that one can be taken.
// The console's page shots live in examples/console/testdata/screens/.
//
// # Concurrency
//
// The context New returns is one tab: use it from one goroutine at a time
// (chromedp's rule). Parallel tests each call New. The func ConsoleErrors
// returns is safe for concurrent use.
package browsertest
