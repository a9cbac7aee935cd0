package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "browsertest: write page screenshots (PNG) instead of only taking them")

// DefaultChromium is the browser New runs when $CHROMIUM is empty.
const DefaultChromium = "/usr/bin/chromium"

// Default window size.
const (
	DefaultWidth  = 1280
	DefaultHeight = 900
)

// startTimeout bounds the browser's start in New.
const startTimeout = 30 * time.Second

type config struct {
	width, height int
}

// Option configures New.
type Option func(*config)

// WithWindow sets the browser window's size in CSS pixels (default
// 1280x900). Sizes below 1 fail the test in New.
func WithWindow(w, h int) Option {
	return func(c *config) { c.width, c.height = w, h }
}

// chromium returns the browser to run and whether it exists.
func chromium() (string, bool) {
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		bin = DefaultChromium
	}
	p, err := exec.LookPath(bin)
	return p, err == nil
}

// New starts a headless Chromium for t and returns a chromedp context for
// a new tab in it. The browser runs with --headless --no-sandbox
// --disable-gpu --no-first-run --disable-background-networking
// --disable-component-update --disable-sync --disable-quic and a fresh
// user-data dir in t.TempDir(). It is closed when t ends, and any of its
// processes still running are killed, so nothing outlives the test.
//
// Without a browser ($CHROMIUM, else /usr/bin/chromium) New skips t, or
// fails it under CI=true. A browser that does not start fails t.
func New(t *testing.T, opts ...Option) context.Context {
	t.Helper()
	cfg := config{width: DefaultWidth, height: DefaultHeight}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.width < 1 || cfg.height < 1 {
		t.Fatalf("browsertest: window %dx%d: width and height must be positive", cfg.width, cfg.height)
	}
	bin, ok := chromium()
	testenv.Require(t, ok, "chromium not installed (apt-get install chromium)")

	dir := t.TempDir()
	var stderr testenv.Buffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless, // also hides scrollbars and mutes audio
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(cfg.width, cfg.height),
		chromedp.CombinedOutput(&stderr),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs before the directory goes.
	t.Cleanup(func() {
		cancelTab()   // closes the browser: this context started it
		cancelAlloc() // waits for the browser process
		killLeftovers(dir)
	})

	// Start the browser now, bound to ctx (not to a timeout context,
	// which would close it when the timeout ends), with a watchdog.
	// The viewport is set by emulation as well as by the window size:
	// headless windows have a minimum width (500 px), and a screenshot
	// must be as wide as asked.
	timer := time.AfterFunc(startTimeout, cancelTab)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(cfg.width), int64(cfg.height)))
	timer.Stop()
	if err != nil {
		t.Fatalf("browsertest: start %s: %v\n%s", bin, err, tail(stderr.String(), 2000))
	}
	return ctx
}

// Screenshot takes a full-page PNG of the page in ctx. With
// -update-screenshots it writes it to path (creating the directory);
// otherwise it only checks that the screenshot is a non-empty PNG, so
// tests that call it stay fast and the committed files change only on
// purpose.
func Screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	screenshot(t, ctx, path, *updateScreenshots)
}

func screenshot(t *testing.T, ctx context.Context, path string, write bool) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", path, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Empty() {
		t.Fatalf("browsertest: screenshot %s: empty image %v", path, b)
	}
	if !write {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Logf("browsertest: wrote %s (%d bytes)", path, len(buf))
}

// cspReporter runs in every document before the page's own scripts. It
// is injected through the DevTools protocol, so the page's CSP does not
// block it, and it reports each violation on the console, where
// ConsoleErrors sees it whatever Chromium itself logs.
const cspReporter = `document.addEventListener('securitypolicyviolation', function (e) {
	console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
		' at ' + e.sourceFile + ':' + e.lineNumber);
});`

// ConsoleErrors starts collecting the errors of the page in ctx: uncaught
// exceptions, console.error calls, error entries of the browser log
// (failed loads other than Chromium's own /favicon.ico request, its CSP
// messages), and Content Security
// Policy violations, reported through the console by a listener it
// injects into every new document. Call it before Navigate; the returned
// func gives the messages so far, one line each, in order.
//
// A failure to subscribe (the browser died) is returned as a message, so
// a test asserting "no errors" fails rather than passing silently.
func ConsoleErrors(ctx context.Context) func() []string {
	var (
		mu   sync.Mutex
		errs []string
	)
	add := func(s string) {
		mu.Lock()
		errs = append(errs, s)
		mu.Unlock()
	}
	get := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			add("exception: " + exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				add("console." + string(ev.Type) + ": " + argsText(ev.Args))
			}
		case *log.EventEntryAdded:
			if e := ev.Entry; e != nil && e.Level == log.EntryLevelError && !isFavicon(e) {
				s := "log(" + string(e.Source) + "): " + e.Text
				if e.URL != "" {
					s += " (" + e.URL + ")"
				}
				add(s)
			}
		}
	})
	if err != nil {
		add(fmt.Sprintf("browsertest: listen: %v", err))
		return get
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspReporter}); err != nil {
		add(fmt.Sprintf("browsertest: install CSP reporter: %v", err))
	}
	return get
}

// isFavicon reports a failed load of /favicon.ico: Chromium asks for it
// by itself, so a page without one has not erred.
func isFavicon(e *log.Entry) bool {
	return e.Source == log.EntrySourceNetwork && strings.HasSuffix(e.URL, "/favicon.ico")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	if d.URL != "" {
		s += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	}
	return s
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if a == nil {
			continue
		}
		switch {
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			if err := json.Unmarshal([]byte(a.Value), &s); err == nil {
				parts = append(parts, s)
				continue
			}
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// killLeftovers kills the processes still using dir as their user-data
// dir. Chromium's children (zygotes, the network service) can outlive
// the main process; chromedp cleans up only the profiles it creates.
// Each child carries --user-data-dir, so the command line finds them.
func killLeftovers(dir string) {
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pids := processesUsing(dir)
		if len(pids) == 0 {
			quiet++
			continue
		}
		quiet = 0
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// processesUsing returns the processes whose command line has
// --user-data-dir=dir (Linux /proc; none elsewhere).
func processesUsing(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := "--user-data-dir=" + dir
	sep := func(r rune) bool { return r == 0 || r == ' ' } // zygotes rewrite argv space-separated
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if slices.Contains(strings.FieldsFunc(string(cmd), sep), want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Driver runs a test's steps in a tab: each step fails the test with what
// it was doing, and all share one deadline.
type Driver struct {
	t *testing.T
	// Ctx is the tab's context with the deadline, for chromedp calls the
	// Driver does not wrap.
	Ctx context.Context
}

// Drive returns a Driver for the tab ctx (from New) whose steps must all
// finish within timeout.
func Drive(t *testing.T, ctx context.Context, timeout time.Duration) *Driver {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return &Driver{t: t, Ctx: tctx}
}

// Do runs steps, failing the test with what if one fails.
func (d *Driver) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	if err := chromedp.Do(d.Ctx, steps...); err != nil {
		d.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the text of the first element sel (a CSS selector) matches.
func (d *Driver) Text(sel string) string {
	d.t.Helper()
	s, err := chromedp.Run(d.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		d.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Eval evaluates a JavaScript expression whose value is a string.
func (d *Driver) Eval(js string) string {
	d.t.Helper()
	s, err := chromedp.Run(d.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		d.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// Count returns how many elements sel (a CSS selector) matches.
func (d *Driver) Count(sel string) int {
	d.t.Helper()
	n, err := chromedp.Run(d.Ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
	if err != nil {
		d.t.Fatalf("count of %s: %v", sel, err)
	}
	return n
}
