package synth

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// policy2022 is a plain reading of a 2022 code policy, written here
// independently of the generator: red for a positive test, a close
// contact or a stay in a high-risk area in 7 days; yellow for a secondary
// contact, a medium-risk stay in 7 days, no negative test reported within
// 72 h, or a pending arrival registration; green otherwise.
func policy2022(h HealthFacts, risk map[string]string, now time.Time) string {
	colour := "green"
	worse := func(c string) {
		if c == "red" || colour == "green" {
			colour = c
		}
	}
	recentNegative := false
	for _, t := range h.Tests {
		if t.Positive {
			worse("red")
		} else if now.Sub(t.Sampled) <= 72*time.Hour {
			recentNegative = true
		}
	}
	if !recentNegative {
		worse("yellow")
	}
	switch h.Contact.Kind {
	case "close":
		worse("red")
	case "secondary":
		worse("yellow")
	}
	for _, v := range h.Travel {
		if now.Sub(v.Time) > 7*24*time.Hour {
			continue
		}
		switch risk[v.Region] {
		case "high":
			worse("red")
		case "medium":
			worse("yellow")
		}
	}
	if h.EntryStatus == "pending" {
		worse("yellow")
	}
	if slices.Contains(h.ManualFlags, "manual_red") {
		worse("red")
	}
	return colour
}

func TestHealthMix(t *testing.T) {
	now := time.Date(2022, 9, 1, 10, 0, 0, 0, CST())
	g := New(31)
	areas := g.RiskAreas(20, now)
	risk := map[string]string{}
	for _, a := range areas {
		risk[a.Region] = a.Level
	}
	const n = 20000
	colours := map[string]int{}
	travelRisk, kinds := 0, map[string]int{}
	for range n {
		h := g.Health(now)
		colours[policy2022(h, risk, now)]++
		for i, tr := range h.Tests {
			require.False(t, tr.Reported.After(now), "only reported results")
			require.True(t, tr.Reported.After(tr.Sampled))
			kinds[tr.Kind]++
			if i > 0 {
				require.True(t, tr.Sampled.Before(h.Tests[i-1].Sampled), "newest first")
			}
		}
		for i, v := range h.Travel {
			require.True(t, v.Time.Before(now))
			_, ok := LookupRegion(v.Region)
			require.True(t, ok)
			if i > 0 {
				require.True(t, v.Time.Before(h.Travel[i-1].Time), "newest first")
			}
			if risk[v.Region] != "" {
				travelRisk++
			}
		}
		if h.Contact.Kind != "" {
			require.Contains(t, []string{"close", "secondary"}, h.Contact.Kind)
			require.False(t, h.Contact.Identified.Before(h.Contact.LastExposure))
			require.False(t, h.Contact.Identified.After(now))
		}
		require.True(t, h.VaccineDoses >= 0 && h.VaccineDoses <= 4)
		require.Contains(t, []string{"", "pending", "cleared"}, h.EntryStatus)
	}
	green := float64(colours["green"]) / n
	require.True(t, green >= 0.85 && green <= 0.92, "green share %.3f", green)
	require.Greater(t, colours["red"], 0)
	require.Greater(t, colours["yellow"], colours["red"])
	require.Greater(t, travelRisk, 0)
	require.Less(t, travelRisk, n/10, "few people travel to risk areas")
	require.Greater(t, kinds["pcr"], 3*kinds["antigen"])
}

func TestRiskAreas(t *testing.T) {
	now := time.Date(2022, 4, 1, 0, 0, 0, 0, CST())
	areas := New(1).RiskAreas(60, now)
	require.Len(t, areas, 60)
	levels := map[string]int{}
	for i, a := range areas {
		_, ok := LookupRegion(a.Region)
		require.True(t, ok)
		if i > 0 {
			require.Less(t, areas[i-1].Region, a.Region, "sorted, distinct")
		}
		require.True(t, a.Since.Before(now))
		require.False(t, a.Since.Before(now.Add(-14*24*time.Hour-time.Hour)))
		require.Zero(t, a.Since.Minute())
		levels[a.Level]++
	}
	require.Len(t, levels, 3)
	require.Len(t, New(1).RiskAreas(100000, now), len(Regions()))
	require.Empty(t, New(1).RiskAreas(-1, now))
}

// incidentGrammar: opened responded [paused resumed] resolved [reopened responded resolved].
func validIncident(kinds []string) bool {
	i := 0
	next := func(k string) bool {
		if i < len(kinds) && kinds[i] == k {
			i++
			return true
		}
		return false
	}
	if !next("opened") || !next("responded") {
		return false
	}
	if next("paused") && !next("resumed") {
		return false
	}
	if !next("resolved") {
		return false
	}
	if next("reopened") && (!next("responded") || !next("resolved")) {
		return false
	}
	return i == len(kinds)
}

func TestIncidents(t *testing.T) {
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, CST())
	cfg := IncidentConfig{N: 3000, Start: start, Days: 60, Levels: []string{"P1", "P2", "P3", "P4"}}
	incs := New(17).Incidents(cfg)
	require.Len(t, incs, cfg.N)
	paused, reopened := 0, 0
	levels := map[string]int{}
	respond := map[string]time.Duration{}
	for i, inc := range incs {
		require.Regexp(t, `^INC-[0-9]{6}$`, inc.ID)
		if i > 0 {
			require.Less(t, incs[i-1].ID, inc.ID)
			require.False(t, inc.Events[0].At.Before(incs[i-1].Events[0].At), "sorted by opening")
		}
		kinds := make([]string, len(inc.Events))
		for k, e := range inc.Events {
			kinds[k] = e.Kind
			if k > 0 {
				require.True(t, e.At.After(inc.Events[k-1].At), "%s events strictly increase", inc.ID)
			}
		}
		require.True(t, validIncident(kinds), "%s: %v", inc.ID, kinds)
		require.False(t, inc.Events[0].At.Before(start))
		require.True(t, inc.Events[0].At.Before(start.AddDate(0, 0, cfg.Days)))
		if slices.Contains(kinds, "paused") {
			paused++
		}
		if slices.Contains(kinds, "reopened") {
			reopened++
		}
		levels[inc.Level]++
		respond[inc.Level] += inc.Events[1].At.Sub(inc.Events[0].At)
	}
	require.InDelta(t, 0.15, float64(paused)/float64(cfg.N), 0.04)
	require.InDelta(t, 0.05, float64(reopened)/float64(cfg.N), 0.02)
	require.Len(t, levels, 4)
	mean := func(l string) time.Duration { return respond[l] / time.Duration(levels[l]) }
	require.Less(t, mean("P1"), mean("P2"), "severe incidents are answered faster")
	require.Len(t, New(1).Incidents(IncidentConfig{N: 5, Levels: []string{"only"}}), 5)
}

func TestOutages(t *testing.T) {
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, CST())
	outs := New(19).Outages(OutageConfig{N: 500, Start: start, Days: 365})
	require.Len(t, outs, 500)
	kinds := map[string]int{}
	for i, o := range outs {
		require.True(t, o.End.After(o.Start))
		require.LessOrEqual(t, o.End.Sub(o.Start), 24*time.Hour)
		require.False(t, o.Start.Before(start))
		if i > 0 {
			require.True(t, o.Start.After(outs[i-1].End), "no overlap")
		}
		kinds[o.Kind]++
	}
	require.Len(t, kinds, 3)
	night := 0
	for _, o := range outs {
		if o.Kind == "planned" && o.Start.In(CST()).Hour() >= 1 && o.Start.In(CST()).Hour() < 5 {
			night++
		}
	}
	require.Greater(t, night, kinds["planned"]*3/4, "planned work happens at night")
}

// Every generator: same seed gives the same data, another seed other data.
func TestDeterminism(t *testing.T) {
	now := time.Date(2022, 5, 5, 12, 0, 0, 0, CST())
	gens := map[string]func(g *Gen) any{
		"People": func(g *Gen) any { return g.People(300) },
		"Venues": func(g *Gen) any { return g.Venues(300) },
		"Scans":  func(g *Gen) any { return g.Scans(ScanConfig{Persons: 100, Venues: 30, PerDay: 2000}) },
		"Trips":  func(g *Gen) any { return g.Trips(TripConfig{Trips: 50}) },
		"Registry": func(g *Gen) any {
			r, tr := g.Registry(RegistryConfig{Records: 500, DupRate: 0.1, SuspiciousRate: 0.1, NoiseRate: 0.3})
			return []any{r, tr}
		},
		"Health":    func(g *Gen) any { return []HealthFacts{g.Health(now), g.Health(now), g.Health(now)} },
		"RiskAreas": func(g *Gen) any { return g.RiskAreas(10, now) },
		"Incidents": func(g *Gen) any { return g.Incidents(IncidentConfig{N: 50}) },
		"Outages":   func(g *Gen) any { return g.Outages(OutageConfig{N: 20}) },
	}
	names := make([]string, 0, len(gens))
	for k := range gens {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		f := gens[name]
		a, b, c := f(New(100)), f(New(100)), f(New(101))
		require.True(t, reflect.DeepEqual(a, b), "%s: same seed differs", name)
		require.False(t, reflect.DeepEqual(a, c), "%s: other seed gives the same data", name)
	}
	require.Equal(t, uint64(100), New(100).Seed())
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	require.Equal(t, 10000, DefaultScanConfig().PerDay)
	require.Equal(t, DefaultStart(), DefaultTripConfig().Start)
	require.Equal(t, 1000, DefaultRegistryConfig().Records)
	require.Equal(t, []string{"L1", "L2", "L3"}, DefaultIncidentConfig().Levels)
	require.Equal(t, 365, DefaultOutageConfig().Days)
	for _, tc := range []struct {
		err   error
		field string
	}{
		{TripConfig{Trips: -1}.Validate(), "TripConfig.Trips"},
		{TripConfig{Trips: 300000}.Validate(), "TripConfig.Trips"},
		{TripConfig{MaxPassengers: -3}.Validate(), "TripConfig.MaxPassengers"},
		{IncidentConfig{Days: -1}.Validate(), "IncidentConfig.Days"},
		{OutageConfig{N: -2}.Validate(), "OutageConfig.N"},
		{RegistryConfig{SuspiciousRate: 1.2}.Validate(), "RegistryConfig.SuspiciousRate"},
	} {
		require.Error(t, tc.err)
		require.Contains(t, tc.err.Error(), tc.field)
	}
	require.NoError(t, TripConfig{Trips: 300000, Days: 2}.Validate())
	require.Panics(t, func() { New(1).Outages(OutageConfig{Days: -1}) })
	require.Empty(t, New(1).People(-1))
}
