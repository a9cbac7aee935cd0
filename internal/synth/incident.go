package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Incident is one service incident with its event history.
type Incident struct {
	ID     string // "INC-000001"
	Level  string
	Events []IncidentEvent // in time order
}

// IncidentEvent is one step of an incident.
type IncidentEvent struct {
	Kind string // "opened", "responded", "paused", "resumed", "resolved", "reopened"
	At   time.Time
}

// IncidentConfig configures Incidents. A zero field means its default.
type IncidentConfig struct {
	N      int       // number of incidents; default 100
	Start  time.Time // window start; default DefaultStart()
	Days   int       // window length; default 30
	Levels []string  // levels to draw from, most severe first; default {"L1", "L2", "L3"}
}

// Outage is a period when a service was down.
type Outage struct {
	Start, End time.Time
	Kind       string // "vendor", "non_vendor" or "planned"
}

// OutageConfig configures Outages. A zero field means its default.
type OutageConfig struct {
	N     int       // number of outages; default 10
	Start time.Time // window start; default DefaultStart()
	Days  int       // window length; default 365
}

func (c IncidentConfig) withDefaults() IncidentConfig {
	if c.N <= 0 {
		c.N = 100
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.Days <= 0 {
		c.Days = 30
	}
	if len(c.Levels) == 0 {
		c.Levels = []string{"L1", "L2", "L3"}
	}
	return c
}

// lognormal returns a duration with the given median and log-scale sigma,
// at second resolution and at least one second.
func lognormal(r *rand.Rand, median time.Duration, sigma float64) time.Duration {
	d := time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
	return max(d.Truncate(time.Second), time.Second)
}

// Incidents returns N incidents opened uniformly in [Start, Start+Days),
// sorted by opening time, with IDs INC-000001... in that order. Levels are
// drawn 20/30/50 % from the first, second and remaining levels (uniform if
// more than three). Each incident is opened, responded to (median 8 min for
// the first level, doubling per level, lognormal), in 15 % of cases paused
// and resumed (10 min to 8 h later), resolved (median 40 min, doubling per
// level), and in 5 % of cases reopened 1 h to 3 days later, responded to
// and resolved again. Event times strictly increase. It panics if
// cfg.Validate fails.
func (g *Gen) Incidents(cfg IncidentConfig) []Incident {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	r := g.rng
	window := time.Duration(cfg.Days) * 24 * time.Hour
	out := make([]Incident, cfg.N)
	for i := range out {
		li := 0
		switch x := r.IntN(10); {
		case len(cfg.Levels) == 1:
		case x < 2:
		case x < 5 || len(cfg.Levels) == 2:
			li = 1
		default:
			li = 2 + r.IntN(len(cfg.Levels)-2)
		}
		scale := time.Duration(1) << min(li, 6)
		at := cfg.Start.Add(randDur(r, 0, window))
		ev := []IncidentEvent{{Kind: "opened", At: at}}
		add := func(kind string, d time.Duration) {
			at = at.Add(max(d, time.Second))
			ev = append(ev, IncidentEvent{Kind: kind, At: at})
		}
		add("responded", lognormal(r, 8*time.Minute*scale, 0.8))
		work := lognormal(r, 40*time.Minute*scale, 0.9)
		if chance(r, 0.15) {
			first := randDur(r, 0, work/2+time.Second)
			add("paused", first)
			add("resumed", randDur(r, 10*time.Minute, 8*time.Hour))
			work -= first
		}
		add("resolved", work)
		if chance(r, 0.05) {
			add("reopened", randDur(r, time.Hour, 3*24*time.Hour))
			add("responded", lognormal(r, 8*time.Minute*scale, 0.8))
			add("resolved", lognormal(r, 40*time.Minute*scale, 0.9))
		}
		out[i] = Incident{Level: cfg.Levels[li], Events: ev}
	}
	slices.SortStableFunc(out, func(a, b Incident) int { return a.Events[0].At.Compare(b.Events[0].At) })
	for i := range out {
		out[i].ID = fmt.Sprintf("INC-%06d", i+1)
	}
	return out
}

func (c OutageConfig) withDefaults() OutageConfig {
	if c.N <= 0 {
		c.N = 10
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.Days <= 0 {
		c.Days = 365
	}
	return c
}

// Outages returns N non-overlapping outages sorted by start. Kinds are
// planned 30 %, vendor 40 %, non_vendor 30 %. Planned outages start between
// 01:00 and 04:00 local time and last 30 min to 4 h; unplanned ones start
// uniformly in the window and last a lognormal time (median 20 min, at most
// 24 h). An outage that would overlap the previous one is moved to start a
// minute after it ends, so the last ones may end after the window. It
// panics if cfg.Validate fails.
func (g *Gen) Outages(cfg OutageConfig) []Outage {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	r := g.rng
	out := make([]Outage, cfg.N)
	for i := range out {
		var o Outage
		switch x := r.IntN(10); {
		case x < 3:
			o.Kind = "planned"
			day := cfg.Start.AddDate(0, 0, r.IntN(cfg.Days))
			y, m, d := day.Date()
			o.Start = time.Date(y, m, d, 1, 0, 0, 0, day.Location()).Add(randDur(r, 0, 3*time.Hour))
			o.End = o.Start.Add(randDur(r, 30*time.Minute, 4*time.Hour))
		default:
			o.Kind = "vendor"
			if x >= 7 {
				o.Kind = "non_vendor"
			}
			o.Start = cfg.Start.Add(randDur(r, 0, time.Duration(cfg.Days)*24*time.Hour))
			o.End = o.Start.Add(min(lognormal(r, 20*time.Minute, 1.0), 24*time.Hour))
		}
		out[i] = o
	}
	slices.SortStableFunc(out, func(a, b Outage) int { return a.Start.Compare(b.Start) })
	for i := 1; i < len(out); i++ {
		if prev := out[i-1].End; !out[i].Start.After(prev) {
			d := out[i].End.Sub(out[i].Start)
			out[i].Start = prev.Add(time.Minute)
			out[i].End = out[i].Start.Add(d)
		}
	}
	return out
}
