package sla

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// walkClock is the timer oracle: the spans a clock runs, read straight off
// the events, then a walk over every minute. After the clock's last stop
// it walks on until the target is used up, which is the deadline of a met
// target. Only response and resolution clocks, as synth draws.
func walkClock(c *Calendar, inc Incident, kind TargetKind, limit time.Duration, asOf time.Time) (time.Duration, time.Time) {
	var spans [][2]time.Time
	var from time.Time
	running, done, paused := false, false, false
	for _, e := range inc.Events {
		switch {
		case e.Kind == Opened:
			from, running = e.At, true
		case e.Kind == Paused && running:
			spans, running, paused = append(spans, [2]time.Time{from, e.At}), false, true
		case e.Kind == Paused:
			paused = true
		case e.Kind == Resumed && !done:
			from, running, paused = e.At, true, false
		case e.Kind == Resumed:
			paused = false
		case (e.Kind == Responded && kind == TargetResponse || e.Kind == Resolved) && !done:
			if running {
				spans = append(spans, [2]time.Time{from, e.At})
			}
			running, done = false, true
		case e.Kind == Reopened && kind == TargetResolution:
			from, running, done = e.At, !paused, false
		}
	}
	if running {
		spans = append(spans, [2]time.Time{from, asOf})
	}
	n, count := int(limit/time.Minute), 0
	var deadline time.Time
	for _, sp := range spans {
		for t := sp[0]; t.Before(sp[1]); t = t.Add(time.Minute) {
			if minuteWalkWorking(c, t) {
				if count++; count == n {
					deadline = t.Add(time.Minute)
				}
			}
		}
	}
	for t, k := spans[len(spans)-1][1], count; deadline.IsZero(); t = t.Add(time.Minute) {
		if minuteWalkWorking(c, t) {
			if k++; k == n {
				deadline = t.Add(time.Minute)
			}
		}
	}
	return time.Duration(count) * time.Minute, deadline
}

// Policy.Evaluate agrees with the minute walk on seeded synthetic incidents
// (pauses, reopenings, nights, weekends, holidays, make-up days).
func TestTimersMatchMinuteWalk(t *testing.T) {
	p := benchPolicy(t)
	cal := p.levels["L1"].Targets[0].Calendar
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, cst)
	incs := synthIncidents(150, 42)
	for _, inc := range incs {
		for i := range inc.Events {
			inc.Events[i].At = inc.Events[i].At.Truncate(time.Minute)
		}
		res, err := p.Evaluate(inc, asOf)
		require.NoError(t, err)
		for k, tr := range res.Targets {
			el, dl := walkClock(cal, inc, tr.Kind, p.levels[inc.Level].Targets[k].Within.D, asOf)
			require.Equal(t, el, tr.Elapsed, "%s %s elapsed", inc.ID, tr.Kind)
			require.True(t, dl.Equal(tr.Deadline), "%s %s deadline %v, oracle %v", inc.ID, tr.Kind, tr.Deadline, dl)
			require.Equal(t, tr.Elapsed > p.levels[inc.Level].Targets[k].Within.D, tr.Status == Breached)
		}
	}
}

func TestEvaluateAll(t *testing.T) {
	p := benchPolicy(t)
	incs := synthIncidents(3000, 5)
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, cst)
	all, err := p.EvaluateAll(context.Background(), incs, asOf)
	require.NoError(t, err)
	require.Len(t, all, len(incs))
	for _, i := range []int{0, 1023, 1024, 2999} {
		one, err := p.Evaluate(incs[i], asOf)
		require.NoError(t, err)
		require.Equal(t, one, all[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.EvaluateAll(ctx, incs, asOf)
	require.ErrorIs(t, err, context.Canceled)
	bad := append([]Incident(nil), incs...)
	bad[2500].Level = "L9"
	_, err = p.EvaluateAll(context.Background(), bad, asOf)
	require.ErrorIs(t, err, ErrUnknownLevel)
}

// The JSON form carries every line with exact points and fen amounts.
func TestReportJSON(t *testing.T) {
	c := mustPreset(t, "sichuan")
	rep, err := c.Assess(Input{AsOf: at(2022, 12, 1, 0, 0), Total: yuan(t, "10000000.00"),
		Occurrences: []Occurrence{{Item: "misconduct_with_impact", Event: "E1"}, {Item: "misconduct_with_impact", Event: "E2"}},
		Surveys:     nums("95", "95", "95", "95")})
	require.NoError(t, err)
	b, err := rep.JSON()
	require.NoError(t, err)
	var back struct {
		Lines []struct {
			Section string  `json:"section"`
			Points  *string `json:"points"`
			Amount  *int64  `json:"amount_fen"`
		} `json:"lines"`
		Summary struct {
			Score     string `json:"score"`
			Deduction int64  `json:"deduction_fen"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	// 6 points lost -> 94; (6 - 5) × 1 % × 10,000,000.00 = 100,000.00.
	require.Equal(t, "94", back.Summary.Score)
	require.Equal(t, int64(10000000), back.Summary.Deduction)
	last := back.Lines[len(back.Lines)-1]
	require.Equal(t, "deduction", last.Section)
	require.Equal(t, int64(10000000), *last.Amount)
	require.Contains(t, rep.Markdown(), "| 1 | misconduct_with_impact | E1 |")
}
