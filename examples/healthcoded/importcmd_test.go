package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// importID returns a valid resident ID number, distinct for each i.
func importID(i int) string {
	first := fmt.Sprintf("510104199001%02d%03d", 1+i%28, i%1000)
	return first + string(synth.CheckDigit(first))
}

// importFile writes an import file of rows after the header.
func importFile(t *testing.T, dir string, rows ...string) string {
	t.Helper()
	path := filepath.Join(dir, "codes.csv")
	require.NoError(t, os.WriteFile(path, []byte("id,colour,since,reason\n"+strings.Join(rows, "\n")+"\n"), 0o600))
	return path
}

// colours opens the store in dir and returns each person's colour, keyed
// as the server keys them.
func importedColours(t *testing.T, dir string, ids ...string) []codes.Colour {
	t.Helper()
	keyer, err := openKeyer(dir)
	require.NoError(t, err)
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	var out []codes.Colour
	for _, id := range ids {
		key, err := personKeyOf(keyer, id)
		require.NoError(t, err)
		e, ok, err := st.Get(context.Background(), key)
		require.NoError(t, err)
		if !ok {
			out = append(out, codes.Green)
			continue
		}
		require.Equal(t, "import", e.State.Cause.RuleID)
		require.Equal(t, "sc-2026-12-06", e.State.Cause.RuleVersion)
		out = append(out, e.State.Colour)
	}
	return out
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ids := []string{importID(1), importID(2), "13800138000", importID(3)}
	file := importFile(t, t.TempDir(),
		ids[0]+",red,2022-06-13T09:00:00+08:00,确诊病例",
		ids[1]+",yellow,2022-06-13T09:00:00+08:00,密接",
		ids[2]+",yellow,2022-06-13T10:00:00+08:00,次密接",
		ids[3]+",green,2022-06-13T10:00:00+08:00,正常")
	args := []string{"import", "-data", dir, "-source", "sc-2026-12-06", "-actor", "ops-zhang", file}
	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, args, &out, &errOut))
	require.Contains(t, out.String(), "4 rows, 3 codes changed, 1 unchanged")
	require.Contains(t, errOut.String(), "4 of 4 rows committed")
	require.Equal(t, []codes.Colour{codes.Red, codes.Yellow, codes.Yellow, codes.Green}, importedColours(t, dir, ids...))

	// Again, as after an interruption: nothing appends twice.
	out.Reset()
	require.NoError(t, run(ctx, args, &out, io.Discard))
	require.Contains(t, out.String(), "4 rows, 0 codes changed, 4 unchanged")

	// The audit trail verifies and holds both imports, by their actor.
	out.Reset()
	require.NoError(t, run(ctx, []string{"audit", "verify", "-data", dir}, &out, io.Discard))
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	recs, err := st.ReadAudit(ctx, 0, 100)
	require.NoError(t, st.Close())
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		require.Equal(t, "import", r.Action)
		require.Equal(t, "ops-zhang", r.Actor)
		require.Equal(t, "codes.csv", r.Target)
	}
	require.Equal(t, 3, recs[0].Changed)
	require.Equal(t, 0, recs[1].Changed)
}

// TestImportRefusesAndChangesNothing: a bad row anywhere is named by line,
// column and field, with the identity masked, and nothing is written.
func TestImportRefusesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := importID(7)
	require.NoError(t, run(ctx, []string{"import", "-data", dir, "-source", "sc-2026-12-06", "-actor", "ops",
		importFile(t, t.TempDir(), good+",red,2022-06-13T09:00:00+08:00,确诊病例")}, io.Discard, io.Discard))

	bad := importID(8)
	bad = bad[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", bad[17])+1)%11]) // wrong check digit
	for _, tc := range []struct {
		row, want string
	}{
		{bad + ",red,2022-06-13T09:00:00+08:00,x", "line 3, column 1 (id): 510***********"},
		{importID(9) + ",purple,2022-06-13T09:00:00+08:00,x", "line 3, column 20 (colour): colour \"purple\""},
		{importID(9) + ",red,13 June,x", "line 3, column 24 (since): time \"13 June\""},
		{importID(9) + ",red,2022-06-13T09:00:00+08:00,  ", "line 3, column 50 (reason): empty"},
		{importID(9) + ",red,2022-06-13T09:00:00+08:00", "line 3, column 1: wrong number of fields"},
	} {
		file := importFile(t, t.TempDir(), importID(10)+",yellow,2022-06-13T09:00:00+08:00,密接", tc.row)
		err := run(ctx, []string{"import", "-data", dir, "-source", "sc-2026-12-06", "-actor", "ops", file}, io.Discard, io.Discard)
		require.ErrorContains(t, err, tc.want)
		require.NotContains(t, err.Error(), bad[6:14], "an identity in the error")
		require.Equal(t, []codes.Colour{codes.Red, codes.Green}, importedColours(t, dir, good, importID(10)), "a refused import wrote")
	}
	for _, args := range [][]string{
		{"import", "-data", dir, "-actor", "ops", "x.csv"},
		{"import", "-data", dir, "-source", "s", "x.csv"},
		{"import", "-data", dir, "-source", "s", "-actor", "ops"},
	} {
		require.Error(t, run(ctx, args, io.Discard, io.Discard), "%v", args)
	}
	err := run(ctx, []string{"import", "-data", dir, "-source", "s", "-actor", "ops", importFile(t, t.TempDir())}, io.Discard, io.Discard)
	require.NoError(t, err, "a file with the header alone loads nothing")
	path := filepath.Join(t.TempDir(), "bad-header.csv")
	require.NoError(t, os.WriteFile(path, []byte("身份证,colour,since,reason\n"), 0o600))
	err = run(ctx, []string{"import", "-data", dir, "-source", "s", "-actor", "ops", path}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "line 1, column 1: header")
}

// FuzzImportRow: any row is read into a valid change or refused with a
// field, and a refusal never echoes a well-formed document number.
func FuzzImportRow(f *testing.F) {
	f.Add(importID(1), "red", "2022-06-13T09:00:00+08:00", "确诊病例")
	f.Add("13800138000", "yellow", "2022-06-13T09:00:00Z", "密接")
	f.Add("", "green", "", "")
	keyer, err := codes.NewKeyer(codes.HMACSHA256, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, colour, since, reason string) {
		ch, field, err := parseImportRow(keyer, "src", []string{id, colour, since, reason})
		if err != nil {
			if field < 0 || field >= len(importHeader) {
				t.Fatalf("field %d", field)
			}
			if len(id) >= 15 && strings.Contains(err.Error(), strings.TrimSpace(id)) {
				t.Fatalf("error echoes the id: %v", err)
			}
			return
		}
		if err := ch.Validate(0); err != nil {
			t.Fatalf("accepted an invalid change: %v", err)
		}
	})
}

// TestImportScale imports HEALTHCODE_IMPORT_ROWS generated rows (each a
// yellow or red code, so each appends, as benchmarks/bulkbench's loads do)
// and logs the pace, to compare the command (CSV, identity parsing, keying)
// with the store's Load alone. It runs only when the variable is set:
//
//	HEALTHCODE_IMPORT_ROWS=20000000 go test -run TestImportScale -v -timeout 0 ./examples/healthcoded
func TestImportScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HEALTHCODE_IMPORT_ROWS"))
	if n <= 0 {
		t.Skip("set HEALTHCODE_IMPORT_ROWS to run")
	}
	dir, src := t.TempDir(), t.TempDir()
	path := filepath.Join(src, "codes.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,colour,since,reason")
	for i := range n {
		// A thousand sequence numbers a birth date from 1940 on: distinct
		// numbers up to 25 M rows.
		first := "510104" + time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000).Format("20060102") + fmt.Sprintf("%03d", i%1000)
		colour := "yellow"
		if i%2 == 0 {
			colour = "red"
		}
		fmt.Fprintf(w, "%s%c,%s,2022-06-13T09:00:00+08:00,密接\n", first, synth.CheckDigit(first), colour)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	start := time.Now()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"import", "-data", dir, "-source", "scale", "-actor", "bench", path}, &out, os.Stderr))
	el := time.Since(start)
	t.Logf("%s(%d rows in %v: %.0f rows/s)", out.String(), n, el.Round(time.Millisecond), float64(n)/el.Seconds())
}
