package codes

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(i int) time.Time { return time.Date(2022, 6, 1+i, 0, 0, 0, 0, time.UTC) }

// mkDay builds a day with red split over two causes and two regions.
func mkDay(i, red, yellow, travel int) DayStats {
	t := NewTally(day(i).Add(13 * time.Hour))
	for j := 0; j < red; j++ {
		cause, region := "contact-close", "510104"
		if j < travel {
			cause = "travel-high"
		}
		if j%2 == 1 {
			region = "510107"
		}
		t.Add(Observation{Colour: Red, Cause: cause, Region: region})
	}
	for j := 0; j < yellow; j++ {
		t.Add(Observation{Colour: Yellow, Cause: "manual", Region: "510104"})
	}
	t.Add(Observation{Colour: Green, Cause: "default", Region: "510104"})
	return t.Stats()
}

func TestTallyAndTop(t *testing.T) {
	s := mkDay(0, 10, 3, 4)
	require.Equal(t, day(0), s.Day)
	require.Equal(t, map[Colour]int{Red: 10, Yellow: 3, Green: 1}, s.ByColour)
	require.Equal(t, []Count{{"contact-close", 6}, {"travel-high", 4}}, Top(s.ByCause[Red], 0))
	require.Equal(t, []Count{{"510104", 5}}, Top(s.ByRegion[Red], 1)) // tie broken by label
	require.Equal(t, "manual", CauseLabel(Cause{Actor: "a", Authorisation: "b"}))
	require.Equal(t, "r1", CauseLabel(Cause{RuleID: "r1", RuleVersion: "v"}))

	a, b := NewTally(day(1)), NewTally(day(1).Add(time.Hour))
	a.Add(Observation{Colour: Red, Cause: "x", Region: "11"})
	b.Add(Observation{Colour: Red, Cause: "x", Region: "12"})
	require.NoError(t, a.Merge(b))
	m := a.Stats()
	require.Equal(t, 2, m.ByColour[Red])
	require.Equal(t, 2, m.ByCause[Red]["x"])
	require.ErrorIs(t, a.Merge(NewTally(day(2))), ErrOtherDay)
}

func TestCheckAnomalies(t *testing.T) {
	reds := []int{100, 102, 98, 101, 99, 100, 100} // mean 100, sample sd sqrt(10/6)
	var base []DayStats
	for i, r := range reds {
		base = append(base, mkDay(i, r, 20, 50))
	}
	sd := math.Sqrt(10.0 / 6)
	tests := []struct {
		name string
		day  DayStats
		cfg  AnomalyConfig
		want []Anomaly
	}{
		{"normal day", mkDay(7, 101, 20, 50), AnomalyConfig{}, nil},
		{"outside band but under MinDelta", mkDay(7, 105, 20, 50), AnomalyConfig{}, nil},
		{"red spike", mkDay(7, 150, 20, 50), AnomalyConfig{},
			[]Anomaly{{Colour: Red, Dimension: "total", Today: 150, Mean: 100, StdDev: sd, Rise: true}}},
		{"red drop and yellow rise on a flat baseline", mkDay(7, 50, 35, 25), AnomalyConfig{},
			[]Anomaly{
				{Colour: Red, Dimension: "total", Today: 50, Mean: 100, StdDev: sd, Rise: false},
				{Colour: Yellow, Dimension: "total", Today: 35, Mean: 20, StdDev: 0, Rise: true},
			}},
		{"cause breakdown finds the rule", mkDay(7, 100, 20, 80), AnomalyConfig{Breakdowns: true},
			[]Anomaly{
				{Colour: Red, Dimension: "cause", Label: "contact-close", Today: 20, Mean: 50, StdDev: sdOf(reds, -50), Rise: false},
				{Colour: Red, Dimension: "cause", Label: "travel-high", Today: 80, Mean: 50, StdDev: 0, Rise: true},
			}},
		{"yellow only", mkDay(7, 150, 20, 50), AnomalyConfig{Colours: []Colour{Yellow}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckAnomalies(base, tt.day, tt.cfg)
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			for i := range got {
				require.InDelta(t, tt.want[i].StdDev, got[i].StdDev, 1e-9)
				got[i].StdDev = tt.want[i].StdDev
			}
			require.Equal(t, tt.want, got)
		})
	}
	_, err := CheckAnomalies(base[:3], mkDay(7, 1, 1, 1), AnomalyConfig{})
	require.ErrorIs(t, err, ErrShortBaseline)
	_, err = CheckAnomalies(base, mkDay(7, 1, 1, 1), AnomalyConfig{K: -1})
	require.ErrorContains(t, err, "AnomalyConfig.K")
}

// sdOf is the sample standard deviation of xs shifted by d.
func sdOf(xs []int, d int) float64 {
	var s, ss float64
	for _, x := range xs {
		s += float64(x + d)
	}
	m := s / float64(len(xs))
	for _, x := range xs {
		ss += (float64(x+d) - m) * (float64(x+d) - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}
