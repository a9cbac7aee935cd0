package sla

import (
	"fmt"
)

// Line is one item of a report: what was computed, from which event, under
// which rule, and the result. Points is set for scorecard deductions,
// Amount for money. A contract manager checks a report line by line.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Line struct {
	Section string `json:"section"`          // "timer", "availability", "penalty", "fixed", "scorecard", "payment", "deduction"
	Item    string `json:"item"`             // rule or clause id
	Event   string `json:"event,omitempty"`  // the source event (incident, outage, occurrence)
	Rule    string `json:"rule"`             // the rule in words, with the contract clause
	Calc    string `json:"calc"`             // the arithmetic, with exact intermediates
	Points  *Num   `json:"points,omitempty"` // score points deducted
	Amount  *Fen   `json:"amount_fen,omitempty"`
	Note    string `json:"note,omitempty"`
}

func fenPtr(f Fen) *Fen { return &f }
func numPtr(n Num) *Num { return &n }
func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// PenaltyBase is the amount a penalty rate applies to.
//
// Values are immutable strings, safe for concurrent use.
type PenaltyBase string

const (
	// BaseTotal: the contract total (shaanxi 十.3: 合同总金额).
	BaseTotal PenaltyBase = "total"
	// BaseLatePortion: the part of the contract delivered late (sichuan
	// 商务要求 1: 延迟部分合同金额).
	BaseLatePortion PenaltyBase = "late_portion"
)

// PenaltyClause is a late-delivery (or late-payment) clause: Rate of Base
// per period of PeriodDays days, capped at Cap of the contract total.
//
// Periods: "每5天" is read as complete periods (7 days late = 1 period of 5),
// the reading that favours the party who did not draft the contract; set
// CountStarted to count started periods instead (7 days = 2).
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type PenaltyClause struct {
	ID           string      `yaml:"id" json:"id"`
	Clause       string      `yaml:"clause" json:"clause"` // where in the contract
	Text         string      `yaml:"text" json:"text"`     // the rule in the contract's words
	Rate         Num         `yaml:"rate" json:"rate"`     // per period, e.g. 0.05%
	PeriodDays   int         `yaml:"period_days" json:"period_days"`
	CountStarted bool        `yaml:"count_started" json:"count_started"`
	Base         PenaltyBase `yaml:"base" json:"base"`
	Cap          Num         `yaml:"cap" json:"cap"` // share of the total; zero = no cap
	// Obligation groups clauses that price the same delay (shaanxi 十.3 and
	// 十.5 both price late delivery); default: the clause's own ID.
	Obligation string `yaml:"obligation" json:"obligation,omitempty"`
	// Payer is "vendor" (default) or "purchaser" (shaanxi 十.2: 甲方迟延付款).
	Payer string `yaml:"payer" json:"payer,omitempty"`
}

func (p PenaltyClause) obligation() string { return firstNonEmpty(p.Obligation, p.ID) }

// Validate reports the first bad field.
func (p PenaltyClause) Validate() error {
	if p.ID == "" {
		return fieldErr("id", "missing")
	}
	if p.Rate.Sign() <= 0 {
		return fieldErr("rate", "must be positive")
	}
	if p.PeriodDays < 0 {
		return fieldErr("period_days", "must not be negative")
	}
	if p.Base != BaseTotal && p.Base != BaseLatePortion {
		return fieldErr("base", "%q is not total or late_portion", p.Base)
	}
	if p.Cap.Sign() < 0 || p.Cap.Cmp(Int(1)) > 0 {
		return fieldErr("cap", "must be between 0 and 100%%")
	}
	if p.Payer != "" && p.Payer != "vendor" && p.Payer != "purchaser" {
		return fieldErr("payer", "%q is not vendor or purchaser", p.Payer)
	}
	return nil
}

// Late is a delay to price: how many days late, the value of what was
// late (for BaseLatePortion), and what it was.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Late struct {
	Event       string
	Days        int
	LatePortion Fen
}

// Compute prices a delay under the clause:
//
//	amount = min(base × rate × periods, cap × total), rounded once to fen.
func (p PenaltyClause) Compute(total Fen, late Late) (Line, error) {
	if err := p.Validate(); err != nil {
		return Line{}, err
	}
	if total < 0 || late.Days < 0 || late.LatePortion < 0 || late.LatePortion > total {
		return Line{}, fieldErr("late", "need total >= late portion >= 0 and days >= 0")
	}
	per := int64(max(p.PeriodDays, 1))
	periods := int64(late.Days) / per
	if p.CountStarted && int64(late.Days)%per != 0 {
		periods++
	}
	base, baseName := total, "total"
	if p.Base == BaseLatePortion {
		base, baseName = late.LatePortion, "late portion"
	}
	raw := base.Yuan().Mul(p.Rate).Mul(Int(periods))
	calc := fmt.Sprintf("%s (%s) × %s × %d period%s of %d day%s (%d day%s late)",
		base, baseName, p.Rate.Percent(), periods, plural(periods), per, plural(per), late.Days, plural(int64(late.Days)))
	amount := raw
	note := ""
	if !p.Cap.IsZero() {
		capAmt := total.Yuan().Mul(p.Cap)
		calc += fmt.Sprintf(" = %s; cap %s × %s = %s", raw, total, p.Cap.Percent(), capAmt)
		if raw.Cmp(capAmt) > 0 {
			amount, note = capAmt, "capped"
		}
	} else {
		calc += " = " + raw.String()
	}
	f := RoundFen(amount)
	calc += " → " + f.String()
	return Line{Section: "penalty", Item: p.ID, Event: late.Event, Rule: p.Text + " (" + p.Clause + ")", Calc: calc, Amount: fenPtr(f), Note: note}, nil
}

// FixedClause is a one-off liquidated damage of Rate × the contract total
// (shaanxi 七, 八.6: 5 %; 十.4: 10 %).
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type FixedClause struct {
	ID     string `yaml:"id" json:"id"`
	Clause string `yaml:"clause" json:"clause"`
	Text   string `yaml:"text" json:"text"`
	Rate   Num    `yaml:"rate" json:"rate"`
}

// Compute prices the clause against the contract total.
func (c FixedClause) Compute(total Fen, event string) (Line, error) {
	if c.ID == "" {
		return Line{}, fieldErr("id", "missing")
	}
	if c.Rate.Sign() <= 0 || c.Rate.Cmp(Int(1)) > 0 {
		return Line{}, fieldErr("rate", "must be in (0, 100%%]")
	}
	raw := total.Yuan().Mul(c.Rate)
	f := RoundFen(raw)
	return Line{Section: "fixed", Item: c.ID, Event: event, Rule: c.Text + " (" + c.Clause + ")",
		Calc: fmt.Sprintf("%s × %s = %s → %s", total, c.Rate.Percent(), raw, f), Amount: fenPtr(f)}, nil
}
