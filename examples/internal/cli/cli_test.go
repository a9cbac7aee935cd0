package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTableReadsByColumnAndNamesWhereRowsAreBad(t *testing.T) {
	in := "\ufeffid, name\n1,甲\n\n2\n3,丙\n"
	tb, err := OpenTable("people.csv", strings.NewReader(in), []string{"id"}, []string{"name", "phone"})
	require.NoError(t, err)
	ok, err := tb.Next()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", tb.Get("id"))
	require.Equal(t, "甲", tb.Get("name"))
	require.Equal(t, "", tb.Get("phone"), "an absent optional column reads empty")
	require.Equal(t, 2, tb.Line())

	_, err = tb.Next() // the blank line is skipped; line 4 has one field
	var re *RowError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "people.csv", re.File)
	require.Equal(t, 4, re.Line)
	require.ErrorContains(t, err, "people.csv:4: 1 fields, header has 2")
	require.EqualError(t, tb.Errf("id", errors.New("not a number")), `people.csv:4: field "id": not a number`)
}

func TestOpenTableRefusesBadHeaders(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "people.csv:1: empty file"},
		{"id,nmae\n", `field "nmae": unknown column`},
		{"id,id\n", `field "id": column appears twice`},
		{"name\n", `field "id": missing column`},
		{"id,\"name\n", "people.csv:1:"},
	} {
		_, err := OpenTable("people.csv", strings.NewReader(tc.in), []string{"id"}, []string{"name"})
		require.ErrorContains(t, err, tc.want, tc.in)
	}
}

func TestOutFileAppearsOnlyOnCommit(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.csv")
	o, err := CreateOut(target)
	require.NoError(t, err)
	_, err = io.WriteString(o, "a,b\n")
	require.NoError(t, err)
	require.NoFileExists(t, target)
	require.NoError(t, o.Commit())
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	require.Equal(t, "a,b\n", string(b))

	o, err = CreateOut(filepath.Join(dir, "aborted.csv"))
	require.NoError(t, err)
	o.Abort()
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, 1, "an aborted output leaves nothing behind")
}

func TestOpenerGivesStdinOnce(t *testing.T) {
	o := &Opener{Stdin: strings.NewReader("x")}
	r, err := o.Open("-")
	require.NoError(t, err)
	b, _ := io.ReadAll(r)
	require.Equal(t, "x", string(b))
	_, err = o.Open("-")
	require.ErrorContains(t, err, "more than one input")
	_, err = o.Open(filepath.Join(t.TempDir(), "missing.csv"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A value that is not UTF-8 (a GBK export) is refused with the file, line
// and the byte column where its field starts; so is a header cell.
func TestTableRefusesInvalidUTF8(t *testing.T) {
	tb, err := OpenTable("people.csv", strings.NewReader("id,name\n1,甲\n2,\"乙\xff\"\n3,丙\n"), []string{"id"}, []string{"name"})
	require.NoError(t, err)
	ok, err := tb.Next()
	require.NoError(t, err)
	require.True(t, ok)
	_, err = tb.Next()
	var re *RowError
	require.ErrorAs(t, err, &re)
	require.Equal(t, RowError{File: "people.csv", Line: 3, Column: 3, Field: "name", Err: re.Err}, *re)
	require.EqualError(t, err, `people.csv:3:3: field "name": not valid UTF-8 (byte 4 of the value)`)

	_, err = OpenTable("people.csv", strings.NewReader("id,n\xe5me\n"), []string{"id"}, []string{"name"})
	require.EqualError(t, err, "people.csv:1:4: header: not valid UTF-8 (byte 2 of the value)")
}

// encoding/csv's syntax errors keep their column.
func TestTableCSVErrorsHaveAColumn(t *testing.T) {
	tb, err := OpenTable("people.csv", strings.NewReader("id,name\n1,a\"b\n"), []string{"id"}, []string{"name"})
	require.NoError(t, err)
	_, err = tb.Next()
	require.EqualError(t, err, `people.csv:2:4: bare " in non-quoted-field`)
}

// CRLF line ends, a BOM and a 10 MB value read like any other file: no
// line-length limit, no stray \r.
func TestTableCRLFBOMAndLongValues(t *testing.T) {
	long := strings.Repeat("甲", 10<<20/3)
	in := "\ufeffid,name\r\n1,乙\r\n2," + long + "\r\n"
	tb, err := OpenTable("people.csv", strings.NewReader(in), []string{"id", "name"}, nil)
	require.NoError(t, err)
	var names []string
	for {
		ok, err := tb.Next()
		require.NoError(t, err)
		if !ok {
			break
		}
		names = append(names, tb.Get("name"))
	}
	require.Equal(t, []string{"乙", long}, names)
}
