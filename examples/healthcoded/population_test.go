package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/healthcode-sdk/healthcode/rules"
)

func TestPopulationRoundTrip(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 123).UTC() }
	members := []rules.Facts{
		{}, // every field zero, every slice nil
		{Now: at(1_700_000_000), VaccineDoses: -1, EntryStatus: "pending", ManualFlags: []string{"red", ""}},
		{
			Now:     at(1_700_000_000),
			Tests:   []rules.Test{{Kind: "pcr", Positive: true, Sampled: at(1_699_990_000)}, {Kind: "antigen", Reported: at(1)}},
			Travel:  []rules.Visit{{Region: "420106", Time: at(-5)}, {Region: "", Time: time.Time{}}},
			Contact: rules.Contact{Kind: "close", LastExposure: at(1_699_000_000), Identified: time.Unix(0, 1).UTC()},
		},
	}
	// And the demo's own: what seeding packs.
	g := synth.New(7)
	now := at(1_700_000_000)
	for range 200 {
		members = append(members, factsFromSynth(g.Health(now), now))
	}
	var p population
	for i := range members {
		p.add(&members[i])
	}
	require.Equal(t, len(members), p.Len())
	got := slices.Collect(p.All())
	require.Len(t, got, len(members))
	for i := range members {
		require.Equal(t, utc(members[i]), got[i], "member %d", i)
	}
	// Stopping early stops.
	n := 0
	for range p.All() {
		if n++; n == 2 {
			break
		}
	}
	require.Equal(t, 2, n)
	var empty population
	require.Zero(t, empty.Len())
	require.Empty(t, slices.Collect(empty.All()))
}

// utc is f with every time in UTC and empty slices nil: what a packed
// member unpacks to.
func utc(f rules.Facts) rules.Facts {
	u := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	out := f
	out.Now = u(f.Now)
	out.Tests, out.Travel, out.ManualFlags = nil, nil, nil
	for _, t := range f.Tests {
		out.Tests = append(out.Tests, rules.Test{Kind: t.Kind, Positive: t.Positive, Sampled: u(t.Sampled), Reported: u(t.Reported)})
	}
	for _, v := range f.Travel {
		out.Travel = append(out.Travel, rules.Visit{Region: v.Region, Time: u(v.Time)})
	}
	out.ManualFlags = append(out.ManualFlags, f.ManualFlags...)
	out.Contact.LastExposure, out.Contact.Identified = u(f.Contact.LastExposure), u(f.Contact.Identified)
	return out
}

// A dry run over the packed population decides exactly as over the facts
// it was packed from.
func TestPopulationDecidesAsTheFacts(t *testing.T) {
	env, err := rules.NewEnv()
	require.NoError(t, err)
	c, err := env.CompileYAML("default", rules.DefaultRuleSetYAML())
	require.NoError(t, err)
	g := synth.New(11)
	now := time.Date(2022, 4, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	areas, err := riskAreas(g.RiskAreas(40, now), now)
	require.NoError(t, err)
	ctx := context.Background()
	var facts []rules.Facts
	var p population
	for range 500 {
		f := factsFromSynth(g.Health(now), now)
		facts = append(facts, f)
		p.add(&f)
	}
	i, colours := 0, map[rules.Colour]int{}
	for f := range p.All() {
		want, err := c.Evaluate(ctx, &facts[i], areas)
		require.NoError(t, err)
		got, err := c.Evaluate(ctx, &f, areas)
		require.NoError(t, err)
		require.Equal(t, want.Colour, got.Colour, "member %d", i)
		require.Equal(t, want.RuleID, got.RuleID, "member %d", i)
		colours[got.Colour]++
		i++
	}
	require.Equal(t, 500, i)
	require.GreaterOrEqual(t, len(colours), 2, "the sample should decide more than one colour: %v", colours)
}

func TestUnpackRefusesDamage(t *testing.T) {
	var p population
	f := rules.Facts{Now: time.Unix(1, 0).UTC(), Tests: []rules.Test{{Kind: "pcr"}}, ManualFlags: []string{"fever"}}
	p.add(&f)
	whole := p.data
	_, err := unpackFacts(whole)
	require.NoError(t, err)
	for cut := range len(whole) {
		_, err := unpackFacts(whole[:cut])
		require.Error(t, err, "cut at %d of %d", cut, len(whole))
	}
	_, err = unpackFacts(append(slices.Clone(whole), 0))
	require.ErrorContains(t, err, "trailing bytes")
	bad := slices.Clone(whole)
	bad[0] = 7 // the Now flag
	_, err = unpackFacts(bad)
	require.ErrorContains(t, err, "bad flag")
}

// FuzzUnpackFacts: no input makes unpacking panic, and whatever unpacks
// packs back to the same bytes.
func FuzzUnpackFacts(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	g := synth.New(r.Uint64())
	now := time.Unix(1_700_000_000, 0).UTC()
	for range 8 {
		var p population
		h := factsFromSynth(g.Health(now), now)
		p.add(&h)
		f.Add(p.data)
	}
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		facts, err := unpackFacts(b)
		if err != nil {
			return
		}
		var p population
		p.add(&facts)
		again, err := unpackFacts(p.data)
		require.NoError(t, err)
		require.Equal(t, facts, again)
	})
}
