package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

var updatePNG = flag.Bool("update-png", false, "rewrite testdata/sample-page1.png from the sample report")

// requirePDFTools skips t (fails it under CI) without Chromium and
// poppler-utils.
func requirePDFTools(t *testing.T) {
	t.Helper()
	_, err := findChromium("")
	ok := err == nil
	for _, tool := range []string{"pdftotext", "pdftoppm", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			ok = false
		}
	}
	testenv.Require(t, ok, "chromium not installed (apt-get install chromium fonts-noto-cjk poppler-utils)")
}

func writePDF(t *testing.T, d Document) string {
	t.Helper()
	var buf bytes.Buffer
	start := time.Now()
	if err := WritePDF(t.Context(), &buf, d, PDFOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("WritePDF: %d bytes in %v", buf.Len(), time.Since(start).Round(time.Millisecond))
	name := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).Output()
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return string(out)
}

func pageCount(t *testing.T, pdf string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(run(t, "pdfinfo", pdf))
	if m == nil {
		t.Fatal("pdfinfo: no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// squash drops all white space: pdftotext lays text out with spaces of
// its own choosing, and a long note may wrap.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// TestWritePDF prints the sample and reads it back with pdftotext: the
// Chinese title, headings and every cell, figures as formatted, are
// there.
func TestWritePDF(t *testing.T) {
	requirePDFTools(t)
	d := sample()
	pdf := writePDF(t, d)
	if n := pageCount(t, pdf); n < 1 {
		t.Fatalf("%d pages", n)
	}
	text := run(t, "pdftotext", "-layout", "-enc", "UTF-8", pdf, "-")
	flat := squash(text)
	want := func(s string) {
		t.Helper()
		if !strings.Contains(flat, squash(s)) {
			t.Errorf("PDF text lacks %q", s)
		}
	}
	want(d.Title)
	want(d.Subtitle)
	want(CreatedLabel + "：2026-04-02 09:30")
	for _, f := range d.Facts {
		want(f.Label)
		want(f.Value.String())
	}
	figures := 0
	for _, s := range d.Sections {
		want(s.Heading)
		want(s.Note)
		for _, c := range s.Columns {
			want(c)
		}
		for _, r := range append(s.Rows, s.Total) {
			for _, c := range r {
				want(c.String())
				if c.Kind != Text {
					figures++
					// A figure is not split over lines or spaced out.
					if !strings.Contains(text, c.String()) {
						t.Errorf("figure %s is broken up in the PDF text", c)
					}
				}
			}
		}
	}
	for _, s := range []string{"¥12,345.67", "2,870,280", "0.27%", "¥316,048.72"} {
		want(s)
	}
	t.Logf("%d figures found", figures)

	// Page 1 as a PNG: what the README shows.
	prefix := filepath.Join(t.TempDir(), "page1")
	run(t, "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, prefix)
	b, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// A4 at 60 dpi is 496 × 702 pixels.
	if sz := img.Bounds().Size(); sz.X < 490 || sz.X > 500 || sz.Y < 695 || sz.Y > 708 {
		t.Errorf("page 1 is %v pixels, want A4 at 60 dpi", sz)
	}
	ink := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				ink++
			}
		}
	}
	if ink < 5000 {
		t.Errorf("page 1 has %d dark pixels: blank?", ink)
	}
	if *updatePNG {
		if err := os.WriteFile(filepath.Join("testdata", "sample-page1.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWritePDFLongTable: a table of 300 rows runs over pages, each with
// the column headers repeated and its number in the footer, and no row
// is lost.
func TestWritePDFLongTable(t *testing.T) {
	requirePDFTools(t)
	const rows = 300
	pdf := writePDF(t, long(rows))
	n := pageCount(t, pdf)
	if n < 3 {
		t.Fatalf("%d pages for %d rows", n, rows)
	}
	pages := strings.Split(strings.TrimRight(run(t, "pdftotext", "-layout", "-enc", "UTF-8", pdf, "-"), "\f"), "\f")
	if len(pages) != n {
		t.Fatalf("pdftotext gave %d pages, pdfinfo %d", len(pages), n)
	}
	for i, p := range pages {
		flat := squash(p)
		for _, h := range []string{"序号", "对象名称", "金额（元）", "比例"} {
			if !strings.Contains(flat, h) {
				t.Errorf("page %d lacks the header %q", i+1, h)
			}
		}
		if footer := fmt.Sprintf("第%d页，共%d页", i+1, n); !strings.Contains(flat, footer) {
			t.Errorf("page %d lacks the footer %q", i+1, footer)
		}
	}
	all := squash(strings.Join(pages, ""))
	for i := range rows {
		if s := fmt.Sprintf("核查对象%03d", i+1); !strings.Contains(all, s) {
			t.Errorf("row %d lost", i+1)
		}
	}
}

func TestWritePDFNoChromium(t *testing.T) {
	bogus := filepath.Join(t.TempDir(), "no-such-chromium")
	var buf bytes.Buffer
	err := WritePDF(t.Context(), &buf, sample(), PDFOptions{Chromium: bogus})
	if !errors.Is(err, ErrNoChromium) || !strings.Contains(err.Error(), "apt-get install chromium fonts-noto-cjk") {
		t.Errorf("Chromium %s: %v", bogus, err)
	}
	t.Setenv("CHROMIUM", bogus)
	if err := WritePDF(t.Context(), &buf, sample(), PDFOptions{}); !errors.Is(err, ErrNoChromium) {
		t.Errorf("$CHROMIUM=%s: %v", bogus, err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written", buf.Len())
	}
}

func TestWritePDFInvalid(t *testing.T) {
	var buf bytes.Buffer
	err := WritePDF(t.Context(), &buf, Document{Facts: []Fact{{"x", Cell{Kind: 9}}}}, PDFOptions{Chromium: "/nonexistent"})
	if err == nil || errors.Is(err, ErrNoChromium) {
		t.Errorf("an invalid document is refused before the browser is looked for: %v", err)
	}
}

// TestWritePDFCancelKillsChromium cancels a real print while the browser
// runs: WritePDF returns the context's error at once and leaves no
// process behind (none whose command line names its temporary
// directory: browser, zygotes, renderers, crash handlers).
func TestWritePDFCancelKillsChromium(t *testing.T) {
	requirePDFTools(t)
	// WritePDF's directory, and so the profile, is under tmp: a short
	// name, as Chromium's singleton socket is there too.
	tmp, err := os.MkdirTemp("", "rp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- WritePDF(ctx, new(bytes.Buffer), long(3000), PDFOptions{}) }()

	deadline := time.Now().Add(30 * time.Second)
	for len(processesNaming(t, tmp)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("chromium never started")
		}
		select {
		case err := <-done:
			t.Fatalf("WritePDF returned before it was cancelled: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(200 * time.Millisecond) // let it start its helpers
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WritePDF: %v, want context.Canceled", err)
		}
		t.Logf("returned %v after cancel", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("WritePDF did not return within 10s of cancel")
	}
	// Killed processes may take a moment to be reaped.
	for deadline := time.Now().Add(5 * time.Second); ; {
		left := processesNaming(t, tmp)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left after cancel: %q", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// processesNaming lists the live (not zombie) processes whose command
// line contains s. Linux only: it reads /proc.
func processesNaming(t *testing.T, s string) []string {
	t.Helper()
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc")
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, dir := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(s)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(dir, "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		found = append(found, filepath.Base(dir)+" "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))[:min(len(cmdline), 80)])
	}
	return found
}

func ExampleWritePDF() {
	f, err := os.Create("report.pdf")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	err = WritePDF(context.Background(), f, Document{
		Title: "数据质量核查报告",
		Sections: []Section{{
			Heading: "各地市核查结果",
			Columns: []string{"地市", "扣款（元）"},
			Rows:    [][]Cell{{T("广州市"), M(1234567)}},
		}},
	}, PDFOptions{})
	if errors.Is(err, ErrNoChromium) {
		fmt.Println("install a browser: apt-get install chromium fonts-noto-cjk")
	}
}
