package rules

import (
	"fmt"
	"time"
)

// Facts are the inputs the default health schema exposes to rules for one
// person. The zero value is a person with no tests, no travel, no contact and
// no flags; Now must be set, it is the time the decision is made for.
//
// A Facts value is read, never modified, by evaluation. It is safe for
// concurrent use by evaluations as long as no one writes to it meanwhile.
type Facts struct {
	// Now is the evaluation time: the `now` variable, the reference of every
	// "within N hours/days" function and the instant at which the Engine
	// chooses the rule set in effect. Required.
	Now time.Time
	// Tests are nucleic-acid ("pcr") and antigen ("antigen") results, in any
	// order. Tests sampled after Now are ignored by the domain functions.
	Tests []Test
	// Travel lists stays in regions (six-digit GB/T 2260 codes), in any order.
	Travel []Visit
	// Contact is the person's contact-tracing status.
	Contact Contact
	// VaccineDoses is the number of vaccine doses received.
	VaccineDoses int
	// EntryStatus is the entry-on-arrival (落地检) status: "", "pending" or
	// "cleared"; other values are passed to rules unchanged.
	EntryStatus string
	// ManualFlags are flags set by authorised staff ("red", "isolation",
	// "fever", ...). Rules read them with has_flag(name).
	ManualFlags []string
}

// Test is one nucleic-acid or antigen test result. A plain value.
type Test struct {
	Kind     string    `cel:"kind"` // "pcr" or "antigen"
	Positive bool      `cel:"positive"`
	Sampled  time.Time `cel:"sampled"`
	Reported time.Time `cel:"reported"`
}

// Visit is a stay in a region at a time. A plain value.
type Visit struct {
	Region string    `cel:"region"` // six-digit GB/T 2260 code
	Time   time.Time `cel:"time"`
}

// Contact is a contact-tracing status. A plain value.
type Contact struct {
	Kind         string    // "", "close" or "secondary"
	LastExposure time.Time // zero if unknown
	Identified   time.Time // when the person was identified as a contact
}

// RiskLevel is the level of a risk area. Levels are ordered: LevelHigh is the
// most severe. A plain value.
type RiskLevel int8

// Risk levels, from none to high.
const (
	LevelNone RiskLevel = iota
	LevelLow
	LevelMedium
	LevelHigh
)

var levelNames = [...]string{LevelNone: "none", LevelLow: "low", LevelMedium: "medium", LevelHigh: "high"}

// String returns "none", "low", "medium" or "high".
func (l RiskLevel) String() string {
	if l < LevelNone || l > LevelHigh {
		return fmt.Sprintf("RiskLevel(%d)", int8(l))
	}
	return levelNames[l]
}

// ParseRiskLevel parses "none", "low", "medium" or "high".
func ParseRiskLevel(s string) (RiskLevel, error) {
	for l, name := range levelNames {
		if s == name {
			return RiskLevel(l), nil
		}
	}
	return LevelNone, fmt.Errorf("%w: unknown risk level %q (want none, low, medium or high)", ErrBadRiskArea, s)
}

// RiskArea designates a region at a risk level. Region is a six-digit
// GB/T 2260 code: a county ("510104"), a whole city ("510100") or a whole
// province ("510000"). A plain value.
type RiskArea struct {
	Region string
	Level  string // "low", "medium" or "high"
}

// RiskAreas is an immutable, versioned snapshot of the designated risk areas.
// Risk areas change hourly; they are runtime data read by the domain functions
// (max_risk_level, visited_risk, risk_level), so publishing a new snapshot
// (Engine.SetRiskAreas) never recompiles rules.
//
// A *RiskAreas is safe for concurrent use. A nil *RiskAreas has no areas.
type RiskAreas struct {
	version string
	levels  map[int32]RiskLevel
}

// NewRiskAreas builds a snapshot. A region listed twice keeps its highest
// level. Bad region codes and levels are errors naming the entry's index.
func NewRiskAreas(version string, areas []RiskArea) (*RiskAreas, error) {
	r := &RiskAreas{version: version, levels: make(map[int32]RiskLevel, len(areas))}
	for i, a := range areas {
		code, ok := regionCode(a.Region)
		if !ok {
			return nil, fmt.Errorf("%w: risk area %d: region %q is not a six-digit code", ErrBadRiskArea, i, a.Region)
		}
		lvl, err := ParseRiskLevel(a.Level)
		if err != nil {
			return nil, fmt.Errorf("%w (risk area %d, %s)", err, i, a.Region)
		}
		if lvl > r.levels[code] {
			r.levels[code] = lvl
		}
	}
	return r, nil
}

// Version returns the version given to NewRiskAreas.
func (r *RiskAreas) Version() string {
	if r == nil {
		return ""
	}
	return r.version
}

// Len returns the number of designated regions.
func (r *RiskAreas) Len() int {
	if r == nil {
		return 0
	}
	return len(r.levels)
}

// Level returns the risk level of a county code: the highest of the
// designations of the county, its city and its province. Codes that are not
// six digits have LevelNone.
func (r *RiskAreas) Level(region string) RiskLevel {
	code, ok := regionCode(region)
	if !ok {
		return LevelNone
	}
	return r.level(code)
}

func (r *RiskAreas) level(code int32) RiskLevel {
	if r == nil || len(r.levels) == 0 {
		return LevelNone
	}
	l := r.levels[code]
	if c := code / 100 * 100; c != code {
		l = max(l, r.levels[c])
	}
	if p := code / 10000 * 10000; p != code {
		l = max(l, r.levels[p])
	}
	return l
}

// regionCode parses a six-digit region code without allocating.
func regionCode(s string) (int32, bool) {
	if len(s) != 6 {
		return 0, false
	}
	var n int32
	for i := 0; i < 6; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int32(c-'0')
	}
	return n, true
}
