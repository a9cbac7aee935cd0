package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// SummarySheet is the name of the workbook's first sheet: title,
// subtitle, creation time and the Facts.
const SummarySheet = "摘要"

// CreatedLabel labels the creation time on the summary sheet and in the
// PDF's header.
const CreatedLabel = "生成时间"

// Excel's built-in number formats used here.
const (
	fmtGeneral  = 0
	fmtFixed2   = 2  // 0.00: money in yuan
	fmtThousand = 3  // #,##0: whole numbers
	fmtPercent2 = 10 // 0.00%: ratios
	fmtDateTime = 22 // m/d/yy h:mm, shown in the reader's locale
)

// WriteXLSX writes d as a workbook: a summary sheet (SummarySheet: title,
// subtitle, creation time, then the Facts as label/value rows), then one
// sheet per Section, named as Section.Sheet says, with the column headers
// in a bold frozen first row, the Rows, and the Total in bold; columns are
// sized to their content.
//
// Numbers, money and ratios are numeric cells, so a spreadsheet can sum
// them: money as yuan, written from the fen as a decimal with two places
// (1234567 fen is the number 12345.67 exactly, formatted 0.00), ratios
// formatted 0.00%, whole numbers #,##0; numbers and ratios are written
// in full (the shortest decimal that reads back as the same float64, not
// cut to the 15 digits Excel shows). Text is text. Created is written
// as a date-time with the wall clock of its own location (spreadsheets
// have no time zones).
//
// WriteXLSX is safe for concurrent use.
func WriteXLSX(w io.Writer, d Document) error {
	if err := d.Validate(); err != nil {
		return err
	}
	names, _ := sheetNames(d.Sections) // Validate checked them
	x := &xlsx{f: excelize.NewFile(), styles: map[styleKey]int{}}
	defer x.f.Close()
	if err := x.summary(d); err != nil {
		return fmt.Errorf("report: xlsx summary: %w", err)
	}
	for i, s := range d.Sections {
		if err := x.section(names[i], s); err != nil {
			return fmt.Errorf("report: xlsx sheet %q: %w", names[i], err)
		}
	}
	x.f.SetActiveSheet(0)
	if _, err := x.f.WriteTo(w); err != nil {
		return fmt.Errorf("report: write xlsx: %w", err)
	}
	return nil
}

type xlsx struct {
	f      *excelize.File
	styles map[styleKey]int
	widths []float64 // of the sheet being written, per column
}

type styleKey struct {
	numFmt int
	bold   bool
	size   float64 // font size; 0 for the default
	right  bool
}

func (x *xlsx) style(k styleKey) (int, error) {
	if id, ok := x.styles[k]; ok {
		return id, nil
	}
	st := &excelize.Style{NumFmt: k.numFmt}
	if k.bold || k.size > 0 {
		st.Font = &excelize.Font{Bold: k.bold, Size: k.size}
	}
	if k.right {
		st.Alignment = &excelize.Alignment{Horizontal: "right"}
	}
	id, err := x.f.NewStyle(st)
	if err != nil {
		return 0, err
	}
	x.styles[k] = id
	return id, nil
}

func (x *xlsx) summary(d Document) error {
	const sheet = SummarySheet
	if err := x.f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	x.widths = nil
	row := 1
	if d.Title != "" {
		if err := x.text(sheet, 1, row, d.Title, styleKey{bold: true, size: 14}); err != nil {
			return err
		}
		row++
	}
	if d.Subtitle != "" {
		if err := x.text(sheet, 1, row, d.Subtitle, styleKey{}); err != nil {
			return err
		}
		row++
	}
	if !d.Created.IsZero() {
		if err := x.text(sheet, 1, row, CreatedLabel, styleKey{}); err != nil {
			return err
		}
		if err := x.created(sheet, 2, row, d.Created); err != nil {
			return err
		}
		row++
	}
	if len(d.Facts) > 0 && row > 1 {
		row++ // a blank row between the heading lines and the facts
	}
	for _, f := range d.Facts {
		if err := x.text(sheet, 1, row, f.Label, styleKey{bold: true}); err != nil {
			return err
		}
		if err := x.cell(sheet, 2, row, f.Value, false); err != nil {
			return err
		}
		row++
	}
	// The title and subtitle run over the empty cells to their right: do
	// not let them widen column A.
	return x.size(sheet)
}

// created writes t as a date-time of t's own wall clock.
func (x *xlsx) created(sheet string, col, row int, t time.Time) error {
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return err
	}
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	id, err := x.style(styleKey{numFmt: fmtDateTime, right: true})
	if err != nil {
		return err
	}
	if err := x.f.SetCellValue(sheet, ref, wall); err != nil {
		return err
	}
	x.grow(col, "2006-01-02 15:04")
	return x.f.SetCellStyle(sheet, ref, ref, id)
}

func (x *xlsx) section(sheet string, s Section) error {
	if _, err := x.f.NewSheet(sheet); err != nil {
		return err
	}
	x.widths = nil
	for i, c := range s.Columns {
		if err := x.text(sheet, i+1, 1, c, styleKey{bold: true, right: numericColumn(s, i)}); err != nil {
			return err
		}
	}
	if len(s.Columns) > 0 {
		if err := x.f.SetPanes(sheet, &excelize.Panes{
			Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		}); err != nil {
			return err
		}
	}
	row := 2
	for _, r := range s.Rows {
		for i, c := range r {
			if err := x.cell(sheet, i+1, row, c, false); err != nil {
				return err
			}
		}
		row++
	}
	for i, c := range s.Total {
		if err := x.cell(sheet, i+1, row, c, true); err != nil {
			return err
		}
	}
	return x.size(sheet)
}

// cell writes c at (col, row): figures as numeric cells, text as text.
func (x *xlsx) cell(sheet string, col, row int, c Cell, bold bool) error {
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return err
	}
	k := styleKey{bold: bold}
	var shown string
	switch c.Kind {
	case Text:
		return x.text(sheet, col, row, c.Text, k)
	// SetCellDefault writes a numeric string as a number cell, as it is.
	case Number:
		k.numFmt = fmtGeneral
		if c.Num == math.Trunc(c.Num) && math.Abs(c.Num) < 1e15 {
			k.numFmt = fmtThousand
		}
		err, shown = x.f.SetCellDefault(sheet, ref, float(c.Num)), formatNumber(c.Num)
	case Money:
		// The decimal from the fen, never rounded through a float here.
		k.numFmt = fmtFixed2
		err, shown = x.f.SetCellDefault(sheet, ref, yuan(c.Fen)), yuan(c.Fen)
	case Ratio:
		k.numFmt = fmtPercent2
		err, shown = x.f.SetCellDefault(sheet, ref, float(c.Num)), formatRatio(c.Num)
	}
	if err != nil {
		return err
	}
	x.grow(col, shown)
	id, err := x.style(k)
	if err != nil {
		return err
	}
	return x.f.SetCellStyle(sheet, ref, ref, id)
}

// float writes v as the shortest decimal that reads back as v.
func float(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (x *xlsx) text(sheet string, col, row int, s string, k styleKey) error {
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return err
	}
	if err := x.f.SetCellStr(sheet, ref, s); err != nil {
		return err
	}
	if k.size == 0 { // a title runs over its neighbours; it sets no width
		x.grow(col, s)
	}
	if k == (styleKey{}) {
		return nil
	}
	id, err := x.style(k)
	if err != nil {
		return err
	}
	return x.f.SetCellStyle(sheet, ref, ref, id)
}

// grow widens column col to fit s: Excel's width unit is about one Latin
// digit, and a Chinese character takes two.
func (x *xlsx) grow(col int, s string) {
	w := 0.0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x30ff) || (r >= 0xff00 && r <= 0xffef) {
			w += 2
		} else {
			w++
		}
	}
	for len(x.widths) < col {
		x.widths = append(x.widths, 0)
	}
	x.widths[col-1] = max(x.widths[col-1], w)
}

func (x *xlsx) size(sheet string) error {
	for i, w := range x.widths {
		if w == 0 {
			continue
		}
		name, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := x.f.SetColWidth(sheet, name, name, min(max(w+2, 8), 80)); err != nil {
			return err
		}
	}
	return nil
}

// numericColumn reports whether column i of s holds figures (its first
// non-empty cell is not text), so its header aligns right like them.
func numericColumn(s Section, i int) bool {
	for _, r := range s.Rows {
		if i < len(r) {
			return r[i].Kind != Text
		}
	}
	return false
}
