package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/sla"
)

// binaryFormat reports whether a -format writes a file no terminal shows:
// those need -o, and go to stdout only when -o - says so.
func binaryFormat(format string) bool { return format == "pdf" || format == "xlsx" }

// chromiumHint is how to install what -format pdf needs.
const chromiumHint = "apt-get install chromium fonts-noto-cjk"

// writeReport renders rep in cfg.Format to cfg.Out: a file written beside
// its target and renamed into place only when complete, or stdout ("-",
// or "" for a text format). The whole output is rendered before stdout
// sees a byte, so a failure writes nothing there either.
func writeReport(ctx context.Context, cfg reportConfig, c *sla.Contract, in sla.Input, rep *sla.Report, stdout io.Writer) error {
	var buf bytes.Buffer
	if err := render(ctx, cfg, c, in, rep, &buf); err != nil {
		return err
	}
	if cfg.Out == "" || cfg.Out == "-" {
		_, err := buf.WriteTo(stdout)
		return err
	}
	o, err := cli.CreateOut(cfg.Out)
	if err != nil {
		return fmt.Errorf("report: -o: %w", err)
	}
	defer o.Abort() // after Commit, a no-op: the temporary name is gone
	if _, err := buf.WriteTo(o); err != nil {
		return fmt.Errorf("report: -o: %w", err)
	}
	if err := o.Commit(); err != nil {
		return fmt.Errorf("report: -o: %w", err)
	}
	return nil
}

func render(ctx context.Context, cfg reportConfig, c *sla.Contract, in sla.Input, rep *sla.Report, w io.Writer) error {
	switch cfg.Format {
	case "json":
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "pdf", "xlsx":
		d, err := slaDocument(c, in, rep, time.Now())
		if err != nil {
			return err
		}
		if cfg.Format == "xlsx" {
			return report.WriteXLSX(w, d)
		}
		err = report.WritePDF(ctx, w, d, report.PDFOptions{Chromium: cfg.Chromium})
		if errors.Is(err, report.ErrNoChromium) {
			hint := ""
			if !strings.Contains(err.Error(), chromiumHint) {
				hint = " (" + chromiumHint + ")"
			}
			return fmt.Errorf("report: -format pdf prints with Chromium (-chromium PATH, $CHROMIUM, or chromium on PATH) and the Noto CJK fonts: %w%s", err, hint)
		}
		return err
	}
	md := rep.Markdown()
	if !strings.HasSuffix(md, "\n") {
		md += "\n"
	}
	_, err := io.WriteString(w, md)
	return err
}
