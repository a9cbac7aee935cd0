package codes

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Observation is one code counted in the daily statistics (tender 2.2.7):
// its colour, its cause and the region of the person. Region comes from the
// registration data the caller holds (a GB/T 2260 code such as "510104",
// or a coarser prefix), passed as a plain value: statistics never see an ID
// number, a phone or a key.
type Observation struct {
	Colour Colour
	Cause  string // a rule id, or "manual" for transcodes (see CauseLabel)
	Region string
}

// CauseLabel is the cause dimension of a state: its rule id, or "manual".
func CauseLabel(c Cause) string {
	if c.Manual() {
		return "manual"
	}
	return c.RuleID
}

// DayStats are the counts of one day. The maps are keyed by colour, then by
// cause or region; a missing entry counts zero. Safe for concurrent reads;
// do not modify one that others read.
type DayStats struct {
	Day      time.Time // midnight of the day, in the location the caller chose
	ByColour map[Colour]int
	ByCause  map[Colour]map[string]int
	ByRegion map[Colour]map[string]int
}

// Tally accumulates one day's observations. It is not safe for concurrent
// use: give each goroutine its own and Merge them.
type Tally struct{ s DayStats }

// NewTally returns an empty tally for the day containing day (truncated to
// midnight in day's location).
func NewTally(day time.Time) *Tally {
	y, m, d := day.Date()
	return &Tally{s: DayStats{
		Day:      time.Date(y, m, d, 0, 0, 0, 0, day.Location()),
		ByColour: map[Colour]int{},
		ByCause:  map[Colour]map[string]int{},
		ByRegion: map[Colour]map[string]int{},
	}}
}

// Add counts one observation.
func (t *Tally) Add(o Observation) {
	t.s.ByColour[o.Colour]++
	inc(t.s.ByCause, o.Colour, o.Cause, 1)
	inc(t.s.ByRegion, o.Colour, o.Region, 1)
}

func inc(m map[Colour]map[string]int, c Colour, k string, n int) {
	if m[c] == nil {
		m[c] = map[string]int{}
	}
	m[c][k] += n
}

// ErrOtherDay is returned by Merge for tallies of different days.
var ErrOtherDay = errors.New("codes: tallies are for different days")

// Merge adds other's counts into t.
func (t *Tally) Merge(other *Tally) error {
	if !t.s.Day.Equal(other.s.Day) {
		return ErrOtherDay
	}
	for c, n := range other.s.ByColour {
		t.s.ByColour[c] += n
	}
	for c, m := range other.s.ByCause {
		for k, n := range m {
			inc(t.s.ByCause, c, k, n)
		}
	}
	for c, m := range other.s.ByRegion {
		for k, n := range m {
			inc(t.s.ByRegion, c, k, n)
		}
	}
	return nil
}

// Stats returns the counts so far; the Tally must not be used afterwards.
func (t *Tally) Stats() DayStats { return t.s }

// Count is a label with its count.
type Count struct {
	Label string
	N     int
}

// Top returns the n largest entries of m (all if n <= 0), largest first,
// ties by label: the ranking of red or yellow causes of tender 2.2.7 is
// Top(stats.ByCause[codes.Red], 10).
func Top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Label, b.Label)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// AnomalyConfig configures CheckAnomalies. Zero fields mean defaults.
type AnomalyConfig struct {
	// Colours are the colours checked. Default red and yellow.
	Colours []Colour
	// MinDays is the fewest baseline days needed. Default 7.
	MinDays int
	// K is the width of the normal band in standard deviations. Default 3.
	K float64
	// MinDelta is the smallest absolute difference from the baseline mean
	// that is flagged, so small counts do not raise alarms. Default 10.
	MinDelta float64
	// Breakdowns also checks each cause and region. Default false: totals
	// only.
	Breakdowns bool
}

// Validate reports the first invalid field.
func (c AnomalyConfig) Validate() error {
	switch {
	case c.MinDays < 0:
		return errors.New("codes: AnomalyConfig.MinDays is negative")
	case c.K < 0 || math.IsNaN(c.K):
		return errors.New("codes: AnomalyConfig.K is negative")
	case c.MinDelta < 0 || math.IsNaN(c.MinDelta):
		return errors.New("codes: AnomalyConfig.MinDelta is negative")
	}
	return nil
}

// Anomaly is a count outside its baseline band.
type Anomaly struct {
	Colour    Colour
	Dimension string // "total", "cause" or "region"
	Label     string // the cause or region; "" for totals
	Today     int
	Mean      float64 // of the baseline days
	StdDev    float64 // sample standard deviation of the baseline days
	Rise      bool    // true above the band, false below (a drop can mean a feed failed)
}

func (a Anomaly) String() string {
	dir := "drop"
	if a.Rise {
		dir = "rise"
	}
	what := a.Dimension
	if a.Label != "" {
		what += " " + a.Label
	}
	return fmt.Sprintf("%s %s: %d against %.1f±%.1f (%s)", a.Colour, what, a.Today, a.Mean, a.StdDev, dir)
}

// ErrShortBaseline is returned when fewer than MinDays baseline days are
// given.
var ErrShortBaseline = errors.New("codes: baseline too short")

// CheckAnomalies compares today's counts of each checked colour (tender
// 2.2.6: red and yellow codes issued that day) with the baseline days: a
// count is anomalous when it lies outside mean ± K·stddev of the baseline
// and differs from the mean by at least MinDelta. The band is computed from
// the baseline alone, so a spike today does not widen its own band. A
// constant baseline (stddev 0) flags any difference of MinDelta or more.
// Anomalies come sorted by colour (most severe first), dimension and label.
func CheckAnomalies(baseline []DayStats, today DayStats, cfg AnomalyConfig) ([]Anomaly, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Colours == nil {
		cfg.Colours = []Colour{Red, Yellow}
	}
	if cfg.MinDays == 0 {
		cfg.MinDays = 7
	}
	if cfg.K == 0 {
		cfg.K = 3
	}
	if cfg.MinDelta == 0 {
		cfg.MinDelta = 10
	}
	if len(baseline) < cfg.MinDays {
		return nil, fmt.Errorf("%w: %d days, need %d", ErrShortBaseline, len(baseline), cfg.MinDays)
	}
	var out []Anomaly
	check := func(c Colour, dim, label string, today int, series func(DayStats) int) {
		var sum float64
		for _, d := range baseline {
			sum += float64(series(d))
		}
		mean := sum / float64(len(baseline))
		var ss float64
		for _, d := range baseline {
			x := float64(series(d)) - mean
			ss += x * x
		}
		sd := 0.0
		if len(baseline) > 1 {
			sd = math.Sqrt(ss / float64(len(baseline)-1))
		}
		diff := float64(today) - mean
		if math.Abs(diff) > cfg.K*sd && math.Abs(diff) >= cfg.MinDelta {
			out = append(out, Anomaly{Colour: c, Dimension: dim, Label: label, Today: today, Mean: mean, StdDev: sd, Rise: diff > 0})
		}
	}
	for _, c := range cfg.Colours {
		check(c, "total", "", today.ByColour[c], func(d DayStats) int { return d.ByColour[c] })
		if !cfg.Breakdowns {
			continue
		}
		for _, dim := range []struct {
			name string
			get  func(DayStats) map[string]int
		}{
			{"cause", func(d DayStats) map[string]int { return d.ByCause[c] }},
			{"region", func(d DayStats) map[string]int { return d.ByRegion[c] }},
		} {
			labels := map[string]bool{}
			for k := range dim.get(today) {
				labels[k] = true
			}
			for _, d := range baseline {
				for k := range dim.get(d) {
					labels[k] = true
				}
			}
			for k := range labels {
				check(c, dim.name, k, dim.get(today)[k], func(d DayStats) int { return dim.get(d)[k] })
			}
		}
	}
	slices.SortFunc(out, func(a, b Anomaly) int {
		if a.Colour != b.Colour {
			return int(b.Colour) - int(a.Colour)
		}
		if a.Dimension != b.Dimension {
			return strings.Compare(a.Dimension, b.Dimension)
		}
		return strings.Compare(a.Label, b.Label)
	})
	return out, nil
}
