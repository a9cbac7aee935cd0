package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func ev(kind EventKind, t time.Time) Event { return Event{Kind: kind, At: t} }

type wantClock struct {
	kind     TargetKind
	status   Status
	elapsed  time.Duration
	overrun  time.Duration
	deadline time.Time
}

// Worked timelines, by hand. Dates are Mon 2024-03-04 unless stated.
func TestTimers(t *testing.T) {
	cd, sx, sc := mustPreset(t, "chengdu"), mustPreset(t, "shaanxi"), mustPreset(t, "sichuan")
	d := func(h, m int) time.Time { return at(2024, 3, 4, h, m) }
	tests := []struct {
		name string
		c    *Contract
		inc  Incident
		asOf time.Time
		want []wantClock
	}{{
		// chengdu L1 (0.2 h / 1 h): responded after 15 min (3 over the
		// 10:12 deadline); resolved after 50 min, before 11:00.
		name: "chengdu L1 late response",
		c:    cd,
		inc:  Incident{ID: "INC-1", Level: "L1", Events: []Event{ev(Opened, d(10, 0)), ev(Responded, d(10, 15)), ev(Resolved, d(10, 50))}},
		asOf: d(12, 0),
		want: []wantClock{
			{TargetResponse, Breached, 15 * time.Minute, 3 * time.Minute, d(10, 12)},
			{TargetResolution, Met, 50 * time.Minute, 0, d(11, 0)},
		},
	}, {
		// chengdu L2 (0.5 h / 2 h) paused 10:30-11:30: 30 min before the
		// pause + 75 after = 105 min of 120; deadline 11:30 + 90 min = 13:00.
		name: "chengdu L2 pause stops the clock",
		c:    cd,
		inc: Incident{ID: "INC-2", Level: "L2", Events: []Event{ev(Opened, d(10, 0)), ev(Responded, d(10, 20)),
			ev(Paused, d(10, 30)), ev(Resumed, d(11, 30)), ev(Resolved, d(12, 45))}},
		asOf: d(18, 0),
		want: []wantClock{
			{TargetResponse, Met, 20 * time.Minute, 0, d(10, 30)},
			{TargetResolution, Met, 105 * time.Minute, 0, d(13, 0)},
		},
	}, {
		// chengdu L3 (1 h / 4 h) resolved at 11:00 (2 h), reopened 14:00,
		// resolved 16:30: 2 h + 2.5 h = 4.5 h, 30 min over; the deadline
		// falls during the second stretch: 14:00 + the 2 h left = 16:00.
		name: "chengdu L3 reopened",
		c:    cd,
		inc: Incident{ID: "INC-3", Level: "L3", Events: []Event{ev(Opened, d(9, 0)), ev(Responded, d(9, 30)),
			ev(Resolved, d(11, 0)), ev(Reopened, d(14, 0)), ev(Resolved, d(16, 30))}},
		asOf: d(18, 0),
		want: []wantClock{
			{TargetResponse, Met, 30 * time.Minute, 0, d(10, 0)},
			{TargetResolution, Breached, 270 * time.Minute, 30 * time.Minute, d(16, 0)},
		},
	}, {
		// Still open at 10:05: both clocks run.
		name: "chengdu L1 running",
		c:    cd,
		inc:  Incident{ID: "INC-4", Level: "L1", Events: []Event{ev(Opened, d(10, 0))}},
		asOf: d(10, 5),
		want: []wantClock{
			{TargetResponse, Running, 5 * time.Minute, 0, d(10, 12)},
			{TargetResolution, Running, 5 * time.Minute, 0, d(11, 0)},
		},
	}, {
		// Paused at 10:30 and still paused at 12:00: 30 min counted, no
		// deadline while paused.
		name: "chengdu L2 paused",
		c:    cd,
		inc:  Incident{ID: "INC-5", Level: "L2", Events: []Event{ev(Opened, d(10, 0)), ev(Responded, d(10, 5)), ev(Paused, d(10, 30))}},
		asOf: d(12, 0),
		want: []wantClock{
			{TargetResponse, Met, 5 * time.Minute, 0, d(10, 30)},
			{TargetResolution, PausedClock, 30 * time.Minute, 0, time.Time{}},
		},
	}, {
		// sichuan non-catastrophic, Fri 2024-09-13: opened 20:00, responded
		// 20:10, resolved 23:00 (3 h of 24). Report within 2 working days,
		// the event day not counted: Sat 14 Sep is a make-up workday (day
		// 1), 15-17 Sep are Mid-Autumn holidays, Wed 18 Sep is day 2, so
		// the report is due by 24:00 on 18 Sep. Filed 19 Sep 09:00: 9 h over.
		name: "sichuan report in 2 working days across Mid-Autumn",
		c:    sc,
		inc: Incident{ID: "SC-1", Level: "non_catastrophic", Events: []Event{ev(Opened, at(2024, 9, 13, 20, 0)), ev(Responded, at(2024, 9, 13, 20, 10)),
			ev(Resolved, at(2024, 9, 13, 23, 0)), ev(ReportSent, at(2024, 9, 19, 9, 0))}},
		asOf: at(2024, 9, 20, 0, 0),
		want: []wantClock{
			{TargetResponse, Met, 10 * time.Minute, 0, at(2024, 9, 13, 20, 30)},
			{TargetResolution, Met, 3 * time.Hour, 0, at(2024, 9, 14, 20, 0)},
			{TargetOnSite, NotRecorded, 3 * time.Hour, 0, at(2024, 9, 13, 22, 0)},
			{TargetReport, Breached, 57 * time.Hour, 9 * time.Hour, at(2024, 9, 19, 0, 0)},
		},
	}, {
		// shaanxi P4, Thu 2025-09-25 15:00, 2 working days: Fri 26 Sep is
		// day 1, Sat 27 is an ordinary weekend, Sun 28 Sep is a National Day
		// make-up workday (day 2): due 24:00 on 28 Sep. Responded Sun 10:00.
		name: "shaanxi P4 counts a make-up Sunday",
		c:    sx,
		inc:  Incident{ID: "SX-4", Level: "P4", Events: []Event{ev(Opened, at(2025, 9, 25, 15, 0)), ev(Responded, at(2025, 9, 28, 10, 0))}},
		asOf: at(2025, 9, 28, 12, 0),
		want: []wantClock{
			{TargetResponse, Met, 34 * time.Hour, 0, at(2025, 9, 29, 0, 0)},
			{TargetResolution, Running, 36 * time.Hour, 0, at(2025, 9, 29, 0, 0)},
		},
	}, {
		// shaanxi P1: responded in 8 min, on site after 70 min (1 h target:
		// 10 min over), solution in 100 min of 120.
		name: "shaanxi P1 on site late",
		c:    sx,
		inc: Incident{ID: "SX-1", Level: "P1", Events: []Event{ev(Opened, d(1, 0)), ev(Responded, d(1, 8)),
			ev(OnSite, d(2, 10)), ev(Solution, d(2, 40))}},
		asOf: d(3, 0),
		want: []wantClock{
			{TargetResponse, Met, 8 * time.Minute, 0, d(1, 10)},
			{TargetOnSite, Breached, 70 * time.Minute, 10 * time.Minute, d(2, 0)},
			{TargetSolution, Met, 100 * time.Minute, 0, d(3, 0)},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.c.Policy().Evaluate(tc.inc, tc.asOf)
			require.NoError(t, err)
			require.Len(t, r.Targets, len(tc.want))
			for i, w := range tc.want {
				g := r.Targets[i]
				require.Equal(t, w.kind, g.Kind)
				require.Equal(t, w.status, g.Status, "%s", w.kind)
				require.Equal(t, w.elapsed, g.Elapsed, "%s elapsed", w.kind)
				require.Equal(t, w.overrun, g.Overrun, "%s overrun", w.kind)
				require.True(t, w.deadline.Equal(g.Deadline), "%s deadline %v, want %v", w.kind, g.Deadline, w.deadline)
			}
		})
	}
}

func TestTimerEventErrors(t *testing.T) {
	p := mustPreset(t, "chengdu").Policy()
	d := func(h int) time.Time { return at(2024, 3, 4, h, 0) }
	tests := []struct {
		name string
		evs  []Event
	}{
		{"before opened", []Event{ev(Responded, d(9)), ev(Opened, d(10))}},
		{"opened twice", []Event{ev(Opened, d(9)), ev(Opened, d(10))}},
		{"resume without pause", []Event{ev(Opened, d(9)), ev(Resumed, d(10))}},
		{"pause twice", []Event{ev(Opened, d(9)), ev(Paused, d(10)), ev(Paused, d(11))}},
		{"reopen while open", []Event{ev(Opened, d(9)), ev(Reopened, d(10))}},
		{"resolved twice", []Event{ev(Opened, d(9)), ev(Resolved, d(10)), ev(Resolved, d(11))}},
		{"unknown kind", []Event{ev(Opened, d(9)), ev("escalated", d(10))}},
	}
	for _, tc := range tests {
		_, err := p.Evaluate(Incident{ID: "X", Level: "L1", Events: tc.evs}, d(12))
		require.ErrorIs(t, err, ErrEventOrder, tc.name)
	}
	_, err := p.Evaluate(Incident{ID: "X", Level: "L9"}, d(12))
	require.ErrorIs(t, err, ErrUnknownLevel)
	// A deadline beyond the holiday data is an error, never a guess.
	sx := mustPreset(t, "shaanxi").Policy()
	_, err = sx.Evaluate(Incident{ID: "X", Level: "P4", Events: []Event{ev(Opened, at(2026, 12, 31, 10, 0))}}, at(2026, 12, 31, 11, 0))
	require.ErrorIs(t, err, ErrNoCalendarData)
}

// Timers on a working-hours calendar: a P4-like 4 working hours target
// opened Fri 2024-02-09 16:00 (eve of the 2024 Spring Festival) runs 1.5 h
// on Friday, skips 10-17 Feb, and finishes on the make-up Sunday 18 Feb:
// 09:00 + 2.5 h = 11:30.
func TestTimerWorkingHours(t *testing.T) {
	cal := office(t)
	p, err := NewPolicy([]Level{{Name: "W", Targets: []Target{{Kind: TargetResolution, Within: Duration{D: 4 * time.Hour}, Calendar: cal}}}})
	require.NoError(t, err)
	r, err := p.Evaluate(Incident{ID: "W1", Level: "W", Events: []Event{ev(Opened, at(2024, 2, 9, 16, 0))}}, at(2024, 2, 18, 10, 0))
	require.NoError(t, err)
	require.True(t, at(2024, 2, 18, 11, 30).Equal(r.Targets[0].Deadline), "%v", r.Targets[0].Deadline)
	require.Equal(t, 150*time.Minute, r.Targets[0].Elapsed)
}
