package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed page.html.tmpl
var pageText string

// page is parsed once; a parsed html/template is safe for concurrent
// Execute.
var page = template.Must(template.New("page").Parse(pageText))

// HTML writes d as the self-contained HTML page that WritePDF prints: no
// scripts, no external resources (a Content-Security-Policy forbids
// them), CSS for A4 with the page number in the footer, tables whose
// header row repeats on each page, and the font family "Noto Sans CJK
// SC", "Noto Serif CJK SC", sans-serif. Every text is escaped by
// html/template. Figures are formatted as Cell.String says: ¥12,345.67,
// 1,234, 12.34%.
//
// HTML is safe for concurrent use.
func HTML(w io.Writer, d Document) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if err := page.Execute(w, pageData(d)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// The template sees text only: every figure formatted here.
type (
	htmlPage struct {
		Title, Subtitle, Created, CreatedLabel string
		Facts                                  []htmlFact
		Sections                               []htmlSection
	}
	htmlFact struct {
		Label string
		htmlCell
	}
	htmlSection struct {
		Heading, Note string
		Columns       []htmlCell
		Rows          [][]htmlCell
		Total         []htmlCell
	}
	htmlCell struct {
		Text string
		Num  bool // right-aligned
	}
)

func pageData(d Document) htmlPage {
	p := htmlPage{Title: d.Title, Subtitle: d.Subtitle, CreatedLabel: CreatedLabel}
	if !d.Created.IsZero() {
		p.Created = d.Created.Format("2006-01-02 15:04")
	}
	for _, f := range d.Facts {
		p.Facts = append(p.Facts, htmlFact{f.Label, htmlOf(f.Value)})
	}
	for _, s := range d.Sections {
		hs := htmlSection{Heading: s.Heading, Note: s.Note, Total: htmlRow(s.Total)}
		for i, c := range s.Columns {
			hs.Columns = append(hs.Columns, htmlCell{c, numericColumn(s, i)})
		}
		for _, r := range s.Rows {
			hs.Rows = append(hs.Rows, htmlRow(r))
		}
		p.Sections = append(p.Sections, hs)
	}
	return p
}

func htmlRow(r []Cell) []htmlCell {
	if r == nil {
		return nil
	}
	out := make([]htmlCell, len(r))
	for i, c := range r {
		out[i] = htmlOf(c)
	}
	return out
}

func htmlOf(c Cell) htmlCell { return htmlCell{c.String(), c.Kind != Text} }
