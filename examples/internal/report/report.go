// Package report renders the documents the example programs file: a
// quality-check run's report (examples/quality) and the SLA assessment
// (slacalc), to xlsx (github.com/xuri/excelize/v2) and to PDF (headless
// Chromium printing an HTML page set in Noto CJK, so Chinese text is
// typeset as the platforms' own staff would read it). The SDK packages do
// no I/O of this kind; they compute the figures, this package lays them
// out.
//
// A Document is a plain value: a title, key facts, and sections of
// tables whose cells are numbers (written as numbers, never as text, so a
// spreadsheet can sum them), money exact to the fen, or text.
//
// PDF is printed by Chromium rather than written by a Go PDF library
// (codeberg.org/go-pdf/fpdf) because of the Chinese text: fpdf embeds
// TrueType fonts only, while Debian's fonts-noto-cjk ships Noto CJK as
// CFF-based OpenType, and it does no CJK shaping or line breaking.
// Chromium typesets with the system's Noto CJK as a browser does, breaks
// tables across pages with their headers repeated, and numbers the pages.
// The cost is a browser on the machine (apt-get install chromium
// fonts-noto-cjk) and about a second per PDF; see WritePDF and README.md.
package report

import "time"

// Document is one report.
type Document struct {
	Title    string    // 数据质量核查报告 ...
	Subtitle string    // the rule, the period
	Created  time.Time // printed in the footer
	Facts    []Fact    // key figures shown first (the summary sheet)
	Sections []Section
}

// Fact is one key figure: "缺失 (missing)": 12.
type Fact struct {
	Label string
	Value Cell
}

// Section is a heading and a table; in xlsx each section is a sheet of
// its own (Sheet, at most 31 characters), in PDF a heading and a table.
type Section struct {
	Heading string
	Sheet   string // xlsx sheet name; default derived from Heading
	Note    string // a paragraph under the heading
	Columns []string
	Rows    [][]Cell
	// Total, if set, is a last row set apart (bold, a rule above).
	Total []Cell
}

// Kind says how a cell is written.
type Kind uint8

// Cell kinds.
const (
	Text   Kind = iota // a string
	Number             // an integer or decimal count: a numeric cell
	Money              // an amount in fen, written as yuan with two decimals: a numeric cell formatted 0.00
	Ratio              // a fraction written as a percentage: a numeric cell formatted 0.00%
)

// Cell is one value of a table.
type Cell struct {
	Kind Kind
	Text string  // Text
	Num  float64 // Number, Ratio
	Fen  int64   // Money, exact
}

// T, N, M and R build cells.
func T(s string) Cell     { return Cell{Kind: Text, Text: s} }
func N(n float64) Cell    { return Cell{Kind: Number, Num: n} }
func M(fen int64) Cell    { return Cell{Kind: Money, Fen: fen} }
func R(frac float64) Cell { return Cell{Kind: Ratio, Num: frac} }
