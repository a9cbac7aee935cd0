package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const header = "id,name,doc_type,doc_number,birth\n"

// writeFile writes body to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

// Issue 20 item 4: a name that is not UTF-8 (a GBK export) is a bad row
// named by line and column, counted with the skipped rows, and not a
// record.
func TestResolveRefusesInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "m.csv", header+
		"1,\xff\xfe,身份证,11010519491231002X,1949-12-31\n"+
		"2,张三,身份证,11010519491231002X,1949-12-31\n"+
		"3,张三,身份证,11010519491231002X,1949-12-31\n")
	dec := filepath.Join(dir, "d.csv")
	_, stderr, err := runCLI(t, "resolve", "-in", in, "-decisions", dec, "-review", filepath.Join(dir, "r.json"))
	require.Equal(t, 3, exitCode(err), "%v", err)
	require.Contains(t, stderr, "m.csv:2:3: skipped: name: not valid UTF-8 (byte 1 of the field)")
	require.Contains(t, stderr, "2 records, 1 bad rows skipped; 1 duplicate groups")
	require.Equal(t, []decisionRow{{2, 2, "keep", "dup-2"}, {3, 2, "drop", "dup-2"}}, decisionsOf(t, dec))
}

// Issue 20 item 4: the exit status tells "every row good" (0) from "rows
// skipped, outputs written" (3) from "stopped, nothing written" (1);
// -strict stops at the first bad row.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", header+"1,张三,身份证,11010519491231002X,1949-12-31\n")
	bad := writeFile(t, dir, "bad.csv", header+"1,张三,身份证,11010519491231002X,1949-12-31\nx,李四,身份证,11010519491231002X,1949-12-31\n2,\xff,身份证,11010519491231002X,1949-12-31\n")
	out := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name    string
		args    []string
		code    int
		want    string   // in the error, when code != 0
		written []string // outputs that exist afterwards
	}{
		{"resolve, all good", []string{"resolve", "-in", good, "-decisions", out("d1.csv"), "-review", out("r1.json")}, 0, "", []string{"d1.csv", "r1.json"}},
		{"resolve, rows skipped", []string{"resolve", "-in", bad, "-decisions", out("d2.csv"), "-review", out("r2.json")}, 3, "bad.csv: 2 of 3 rows skipped", []string{"d2.csv", "r2.json"}},
		{"resolve -strict", []string{"resolve", "-strict", "-in", bad, "-decisions", out("d3.csv"), "-review", out("r3.json")}, 1, "bad.csv:3:1: column id: id is not an integer (-strict: stopped at the first bad row)", nil},
		{"resolve -strict, all good", []string{"resolve", "-strict", "-in", good, "-decisions", out("d4.csv"), "-review", out("r4.json")}, 0, "", []string{"d4.csv", "r4.json"}},
		{"resolve, missing file", []string{"resolve", "-in", out("nope.csv"), "-decisions", out("d5.csv"), "-review", out("r5.json")}, 1, "nope.csv: no such file", nil},
		{"validate, all good", []string{"validate", "-in", good, "-errors", out("e1.csv")}, 0, "", []string{"e1.csv"}},
		{"validate, rows rejected", []string{"validate", "-in", bad, "-errors", out("e2.csv")}, 3, "2 of 3 rows rejected", []string{"e2.csv"}},
		{"reconcile -check, reconciled", []string{"reconcile", "-source", good, "-issued", good, "-check"}, 0, "", nil},
		{"reconcile -check, not reconciled", []string{"reconcile", "-source", "testdata/source.csv", "-issued", "testdata/issued.csv", "-check", "-details", out("x1.csv")}, 3, "do not reconcile", []string{"x1.csv"}},
		{"reconcile, bad row", []string{"reconcile", "-source", good, "-issued", bad, "-details", out("x2.csv")}, 1, "bad.csv:3:1: column id", nil},
		{"apply, refused", []string{"apply", "-review", out("r1.json"), "-decisions", writeFile(t, dir, "v.csv", "group,action,reviewer,reason,at\nrev-9,keep,r,ok,2022-03-10 10:00\n"), "-out", out("c1.csv")}, 1, "group rev-9", nil},
		{"help", []string{"resolve", "-h"}, 2, "", nil},
		{"bad flag", []string{"resolve", "-colour"}, 2, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			require.Equal(t, tt.code, exitCode(err), "%v", err)
			if tt.want != "" {
				require.ErrorContains(t, err, tt.want)
			}
			for _, w := range tt.written {
				require.FileExists(t, out(w))
			}
		})
	}
	for _, name := range []string{"d3.csv", "r3.json", "d5.csv", "x2.csv", "c1.csv"} {
		require.NoFileExists(t, out(name), "a run that stops writes nothing")
	}
	require.Equal(t, 2, exitCode(flag.ErrHelp))
}

// Issue 20 item 5: every way an input can be odd, through validate (the
// full report) and resolve (skip and count, exit 3).
func TestValidateOddInputs(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("名", 10<<20/3) // a 10 MB line
	in := writeFile(t, dir, "odd.csv", header+
		"1,张三,身份证,11010519491231002X,2999-01-01\n"+ // born in the future
		"2,张三,护照,E12345678,1899-12-31\n"+ // before 1900
		"3,张三,护照,E12345678,1980-02-30\n"+ // no such day
		"99999999999999999999,张三,护照,E12345678,1980-01-01\n"+ // id beyond int64
		"abc,张三,护照,E12345678,1980-01-01\n"+ // id not a number
		"4,\"张\"三,护照,E12345678,1980-01-01\n"+ // stray quote
		"5,\xd5\xc5\xc8\xfd,护照,E12345678,1980-01-01\n"+ // 张三 in GBK
		"6,"+long+",护照,E12345678,1980-01-01\n"+
		"7,张三,护照,E12345678,1980-01-01\n")
	errs := filepath.Join(dir, "errors.csv")
	start := time.Now()
	_, stderr, err := runCLI(t, "validate", "-in", in, "-errors", errs)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, exitBadRows, exitCode(err), "%v", err)
	require.Contains(t, stderr, "9 rows, 8 rejected with 8 problems")
	require.Equal(t, [][]string{{"line", "id", "field", "column", "problem", "reason"},
		{"2", "1", "birth", "birth", "date", "after today"},
		{"3", "2", "birth", "birth", "date", "before 1900-01-01"},
		{"4", "3", "birth", "birth", "date", "no such day"},
		{"5", "", "", "id", "format", "id is out of range (a 64-bit integer)"},
		{"6", "", "", "id", "format", "id is not an integer"},
		{"7", "", "", "", "csv", `extraneous or missing " in quoted-field`},
		{"8", "5", "name", "name", "encoding", "not valid UTF-8 (byte 1 of the field)"},
		{"9", "6", "name", "name", "format", "longer than 4096 bytes"},
	}, readCSV(t, errs))

	start = time.Now()
	_, stderr, err = runCLI(t, "resolve", "-in", in, "-decisions", filepath.Join(dir, "d.csv"), "-review", filepath.Join(dir, "r.json"))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, exitBadRows, exitCode(err), "%v", err)
	require.Contains(t, stderr, "4 records, 5 bad rows skipped", "resolve takes dates as they come; validate judges them")
	require.Contains(t, stderr, "odd.csv:5:1: skipped: column id: id is out of range")
	require.Contains(t, stderr, "odd.csv:7:7: skipped: bad CSV row: extraneous")
	require.Contains(t, stderr, "odd.csv:8:3: skipped: name: not valid UTF-8")
	require.NotContains(t, stderr, long[:30], "a log never quotes a value")
}

// Missing, empty and header-only files, a BOM and CRLF line ends, for
// each command that reads a registry.
func TestOddFiles(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty.csv", "")
	headOnly := writeFile(t, dir, "head.csv", header)
	bomCRLF := writeFile(t, dir, "bom.csv", "\ufeff"+strings.ReplaceAll(header+
		"1,张三,身份证,11010519491231002X,1949-12-31\n2,张三,身份证,11010519491231002X,1949-12-31\n", "\n", "\r\n"))
	missing := filepath.Join(dir, "nope.csv")
	out := func(name string) string { return filepath.Join(dir, name) }
	resolve := func(in string) []string {
		return []string{"resolve", "-in", in, "-decisions", out("d.csv"), "-review", out("r.json")}
	}
	validate := func(in string) []string { return []string{"validate", "-in", in, "-errors", out("e.csv")} }
	reconcile := func(in string) []string { return []string{"reconcile", "-source", in, "-issued", in, "-check"} }
	tests := []struct {
		name string
		args []string
		code int
		want string // in the error, or in stderr and stdout when it succeeds
	}{
		{"resolve missing", resolve(missing), 1, "nope.csv: no such file"},
		{"validate missing", validate(missing), 1, "nope.csv: no such file"},
		{"reconcile missing", reconcile(missing), 1, "nope.csv: no such file"},
		{"resolve empty", resolve(empty), 1, "empty.csv: dedupe: bad CSV row: line 1: no header"},
		{"validate empty", validate(empty), 1, "empty.csv: dedupe: bad CSV row: line 1: no header"},
		{"reconcile empty", reconcile(empty), 1, "empty.csv: dedupe: bad CSV row: line 1: no header"},
		{"resolve header only", resolve(headOnly), 0, "resolve: 0 records, 0 bad rows skipped"},
		{"validate header only", validate(headOnly), 0, "validate: 0 rows, 0 rejected"},
		{"reconcile header only", reconcile(headOnly), 0, "source: 0 records"},
		{"resolve BOM CRLF", resolve(bomCRLF), 0, "2 records, 0 bad rows skipped; 1 duplicate groups"},
		{"validate BOM CRLF", validate(bomCRLF), 0, "validate: 2 rows, 0 rejected"},
		{"reconcile BOM CRLF", reconcile(bomCRLF), 3, "do not reconcile"}, // each file holds a duplicate
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(t, tt.args...)
			require.Equal(t, tt.code, exitCode(err), "%v", err)
			if err != nil {
				require.ErrorContains(t, err, tt.want)
			} else {
				require.Contains(t, stdout+stderr, tt.want)
			}
		})
	}
}
