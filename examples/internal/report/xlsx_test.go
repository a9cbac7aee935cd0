package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestWriteXLSX(t *testing.T) {
	d := sample()
	f := writeAndOpen(t, d)

	wantSheets := []string{SummarySheet, "各地市", "二、逐项规则", "样本"}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets %q, want %q", got, wantSheets)
	}

	// The summary: title, subtitle, creation time, then the facts.
	sum := SummarySheet
	wantText(t, f, sum, "A1", d.Title)
	wantText(t, f, sum, "A2", d.Subtitle)
	wantText(t, f, sum, "A3", CreatedLabel)
	raw := rawValue(t, f, sum, "B3")
	serial, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("created %q: %v", raw, err)
	}
	created, err := excelize.ExcelDateToTime(serial, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := created.Round(time.Second).Format(time.DateTime); got != "2026-04-02 09:30:00" {
		t.Errorf("created reads %s, want the wall clock 2026-04-02 09:30:00", got)
	}
	for i, fact := range d.Facts {
		wantText(t, f, sum, cellName(1, 5+i), fact.Label)
		wantCell(t, f, sum, cellName(2, 5+i), fact.Value, false)
	}

	// One sheet per section: bold frozen header, every cell, bold total.
	for si, s := range d.Sections {
		sheet := wantSheets[si+1]
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: panes %+v, %v; want the first row frozen", sheet, panes, err)
		}
		for ci, col := range s.Columns {
			wantText(t, f, sheet, cellName(ci+1, 1), col)
			wantBold(t, f, sheet, cellName(ci+1, 1), true)
		}
		for ri, r := range s.Rows {
			for ci, c := range r {
				wantCell(t, f, sheet, cellName(ci+1, ri+2), c, false)
			}
		}
		for ci, c := range s.Total {
			wantCell(t, f, sheet, cellName(ci+1, len(s.Rows)+2), c, true)
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		wantRows := 1 + len(s.Rows)
		if s.Total != nil {
			wantRows++
		}
		if len(rows) != wantRows {
			t.Errorf("%s: %d rows, want %d", sheet, len(rows), wantRows)
		}
	}

	// Columns are sized to their content: the samples' ID numbers (18
	// digits) are wider than the default, and wider than the city column.
	idw, _ := f.GetColWidth("样本", "A")
	cityw, _ := f.GetColWidth("样本", "B")
	if idw < 18 || cityw >= idw {
		t.Errorf("column widths: ID %.1f, city %.1f", idw, cityw)
	}
}

// TestXLSXMoneyExact: money is written from the fen as a decimal with two
// places, not through a float: 1234567 fen reads back 12345.67 exactly,
// and so do amounts past float64's 15 significant digits.
func TestXLSXMoneyExact(t *testing.T) {
	fens := []int64{1234567, 1, -1, 10, 0, 1999999999999999, -987654321098765432}
	var rows [][]Cell
	for _, fen := range fens {
		rows = append(rows, []Cell{M(fen)})
	}
	f := writeAndOpen(t, Document{Sections: []Section{{Heading: "钱", Columns: []string{"金额"}, Rows: rows}}})
	for i, fen := range fens {
		ref := cellName(1, i+2)
		if got, want := rawValue(t, f, "钱", ref), yuan(fen); got != want {
			t.Errorf("%d fen: raw %q, want %q", fen, got, want)
		}
		wantNumeric(t, f, "钱", ref)
		if got, _ := f.GetCellValue("钱", ref); i == 0 && got != "12345.67" {
			t.Errorf("1234567 fen shows as %q, want 12345.67", got)
		}
	}
}

func TestXLSXInvalid(t *testing.T) {
	var buf bytes.Buffer
	err := WriteXLSX(&buf, Document{Sections: []Section{{Columns: []string{"a"}, Rows: [][]Cell{{T("1"), T("2")}}}}})
	if err == nil || buf.Len() != 0 {
		t.Fatalf("err %v, %d bytes written", err, buf.Len())
	}
}

func writeAndOpen(t *testing.T, d Document) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, d); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err)
	}
	return name
}

func rawValue(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, ref, err)
	}
	return v
}

// wantCell checks that c was written at ref as what it is: text as a
// string, figures as numbers with their format, bold or not.
func wantCell(t *testing.T, f *excelize.File, sheet, ref string, c Cell, bold bool) {
	t.Helper()
	wantBold(t, f, sheet, ref, bold)
	if c.Kind == Text {
		wantText(t, f, sheet, ref, c.Text)
		return
	}
	wantNumeric(t, f, sheet, ref)
	raw := rawValue(t, f, sheet, ref)
	var fmtID int
	switch c.Kind {
	case Money:
		fmtID = fmtFixed2
		if raw != yuan(c.Fen) {
			t.Errorf("%s!%s: raw %q, want %q", sheet, ref, raw, yuan(c.Fen))
		}
	case Number, Ratio:
		fmtID = fmtPercent2
		if c.Kind == Number {
			fmtID = fmtThousand
		}
		if v, err := strconv.ParseFloat(raw, 64); err != nil || v != c.Num {
			t.Errorf("%s!%s: raw %q, want %v", sheet, ref, raw, c.Num)
		}
	}
	if c.Kind == Number && c.Num != float64(int64(c.Num)) {
		fmtID = fmtGeneral
	}
	if st := style(t, f, sheet, ref); st.NumFmt != fmtID {
		t.Errorf("%s!%s: number format %d, want %d", sheet, ref, st.NumFmt, fmtID)
	}
}

// wantNumeric: a number cell has no type or type "n" (excelize reads the
// first as CellTypeUnset); text would be a shared or inline string.
func wantNumeric(t *testing.T, f *excelize.File, sheet, ref string) {
	t.Helper()
	ct, err := f.GetCellType(sheet, ref)
	if err != nil || (ct != excelize.CellTypeUnset && ct != excelize.CellTypeNumber) {
		t.Errorf("%s!%s: cell type %v, %v; want a number", sheet, ref, ct, err)
	}
	if _, err := strconv.ParseFloat(rawValue(t, f, sheet, ref), 64); err != nil {
		t.Errorf("%s!%s: %v", sheet, ref, err)
	}
}

func wantText(t *testing.T, f *excelize.File, sheet, ref, want string) {
	t.Helper()
	ct, err := f.GetCellType(sheet, ref)
	if err != nil || (want != "" && ct != excelize.CellTypeSharedString && ct != excelize.CellTypeInlineString) {
		t.Errorf("%s!%s: cell type %v, %v; want text", sheet, ref, ct, err)
	}
	if got := rawValue(t, f, sheet, ref); got != want {
		t.Errorf("%s!%s = %q, want %q", sheet, ref, got, want)
	}
}

func wantBold(t *testing.T, f *excelize.File, sheet, ref string, bold bool) {
	t.Helper()
	st := style(t, f, sheet, ref)
	if got := st.Font != nil && st.Font.Bold; got != bold {
		t.Errorf("%s!%s: bold %v, want %v", sheet, ref, got, bold)
	}
}

func style(t *testing.T, f *excelize.File, sheet, ref string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatalf("%s!%s: style %d: %v", sheet, ref, id, err)
	}
	return st
}

func ExampleWriteXLSX() {
	var buf bytes.Buffer
	err := WriteXLSX(&buf, Document{
		Title: "扣款",
		Sections: []Section{{
			Heading: "明细",
			Columns: []string{"地市", "扣款（元）", "问题率"},
			Rows:    [][]Cell{{T("广州市"), M(1234567), R(0.0125)}},
		}},
	})
	if err != nil {
		panic(err)
	}
	f, _ := excelize.OpenReader(&buf)
	defer f.Close()
	money, _ := f.GetCellValue("明细", "B2")
	ratio, _ := f.GetCellValue("明细", "C2")
	fmt.Println(f.GetSheetList(), money, ratio)
	// Output: [摘要 明细] 12345.67 1.25%
}

func BenchmarkWriteXLSX(b *testing.B) {
	d := sample()
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, d); err != nil || buf.Len() == 0 {
			b.Fatal(err)
		}
	}
}
