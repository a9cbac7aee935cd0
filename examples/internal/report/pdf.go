package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// ErrNoChromium is returned by WritePDF when no Chromium is found.
var ErrNoChromium = errors.New("report: chromium not found (apt-get install chromium fonts-noto-cjk)")

// PDFOptions configure WritePDF. The zero value is ready to use.
type PDFOptions struct {
	// Chromium is the browser to run. Default: $CHROMIUM, else chromium
	// or chromium-browser on $PATH, else /usr/bin/chromium. A path given
	// here or in $CHROMIUM that does not exist is ErrNoChromium, not a
	// reason to look elsewhere.
	Chromium string
	// Timeout bounds one print, on top of ctx. Default 60s.
	Timeout time.Duration
}

// DefaultTimeout is PDFOptions.Timeout's default.
const DefaultTimeout = 60 * time.Second

// WritePDF prints d to PDF: HTML(d) written to a temporary directory and
// printed by headless Chromium (A4, the page number in the footer, long
// tables broken across pages with their header repeated), then copied to
// w. Nothing is fetched from the network: the page has no external
// resources and Chromium runs with its background networking off.
//
// It blocks for the browser's run, about a second. The browser is killed
// when ctx ends or the timeout passes, on Unix with its whole process
// group (zygotes, renderers); the error then wraps ctx.Err(). A failed run's
// error carries the end of Chromium's stderr. Nothing is written to w
// unless the PDF was made.
//
// WritePDF is safe for concurrent use: each call has its own browser and
// profile.
func WritePDF(ctx context.Context, w io.Writer, d Document, opt PDFOptions) error {
	if err := d.Validate(); err != nil {
		return err
	}
	bin, err := findChromium(opt.Chromium)
	if err != nil {
		return err
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "report-pdf-")
	if err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "page.html"), filepath.Join(dir, "page.pdf")
	var page bytes.Buffer
	if err := HTML(&page, d); err != nil {
		return err
	}
	if err := os.WriteFile(in, page.Bytes(), 0o600); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}

	cmd := exec.CommandContext(ctx, bin,
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-quic",
		"--disable-extensions",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-pdf-header-footer",
		"--print-to-pdf="+out,
		(&url.URL{Scheme: "file", Path: in}).String(),
	)
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// Its crash database, caches and temporary files go to dir too, and
	// go with it, even when the browser was killed; but its singleton
	// socket, dir/org.chromium.Chromium.XXXXXX/SingletonSocket, must fit
	// in a Unix socket address (108 bytes), or Chromium aborts.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if len(dir)+len("/org.chromium.Chromium.XXXXXX/SingletonSocket") < 100 {
		cmd.Env = append(cmd.Env, "TMPDIR="+dir)
	}
	ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("report: pdf: chromium stopped: %w", ctx.Err())
	}
	if runErr != nil {
		return fmt.Errorf("report: pdf: %s: %w: %s", bin, runErr, stderr)
	}
	pdf, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return fmt.Errorf("report: pdf: %s made no PDF (%v): %s", bin, err, stderr)
	}
	if _, err := w.Write(pdf); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	return nil
}

func findChromium(bin string) (string, error) {
	if bin == "" {
		bin = os.Getenv("CHROMIUM")
	}
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoChromium, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.buf)) }
