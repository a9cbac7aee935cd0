package sla

import (
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// Budgets, by hand: 99.95 % of 365 days = 365×24×60×0.0005 = 262.8 min
// (chengdu 第七章, the tender's own arithmetic) = 4h22m48s; a 366-day year
// gives 366×24×60×0.0005 = 263.52 min = 4h23m31.2s. shaanxi's 99.5 % of 365
// days = 2628 min = 43h48m.
func TestAvailabilityBudget(t *testing.T) {
	cd, sx := mustPreset(t, "chengdu"), mustPreset(t, "shaanxi")
	tests := []struct {
		name     string
		p        *AvailabilityPolicy
		from, to time.Time
		minutes  string
		allowed  time.Duration
	}{
		{"chengdu 2023", cd.Availability, at(2023, 1, 1, 0, 0), at(2024, 1, 1, 0, 0), "262.8", 4*time.Hour + 22*time.Minute + 48*time.Second},
		{"chengdu leap 2024", cd.Availability, at(2024, 1, 1, 0, 0), at(2025, 1, 1, 0, 0), "263.52", 4*time.Hour + 23*time.Minute + 31200*time.Millisecond},
		{"shaanxi 2025", sx.Availability, at(2025, 1, 1, 0, 0), at(2026, 1, 1, 0, 0), "2628", 43*time.Hour + 48*time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Budget(tc.from, tc.to)
			require.NoError(t, err)
			require.Equal(t, tc.minutes, b.AllowedMinutes.String())
			require.Equal(t, tc.allowed, b.Allowed)
		})
	}
}

// chengdu 2023, by hand:
//
//	V1 vendor     03-01 10:00-11:40  100 min
//	N1 non-vendor 03-01 11:20-12:10   50 min, overlaps V1 by 20 -> V1 counts 80
//	V2 vendor     06-01 02:00-05:00  180 min  -> vendor 260 min <= 262.8: met
//	P1 planned    07-01 00:00-08:30  510 min  -> 30 min over 8 h -> 0.3 point
//	V3 vendor     12-31 23:55-01-01 00:05, clipped to 5 min -> 265 min:
//	              breached by 265 - 262.8 = 2.2 min = 2m12s
func TestAvailabilityMeasure(t *testing.T) {
	p := mustPreset(t, "chengdu").Availability
	outs := []Outage{
		{ID: "V1", Kind: Vendor, Start: at(2023, 3, 1, 10, 0), End: at(2023, 3, 1, 11, 40)},
		{ID: "N1", Kind: NonVendor, Start: at(2023, 3, 1, 11, 20), End: at(2023, 3, 1, 12, 10)},
		{ID: "V2", Kind: Vendor, Start: at(2023, 6, 1, 2, 0), End: at(2023, 6, 1, 5, 0)},
		{ID: "P1", Kind: Planned, Start: at(2023, 7, 1, 0, 0), End: at(2023, 7, 1, 8, 30)},
	}
	from, to := at(2023, 1, 1, 0, 0), at(2024, 1, 1, 0, 0)
	r, err := p.Measure(outs, from, to)
	require.NoError(t, err)
	require.Equal(t, 260*time.Minute, r.VendorDowntime)
	require.Equal(t, 50*time.Minute, r.NonVendor)
	require.True(t, r.Met)
	require.Equal(t, 0, r.Achieved.Cmp(Int(1).Sub(NewNum(260, 525600))))
	require.Equal(t, int64(30), r.PlannedOverMins)
	require.Equal(t, "0.3", r.PlannedPoints.String())

	outs = append(outs, Outage{ID: "V3", Kind: Vendor, Start: at(2023, 12, 31, 23, 55), End: at(2024, 1, 1, 0, 5)})
	r, err = p.Measure(outs, from, to)
	require.NoError(t, err)
	require.Equal(t, 265*time.Minute, r.VendorDowntime)
	require.False(t, r.Met)
	require.Equal(t, 2*time.Minute+12*time.Second, r.Overrun)

	_, err = p.Measure([]Outage{{Kind: "ours", Start: from, End: to}}, from, to)
	require.ErrorIs(t, err, ErrInvalid)
}

func TestSpanMinus(t *testing.T) {
	a := []span{{0, 10}, {20, 30}}
	b := []span{{5, 8}, {9, 22}, {25, 26}}
	require.Equal(t, []span{{0, 5}, {8, 9}, {22, 25}, {26, 30}}, minus(a, b))
	require.Equal(t, []span{{0, 12}, {15, 16}}, unionOf([]span{{15, 16}, {0, 5}, {4, 12}}))
}

// Measure's interval algebra agrees with a minute-by-minute count on
// seeded synthetic outages, every other one moved to overlap the one
// before it.
func TestAvailabilityMatchesMinuteCount(t *testing.T) {
	p := AvailabilityPolicy{Target: MustNum("99.9%")}
	from, to := at(2024, 1, 1, 0, 0), at(2024, 3, 1, 0, 0)
	for seed := uint64(1); seed <= 5; seed++ {
		src := synth.New(seed).Outages(synth.OutageConfig{N: 60, Start: from, Days: 60})
		outs := make([]Outage, len(src))
		overlaps := 0
		for i, o := range src {
			s, e := o.Start.Truncate(time.Minute), o.End.Truncate(time.Minute)
			if i%2 == 1 { // start halfway through the previous outage
				prev := outs[i-1]
				d := e.Sub(s)
				s = prev.Start.Add(prev.End.Sub(prev.Start) / 2).Truncate(time.Minute)
				e = s.Add(d)
				if s.Before(prev.End) && prev.Kind != OutageKind(o.Kind) {
					overlaps++
				}
			}
			outs[i] = Outage{Kind: OutageKind(o.Kind), Start: s, End: e}
		}
		require.Greater(t, overlaps, 5, "the test needs overlaps of different kinds")
		r, err := p.Measure(outs, from, to)
		require.NoError(t, err)
		var vendor, planned time.Duration
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			in := map[OutageKind]bool{}
			for _, o := range outs {
				if !m.Before(o.Start) && m.Before(o.End) {
					in[o.Kind] = true
				}
			}
			if in[Vendor] && !in[NonVendor] && !in[Planned] {
				vendor += time.Minute
			}
			if in[Planned] {
				planned += time.Minute
			}
		}
		require.Equal(t, vendor, r.VendorDowntime, "seed %d", seed)
		require.Equal(t, planned, r.PlannedDowntime, "seed %d", seed)
	}
}
