package synth

import (
	"math/rand/v2"
	"slices"
	"time"
)

// HealthFacts are the inputs a 2022-style code policy reads for one person.
type HealthFacts struct {
	Tests        []TestResult // newest first
	Travel       []AreaVisit  // newest first
	Contact      ContactStatus
	VaccineDoses int
	EntryStatus  string   // "", "pending" or "cleared" (arrival registration)
	ManualFlags  []string // e.g. "manual_review"
}

// TestResult is one nucleic-acid or antigen test.
type TestResult struct {
	Kind     string // "pcr" or "antigen"
	Positive bool
	Sampled  time.Time
	Reported time.Time
}

// AreaVisit is a stay in a region.
type AreaVisit struct {
	Region string // six-digit county code
	Time   time.Time
}

// ContactStatus says whether a person was traced as a contact.
type ContactStatus struct {
	Kind         string // "", "close" or "secondary"
	LastExposure time.Time
	Identified   time.Time
}

// RiskArea is a region under a risk level.
type RiskArea struct {
	Region string // six-digit county code
	Level  string // "high", "medium" or "low"
	Since  time.Time
}

// Health returns the facts of one person as of now. The mix is tuned so
// that a 2022-style policy (red: positive test, close contact or recent
// stay in a high-risk area; yellow: secondary contact, medium-risk stay,
// no negative test within 72 h, pending arrival registration) leaves about
// 85-90 % of people green:
//   - tests: 97 % have tests in the last week; the newest was sampled less
//     than 48 h ago for 85 % of them, 48-72 h for 10 %, 72-168 h for 5 %;
//     PCR 85 % (reported 4-24 h after sampling), antigen 15 % (15-30 min);
//     0.3 % of newest tests are positive; all results are reported by now;
//   - travel: 20 % of people visited 1-3 random regions in 14 days;
//   - contacts: 0.8 % close, 1.2 % secondary;
//   - vaccine doses 0/1/2/3/4 with 8/3/25/60/4 %;
//   - entry status: 2 % pending, 3 % cleared; manual flags: 0.4 %.
func (g *Gen) Health(now time.Time) HealthFacts {
	r := g.rng
	var h HealthFacts
	if r.IntN(100) < 97 {
		var age time.Duration
		switch x := r.IntN(100); {
		case x < 85:
			age = randDur(r, 0, 48*time.Hour)
		case x < 95:
			age = randDur(r, 48*time.Hour, 72*time.Hour)
		default:
			age = randDur(r, 72*time.Hour, 168*time.Hour)
		}
		sampled := now.Add(-age)
		for i := 0; i < 1+r.IntN(4) && now.Sub(sampled) < 7*24*time.Hour; i++ {
			t := TestResult{Kind: "pcr"}
			delay := randDur(r, 4*time.Hour, 24*time.Hour)
			if r.IntN(100) < 15 {
				t.Kind = "antigen"
				delay = randDur(r, 15*time.Minute, 30*time.Minute)
			}
			// The age above is that of the newest reported result.
			if i == 0 && now.Sub(sampled) < delay {
				sampled = now.Add(-delay)
			}
			t.Sampled, t.Reported = sampled, sampled.Add(delay)
			t.Positive = i == 0 && chance(r, 0.003)
			h.Tests = append(h.Tests, t)
			sampled = sampled.Add(-randDur(r, 24*time.Hour, 72*time.Hour))
		}
	}
	if r.IntN(100) < 20 {
		list := regions().list
		at := now
		for range 1 + r.IntN(3) {
			at = at.Add(-randDur(r, time.Hour, 4*24*time.Hour))
			h.Travel = append(h.Travel, AreaVisit{Region: list[r.IntN(len(list))].Code, Time: at})
		}
	}
	switch x := r.IntN(1000); {
	case x < 8:
		h.Contact = g.contact("close", now)
	case x < 20:
		h.Contact = g.contact("secondary", now)
	}
	switch x := r.IntN(100); {
	case x < 8:
		h.VaccineDoses = 0
	case x < 11:
		h.VaccineDoses = 1
	case x < 36:
		h.VaccineDoses = 2
	case x < 96:
		h.VaccineDoses = 3
	default:
		h.VaccineDoses = 4
	}
	switch x := r.IntN(100); {
	case x < 2:
		h.EntryStatus = "pending"
	case x < 5:
		h.EntryStatus = "cleared"
	}
	switch x := r.IntN(1000); {
	case x < 3:
		h.ManualFlags = []string{"manual_review"}
	case x < 4:
		h.ManualFlags = []string{"manual_red"}
	}
	return h
}

func (g *Gen) contact(kind string, now time.Time) ContactStatus {
	last := now.Add(-randDur(g.rng, time.Hour, 10*24*time.Hour))
	id := last.Add(randDur(g.rng, 6*time.Hour, 48*time.Hour))
	if id.After(now) {
		id = now
	}
	return ContactStatus{Kind: kind, LastExposure: last, Identified: id}
}

// randDur returns a duration uniform in [lo, hi), at second resolution.
func randDur(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64((hi-lo)/time.Second)))*time.Second
}

// RiskAreas returns n distinct regions (at most the table size) under a
// risk level (high 25 %, medium 45 %, low 30 %), each since a whole hour in
// the 14 days before now, sorted by region code.
func (g *Gen) RiskAreas(n int, now time.Time) []RiskArea {
	r := g.rng
	list := regions().list
	n = min(max(n, 0), len(list))
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < n; i++ { // partial Fisher-Yates
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	chosen := idx[:n]
	slices.Sort(chosen)
	out := make([]RiskArea, n)
	for k, i := range chosen {
		level := "low"
		switch x := r.IntN(100); {
		case x < 25:
			level = "high"
		case x < 70:
			level = "medium"
		}
		since := now.Add(-randDur(r, time.Hour, 14*24*time.Hour)).Truncate(time.Hour)
		out[k] = RiskArea{Region: list[i].Code, Level: level, Since: since}
	}
	return out
}
