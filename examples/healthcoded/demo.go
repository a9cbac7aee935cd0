package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/healthcode-sdk/healthcode/rules"
)

// demoDays is how many days of history the demo seeds, so that the daily
// statistics have a baseline for the anomaly check from the first start.
const demoDays = 14

// seedDemo seeds cfg.DemoPeople synthetic people on first start: their
// phone links, 14 days of rule decisions (one evaluation per person per
// day, applied through the registry like any bulk evaluation), today's risk
// areas and the dry-run population. On later starts it only rebuilds the
// population and risk areas, which are deterministic in DemoSeed.
// demo-people.csv in the data directory lists the synthetic identities.
func (a *App) seedDemo(ctx context.Context) error {
	if a.cfg.DemoPeople == 0 {
		return nil
	}
	marker := filepath.Join(a.cfg.DataDir, "demo-seeded")
	_, err := os.Stat(marker)
	first := errors.Is(err, os.ErrNotExist)
	if err != nil && !first {
		return err
	}
	if first && a.feed != nil {
		// A shared store is seeded once, by the first node; later nodes
		// (their own data directories, the same keys) find it full.
		empty, err := storeEmpty(ctx, a.store)
		if err != nil {
			return err
		}
		first = empty
	}
	start := time.Now()
	today := a.now()
	g := synth.New(a.cfg.DemoSeed)
	people := g.People(a.cfg.DemoPeople)
	keys := make([]codes.Key, len(people))
	regions := make([]string, len(people))
	var links []codes.Link
	owned := map[codes.Key]bool{}
	for i, p := range people {
		id, err := codes.Parse(p.DocNumber)
		if err != nil {
			return fmt.Errorf("synthetic person %d: %w", i, err)
		}
		keys[i] = a.keyer.Document(id)
		if r, ok := id.(codes.ResidentID); ok {
			regions[i] = r.Region()
		}
		if first && p.Phone != "" {
			ph, err := codes.ParsePhone(p.Phone)
			if err != nil {
				return fmt.Errorf("synthetic person %d: %w", i, err)
			}
			// Phones are shared in real data (and in synth); the first
			// person to claim one owns it, the rest are proxies.
			pk := a.keyer.Phone(ph)
			role := codes.RoleOwner
			if owned[pk] {
				role = codes.RoleProxy
			}
			owned[pk] = true
			links = append(links, codes.Link{Phone: pk, Person: keys[i], Role: role, Since: today})
		}
	}
	if len(links) > 0 {
		if err := a.links.LinkAll(ctx, links); err != nil {
			return err
		}
	}
	areas, err := riskAreas(g.RiskAreas(40, today), today)
	if err != nil {
		return err
	}
	a.engine.SetRiskAreas(areas)
	if first && a.feed != nil {
		// Every node of the cluster evaluates with the seeding node's areas.
		list := g.RiskAreas(40, today)
		n := riskAreasNote{Version: areas.Version(), Areas: make([]rules.RiskArea, len(list))}
		for i, r := range list {
			n.Areas[i] = rules.RiskArea{Region: r.Region, Level: r.Level}
		}
		body, err := json.Marshal(n)
		if err != nil {
			return err
		}
		// Set here already; this node's follower applies it again later.
		if _, err := a.feed.Publish(ctx, topicRiskAreas, body); err != nil {
			return err
		}
	}

	var last []rules.Facts
	var lastDecisions []rules.Decision
	for d := demoDays - 1; d >= 0; d-- {
		day := today.Add(-time.Duration(d) * 24 * time.Hour)
		facts := make([]rules.Facts, len(people))
		for i := range people {
			facts[i] = factsFromSynth(g.Health(day), day)
		}
		last = facts
		if !first {
			continue
		}
		decisions := make([]rules.Decision, len(people))
		err := a.engine.Batch(ctx, slicesSeq(facts), rules.BatchConfig{}, func(i int, dec rules.Decision, err error) {
			if err == nil {
				decisions[i] = dec
			}
		})
		if err != nil {
			return err
		}
		if _, err := a.applyDecisions(ctx, keys, regions, decisions, day, nil); err != nil {
			return err
		}
		lastDecisions = decisions
	}
	if err := a.refreshFilter(ctx); err != nil {
		return err
	}
	var pop population
	for i := range last {
		pop.add(&last[i])
	}
	a.mu.Lock()
	a.population = pop
	a.mu.Unlock()
	if !first {
		return nil
	}
	if err := a.seedDemoTrips(keys, today); err != nil {
		return fmt.Errorf("demo trips: %w", err)
	}
	if err := a.seedDemoScans(keys, today); err != nil {
		return err
	}
	if err := writeDemoPeople(filepath.Join(a.cfg.DataDir, "demo-people.csv"), people, lastDecisions); err != nil {
		return err
	}
	if err := a.stats.save(); err != nil {
		return err
	}
	a.log.Info("demo population seeded", "people", len(people), "days", demoDays, "took", time.Since(start).Round(time.Millisecond).String())
	return os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600)
}

// writeDemoPeople lists the synthetic identities for trying the API. They
// are generated data, not people; the file is what the README's curl lines
// read from.
func writeDemoPeople(path string, people []synth.Person, decisions []rules.Decision) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"doc_number", "doc_type", "phone", "name", "colour_on_seeding", "rule"})
	for i, p := range people {
		_ = w.Write([]string{p.DocNumber, synth.DocTypeLabel(p.DocType), p.Phone, p.Name,
			string(decisions[i].Colour), decisions[i].RuleID})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

func factsFromSynth(h synth.HealthFacts, now time.Time) rules.Facts {
	f := rules.Facts{
		Now:          now,
		VaccineDoses: h.VaccineDoses,
		EntryStatus:  h.EntryStatus,
		ManualFlags:  h.ManualFlags,
		Contact:      rules.Contact{Kind: h.Contact.Kind, LastExposure: h.Contact.LastExposure, Identified: h.Contact.Identified},
	}
	for _, t := range h.Tests {
		f.Tests = append(f.Tests, rules.Test{Kind: t.Kind, Positive: t.Positive, Sampled: t.Sampled, Reported: t.Reported})
	}
	for _, v := range h.Travel {
		f.Travel = append(f.Travel, rules.Visit{Region: v.Region, Time: v.Time})
	}
	return f
}

func riskAreas(in []synth.RiskArea, now time.Time) (*rules.RiskAreas, error) {
	out := make([]rules.RiskArea, len(in))
	for i, r := range in {
		out[i] = rules.RiskArea{Region: r.Region, Level: r.Level}
	}
	return rules.NewRiskAreas("demo-"+now.UTC().Format("2006010215"), out)
}

func slicesSeq[T any](s []T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

var errFound = errors.New("found a key")

// storeEmpty reports whether the store holds no code yet.
func storeEmpty(ctx context.Context, s codes.Store) (bool, error) {
	err := s.Scan(ctx, func(codes.Key, codes.Colour) error { return errFound })
	if errors.Is(err, errFound) {
		return false, nil
	}
	return err == nil, err
}
