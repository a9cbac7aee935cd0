package sla

import (
	"fmt"
	"strings"
	"time"
)

// Item is a deduction rule of a scorecard: Points per unit of Unit
// ("occurrence", "day overdue", "5 minutes over", "person-month"). The
// quantity of an occurrence multiplies the points, which is how "扣除分数 =
// 对应分数 × 逾期天数" (chengdu 考核表 19/20) and per-day or per-5-minute
// rules are written.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Item struct {
	ID     string `yaml:"id" json:"id"`
	Name   string `yaml:"name" json:"name"`
	Clause string `yaml:"clause" json:"clause"`
	Points Num    `yaml:"points" json:"points"`
	Unit   string `yaml:"unit" json:"unit"`
	// MajorEventExtra is added per occurrence flagged MajorEvent (chengdu
	// 考核表 19: 重大活动期间出现故障 加扣 5 分).
	MajorEventExtra Num `yaml:"major_event_extra" json:"major_event_extra"`
	// Max caps the item's total deduction; zero means no cap.
	Max Num `yaml:"max" json:"max"`
	// OncePerEvent counts an event once under this item even when the
	// scorecard as a whole does not (chengdu 考核表 28: 在同一阶段对同一系统故障的
	// 投诉，视为同一次投诉).
	OncePerEvent bool `yaml:"once_per_event" json:"once_per_event"`
}

// Occurrence is something that happened and is scored under an item.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Occurrence struct {
	Item string
	// Event identifies the source event (an incident ID, a ticket, a date).
	// With Scorecard.OncePerEvent, an event is deducted once.
	Event string
	// Quantity of Item.Unit; zero means 1.
	Quantity   Num
	MajorEvent bool
	Note       string
}

// Satisfaction is the survey item: deduction (100 - N) / Divisor where N is
// the mean of the surveys held, plus PerMissing for each survey of Expected
// not held. With NoDeductionFrom set, a mean at or above it deducts nothing
// (sichuan: N ≥ 90 不扣分).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Satisfaction struct {
	Clause          string `yaml:"clause" json:"clause"`
	Expected        int    `yaml:"expected" json:"expected"`
	Divisor         Num    `yaml:"divisor" json:"divisor"`
	PerMissing      Num    `yaml:"per_missing" json:"per_missing"`
	NoDeductionFrom Num    `yaml:"no_deduction_from" json:"no_deduction_from"`
}

// Scorecard is a deduction scorecard: Full points (default 100) less the
// deductions, never below Floor (default 0).
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type Scorecard struct {
	Name         string        `yaml:"name" json:"name"`
	Clause       string        `yaml:"clause" json:"clause"`
	Full         Num           `yaml:"full" json:"full"`
	Floor        Num           `yaml:"floor" json:"floor"`
	OncePerEvent bool          `yaml:"once_per_event" json:"once_per_event"`
	OnceClause   string        `yaml:"once_clause" json:"once_clause"`
	Items        []Item        `yaml:"items" json:"items"`
	Satisfaction *Satisfaction `yaml:"satisfaction" json:"satisfaction,omitempty"`
}

func (s *Scorecard) full() Num {
	if s.Full.IsZero() {
		return Int(100)
	}
	return s.Full
}

// Validate reports the first bad field.
func (s *Scorecard) Validate() error {
	seen := map[string]bool{}
	for i, it := range s.Items {
		f := fmt.Sprintf("items[%d]", i)
		if it.ID == "" {
			return fieldErr(f+".id", "missing")
		}
		if seen[it.ID] {
			return fieldErr(f+".id", "duplicate id %q", it.ID)
		}
		seen[it.ID] = true
		if it.Points.Sign() < 0 || it.MajorEventExtra.Sign() < 0 || it.Max.Sign() < 0 {
			return fieldErr(f+".points", "must not be negative")
		}
	}
	if s.Floor.Sign() < 0 || s.Floor.Cmp(s.full()) > 0 {
		return fieldErr("floor", "must be between 0 and full")
	}
	if sat := s.Satisfaction; sat != nil {
		if sat.Expected < 0 {
			return fieldErr("satisfaction.expected", "must not be negative")
		}
		if sat.Divisor.Sign() <= 0 {
			return fieldErr("satisfaction.divisor", "must be positive")
		}
		if sat.PerMissing.Sign() < 0 {
			return fieldErr("satisfaction.per_missing", "must not be negative")
		}
	}
	return nil
}

// ScoreResult is a scored period.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type ScoreResult struct {
	Full     Num
	Deducted Num
	Score    Num
	Floored  bool
	Lines    []Line
}

// Score applies occurrences and survey results (each 0..100; pass nil when
// the scorecard has no satisfaction item) and returns every deduction as a
// line.
func (s *Scorecard) Score(occ []Occurrence, surveys []Num) (ScoreResult, error) {
	if err := s.Validate(); err != nil {
		return ScoreResult{}, err
	}
	items := map[string]Item{}
	for _, it := range s.Items {
		items[it.ID] = it
	}
	res := ScoreResult{Full: s.full()}
	perItem := map[string]Num{}
	counted := map[string]int{}
	for i, o := range occ {
		it, ok := items[o.Item]
		if !ok {
			return ScoreResult{}, fieldErr(fmt.Sprintf("occurrences[%d].item", i), "unknown item %q", o.Item)
		}
		q := o.Quantity
		if q.IsZero() {
			q = Int(1)
		}
		if q.Sign() < 0 {
			return ScoreResult{}, fieldErr(fmt.Sprintf("occurrences[%d].quantity", i), "must not be negative")
		}
		rule := fmt.Sprintf("%s: %s per %s (%s)", it.Name, it.Points, it.Unit, it.Clause)
		if (s.OncePerEvent || it.OncePerEvent) && o.Event != "" {
			key := o.Event
			if !s.OncePerEvent {
				key = it.ID + "\x00" + o.Event
			}
			if first, dup := counted[key]; dup {
				zero := Int(0)
				res.Lines = append(res.Lines, Line{Section: "scorecard", Item: it.ID, Event: o.Event, Rule: rule,
					Calc:   fmt.Sprintf("same event as occurrence %d: counted once (%s)", first+1, firstNonEmpty(s.OnceClause, it.Clause)),
					Points: &zero, Note: o.Note})
				continue
			}
			counted[key] = i
		}
		pts := it.Points.Mul(q)
		calc := fmt.Sprintf("%s × %s", q, it.Points)
		if o.MajorEvent && !it.MajorEventExtra.IsZero() {
			pts = pts.Add(it.MajorEventExtra)
			calc += fmt.Sprintf(" + %s (major event)", it.MajorEventExtra)
		}
		note := o.Note
		if !it.Max.IsZero() {
			room := it.Max.Sub(perItem[it.ID]).Max(Int(0))
			if pts.Cmp(room) > 0 {
				pts = room
				note = strings.TrimSpace(note + " item capped at " + it.Max.String())
			}
		}
		perItem[it.ID] = perItem[it.ID].Add(pts)
		res.Deducted = res.Deducted.Add(pts)
		res.Lines = append(res.Lines, Line{Section: "scorecard", Item: it.ID, Event: o.Event, Rule: rule,
			Calc: calc + " = " + pts.String(), Points: numPtr(pts), Note: note})
	}
	if sat := s.Satisfaction; sat != nil {
		if len(surveys) > sat.Expected && sat.Expected > 0 {
			return ScoreResult{}, fieldErr("surveys", "%d surveys, scorecard expects %d", len(surveys), sat.Expected)
		}
		if len(surveys) > 0 {
			sum := Int(0)
			for i, v := range surveys {
				if v.Sign() < 0 || v.Cmp(Int(100)) > 0 {
					return ScoreResult{}, fieldErr(fmt.Sprintf("surveys[%d]", i), "must be 0..100")
				}
				sum = sum.Add(v)
			}
			mean := sum.Quo(Int(int64(len(surveys))))
			pts := Int(100).Sub(mean).Quo(sat.Divisor)
			calc := fmt.Sprintf("N = mean of %d survey%s = %s; (100 - N) / %s = %s", len(surveys), plural(int64(len(surveys))), mean, sat.Divisor, pts)
			if !sat.NoDeductionFrom.IsZero() && mean.Cmp(sat.NoDeductionFrom) >= 0 {
				pts = Int(0)
				calc += fmt.Sprintf("; N ≥ %s, no deduction", sat.NoDeductionFrom)
			}
			res.Deducted = res.Deducted.Add(pts)
			res.Lines = append(res.Lines, Line{Section: "scorecard", Item: "satisfaction", Rule: "user satisfaction (" + sat.Clause + ")", Calc: calc, Points: numPtr(pts)})
		}
		if missing := sat.Expected - len(surveys); missing > 0 && !sat.PerMissing.IsZero() {
			pts := sat.PerMissing.Mul(Int(int64(missing)))
			res.Deducted = res.Deducted.Add(pts)
			res.Lines = append(res.Lines, Line{Section: "scorecard", Item: "satisfaction_missing", Rule: "survey not held (" + sat.Clause + ")",
				Calc: fmt.Sprintf("%d of %d missing × %s = %s", missing, sat.Expected, sat.PerMissing, pts), Points: numPtr(pts)})
		}
	}
	res.Score = res.Full.Sub(res.Deducted)
	if res.Score.Cmp(s.Floor) < 0 {
		res.Score, res.Floored = s.Floor, true
	}
	return res, nil
}

// Units returns how many whole units an overrun contains: "每超过 5 分钟"
// counts complete 5-minute spans (12 minutes over = 2), "每逾期一天"
// complete days. A zero or negative overrun is 0.
func Units(overrun, unit time.Duration) int64 {
	if overrun <= 0 || unit <= 0 {
		return 0
	}
	return int64(overrun / unit)
}

// StartedUnits returns how many units an overrun starts: "逾期天数" for
// something not handled on time counts a started day as a day (3 hours
// late = 1 day). A zero or negative overrun is 0.
func StartedUnits(overrun, unit time.Duration) int64 {
	if overrun <= 0 || unit <= 0 {
		return 0
	}
	return int64((overrun + unit - 1) / unit)
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}
