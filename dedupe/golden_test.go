package dedupe

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt golden files")

// goldenCase is one scenario of a golden file:
//
//	=== title
//	policy: <YAML flow mapping>      (optional)
//	records:                          (or source: / issued:)
//	<CSV with header>
//	---
//	<expected output>
type goldenCase struct {
	title    string
	sections map[string][]string // name -> lines (policy holds its one line)
	want     string
}

func parseGolden(t *testing.T, path string) []goldenCase {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var cases []goldenCase
	var cur *goldenCase
	section := ""
	inWant := false
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "=== "):
			cases = append(cases, goldenCase{title: strings.TrimPrefix(line, "=== "), sections: map[string][]string{}})
			cur = &cases[len(cases)-1]
			section, inWant = "", false
		case cur == nil:
			continue // preamble comments
		case inWant:
			cur.want += line + "\n"
		case line == "---":
			inWant = true
		case strings.HasPrefix(line, "policy:"):
			cur.sections["policy"] = []string{strings.TrimSpace(strings.TrimPrefix(line, "policy:"))}
		case strings.HasSuffix(line, ":") && !strings.Contains(line, ","):
			section = strings.TrimSuffix(line, ":")
		case strings.HasPrefix(line, "#"):
		default:
			cur.sections[section] = append(cur.sections[section], line)
		}
	}
	return cases
}

func writeGolden(t *testing.T, path string, cases []goldenCase, got []string) {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	// Keep the preamble (everything before the first case).
	pre, _, _ := strings.Cut(string(data), "=== ")
	var b strings.Builder
	b.WriteString(pre)
	for i, c := range cases {
		fmt.Fprintf(&b, "=== %s\n", c.title)
		if p, ok := c.sections["policy"]; ok {
			fmt.Fprintf(&b, "policy: %s\n", p[0])
		}
		for _, name := range []string{"records", "source", "issued"} {
			if lines, ok := c.sections[name]; ok {
				fmt.Fprintf(&b, "%s:\n%s\n", name, strings.Join(lines, "\n"))
			}
		}
		fmt.Fprintf(&b, "---\n%s", strings.TrimRight(got[i], "\n")+"\n")
		if i < len(cases)-1 {
			b.WriteString("\n")
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func readCSV(t *testing.T, lines []string) []Record {
	rd, err := NewReader(strings.NewReader(strings.Join(lines, "\n")), CSVConfig{})
	require.NoError(t, err)
	var recs []Record
	for {
		rec, err := rd.Read()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			return recs
		}
		recs = append(recs, rec)
	}
}

func runGolden(t *testing.T, file string, run func(t *testing.T, c goldenCase) string) {
	path := filepath.Join("testdata", file)
	cases := parseGolden(t, path)
	require.NotEmpty(t, cases)
	got := make([]string, len(cases))
	for i, c := range cases {
		t.Run(c.title, func(t *testing.T) {
			got[i] = run(t, c)
			if !*rewrite {
				require.Equal(t, strings.TrimRight(c.want, "\n"), strings.TrimRight(got[i], "\n"))
			}
		})
	}
	if *rewrite {
		writeGolden(t, path, cases, got)
	}
}

func TestGoldenResolve(t *testing.T) {
	runGolden(t, "resolve.txt", func(t *testing.T, c goldenCase) string {
		var p Policy
		if pl, ok := c.sections["policy"]; ok {
			var err error
			p, err = LoadPolicy(strings.NewReader(pl[0]))
			require.NoError(t, err)
		}
		recs := readCSV(t, c.sections["records"])
		res, err := Resolve(context.Background(), recs, p)
		require.NoError(t, err)
		// The oracle and the partitioned path must say the same.
		require.Equal(t, render(oracleResolve(recs, p)), render(res))
		out := render(res)
		for _, d := range res.Decisions() {
			out += fmt.Sprintf("reason %d: %s\n", d.Record, d.Reason)
		}
		return out
	})
}

func TestGoldenReconcile(t *testing.T) {
	runGolden(t, "reconcile.txt", func(t *testing.T, c goldenCase) string {
		src := readCSV(t, c.sections["source"])
		iss := readCSV(t, c.sections["issued"])
		rep, err := Reconcile(context.Background(), SliceReader(src), SliceReader(iss), ReconcileConfig{})
		require.NoError(t, err)
		return fmt.Sprintf("source=%d issued=%d matched=%d ok=%v\nmissing=%v\nextra=%v\nduplicated source=%v\nduplicated issued=%v\n",
			rep.Source, rep.Issued, rep.Matched, rep.OK(), rep.Missing, rep.Extra, rep.DuplicatedSource, rep.DuplicatedIssued)
	})
}
