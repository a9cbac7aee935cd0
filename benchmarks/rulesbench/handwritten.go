package rulesbench

import "github.com/healthcode-sdk/healthcode/rules"

// ruleMeta is the resolution data of the default set's twenty rules, in
// file order: colour severity and priority.
type ruleMeta struct {
	id       string
	colour   rules.Colour
	severity int
	priority int
}

var defaultMeta = []ruleMeta{
	{"pcr-positive-14d", rules.Red, 2, 100},
	{"manual-red", rules.Red, 2, 90},
	{"isolation", rules.Red, 2, 80},
	{"close-contact-isolation", rules.Red, 2, 70},
	{"high-risk-7d", rules.Red, 2, 60},
	{"inbound-quarantine", rules.Red, 2, 50},
	{"manual-yellow", rules.Yellow, 1, 90},
	{"antigen-positive", rules.Yellow, 1, 80},
	{"close-contact-monitoring", rules.Yellow, 1, 70},
	{"secondary-contact", rules.Yellow, 1, 60},
	{"high-risk-8-14d", rules.Yellow, 1, 55},
	{"medium-risk-7d", rules.Yellow, 1, 50},
	{"fever-clinic", rules.Yellow, 1, 45},
	{"home-monitoring", rules.Yellow, 1, 44},
	{"entry-pending", rules.Yellow, 1, 40},
	{"entry-cleared-no-test", rules.Yellow, 1, 35},
	{"low-risk-3d-2tests", rules.Yellow, 1, 30},
	{"unvaccinated-secondary", rules.Yellow, 1, 20},
	{"no-test-72h", rules.Yellow, 1, 10},
	{"negative-48h", rules.Green, 0, 0},
}

// handwritten evaluates the default rule set as plain Go: the limit a rule
// engine can approach. It fills hits with the result of each rule.
func handwritten(d *domain, hits *[20]bool) {
	f := d.f
	exp := d.hoursSinceExposure()
	close, secondary := f.Contact.Kind == "close", f.Contact.Kind == "secondary"
	hits[0] = d.positiveWithin(14*24, kindPCR)
	hits[1] = d.hasFlag("manual_red")
	hits[2] = d.hasFlag("isolation")
	hits[3] = close && exp < 7*24
	hits[4] = d.maxRiskLevel(7) == rules.LevelHigh
	hits[5] = d.hasFlag("inbound_quarantine")
	hits[6] = d.hasFlag("manual_yellow")
	hits[7] = d.positiveWithin(72, kindAntigen) && !d.negativeWithin(48, kindPCR)
	hits[8] = close && exp >= 7*24 && exp < 10*24
	hits[9] = secondary && exp < 7*24
	hits[10] = d.maxRiskLevel(14) == rules.LevelHigh
	hits[11] = d.maxRiskLevel(7) == rules.LevelMedium
	hits[12] = d.hasFlag("fever_clinic")
	hits[13] = d.hasFlag("home_monitoring")
	hits[14] = f.EntryStatus == "pending"
	hits[15] = f.EntryStatus == "cleared" && !d.negativeWithin(7*24, kindAny)
	hits[16] = d.maxRiskLevel(3) == rules.LevelLow && d.negativesWithin(72) < 2
	hits[17] = secondary && f.VaccineDoses == 0 && exp < 10*24
	hits[18] = !d.negativeWithin(72, kindAny)
	hits[19] = d.negativeWithin(48, kindPCR)
}

// resolve turns the hits of the twenty rules into a decision the way the
// rules package does: most severe colour, then priority, then order.
func resolve(hits *[20]bool) (rules.Colour, string, []string) {
	best := -1
	var matched []string
	for i, hit := range hits {
		if !hit {
			continue
		}
		if matched == nil {
			matched = make([]string, 0, 4)
		}
		matched = append(matched, defaultMeta[i].id)
		m, b := defaultMeta[i], ruleMeta{}
		if best >= 0 {
			b = defaultMeta[best]
		}
		if best < 0 || m.severity > b.severity || (m.severity == b.severity && m.priority > b.priority) {
			best = i
		}
	}
	if best < 0 {
		return rules.Green, "", matched
	}
	return defaultMeta[best].colour, defaultMeta[best].id, matched
}
