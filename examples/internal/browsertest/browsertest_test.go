package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const csp = "default-src 'self'; script-src 'self'"

// testServer serves a form page whose external script sets the title, a
// result page for the form, and a page with an inline script that its
// CSP must block.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>加载中</title>`+
			`<script src="/app.js"></script></head><body>`+body+`</body></html>`)
	}
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.title = "管理后台";`)
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<h1>登录</h1><form method="post" action="/login">`+
			`<input id="user" name="user"><button type="submit">登录</button></form>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p id="hello">你好, `+templateEscape(r.FormValue("user"))+`</p>`)
	})
	mux.HandleFunc("GET /inline", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<p id="p">原文</p><script>document.getElementById("p").textContent = "被改了";</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// timeout bounds each test's browser work so a hung browser fails fast.
func timeout(t *testing.T, ctx context.Context) context.Context {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFormSubmit(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	ctx := New(t)
	errs := ConsoleErrors(ctx)
	tctx := timeout(t, ctx)

	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/form")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(tctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "管理后台" {
		t.Errorf("title = %q, want the one app.js sets (script-src 'self' must allow it)", title)
	}
	if err := chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.CSS("#user"), "张三"),
		chromedp.Submit(chromedp.CSS("#user")),
		chromedp.WaitVisible(chromedp.CSS("#hello")),
	); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#hello")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "你好, 张三"; got != want {
		t.Errorf("after submit: %q, want %q", got, want)
	}
	if e := errs(); len(e) > 0 {
		t.Errorf("console errors on a clean page: %q", e)
	}
}

func TestCSPViolationReported(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	ctx := New(t)
	errs := ConsoleErrors(ctx)
	tctx := timeout(t, ctx)

	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/inline")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("#p")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "原文" {
		t.Errorf("inline script ran under script-src 'self': text %q", got)
	}
	// The report arrives asynchronously; poll briefly.
	var e []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if e = errs(); hasCSP(e) {
			break
		}
	}
	if !hasCSP(e) {
		t.Fatalf("no CSP violation among console errors %q", e)
	}
	t.Logf("console errors: %q", e)
}

func hasCSP(errs []string) bool {
	for _, e := range errs {
		if strings.Contains(e, "CSP violation: script-src") {
			return true
		}
	}
	return false
}

func TestScreenshot(t *testing.T) {
	t.Parallel()
	srv := testServer(t)
	ctx := New(t, WithWindow(400, 300))
	tctx := timeout(t, ctx)
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/form")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shots", "form.png")
	Screenshot(t, tctx, path) // without -update-screenshots: takes it, writes nothing
	if _, err := os.Stat(path); !os.IsNotExist(err) && !*updateScreenshots {
		t.Fatalf("Screenshot wrote %s without -update-screenshots", path)
	}
	screenshot(t, tctx, path, true) // as with -update-screenshots
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if cfg.Width != 400 || cfg.Height < 1 {
		t.Errorf("screenshot %dx%d, want 400 wide (window 400x300)", cfg.Width, cfg.Height)
	}
}

func TestCancelStopsBrowser(t *testing.T) {
	t.Parallel()
	var pid int
	var dir string
	t.Run("browser", func(t *testing.T) {
		ctx := New(t)
		proc := chromedp.FromContext(ctx).Browser.Process()
		if proc == nil {
			t.Fatal("no browser process")
		}
		pid = proc.Pid
		cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		for _, arg := range strings.Split(string(cmd), "\x00") {
			if d, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
				dir = d
			}
		}
		if dir == "" {
			t.Fatalf("browser %d has no --user-data-dir: %q", pid, cmd)
		}
		if n := len(processesUsing(dir)); n < 2 {
			t.Errorf("found %d processes for %s, want the browser and its children", n, dir)
		}
	})
	if dir == "" {
		t.FailNow()
	}
	if pids := processesUsing(dir); len(pids) > 0 {
		t.Errorf("processes %v still use %s after the test ended", pids, dir)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("user-data dir %s not removed: %v", dir, err)
	}
}

func TestNoBrowserSkips(t *testing.T) {
	t.Setenv("CHROMIUM", filepath.Join(t.TempDir(), "no-such-chromium"))
	t.Setenv("CI", "") // on a laptop: skip (under CI=true testenv.Require fails instead)
	var reached bool
	t.Run("new", func(t *testing.T) {
		New(t)
		reached = true
	})
	if reached {
		t.Error("New returned without a browser")
	}
}
