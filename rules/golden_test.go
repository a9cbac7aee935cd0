package rules

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/ with the current output")

// Golden scenario files (testdata/*.txt) hold facts in and the decision and
// explanation out. A scenario is
//
//	# comment
//	scenario: name
//	now: 2022-09-01T10:00:00+08:00
//	areas: 510104=high 440300=medium
//	test: pcr negative -30h        (kind, positive|negative, sampled relative to now)
//	travel: 510104 -50h
//	contact: close -72h            (kind, last exposure relative to now, or "unknown")
//	doses: 3
//	entry: pending
//	flags: fever_clinic manual_review
//	----
//	<Explanation.String()>
//	====
//
// Relative times are Go durations, with "d" for days ("-3d12h").
// Run `go test -run TestGolden -rewrite` to regenerate the outputs, and
// review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	c := defaultCompiled(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			blocks := strings.Split(string(data), "====\n")
			var out strings.Builder
			for _, block := range blocks {
				if strings.TrimSpace(block) == "" {
					continue
				}
				input, want, ok := strings.Cut(block, "----\n")
				require.True(t, ok, "%s: block without ----:\n%s", file, block)
				f, areas, name := parseScenario(t, input)
				x, err := c.Explain(context.Background(), &f, areas)
				got := x.String()
				if err != nil {
					got += "error: " + err.Error() + "\n"
				}
				if !*rewrite {
					require.Equal(t, want, got, "%s: scenario %q", file, name)
				}
				out.WriteString(input)
				out.WriteString("----\n")
				out.WriteString(got)
				out.WriteString("====\n")
			}
			if *rewrite {
				require.NoError(t, os.WriteFile(file, []byte(out.String()), 0o644))
			}
		})
	}
}

func parseScenario(t *testing.T, input string) (Facts, *RiskAreas, string) {
	t.Helper()
	var f Facts
	var areas []RiskArea
	name := ""
	for _, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		require.True(t, ok, "line %q", line)
		args := strings.Fields(val)
		switch key {
		case "scenario":
			name = strings.TrimSpace(val)
		case "now":
			now, err := time.Parse(time.RFC3339, strings.TrimSpace(val))
			require.NoError(t, err)
			f.Now = now
		case "areas":
			for _, a := range args {
				region, level, ok := strings.Cut(a, "=")
				require.True(t, ok, "area %q", a)
				areas = append(areas, RiskArea{Region: region, Level: level})
			}
		case "test":
			require.Len(t, args, 3, "test: kind positive|negative offset")
			s := f.Now.Add(relDuration(t, args[2]))
			f.Tests = append(f.Tests, Test{Kind: args[0], Positive: args[1] == "positive", Sampled: s, Reported: s.Add(6 * time.Hour)})
		case "travel":
			require.Len(t, args, 2, "travel: region offset")
			f.Travel = append(f.Travel, Visit{Region: args[0], Time: f.Now.Add(relDuration(t, args[1]))})
		case "contact":
			require.Len(t, args, 2, "contact: kind offset|unknown")
			f.Contact.Kind = args[0]
			if args[1] != "unknown" {
				f.Contact.LastExposure = f.Now.Add(relDuration(t, args[1]))
			}
		case "doses":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			require.NoError(t, err)
			f.VaccineDoses = n
		case "entry":
			f.EntryStatus = strings.TrimSpace(val)
		case "flags":
			f.ManualFlags = args
		default:
			t.Fatalf("unknown scenario key %q", key)
		}
	}
	require.False(t, f.Now.IsZero(), "scenario %q has no now", name)
	ra, err := NewRiskAreas("golden", areas)
	require.NoError(t, err)
	return f, ra, name
}

// relDuration parses a Go duration that may use "d" for 24 hours.
func relDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var days int
	if d, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(d)
		require.NoError(t, err, "duration %q", s)
		days, s = n, rest
	}
	var dur time.Duration
	if s != "" {
		var err error
		dur, err = time.ParseDuration(s)
		require.NoError(t, err, "duration %q", s)
	}
	dur += time.Duration(days) * 24 * time.Hour
	if neg {
		dur = -dur
	}
	return dur
}

func TestRelDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"-3d12h": -84 * time.Hour, "2d": 48 * time.Hour, "-30m": -30 * time.Minute} {
		require.Equal(t, want, relDuration(t, in), fmt.Sprint(in))
	}
}
