package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// The shipped example: its coded file for 2022-06-14 has defects planted
// (examples/quality/README.md lists them).
const (
	rulesFile = "../quality/testdata/quality.yaml"
	rule      = "sichuan-coding-daily"
	day       = "2022-06-14"
)

// dq runs dqcheck and returns its exit status and output.
func dq(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := exitCode(run(context.Background(), args, &stdout, &stderr), &stderr)
	return code, stdout.String(), stderr.String()
}

// total is the total line of a run's printed figures.
func total(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "total" {
			return strings.Join(f, " ")
		}
	}
	t.Fatalf("no total line in\n%s", out)
	return ""
}

// TestRunFindsThePlantedDefects: a run over the shipped day finds what was
// planted, exits 3 (problems found), and a re-run finds the same; both are
// listed, newest first.
func TestRunFindsThePlantedDefects(t *testing.T) {
	store := filepath.Join(t.TempDir(), "runs.db")
	code, out, errOut := dq(t, "run", "-rules", rulesFile, "-store", store, "-rule", rule, "-day", day)
	require.Equal(t, exitProblems, code, errOut)
	// rows, missing, extra, duplicated, invalid, mismatched
	require.Equal(t, "total 88 4 3 2 6 1", total(t, out))
	code, again, _ := dq(t, "run", "-rules", rulesFile, "-store", store, "-rule", rule, "-day", day)
	require.Equal(t, exitProblems, code)
	require.Equal(t, total(t, out), total(t, again), "a re-run finds the same")

	code, list, _ := dq(t, "runs", "-store", store)
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(lines[1], "run-2 "), list)
	require.True(t, strings.HasPrefix(lines[2], "run-1 "), list)

	// Drill-down: the three invalid records behind "validate coded", masked.
	code, recs, errOut := dq(t, "records", "-rules", rulesFile, "-store", store, "-run", "run-1", "-check", "validate coded", "-n", "0")
	require.Equal(t, exitOK, code, errOut)
	require.Len(t, strings.Split(strings.TrimSpace(recs), "\n"), 1+3)
	require.Contains(t, recs, "510***********")
}

// TestRunRefusals: a bad rules file, an unknown rule, a missing dataset and
// a bad command line are refused with what was wrong and where.
func TestRunRefusals(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "runs.db")
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("rules:\n  - name: x\n    checks: [{frobnicate: coded}]\n"), 0o600))
	code, _, errOut := dq(t, "run", "-rules", bad, "-store", store, "-rule", "x", "-day", day)
	require.Equal(t, exitFailed, code)
	require.Contains(t, errOut, "bad.yaml:3:")

	code, _, errOut = dq(t, "run", "-rules", rulesFile, "-store", store, "-rule", "nope", "-day", day)
	require.Equal(t, exitFailed, code)
	require.Contains(t, errOut, "nope")

	code, out, _ := dq(t, "run", "-rules", rulesFile, "-store", store, "-rule", rule, "-day", "2022-06-15")
	require.Equal(t, exitFailed, code, "no data for that day: the run fails")
	require.Contains(t, out, "failed")
	require.Contains(t, out, "2022-06-15", "the reason names the missing file")

	for _, args := range [][]string{
		{}, {"frob"}, {"run", "-rules", rulesFile}, {"report", "-run", "run-1", "-o", "r.docx"}, {"runs", "-n", "-1"},
	} {
		code, _, _ := dq(t, args...)
		require.Equal(t, exitUsage, code, "%q", args)
	}
}

// TestReports: the run's report as xlsx (every figure a number in its
// cell) and as PDF (the Chinese headings and the figures in the text).
func TestReports(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "runs.db")
	xlsx := filepath.Join(dir, "r.xlsx")
	code, _, errOut := dq(t, "run", "-rules", rulesFile, "-store", store, "-rule", rule, "-day", day, "-o", xlsx)
	require.Equal(t, exitProblems, code, errOut)
	f, err := excelize.OpenFile(xlsx)
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	require.NoError(t, err)
	found := map[string]string{}
	for i, r := range rows {
		if len(r) >= 2 {
			found[r[0]] = r[1]
			cell, _ := excelize.CoordinatesToCellName(2, i+1)
			if r[0] == "缺失 (missing)" {
				typ, err := f.GetCellType(f.GetSheetList()[0], cell)
				require.NoError(t, err)
				require.NotEqual(t, excelize.CellTypeInlineString, typ)
				require.NotEqual(t, excelize.CellTypeSharedString, typ, "a figure is a number, not text")
			}
		}
	}
	require.Equal(t, "4", found["缺失 (missing)"])
	require.Equal(t, "6", found["无效 (invalid)"])

	pdftotext, err := exec.LookPath("pdftotext")
	testenv.Require(t, err == nil, "pdftotext not installed (apt-get install poppler-utils)")
	_, err = exec.LookPath("chromium")
	testenv.Require(t, err == nil, "chromium not installed (apt-get install chromium fonts-noto-cjk)")
	pdf := filepath.Join(dir, "r.pdf")
	code, _, errOut = dq(t, "report", "-store", store, "-run", "run-1", "-o", pdf)
	require.Equal(t, exitOK, code, errOut)
	text, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
	require.NoError(t, err)
	for _, want := range []string{"数据质量核查报告", "汇总", "缺失 (missing)", "reconcile source→coded", "合计"} {
		require.Contains(t, string(text), want)
	}
	require.Regexp(t, `合计\s+88\s+4\s+3\s+2\s+6\s+1`, string(text), "the totals in the PDF")
}

// TestRunStopped: Ctrl-C (the context ending) stops the run; it is kept,
// marked stopped, and the exit status says it did not finish.
func TestRunStopped(t *testing.T) {
	store := filepath.Join(t.TempDir(), "runs.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := exitCode(run(ctx, []string{"run", "-rules", rulesFile, "-store", store, "-rule", rule, "-day", day}, &stdout, &stderr), &stderr)
	require.Equal(t, exitFailed, code)
	require.Contains(t, stdout.String(), "stopped")
	_, list, _ := dq(t, "runs", "-store", store)
	require.Contains(t, list, "stopped", "the stopped run is kept")
}
