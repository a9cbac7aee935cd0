package synth

import "time"

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
