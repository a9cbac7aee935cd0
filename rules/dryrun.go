package rules

import (
	"context"
	"fmt"
	"iter"
	"sort"
)

// DefaultSamples is how many example people a dry-run transition keeps.
const DefaultSamples = 5

// DryRunConfig configures DryRun. The zero value is valid. A plain value.
type DryRunConfig struct {
	Batch BatchConfig
	// Samples is how many population indexes each transition keeps. Zero
	// means DefaultSamples; negative keeps none.
	Samples int
}

// Validate reports a bad field.
func (c DryRunConfig) Validate() error { return c.Batch.Validate() }

// DryRunReport compares a candidate set with the sets in force over a
// population, before the candidate is swapped in. A plain value.
type DryRunReport struct {
	Candidate string // "id@version"
	Total     int    // people evaluated
	Changed   int    // people whose colour would change
	Errors    int    // people for whom either evaluation failed
	// Transitions groups the changes by colours and deciding rules, most
	// frequent first.
	Transitions []Transition
	// ErrorSamples are the first failures, by population index.
	ErrorSamples []Sample
}

// Transition counts the people who would move from one colour (decided by
// FromRule in the set in force) to another (decided by ToRule in the
// candidate). An empty rule means the default colour. A plain value.
type Transition struct {
	From, To         Colour
	FromRule, ToRule string
	Count            int
	Samples          []int // population indexes, ascending
}

// Sample is one failure of a dry run. A plain value.
type Sample struct {
	Index int
	Err   string
}

// DryRun evaluates population with both the set in force at each person's
// Facts.Now and candidate, with the current risk areas, on all cores, and
// reports who would change colour. Nothing is swapped. It returns ctx.Err()
// if cancelled, and ErrNoRuleSet failures count as errors.
func (e *Engine) DryRun(ctx context.Context, candidate *Compiled, population iter.Seq[Facts], cfg DryRunConfig) (DryRunReport, error) {
	if candidate == nil {
		return DryRunReport{}, fmt.Errorf("%w: DryRun was given a nil candidate", ErrNotCompiled)
	}
	if err := cfg.Validate(); err != nil {
		return DryRunReport{}, err
	}
	samples := cfg.Samples
	if samples == 0 {
		samples = DefaultSamples
	}
	samples = max(samples, 0)
	areas := e.areas.Load()
	rep := DryRunReport{Candidate: candidate.id + "@" + candidate.version}
	type key struct {
		from, to         Colour
		fromRule, toRule string
	}
	byKey := map[key]*Transition{}
	err := runBatch(ctx, population, cfg.Batch, func(w *worker, f *Facts) result {
		var r result
		c, err := e.setAt(f.Now)
		if err != nil {
			r.err = err
		} else {
			r.d, r.err = w.evaluate(ctx, c, f, areas)
		}
		r.d2, r.err2 = w.evaluate(ctx, candidate, f, areas)
		return r
	}, func(i int, _ *Facts, r *result) {
		rep.Total++
		if r.err != nil || r.err2 != nil {
			rep.Errors++
			if len(rep.ErrorSamples) < samples {
				err := r.err
				if err == nil {
					err = r.err2
				}
				rep.ErrorSamples = append(rep.ErrorSamples, Sample{Index: i, Err: err.Error()})
			}
			return
		}
		if r.d.Colour == r.d2.Colour {
			return
		}
		rep.Changed++
		k := key{r.d.Colour, r.d2.Colour, r.d.RuleID, r.d2.RuleID}
		t := byKey[k]
		if t == nil {
			t = &Transition{From: k.from, To: k.to, FromRule: k.fromRule, ToRule: k.toRule}
			byKey[k] = t
		}
		t.Count++
		if len(t.Samples) < samples {
			t.Samples = append(t.Samples, i)
		}
	})
	if err != nil {
		return DryRunReport{}, err
	}
	for _, t := range byKey {
		rep.Transitions = append(rep.Transitions, *t)
	}
	sort.Slice(rep.Transitions, func(i, j int) bool {
		a, b := rep.Transitions[i], rep.Transitions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		if a.FromRule != b.FromRule {
			return a.FromRule < b.FromRule
		}
		return a.ToRule < b.ToRule
	})
	return rep, nil
}
