package sla

import (
	"fmt"
)

// Tranche is one payment of a schedule: Share of the annual amount G,
// scaled by F/100 of the assessment it depends on unless Unscaled.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Tranche struct {
	Name       string `yaml:"name" json:"name"`
	Share      Num    `yaml:"share" json:"share"`
	Unscaled   bool   `yaml:"unscaled" json:"unscaled"`
	Assessment int    `yaml:"assessment" json:"assessment"` // 1-based index into the period's scores
}

// PaymentPlan turns assessment scores into payments (chengdu 第七章 服务考核方案
// (2)(3)): F = 100 when score ≥ FullFrom, F = score when FailBelow ≤ score <
// FullFrom, F = 0 below FailBelow (and the contract may be terminated).
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type PaymentPlan struct {
	Name      string `yaml:"name" json:"name"`
	Clause    string `yaml:"clause" json:"clause"`
	FullFrom  Num    `yaml:"full_from" json:"full_from"`
	FailBelow Num    `yaml:"fail_below" json:"fail_below"`
	// Years maps a contract year (1-based) to its tranches; years beyond the
	// list use the last entry.
	Years [][]Tranche `yaml:"years" json:"years"`
}

// Validate reports the first bad field.
func (p *PaymentPlan) Validate() error {
	if p.FullFrom.Cmp(p.FailBelow) < 0 {
		return fieldErr("full_from", "below fail_below")
	}
	if len(p.Years) == 0 {
		return fieldErr("years", "no tranches")
	}
	for y, ts := range p.Years {
		sum := Int(0)
		for i, t := range ts {
			f := fmt.Sprintf("years[%d][%d]", y, i)
			if t.Share.Sign() <= 0 {
				return fieldErr(f+".share", "must be positive")
			}
			if !t.Unscaled && t.Assessment < 1 {
				return fieldErr(f+".assessment", "a scaled tranche needs an assessment number >= 1")
			}
			sum = sum.Add(t.Share)
		}
		if sum.Cmp(Int(1)) != 0 {
			return fieldErr(fmt.Sprintf("years[%d]", y), "shares add up to %s, not 100%%", sum.Percent())
		}
	}
	return nil
}

// Factor returns F for a score and whether the score fails (termination
// may follow, chengdu 服务解除).
func (p *PaymentPlan) Factor(score Num) (f Num, fail bool) {
	switch {
	case score.Cmp(p.FullFrom) >= 0:
		return Int(100), false
	case score.Cmp(p.FailBelow) >= 0:
		return score, false
	}
	return Int(0), true
}

// PaymentResult is a year's payments.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type PaymentResult struct {
	Year      int
	Annual    Fen
	Paid      Fen
	Withheld  Fen
	Terminate bool // some assessment failed
	Pending   int  // tranches whose assessment has no score yet
	Lines     []Line
}

// Pay computes contract year `year` (1-based) with annual amount g and the
// year's assessment scores so far, in order. Each tranche is rounded once.
// A tranche whose assessment has no score yet is listed as pending, and
// Withheld counts only decided tranches.
func (p *PaymentPlan) Pay(g Fen, year int, scores []Num) (PaymentResult, error) {
	if err := p.Validate(); err != nil {
		return PaymentResult{}, err
	}
	if year < 1 {
		return PaymentResult{}, fieldErr("year", "must be >= 1")
	}
	ts := p.Years[min(year, len(p.Years))-1]
	res := PaymentResult{Year: year, Annual: g}
	for _, t := range ts {
		raw := g.Yuan().Mul(t.Share)
		calc := fmt.Sprintf("%s × %s", g, t.Share.Percent())
		note := ""
		if !t.Unscaled {
			if t.Assessment > len(scores) {
				res.Pending++
				res.Lines = append(res.Lines, Line{Section: "payment", Item: t.Name, Rule: fmt.Sprintf("%s, year %d (%s)", p.Name, year, p.Clause),
					Calc: fmt.Sprintf("%s × %s × F/100: pending assessment %d", g, t.Share.Percent(), t.Assessment), Note: "pending"})
				continue
			}
			score := scores[t.Assessment-1]
			f, fail := p.Factor(score)
			if fail {
				res.Terminate = true
				note = fmt.Sprintf("score below %s: F = 0, assessment failed, contract may be terminated", p.FailBelow)
			}
			raw = raw.Mul(f).Quo(Int(100))
			calc += fmt.Sprintf(" × F/100 (score %s → F = %s)", score, f)
		} else {
			calc += " (not scaled)"
		}
		amt := RoundFen(raw)
		calc += fmt.Sprintf(" = %s → %s", raw, amt)
		res.Paid += amt
		res.Lines = append(res.Lines, Line{Section: "payment", Item: t.Name, Rule: fmt.Sprintf("%s, year %d (%s)", p.Name, year, p.Clause),
			Calc: calc, Amount: fenPtr(amt), Note: note})
	}
	decided := Num{}
	for _, t := range ts {
		if t.Unscaled || t.Assessment <= len(scores) {
			decided = decided.Add(t.Share)
		}
	}
	res.Withheld = RoundFen(g.Yuan().Mul(decided)) - res.Paid
	return res, nil
}

// ScoreDeduction withholds money by points lost (sichuan 考核办法 第五条):
// AtStake of the total is at risk; the first FreeBand points lost cost
// nothing; each point beyond costs PerPoint of the total; more than
// FullBeyond points lost withholds all of AtStake. Fractions of a point
// are priced proportionally.
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type ScoreDeduction struct {
	Clause     string `yaml:"clause" json:"clause"`
	Full       Num    `yaml:"full" json:"full"`
	AtStake    Num    `yaml:"at_stake" json:"at_stake"`
	FreeBand   Num    `yaml:"free_band" json:"free_band"`
	PerPoint   Num    `yaml:"per_point" json:"per_point"`
	FullBeyond Num    `yaml:"full_beyond" json:"full_beyond"`
}

// Validate reports the first bad field.
func (d *ScoreDeduction) Validate() error {
	if d.AtStake.Sign() <= 0 || d.AtStake.Cmp(Int(1)) > 0 {
		return fieldErr("at_stake", "must be in (0, 100%%]")
	}
	if d.FreeBand.Sign() < 0 || d.FullBeyond.Cmp(d.FreeBand) < 0 {
		return fieldErr("full_beyond", "must be >= free_band >= 0")
	}
	if d.PerPoint.Sign() <= 0 {
		return fieldErr("per_point", "must be positive")
	}
	return nil
}

// Deduct returns the amount withheld from total for a score.
func (d *ScoreDeduction) Deduct(total Fen, score Num) (Line, error) {
	if err := d.Validate(); err != nil {
		return Line{}, err
	}
	full := d.Full
	if full.IsZero() {
		full = Int(100)
	}
	lost := full.Sub(score)
	if lost.Sign() < 0 {
		return Line{}, fieldErr("score", "%s is above full marks %s", score, full)
	}
	var share Num
	var calc string
	switch {
	case lost.Cmp(d.FullBeyond) > 0:
		share = d.AtStake
		calc = fmt.Sprintf("%s points lost > %s: all %s at stake", lost, d.FullBeyond, d.AtStake.Percent())
	case lost.Cmp(d.FreeBand) <= 0:
		share = Int(0)
		calc = fmt.Sprintf("%s points lost ≤ %s: no deduction", lost, d.FreeBand)
	default:
		share = lost.Sub(d.FreeBand).Mul(d.PerPoint).Min(d.AtStake)
		calc = fmt.Sprintf("(%s - %s) points × %s = %s", lost, d.FreeBand, d.PerPoint.Percent(), share.Percent())
	}
	raw := total.Yuan().Mul(share)
	amt := RoundFen(raw)
	calc += fmt.Sprintf("; %s × %s = %s → %s", total, share.Percent(), raw, amt)
	return Line{Section: "deduction", Item: "score_deduction", Rule: fmt.Sprintf("%s of the total at stake on the scorecard (%s)", d.AtStake.Percent(), d.Clause),
		Calc: calc, Amount: fenPtr(amt)}, nil
}
