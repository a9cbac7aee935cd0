package contacttrace

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

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt scenarios")

// Golden scenarios: testdata/*.txt hold worlds and queries, each query
// followed by "----" and the expected contacts and hop statistics, ended
// by a blank line. Go test -rewrite regenerates the expectations; review
// them as a diff.
//
//	scan <person> <venue> <HH:MM[:SS]> [+<days>d]
//	trip <plane|sealed|unsealed|bus> <number> <day> <person>:<car>-<row><seat> ...
//	query [cases=1,2] [before=30m] [after=30m] [depth=2] [exclude=3,4]
//	      [window=N] [hop=N] [policy=plan|bus3|whole] [since=<day>] [until=<day>]
//	      [visit=<venue>@HH:MM-HH:MM] [ref=<mode>/<number>/<day>/<car>-<row><seat>]
//	reset
//
// Times are on 2022-01-05 in China Standard Time; <day> is d0, d1, ...
var goldenDay = time.Date(2022, 1, 5, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func TestGoldenScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			out := runScenario(t, string(data))
			if *rewrite {
				require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
				return
			}
			require.Equal(t, string(data), out, "rerun with -rewrite and review the diff")
		})
	}
}

// runScenario replays a script and returns it with every query's output
// replaced by what the package computes now.
func runScenario(t *testing.T, script string) string {
	var (
		scans []Scan
		trips []Trip
		out   strings.Builder
	)
	lines := strings.Split(script, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(line, "#") {
			if i < len(lines)-1 || line != "" {
				out.WriteString(line + "\n")
			}
			continue
		}
		out.WriteString(line + "\n")
		switch fields[0] {
		case "reset":
			scans, trips = nil, nil
		case "scan":
			require.GreaterOrEqual(t, len(fields), 4, "line %d", i+1)
			at := parseClock(t, fields[3])
			if len(fields) > 4 {
				at = at.AddDate(0, 0, atoi(t, strings.TrimSuffix(strings.TrimPrefix(fields[4], "+"), "d")))
			}
			scans = append(scans, Scan{Person: uint32(atoi(t, fields[1])), Venue: uint32(atoi(t, fields[2])), Time: at.Unix()})
		case "trip":
			tr := Trip{Mode: parseMode(t, fields[1]), Number: fields[2], Date: parseDay(t, fields[3])}
			for _, f := range fields[4:] {
				p, seat, ok := strings.Cut(f, ":")
				require.True(t, ok, "line %d: %q", i+1, f)
				s := parseSeat(t, seat)
				s.Person = uint32(atoi(t, p))
				tr.Passengers = append(tr.Passengers, s)
			}
			trips = append(trips, tr)
		case "query":
			q := parseQuery(t, fields[1:])
			ix, err := Build(context.Background(), scans, Config{})
			require.NoError(t, err)
			tix, err := NewTrips(trips, Config{})
			require.NoError(t, err)
			tr, err := NewTracer(ix, tix, Config{})
			require.NoError(t, err)
			res, err := tr.Trace(context.Background(), q)
			require.NoError(t, err, "line %d", i+1)
			// Skip the old expectation.
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				i++
			}
			out.WriteString("----\n")
			out.WriteString(formatResult(res, tix))
		default:
			t.Fatalf("line %d: unknown command %q", i+1, fields[0])
		}
	}
	return out.String()
}

func formatResult(res Result, trips *Trips) string {
	var b strings.Builder
	for _, c := range res.Contacts {
		via := "report"
		if c.Via != NoPerson {
			via = fmt.Sprintf("p%d", c.Via)
		}
		switch c.Kind {
		case KindVenue:
			fmt.Fprintf(&b, "hop %d p%d venue %d at %s via %s@%s\n", c.Hop, c.Person, c.Venue,
				clock(time.Unix(c.Time, 0)), via, clock(time.Unix(c.ViaTime, 0)))
		case KindTrip:
			tr := trips.Trip(int(c.Trip))
			s, _ := trips.Seat(c)
			fmt.Fprintf(&b, "hop %d p%d trip %s %s seat %d-%d%c via %s\n", c.Hop, c.Person, tr.Mode, tr.Number,
				s.Car, s.Row, s.Seat, via)
		}
	}
	for _, h := range res.Hops {
		fmt.Fprintf(&b, "hop %d: windows=%d contacts=%d capped-windows=%d cut-by-window=%d cut-by-hop=%d\n",
			h.Hop, h.Windows, h.Contacts, h.CappedWindows, h.CutByWindow, h.CutByHop)
	}
	return b.String()
}

func clock(t time.Time) string {
	t = t.In(goldenDay.Location())
	s := t.Format("15:04:05")
	if d := int(t.Sub(goldenDay).Hours() / 24); d > 0 {
		s += fmt.Sprintf("+%dd", d)
	}
	return s
}

func parseQuery(t *testing.T, args []string) Query {
	q := Query{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		require.True(t, ok, "query argument %q", a)
		switch k {
		case "cases":
			for _, p := range strings.Split(v, ",") {
				q.Cases = append(q.Cases, uint32(atoi(t, p)))
			}
		case "exclude":
			q.Exclude = NewPersonSet()
			for _, p := range strings.Split(v, ",") {
				q.Exclude.Add(uint32(atoi(t, p)))
			}
		case "before", "after":
			d, err := time.ParseDuration(v)
			require.NoError(t, err)
			if k == "before" {
				q.Before = d
			} else {
				q.After = d
			}
		case "since":
			q.Since = parseDay(t, v)
		case "until":
			q.Until = parseDay(t, v)
		case "depth":
			q.Depth = atoi(t, v)
		case "window":
			q.MaxPerWindow = atoi(t, v)
		case "hop":
			q.MaxPerHop = atoi(t, v)
		case "policy":
			switch v {
			case "plan":
				q.Proximity = NationalPlan()
			case "bus3":
				q.Proximity = NationalPlanBusRows(3)
			case "whole":
				q.Proximity = WholeTrip()
			default:
				t.Fatalf("unknown policy %q", v)
			}
		case "visit":
			venue, span, _ := strings.Cut(v, "@")
			from, to, _ := strings.Cut(span, "-")
			q.Visits = append(q.Visits, Visit{Venue: uint32(atoi(t, venue)), From: parseClock(t, from), To: parseClock(t, to)})
		case "ref":
			parts := strings.Split(v, "/")
			require.Len(t, parts, 4, "ref %q", v)
			s := parseSeat(t, parts[3])
			q.Trips = append(q.Trips, TripRef{Mode: parseMode(t, parts[0]), Number: parts[1], Date: parseDay(t, parts[2]),
				Car: s.Car, Row: s.Row, Seat: s.Seat})
		default:
			t.Fatalf("unknown query argument %q", k)
		}
	}
	return q
}

func parseSeat(t *testing.T, s string) Seat {
	car, rest, ok := strings.Cut(s, "-")
	require.True(t, ok, "seat %q", s)
	require.NotEmpty(t, rest, "seat %q", s)
	return Seat{Car: atoi(t, car), Row: atoi(t, rest[:len(rest)-1]), Seat: rest[len(rest)-1]}
}

func parseMode(t *testing.T, s string) Mode {
	for _, m := range []Mode{ModePlane, ModeTrainSealed, ModeTrainUnsealed, ModeBus} {
		if strings.TrimPrefix(m.String(), "train-") == s {
			return m
		}
	}
	t.Fatalf("unknown mode %q", s)
	return 0
}

func parseDay(t *testing.T, s string) time.Time {
	return goldenDay.AddDate(0, 0, atoi(t, strings.TrimPrefix(s, "d")))
}

func parseClock(t *testing.T, s string) time.Time {
	layout := "15:04"
	if strings.Count(s, ":") == 2 {
		layout = "15:04:05"
	}
	c, err := time.Parse(layout, s)
	require.NoError(t, err, "time %q", s)
	return goldenDay.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second)
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "number %q", s)
	return n
}
