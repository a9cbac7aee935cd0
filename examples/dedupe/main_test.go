package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

func readRecords(t *testing.T, path string) []dedupe.Record {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rd, err := dedupe.NewReader(f, dedupe.CSVConfig{})
	require.NoError(t, err)
	var recs []dedupe.Record
	for {
		r, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		require.NoError(t, err)
		recs = append(recs, r)
	}
}

type decisionRow struct {
	record, survivor int64
	action, group    string
}

func decisionsOf(t *testing.T, path string) []decisionRow {
	t.Helper()
	rows := readCSV(t, path)
	require.Equal(t, decisionHeader, rows[0])
	var out []decisionRow
	for _, r := range rows[1:] {
		rec, err := strconv.ParseInt(r[0], 10, 64)
		require.NoError(t, err)
		sur, err := strconv.ParseInt(r[2], 10, 64)
		require.NoError(t, err)
		out = append(out, decisionRow{rec, sur, r[1], r[3]})
	}
	slices.SortFunc(out, func(a, b decisionRow) int { return int(a.record - b.record) })
	return out
}

// The decisions and the review queue are the package's, whether the
// registry fits the memory budget or is spilled to partitions on disk.
func TestResolveMatchesPackage(t *testing.T) {
	res, err := dedupe.Resolve(context.Background(), readRecords(t, "testdata/registry.csv"), dedupe.Policy{})
	require.NoError(t, err)
	var want []decisionRow
	for _, d := range res.Decisions() {
		want = append(want, decisionRow{d.Record, d.Survivor, d.Action.String(), d.Group})
	}
	slices.SortFunc(want, func(a, b decisionRow) int { return int(a.record - b.record) })
	require.NotEmpty(t, want)
	require.NotEmpty(t, res.Reviews)

	for _, extra := range [][]string{nil, {"-mem", "16KiB", "-tmp", t.TempDir()}} {
		dir := t.TempDir()
		dec, rev := filepath.Join(dir, "decisions.csv"), filepath.Join(dir, "review.json")
		args := append([]string{"resolve", "-in", "testdata/registry.csv", "-decisions", dec, "-review", rev}, extra...)
		_, stderr, err := runCLI(t, args...)
		require.NoError(t, err, stderr)
		require.Equal(t, want, decisionsOf(t, dec), extra)

		f, err := os.Open(rev)
		require.NoError(t, err)
		groups, err := readReviews(rev, f)
		f.Close()
		require.NoError(t, err)
		slices.SortFunc(groups, func(a, b dedupe.ReviewGroup) int { return int(a.Records[0].ID - b.Records[0].ID) })
		// Compared as JSON: times come back with an unnamed +08:00 zone.
		asJSON := func(gs []dedupe.ReviewGroup) string {
			var js []reviewJSON
			for _, g := range gs {
				js = append(js, toReviewJSON(g))
			}
			b, err := json.Marshal(js)
			require.NoError(t, err)
			return string(b)
		}
		require.Equal(t, asJSON(res.Reviews), asJSON(groups), "the review file round-trips to the package's groups")
		require.Equal(t, len(res.Reviews), len(groups))

		require.Contains(t, stderr, "240 records, 0 bad rows skipped; "+strconv.FormatInt(res.Stats.DuplicateGroups, 10)+" duplicate groups, "+
			strconv.FormatInt(res.Stats.Dropped, 10)+" records dropped; review: "+strconv.FormatInt(res.Stats.Suspicious, 10)+" suspicious, "+
			strconv.FormatInt(res.Stats.Conflicts, 10)+" conflict groups")
		if extra != nil {
			require.NotContains(t, stderr, "; 0 spill partitions", "a 16 KiB budget spills")
		}
		// Logs carry counts, never the registry's names or numbers.
		for _, r := range readRecords(t, "testdata/registry.csv")[:20] {
			require.NotContains(t, stderr, r.DocNumber)
			require.NotContains(t, stderr, r.Name)
		}
	}
}

// A malformed row is skipped and named by its line and column; the good
// rows go on, and the exit status says rows were skipped.
func TestResolveSkipsBadRows(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.csv")
	require.NoError(t, os.WriteFile(in, []byte("id,name,doc_type,doc_number,birth\n1,张三,身份证,11010519491231002X,1949-12-31\nabc,李四,身份证,110105194912310021,1949-12-31\n2,张三,身份证,11010519491231002X,1949-12-31\n"), 0o644))
	_, stderr, err := runCLI(t, "resolve", "-in", in, "-decisions", filepath.Join(dir, "d.csv"), "-review", filepath.Join(dir, "r.json"))
	require.Equal(t, exitBadRows, exitCode(err), "%v", err)
	require.ErrorContains(t, err, "m.csv: 1 of 3 rows skipped")
	require.Contains(t, stderr, "m.csv:3:1: skipped: column id: id is not an integer")
	require.Contains(t, stderr, "2 records, 1 bad rows skipped; 1 duplicate groups, 1 records dropped")
	// Records 1 and 2 are identical with equal (zero) times: the lowest id stays.
	require.Equal(t, []decisionRow{{1, 1, "keep", "dup-1"}, {2, 1, "drop", "dup-1"}}, decisionsOf(t, filepath.Join(dir, "d.csv")))
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	dec, rev := filepath.Join(dir, "decisions.csv"), filepath.Join(dir, "review.json")
	_, _, err := runCLI(t, "resolve", "-in", "testdata/registry.csv", "-decisions", dec, "-review", rev)
	require.NoError(t, err)
	changes, open := filepath.Join(dir, "changes.csv"), filepath.Join(dir, "open.json")
	out, _, err := runCLI(t, "apply", "-review", rev, "-decisions", "testdata/reviewer-decisions.csv", "-out", changes, "-open", open)
	require.NoError(t, err)
	require.Contains(t, out, "4 decisions; changes: 4 delete, 1 update, 4 confirm; 6 of 10 review groups still open")

	// What testdata/reviewer-decisions.csv says, row by row.
	type row struct{ op, record, merged, group, field, old, new string }
	var got []row
	rows := readCSV(t, changes)
	require.Equal(t, changeHeader, rows[0])
	for _, r := range rows[1:] {
		got = append(got, row{r[0], r[1], r[2], r[3], r[7], r[8], r[9]})
	}
	require.Equal(t, []row{
		{"confirm", "76", "", "rev-29", "", "", ""},
		{"delete", "29", "76", "rev-29", "", "", ""},
		{"delete", "41", "76", "rev-29", "", "", ""},
		{"confirm", "89", "", "rev-89", "", "", ""},
		{"confirm", "141", "", "rev-89", "", "", ""},
		{"confirm", "195", "", "rev-195", "", "", ""},
		{"delete", "237", "", "rev-195", "", "", ""},
		{"update", "11", "", "rev-11", "ethnicity", "汉", "白"},
		{"delete", "88", "11", "rev-11", "", "", ""},
	}, got)

	f, err := os.Open(open)
	require.NoError(t, err)
	left, err := readReviews(open, f)
	f.Close()
	require.NoError(t, err)
	require.Len(t, left, 6)
	for _, g := range left {
		require.NotContains(t, []string{"rev-29", "rev-89", "rev-195", "rev-11"}, g.ID)
	}

	// A refused decision names its line, and nothing is written.
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("group,action,records,survivor,set,reviewer,reason,at\nrev-29,merge,29;41,76,,a,b,2022-03-10 10:00\nrev-89,drop,89;141,,,a,b,2022-03-10 10:00\n"), 0o644))
	out2 := filepath.Join(dir, "changes2.csv")
	_, _, err = runCLI(t, "apply", "-review", rev, "-decisions", bad, "-out", out2)
	require.ErrorContains(t, err, "bad.csv:3: group rev-89: drop would remove every record of the group (nothing applied)")
	require.NoFileExists(t, out2)
}

// source.csv and issued.csv are generated with known differences (see
// gen_test.go): source 7 and 23 never issued, source 40 issued twice (1040
// and 1999), person 200 issued (1200) without a source record.
func TestReconcile(t *testing.T) {
	dir := t.TempDir()
	det := filepath.Join(dir, "details.csv")
	out, _, err := runCLI(t, "reconcile", "-source", "testdata/source.csv", "-issued", "testdata/issued.csv", "-details", det)
	require.NoError(t, err)
	require.Contains(t, out, "source: 80 records = 78 matched + 2 missing\nissued: 80 records = 78 matched + 2 extra\n")
	require.Contains(t, out, "missing (source ids): 7 23\nextra (issued ids): 1200 1999\n")
	require.Contains(t, out, "duplicated in issued: [1040 1999]\nNOT OK\n")
	require.Equal(t, [][]string{{"kind", "side", "record", "group"},
		{"missing", "source", "7", ""}, {"missing", "source", "23", ""},
		{"extra", "issued", "1200", ""}, {"extra", "issued", "1999", ""},
		{"duplicated", "issued", "1040", "1040"}, {"duplicated", "issued", "1999", "1040"}}, readCSV(t, det))

	out, _, err = runCLI(t, "reconcile", "-source", "testdata/source.csv", "-issued", "testdata/issued.csv", "-keys", "doc_number", "-format", "json", "-check")
	require.ErrorIs(t, err, errNotReconciled)
	var js reconcileJSON
	require.NoError(t, json.Unmarshal([]byte(out), &js))
	require.Equal(t, reconcileJSON{Key: []dedupe.Field{dedupe.FieldDocNumber}, Source: 80, Issued: 80, Matched: 78,
		Missing: []int64{7, 23}, Extra: []int64{1200, 1999}, DuplicatedSource: [][]int64{}, DuplicatedIssued: [][]int64{{1040, 1999}}}, js)

	out, _, err = runCLI(t, "reconcile", "-source", "testdata/source.csv", "-issued", "testdata/source.csv", "-check")
	require.NoError(t, err)
	require.Contains(t, out, "OK: nothing duplicated, nothing missed")
}

// Every problem of testdata/bad-registry.csv, checked by hand: row 2's check
// character should be X, row 3 has no name, 1980-02-30 does not exist,
// 12345 is no phone number.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	errs := filepath.Join(dir, "errors.csv")
	_, stderr, err := runCLI(t, "validate", "-in", "testdata/bad-registry.csv", "-errors", errs)
	require.ErrorContains(t, err, "4 of 5 rows rejected")
	require.Contains(t, stderr, "5 rows, 4 rejected with 4 problems")
	require.Equal(t, [][]string{{"line", "id", "field", "column", "problem", "reason"},
		{"3", "2", "doc_number", "doc_number", "checksum", "check character does not match (ISO 7064 MOD 11-2)"},
		{"4", "3", "name", "name", "required", "required"},
		{"5", "4", "birth", "birth", "date", "no such day"},
		{"6", "5", "phone", "phone", "format", "want an 11-digit mobile number or a landline with area code"},
	}, readCSV(t, errs))

	_, stderr, err = runCLI(t, "validate", "-in", "testdata/registry.csv", "-errors", errs)
	require.NoError(t, err)
	require.Contains(t, stderr, "240 rows, 0 rejected")
	require.Len(t, readCSV(t, errs), 1)
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	rev := write("review.json", `[{"id":"rev-1","kind":"suspicious","proposed":1,"records":[{"id":1,"name":"a","doc_type":"身份证","doc_number":"x","birth":"2000-01-01"},{"id":2,"name":"b","doc_type":"身份证","doc_number":"x","birth":"2000-01-01"}],"diffs":[]}]`)
	out := filepath.Join(dir, "out.csv")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"merge"}, `unknown command "merge"`},
		{"resolve without in", []string{"resolve", "-decisions", out, "-review", out}, "-in is required"},
		{"resolve without review", []string{"resolve", "-in", "testdata/registry.csv", "-decisions", out}, "-review is required"},
		{"resolve bad mem", []string{"resolve", "-in", "testdata/registry.csv", "-decisions", out, "-review", out, "-mem", "lots"}, `size "lots"`},
		{"resolve bad policy", []string{"resolve", "-in", "testdata/registry.csv", "-decisions", out, "-review", out, "-policy", write("p.yaml", "duplicate_key: [name]\nkeep: newest\n")}, "p.yaml"},
		{"resolve missing file", []string{"resolve", "-in", filepath.Join(dir, "nope.csv"), "-decisions", out, "-review", out}, "nope.csv"},
		{"apply without out", []string{"apply", "-review", rev, "-decisions", out}, "-out is required"},
		{"apply bad action", []string{"apply", "-review", rev, "-out", out, "-decisions", write("a.csv", "group,action,reviewer,reason,at\nrev-1,keep,r,ok,2022-03-10 10:00\nrev-1,delete,r,ok,2022-03-10 10:00\n")}, `a.csv:3: field "action": "delete": want keep, drop or merge`},
		{"apply bad records", []string{"apply", "-review", rev, "-out", out, "-decisions", write("b.csv", "group,action,records,reviewer,reason,at\nrev-1,drop,1;two,r,ok,2022-03-10 10:00\n")}, `b.csv:2: field "records": "two"`},
		{"apply bad set", []string{"apply", "-review", rev, "-out", out, "-decisions", write("s.csv", "group,action,records,survivor,set,reviewer,reason,at\nrev-1,merge,,1,colour=red,r,ok,2022-03-10 10:00\n")}, `s.csv:2: field "set"`},
		{"apply bad time", []string{"apply", "-review", rev, "-out", out, "-decisions", write("t.csv", "group,action,reviewer,reason,at\nrev-1,keep,r,ok,yesterday\n")}, `t.csv:2: field "at": time "yesterday"`},
		{"apply unknown group", []string{"apply", "-review", rev, "-out", out, "-decisions", write("g.csv", "group,action,reviewer,reason,at\nrev-1,keep,r,ok,2022-03-10 10:00\nrev-9,keep,r,ok,2022-03-10 10:00\n")}, "g.csv:3: group rev-9"},
		{"apply not UTF-8", []string{"apply", "-review", rev, "-out", out, "-decisions", write("u.csv", "group,action,reviewer,reason,at\nrev-1,keep,\xd5\xc5,ok,2022-03-10 10:00\n")}, `u.csv:2:12: field "reviewer": not valid UTF-8 (byte 1 of the value)`},
		{"apply missing column", []string{"apply", "-review", rev, "-out", out, "-decisions", write("c.csv", "group,action,reason,at\n")}, `c.csv:1: field "reviewer": missing column`},
		{"apply bad review file", []string{"apply", "-review", write("r2.json", `[{"id":"rev-1","kind":"odd","records":[{"id":1}]}]`), "-out", out, "-decisions", write("k.csv", "group,action,reviewer,reason,at\n")}, `r2.json: group 1: group rev-1: kind "odd"`},
		{"reconcile without issued", []string{"reconcile", "-source", "testdata/source.csv"}, "-source and -issued are required"},
		{"reconcile bad key", []string{"reconcile", "-source", "testdata/source.csv", "-issued", "testdata/issued.csv", "-keys", "doc_number,colour"}, `-keys "colour"`},
		{"reconcile bad row", []string{"reconcile", "-source", "testdata/source.csv", "-issued", write("i.csv", "id,name,doc_type,doc_number\n1,a,身份证,x\nx2,b,身份证,y\n")}, "i.csv:3:1: column id: id is not an integer (a reconciliation cannot skip rows)"},
		{"validate without errors", []string{"validate", "-in", "testdata/registry.csv"}, "-in and -errors are required"},
		{"validate bad columns", []string{"validate", "-in", "testdata/registry.csv", "-errors", out, "-columns", "fr"}, `-columns "fr"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.args...)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.NoFileExists(t, out, "nothing is written on a refusal")
		})
	}
}
