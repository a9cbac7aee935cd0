package rules

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// oracleRule is one rule of the default set, hand-written in plain Go.
type oracleRule struct {
	id       string
	colour   Colour
	priority int
	when     func(o *oracleFacts) bool
}

type oracleFacts struct {
	f     *Facts
	areas *RiskAreas
}

func (o *oracleFacts) within(t time.Time, d time.Duration) bool {
	return !t.IsZero() && !t.After(o.f.Now) && o.f.Now.Sub(t) <= d
}

func (o *oracleFacts) test(kind string, positive bool, d time.Duration) bool {
	for _, t := range o.f.Tests {
		if (kind == "" || t.Kind == kind) && t.Positive == positive && o.within(t.Sampled, d) {
			return true
		}
	}
	return false
}

func (o *oracleFacts) negatives(d time.Duration) int {
	n := 0
	for _, t := range o.f.Tests {
		if !t.Positive && o.within(t.Sampled, d) {
			n++
		}
	}
	return n
}

func (o *oracleFacts) exposureHours() int {
	e := o.f.Contact.LastExposure
	if e.IsZero() || e.After(o.f.Now) {
		return -1
	}
	return int(o.f.Now.Sub(e) / time.Hour)
}

func (o *oracleFacts) maxLevel(days int) RiskLevel {
	best := LevelNone
	for _, v := range o.f.Travel {
		if o.within(v.Time, time.Duration(days)*24*time.Hour) {
			best = max(best, o.areas.Level(v.Region))
		}
	}
	return best
}

func (o *oracleFacts) flag(name string) bool { return slices.Contains(o.f.ManualFlags, name) }

const day = 24 * time.Hour

// oracleRules is the default rule set (default.yaml) written out by hand.
var oracleRules = []oracleRule{
	{"pcr-positive-14d", Red, 100, func(o *oracleFacts) bool { return o.test("pcr", true, 14*day) }},
	{"manual-red", Red, 90, func(o *oracleFacts) bool { return o.flag("manual_red") }},
	{"isolation", Red, 80, func(o *oracleFacts) bool { return o.flag("isolation") }},
	{"close-contact-isolation", Red, 70, func(o *oracleFacts) bool {
		return o.f.Contact.Kind == "close" && o.exposureHours() < 7*24
	}},
	{"high-risk-7d", Red, 60, func(o *oracleFacts) bool { return o.maxLevel(7) == LevelHigh }},
	{"inbound-quarantine", Red, 50, func(o *oracleFacts) bool { return o.flag("inbound_quarantine") }},
	{"manual-yellow", Yellow, 90, func(o *oracleFacts) bool { return o.flag("manual_yellow") }},
	{"antigen-positive", Yellow, 80, func(o *oracleFacts) bool {
		return o.test("antigen", true, 72*time.Hour) && !o.test("pcr", false, 48*time.Hour)
	}},
	{"close-contact-monitoring", Yellow, 70, func(o *oracleFacts) bool {
		h := o.exposureHours()
		return o.f.Contact.Kind == "close" && h >= 7*24 && h < 10*24
	}},
	{"secondary-contact", Yellow, 60, func(o *oracleFacts) bool {
		return o.f.Contact.Kind == "secondary" && o.exposureHours() < 7*24
	}},
	{"high-risk-8-14d", Yellow, 55, func(o *oracleFacts) bool { return o.maxLevel(14) == LevelHigh }},
	{"medium-risk-7d", Yellow, 50, func(o *oracleFacts) bool { return o.maxLevel(7) == LevelMedium }},
	{"fever-clinic", Yellow, 45, func(o *oracleFacts) bool { return o.flag("fever_clinic") }},
	{"home-monitoring", Yellow, 44, func(o *oracleFacts) bool { return o.flag("home_monitoring") }},
	{"entry-pending", Yellow, 40, func(o *oracleFacts) bool { return o.f.EntryStatus == "pending" }},
	{"entry-cleared-no-test", Yellow, 35, func(o *oracleFacts) bool {
		return o.f.EntryStatus == "cleared" && !o.test("", false, 7*day)
	}},
	{"low-risk-3d-2tests", Yellow, 30, func(o *oracleFacts) bool {
		return o.maxLevel(3) == LevelLow && o.negatives(72*time.Hour) < 2
	}},
	{"unvaccinated-secondary", Yellow, 20, func(o *oracleFacts) bool {
		return o.f.Contact.Kind == "secondary" && o.f.VaccineDoses == 0 && o.exposureHours() < 10*24
	}},
	{"no-test-72h", Yellow, 10, func(o *oracleFacts) bool { return !o.test("", false, 72*time.Hour) }},
	{"negative-48h", Green, 0, func(o *oracleFacts) bool { return o.test("pcr", false, 48*time.Hour) }},
}

// oracleDecide applies the default set the slow, obvious way.
func oracleDecide(f *Facts, areas *RiskAreas) (Colour, string, []string) {
	sev := map[Colour]int{Green: 0, Yellow: 1, Red: 2}
	o := &oracleFacts{f: f, areas: areas}
	colour, by := Green, ""
	var matched []string
	best := -1
	for i, r := range oracleRules {
		if !r.when(o) {
			continue
		}
		matched = append(matched, r.id)
		if best < 0 || sev[r.colour] > sev[oracleRules[best].colour] ||
			(sev[r.colour] == sev[oracleRules[best].colour] && r.priority > oracleRules[best].priority) {
			best = i
		}
	}
	if best >= 0 {
		colour, by = oracleRules[best].colour, oracleRules[best].id
	}
	return colour, by, matched
}

// randomFacts draws facts that crowd the rules' boundaries: times within a
// few seconds of whole hours and days, all kinds, flags and statuses, and
// regions designated at county, city and province level.
func randomFacts(r *rand.Rand, now time.Time, regions []string) Facts {
	ago := func() time.Time {
		h := r.IntN(16 * 24)
		jitter := time.Duration(r.IntN(5)-2) * time.Second
		if r.IntN(4) == 0 {
			jitter = time.Duration(r.IntN(3600)) * time.Second
		}
		return now.Add(-time.Duration(h)*time.Hour + jitter)
	}
	f := Facts{Now: now, VaccineDoses: r.IntN(4)}
	for range r.IntN(5) {
		kinds := []string{"pcr", "antigen", "other"}
		s := ago()
		f.Tests = append(f.Tests, Test{Kind: kinds[r.IntN(3)], Positive: r.IntN(6) == 0, Sampled: s, Reported: s.Add(6 * time.Hour)})
	}
	for range r.IntN(4) {
		f.Travel = append(f.Travel, Visit{Region: regions[r.IntN(len(regions))], Time: ago()})
	}
	switch r.IntN(4) {
	case 0:
		f.Contact = Contact{Kind: "close", LastExposure: ago()}
	case 1:
		f.Contact = Contact{Kind: "secondary", LastExposure: ago()}
	case 2:
		f.Contact = Contact{Kind: "close"} // exposure unknown
	}
	f.EntryStatus = []string{"", "", "pending", "cleared"}[r.IntN(4)]
	flags := []string{"manual_red", "isolation", "inbound_quarantine", "manual_yellow", "fever_clinic", "home_monitoring", "manual_review"}
	for range r.IntN(3) {
		f.ManualFlags = append(f.ManualFlags, flags[r.IntN(len(flags))])
	}
	return f
}

func TestDefaultSetMatchesOracle(t *testing.T) {
	c := defaultCompiled(t)
	ctx := context.Background()
	areas, err := NewRiskAreas("oracle", []RiskArea{
		{Region: "510104", Level: "high"}, {Region: "510105", Level: "medium"}, {Region: "510106", Level: "low"},
		{Region: "440300", Level: "medium"}, // a whole city
		{Region: "650000", Level: "low"},    // a whole province
		{Region: "440305", Level: "high"},   // a county above its city's level
	})
	require.NoError(t, err)
	regions := []string{"510104", "510105", "510106", "510107", "440304", "440305", "650102", "110101", "bad"}
	counts := map[Colour]int{}
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		now := time.Date(2022, 9, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1000)) * time.Hour)
		for i := range 5000 {
			f := randomFacts(r, now, regions)
			d, err := c.Evaluate(ctx, &f, areas)
			require.NoError(t, err)
			colour, by, matched := oracleDecide(&f, areas)
			require.Equal(t, colour, d.Colour, "seed %d person %d: %+v", seed, i, f)
			require.Equal(t, by, d.RuleID, "seed %d person %d", seed, i)
			require.Equal(t, matched, d.Matched, "seed %d person %d", seed, i)
			counts[d.Colour]++
		}
	}
	// The generator must exercise every colour, or the comparison proves little.
	for _, col := range []Colour{Green, Yellow, Red} {
		require.Greater(t, counts[col], 100, "colour %s", col)
	}
}

func TestDefaultSetMatchesOracleOnSynth(t *testing.T) {
	c := defaultCompiled(t)
	pop, areas := population(t, 7, 20000, benchNow)
	for i := range pop {
		d, err := c.Evaluate(context.Background(), &pop[i], areas)
		require.NoError(t, err)
		colour, by, matched := oracleDecide(&pop[i], areas)
		require.Equal(t, colour, d.Colour, "person %d", i)
		require.Equal(t, by, d.RuleID, "person %d", i)
		require.Equal(t, matched, d.Matched, "person %d", i)
	}
}
