package sla

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt golden reports")

// Golden scenarios: each testdata/*.txt is a script (hand computations in
// its comments), "----", and the markdown report it must produce. Review
// a -rewrite as a diff against the hand computations.
//
// Script lines:
//
//	contract NAME | total YUAN | year N | asof TIME | period TIME TIME
//	incident ID LEVEL [major]   followed by   EVENT TIME   lines, then "end"
//	outage ID KIND TIME TIME
//	occurrence ITEM EVENT [QUANTITY]
//	survey N | prior-score N
//	late CLAUSE|* DAYS PORTION|- EVENT...
//	breach CLAUSE EVENT...
//
// TIME is "2006-01-02 15:04" in China Standard Time.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			script, want, found := strings.Cut(string(raw), "\n----\n")
			require.True(t, found, "no ---- separator")
			c, in := parseScript(t, script)
			rep, err := c.Assess(in)
			require.NoError(t, err)
			got := rep.Markdown()
			if *rewrite {
				require.NoError(t, os.WriteFile(path, []byte(script+"\n----\n"+got), 0o644))
				return
			}
			require.Equal(t, want, got, "run go test ./sla -run TestGolden -rewrite and review the diff")
			// The JSON form carries the same lines.
			js, err := rep.JSON()
			require.NoError(t, err)
			require.Contains(t, string(js), `"contract": "`+c.Name+`"`)
		})
	}
}

func parseScript(t *testing.T, script string) (*Contract, Input) {
	t.Helper()
	var c *Contract
	var in Input
	tm := func(date, clock string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, cst)
		require.NoError(t, err)
		return v
	}
	var cur *AssessedIncident
	sc := bufio.NewScanner(strings.NewReader(script))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		where := fmt.Sprintf("line %d: %q", n, line)
		if cur != nil {
			if f[0] == "end" {
				in.Incidents = append(in.Incidents, *cur)
				cur = nil
				continue
			}
			require.Len(t, f, 3, where)
			cur.Events = append(cur.Events, Event{Kind: EventKind(f[0]), At: tm(f[1], f[2])})
			continue
		}
		switch f[0] {
		case "contract":
			c = mustPreset(t, f[1])
		case "total":
			in.Total = yuan(t, f[1])
		case "year":
			_, err := fmt.Sscan(f[1], &in.Year)
			require.NoError(t, err, where)
		case "asof":
			in.AsOf = tm(f[1], f[2])
		case "period":
			in.From, in.To = tm(f[1], f[2]), tm(f[3], f[4])
		case "incident":
			cur = &AssessedIncident{Incident: Incident{ID: f[1], Level: f[2]}, MajorEvent: len(f) > 3 && f[3] == "major"}
		case "outage":
			in.Outages = append(in.Outages, Outage{ID: f[1], Kind: OutageKind(f[2]), Start: tm(f[3], f[4]), End: tm(f[5], f[6])})
		case "occurrence":
			o := Occurrence{Item: f[1], Event: f[2]}
			if len(f) > 3 {
				o.Quantity = MustNum(f[3])
			}
			in.Occurrences = append(in.Occurrences, o)
		case "survey":
			in.Surveys = append(in.Surveys, MustNum(f[1]))
		case "prior-score":
			in.PriorScores = append(in.PriorScores, MustNum(f[1]))
		case "late":
			li := LateInput{Late: Late{Event: strings.Join(f[4:], " ")}}
			if f[1] != "*" {
				li.Clause = f[1]
			}
			_, err := fmt.Sscan(f[2], &li.Days)
			require.NoError(t, err, where)
			if f[3] != "-" {
				li.LatePortion = yuan(t, f[3])
			}
			in.Late = append(in.Late, li)
		case "breach":
			in.Breaches = append(in.Breaches, BreachInput{Clause: f[1], Event: strings.Join(f[2:], " ")})
		default:
			t.Fatalf("%s: unknown command", where)
		}
	}
	require.NotNil(t, c, "no contract line")
	require.Nil(t, cur, "incident without end")
	return c, in
}
