package synth

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The alias table against exact probabilities: frequencies of a million
// draws are within 5 standard deviations of n*p for every outcome.
func TestAliasMatchesWeights(t *testing.T) {
	for _, w := range [][]float64{
		{1},
		{1, 1},
		{5, 0, 1, 3},
		zipfWeights(50, 1.2),
		{0.001, 1000, 0.5, 7, 7, 7},
	} {
		g := New(3)
		a := newAlias(w)
		const n = 1000000
		got := make([]int, len(w))
		for range n {
			got[a.sample(g.rng.Uint64())]++
		}
		sum := 0.0
		for _, x := range w {
			sum += x
		}
		for i, x := range w {
			p := x / sum
			sd := math.Sqrt(n * p * (1 - p))
			require.InDelta(t, n*p, float64(got[i]), 5*sd+1, "weights %v outcome %d", w, i)
		}
	}
}

func TestRankStepIsPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 97, 100, 1000, 4096} {
		step := rankStep(n)
		seen := make([]bool, n)
		for r := range n {
			v := r * step % n
			require.False(t, seen[v], "n=%d", n)
			seen[v] = true
		}
	}
}

func TestScansWindowRhythmSkew(t *testing.T) {
	start := time.Date(2022, 3, 1, 0, 0, 0, 0, CST())
	cfg := ScanConfig{Persons: 5000, Venues: 2000, Days: 3, PerDay: 60000, Start: start}
	scans := New(11).Scans(cfg)
	require.Len(t, scans, cfg.Days*cfg.PerDay)
	perDay := make([]int, cfg.Days)
	var perHour [24]int
	perVenue := make([]int, cfg.Venues)
	persons := map[uint32]bool{}
	for i, s := range scans {
		require.GreaterOrEqual(t, s.Time, start.Unix())
		require.Less(t, s.Time, start.Unix()+int64(cfg.Days)*86400)
		if i > 0 {
			require.LessOrEqual(t, scans[i-1].Time, s.Time, "scans are in time order")
		}
		require.Less(t, s.Person, uint32(cfg.Persons))
		require.Less(t, s.Venue, uint32(cfg.Venues))
		off := s.Time - start.Unix()
		perDay[off/86400]++
		perHour[off%86400/3600]++
		perVenue[s.Venue]++
		persons[s.Person] = true
	}
	for d, c := range perDay {
		require.Equal(t, cfg.PerDay, c, "day %d", d)
	}
	// Daily rhythm: lunch and commute hours far busier than the small hours.
	require.Greater(t, perHour[12], 5*perHour[3])
	require.Greater(t, perHour[8], 3*perHour[4])
	require.Greater(t, perHour[18], 3*perHour[2])
	require.Greater(t, perHour[12], perHour[15])
	// Zipf skew: the top 1 % of venues take a large share, and the counts
	// follow Venue weights.
	counts := slices.Clone(perVenue)
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, c := range counts[:cfg.Venues/100] {
		top += c
	}
	require.Greater(t, float64(top)/float64(len(scans)), 0.25)
	vs := New(1).Venues(cfg.Venues)
	for _, v := range vs[:20] {
		exp := v.Weight * float64(len(scans))
		require.InDelta(t, exp, float64(perVenue[v.ID]), 5*math.Sqrt(exp)+2, "venue %d", v.ID)
	}
	require.Greater(t, len(persons), cfg.Persons*9/10, "uniform persons cover almost everyone")
}

func TestScansPersonSkew(t *testing.T) {
	cfg := ScanConfig{Persons: 10000, Venues: 100, PerDay: 100000, PersonSkew: 1.0}
	per := make([]int, cfg.Persons)
	for _, s := range New(4).Scans(cfg) {
		per[s.Person]++
	}
	slices.Sort(per)
	slices.Reverse(per)
	top := 0
	for _, c := range per[:100] {
		top += c
	}
	require.Greater(t, top, 30000, "top 1 %% of people scan a lot under skew")
}

func TestScanSeqMatchesScans(t *testing.T) {
	cfg := ScanConfig{Persons: 300, Venues: 50, Days: 2, PerDay: 5000, ZipfS: 0.8}
	want := New(8).Scans(cfg)
	var got []Scan
	for s := range New(8).ScanSeq(cfg) {
		got = append(got, s)
	}
	require.Equal(t, want, got)
	// Early stop.
	n := 0
	for range New(8).ScanSeq(cfg) {
		n++
		if n == 10 {
			break
		}
	}
	require.Equal(t, 10, n)
}

func TestScanConfigValidate(t *testing.T) {
	require.NoError(t, ScanConfig{}.Validate())
	require.ErrorContains(t, ScanConfig{ZipfS: -1}.Validate(), "ScanConfig.ZipfS")
	require.ErrorContains(t, ScanConfig{Days: -1}.Validate(), "ScanConfig.Days")
	require.ErrorContains(t, ScanConfig{PersonSkew: math.NaN()}.Validate(), "ScanConfig.PersonSkew")
	require.Panics(t, func() { New(1).Scans(ScanConfig{PersonSkew: math.NaN()}) })
}

func TestVenues(t *testing.T) {
	vs := New(12).Venues(3000)
	require.Len(t, vs, 3000)
	sum := 0.0
	withTaikoo, withChunxi := 0, 0
	for i, v := range vs {
		require.Equal(t, uint32(i), v.ID)
		reg, ok := LookupRegion(v.Region)
		require.True(t, ok)
		require.Contains(t, v.Name, reg.County, "name carries its county")
		require.Greater(t, v.Weight, 0.0)
		sum += v.Weight
		if strings.Contains(v.Name, "太古里") {
			withTaikoo++
		}
		if strings.Contains(v.Name, "春熙路") {
			withChunxi++
		}
	}
	require.InDelta(t, 1.0, sum, 1e-9)
	require.Greater(t, withTaikoo, 10, "partial names match many venues")
	require.Greater(t, withChunxi, 10)
	require.Nil(t, New(1).Venues(0))
}

func TestTrips(t *testing.T) {
	start := time.Date(2022, 1, 10, 0, 0, 0, 0, CST())
	cfg := TripConfig{Trips: 2000, Persons: 500, Days: 5, Start: start, MaxPassengers: 60}
	trips := New(13).Trips(cfg)
	require.Len(t, trips, cfg.Trips)
	type key struct {
		m Mode
		n string
		d time.Time
	}
	seen := map[key]bool{}
	modes := map[Mode]int{}
	for i, tr := range trips {
		k := key{tr.Mode, tr.Number, tr.Date}
		require.False(t, seen[k], "trip %v repeated", k)
		seen[k] = true
		modes[tr.Mode]++
		require.False(t, tr.Date.Before(start))
		require.True(t, tr.Date.Before(start.AddDate(0, 0, cfg.Days)))
		if i > 0 {
			require.False(t, tr.Date.Before(trips[i-1].Date), "sorted by date")
		}
		require.GreaterOrEqual(t, len(tr.Passengers), 2)
		require.LessOrEqual(t, len(tr.Passengers), cfg.MaxPassengers)
		cars, rows, letters := tr.Mode.Layout()
		people := map[uint32]bool{}
		seats := map[Seat]bool{}
		for _, s := range tr.Passengers {
			require.Less(t, s.Person, uint32(cfg.Persons))
			require.False(t, people[s.Person], "person twice on %s", tr.Number)
			people[s.Person] = true
			pos := Seat{Car: s.Car, Row: s.Row, Seat: s.Seat}
			require.False(t, seats[pos], "seat taken twice on %s", tr.Number)
			seats[pos] = true
			if cars == 0 {
				require.Zero(t, s.Car)
			} else {
				require.True(t, s.Car >= 1 && s.Car <= cars, "car %d", s.Car)
			}
			require.True(t, s.Row >= 1 && s.Row <= rows, "%v row %d", tr.Mode, s.Row)
			require.Contains(t, letters, string(s.Seat))
		}
		switch tr.Mode {
		case ModePlane:
			require.Regexp(t, `^[0-9A-Z]{2}[0-9]{4}$`, tr.Number)
			require.Equal(t, 40, rows)
		case ModeTrainSealed:
			require.Regexp(t, `^[GDC][0-9]{1,4}$`, tr.Number)
			require.Equal(t, 16, cars)
		case ModeTrainUnsealed:
			require.Regexp(t, `^[KTZ][0-9]{1,4}$`, tr.Number)
		case ModeBus:
			require.Equal(t, 13, rows)
		}
	}
	for _, m := range []Mode{ModePlane, ModeTrainSealed, ModeTrainUnsealed, ModeBus} {
		require.Greater(t, modes[m], cfg.Trips/10, "mode %v", m)
	}
}
