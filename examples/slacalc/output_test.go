package main

import (
	"context"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
)

// exampleDocument is the document of a worked example, as the CLI builds
// it; TestDocumentFigures checks it against the assessment.
func exampleDocument(t *testing.T, args []string) report.Document {
	t.Helper()
	c, in, rep := assessExample(t, args)
	d, err := slaDocument(c, in, rep, created)
	require.NoError(t, err)
	return d
}

// checkXLSXCell says that the cell at ref holds want: a figure as a
// numeric cell whose stored value is exact (money as fen/100, from its
// decimal, not through a float), text as text.
func checkXLSXCell(t *testing.T, f *excelize.File, sheet, ref string, want report.Cell) {
	t.Helper()
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	typ, err := f.GetCellType(sheet, ref)
	require.NoError(t, err)
	where := sheet + "!" + ref
	if want.Kind == report.Text {
		require.Equal(t, want.Text, raw, where)
		return
	}
	// A numeric cell has no type or type n; text would be s, inlineStr or str.
	require.Contains(t, []excelize.CellType{excelize.CellTypeUnset, excelize.CellTypeNumber}, typ, "%s: %q is not a number", where, raw)
	switch want.Kind {
	case report.Money:
		got, ok := new(big.Rat).SetString(raw)
		require.True(t, ok, "%s: %q", where, raw)
		require.Zero(t, got.Cmp(big.NewRat(want.Fen, 100)), "%s: %q, want %d fen", where, raw, want.Fen)
		v, err := strconv.ParseFloat(raw, 64)
		require.NoError(t, err)
		require.Equal(t, float64(want.Fen)/100, v, where)
	default:
		v, err := strconv.ParseFloat(raw, 64)
		require.NoError(t, err, where)
		require.Equal(t, want.Num, v, where)
	}
}

func cellRef(t *testing.T, col, row int) string {
	t.Helper()
	ref, err := excelize.CoordinatesToCellName(col, row)
	require.NoError(t, err)
	return ref
}

// The xlsx of each worked example, read back: every fact, heading, row
// and total in its cell, figures as numbers exact to the fen.
func TestReportXLSX(t *testing.T) {
	dir := t.TempDir()
	for _, ex := range workedExamples {
		t.Run(ex.name, func(t *testing.T) {
			out := filepath.Join(dir, ex.name+".xlsx")
			stdout, _, err := runCLI(t, "", append(append([]string{"report"}, ex.args...), "-format", "xlsx", "-o", out)...)
			require.NoError(t, err)
			require.Empty(t, stdout)
			f, err := excelize.OpenFile(out)
			require.NoError(t, err)
			defer f.Close()
			d := exampleDocument(t, ex.args)

			sheets := []string{report.SummarySheet}
			for _, s := range d.Sections {
				sheets = append(sheets, s.Sheet)
			}
			require.Equal(t, sheets, f.GetSheetList(), "a sheet per section, named in Chinese")

			rows, err := f.GetRows(report.SummarySheet)
			require.NoError(t, err)
			require.Equal(t, d.Title, rows[0][0])
			require.Equal(t, d.Subtitle, rows[1][0])
			for _, fc := range d.Facts {
				r := -1
				for i, row := range rows {
					if len(row) > 0 && row[0] == fc.Label {
						r = i + 1
					}
				}
				require.Positive(t, r, "fact %q", fc.Label)
				checkXLSXCell(t, f, report.SummarySheet, cellRef(t, 2, r), fc.Value)
			}
			for _, s := range d.Sections {
				for i, c := range s.Columns {
					checkXLSXCell(t, f, s.Sheet, cellRef(t, i+1, 1), report.T(c))
				}
				for r, row := range append(s.Rows, s.Total) {
					for i, c := range row {
						checkXLSXCell(t, f, s.Sheet, cellRef(t, i+1, r+2), c)
					}
				}
			}
		})
	}
}

// The PDF of each worked example, through pdftotext: the Chinese title and
// headings, and every amount as ¥1,234.56.
func TestReportPDF(t *testing.T) {
	_, errC := exec.LookPath("chromium")
	_, errP := exec.LookPath("pdftotext")
	testenv.Require(t, errC == nil && errP == nil, "chromium not installed (apt-get install chromium fonts-noto-cjk poppler-utils)")
	dir := t.TempDir()
	for _, ex := range workedExamples {
		t.Run(ex.name, func(t *testing.T) {
			out := filepath.Join(dir, ex.name+".pdf")
			start := time.Now()
			_, _, err := runCLI(t, "", append(append([]string{"report"}, ex.args...), "-format", "pdf", "-o", out)...)
			require.NoError(t, err)
			t.Logf("%s.pdf in %v", ex.name, time.Since(start).Round(time.Millisecond))
			b, err := exec.Command("pdftotext", "-enc", "UTF-8", out, "-").Output()
			require.NoError(t, err)
			text := strings.Join(strings.Fields(string(b)), " ") // cells wrap; compare words
			d := exampleDocument(t, ex.args)
			require.Contains(t, text, "服务水平考核报告")
			for _, h := range ex.headings {
				require.Contains(t, text, h)
			}
			var amounts []report.Cell
			for _, fc := range d.Facts {
				amounts = append(amounts, fc.Value)
			}
			for _, s := range d.Sections {
				for _, row := range append(s.Rows, s.Total) {
					amounts = append(amounts, row...)
				}
			}
			for _, c := range amounts {
				if c.Kind == report.Money {
					require.Contains(t, text, c.String())
				}
			}
		})
	}
}

// Binary formats go to a file named by -o, or to stdout only with -o -;
// a failed run leaves no file.
func TestReportBinaryOutput(t *testing.T) {
	args := append([]string{"report"}, sichuanArgs...)
	_, _, err := runCLI(t, "", append(args, "-format", "xlsx")...)
	require.ErrorAs(t, err, new(usageError))
	require.ErrorContains(t, err, "-format xlsx writes a binary file: give -o FILE (or -o - to write it to stdout)")

	stdout, _, err := runCLI(t, "", append(args, "-format", "xlsx", "-o", "-")...)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(stdout, "PK\x03\x04"), "an xlsx is a zip")

	dir := t.TempDir()
	out := filepath.Join(dir, "r.md")
	stdout, _, err = runCLI(t, "", append(args, "-o", out)...)
	require.NoError(t, err)
	require.Empty(t, stdout)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(b), "score deduction ¥441,000.00")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = run(ctx, append(args, "-format", "xlsx", "-o", filepath.Join(dir, "r.xlsx")), strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	require.ErrorIs(t, err, context.Canceled)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only r.md: no xlsx, no temporary file")
}

// Without Chromium, -format pdf says what to install, and writes nothing.
func TestReportPDFNoChromium(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.pdf")
	_, _, err := runCLI(t, "", append(append([]string{"report"}, sichuanArgs...), "-format", "pdf", "-o", out, "-chromium", filepath.Join(t.TempDir(), "no-chromium"))...)
	require.ErrorIs(t, err, report.ErrNoChromium)
	require.ErrorContains(t, err, "apt-get install chromium fonts-noto-cjk")
	require.NotErrorAs(t, err, new(usageError), "exit status 1")
	require.NoFileExists(t, out)
}
