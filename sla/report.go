package sla

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Input is what happened in an assessment period, for Contract.Assess.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Input struct {
	// AsOf measures clocks still running. Required.
	AsOf time.Time
	// Total is the contract total (or the annual amount G for chengdu);
	// zero means the contract's own total.
	Total Fen
	// Year is the contract year for payment schedules (1-based, default 1).
	Year int
	// Incidents are replayed against the contract's levels. Incidents
	// flagged MajorEvent add the scorecard's major-event extra.
	Incidents []AssessedIncident
	// From and To bound the availability period.
	From, To time.Time
	Outages  []Outage
	// Occurrences are scorecard deductions not derived from incidents.
	Occurrences []Occurrence
	// Surveys are satisfaction results (0..100) held in the period.
	Surveys []Num
	// PriorScores are earlier assessments of the same year; this period's
	// score is the next one.
	PriorScores []Num
	// Late prices delays under penalty clauses.
	Late []LateInput
	// Breaches triggers fixed-percent clauses.
	Breaches []BreachInput
}

// AssessedIncident is an incident and whether it happened during a major
// event (重大活动).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type AssessedIncident struct {
	Incident
	MajorEvent bool
}

// LateInput is a delay priced under Clause: a clause ID, or an obligation
// shared by several clauses, which are then all computed and shown (how
// shaanxi's two late-delivery clauses appear), none added to the totals.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type LateInput struct {
	Clause string
	Late
}

// BreachInput triggers a fixed-percent clause.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type BreachInput struct {
	Clause string
	Event  string
}

// Summary totals a report.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Summary struct {
	Breaches       int  `json:"breaches"`
	PointsDeducted *Num `json:"points_deducted,omitempty"`
	Score          *Num `json:"score,omitempty"`
	Penalties      Fen  `json:"penalties_fen"`           // owed by the vendor
	PurchaserOwes  Fen  `json:"purchaser_penalties_fen"` // owed by the purchaser
	Fixed          Fen  `json:"fixed_fen"`
	Deduction      Fen  `json:"deduction_fen"`
	Paid           *Fen `json:"paid_fen,omitempty"`
	Withheld       *Fen `json:"withheld_fen,omitempty"`
	Terminate      bool `json:"terminate,omitempty"`
	// Notes say what the report could not decide or chose between.
	Notes []string `json:"notes,omitempty"`
}

// Report is an assessment a contract manager can check by hand: every
// line has its source event, its rule with the contract clause, the
// arithmetic and the amount. Marshal it with encoding/json or render it
// with Markdown. A Report is a plain value, not safe for concurrent
// mutation.
type Report struct {
	Contract  string           `json:"contract"`
	Title     string           `json:"title"`
	Source    string           `json:"source"`
	AsOf      time.Time        `json:"as_of"`
	Total     Fen              `json:"total_fen"`
	Incidents []IncidentResult `json:"incidents,omitempty"`
	Lines     []Line           `json:"lines"`
	Summary   Summary          `json:"summary"`
}

// Assess computes a period's report under the contract.
func (c *Contract) Assess(in Input) (*Report, error) {
	if in.AsOf.IsZero() {
		return nil, fieldErr("AsOf", "required")
	}
	total := in.Total
	if total == 0 {
		total = c.Total
	}
	year := max(in.Year, 1)
	r := &Report{Contract: c.Name, Title: c.Title, Source: c.Source, AsOf: in.AsOf, Total: total}
	var occ []Occurrence
	specs := map[string]LevelSpec{}
	for _, ls := range c.Levels {
		specs[ls.Name] = ls
	}
	for _, ai := range in.Incidents {
		res, err := c.policy.Evaluate(ai.Incident, in.AsOf)
		if err != nil {
			return nil, err
		}
		r.Incidents = append(r.Incidents, res)
		spec := specs[ai.Level]
		if spec.Occurrence != "" {
			occ = append(occ, Occurrence{Item: spec.Occurrence, Event: ai.ID, MajorEvent: ai.MajorEvent, Note: "incident of level " + ai.Level})
		}
		for i, tr := range res.Targets {
			r.Lines = append(r.Lines, timerLine(res, tr))
			if tr.Breached() {
				r.Summary.Breaches++
				if b := spec.Targets[i].Breach; b != nil && c.Scorecard != nil {
					q := int64(1)
					how := "missed"
					if b.Per.D > 0 {
						if b.Started {
							q = StartedUnits(tr.Overrun, b.Per.D)
							how = fmt.Sprintf("overrun %s = %d started %s", fmtDur(tr.Overrun), q, fmtDur(b.Per.D))
						} else {
							q = Units(tr.Overrun, b.Per.D)
							how = fmt.Sprintf("overrun %s = %d whole %s", fmtDur(tr.Overrun), q, fmtDur(b.Per.D))
						}
					}
					if q > 0 {
						occ = append(occ, Occurrence{Item: b.Item, Event: ai.ID + " " + string(tr.Kind), Quantity: Int(q), Note: how})
					}
				}
			}
		}
	}
	var extraPoints []Line
	if c.Availability != nil && !in.From.IsZero() {
		ar, err := c.Availability.Measure(in.Outages, in.From, in.To)
		if err != nil {
			return nil, err
		}
		for _, l := range ar.Lines {
			if l.Section == "scorecard" {
				extraPoints = append(extraPoints, l)
			} else {
				r.Lines = append(r.Lines, l)
			}
		}
	}
	for _, li := range in.Late {
		var clauses []PenaltyClause
		if p, ok := c.Penalty(li.Clause); ok {
			clauses = []PenaltyClause{p}
		} else {
			for _, p := range c.Penalties {
				if p.obligation() == li.Clause {
					clauses = append(clauses, p)
				}
			}
		}
		if len(clauses) == 0 {
			return nil, fieldErr("Late.Clause", "no penalty clause or obligation %q", li.Clause)
		}
		if len(clauses) > 1 {
			ids := make([]string, len(clauses))
			for i, p := range clauses {
				ids[i] = p.ID
			}
			r.Summary.Notes = append(r.Summary.Notes, fmt.Sprintf("%s: %d clauses price the same delay (%s); each is computed and shown, none is added to the totals: the parties decide which is enforced", li.Event, len(clauses), strings.Join(ids, ", ")))
		}
		for _, p := range clauses {
			l, err := p.Compute(total, li.Late)
			if err != nil {
				return nil, err
			}
			if p.Payer == "purchaser" {
				l.Note = strings.TrimSpace("owed by the purchaser " + l.Note)
			}
			r.Lines = append(r.Lines, l)
			if len(clauses) == 1 {
				if p.Payer == "purchaser" {
					r.Summary.PurchaserOwes += *l.Amount
				} else {
					r.Summary.Penalties += *l.Amount
				}
			}
		}
	}
	for _, b := range in.Breaches {
		fc, ok := c.FixedClause(b.Clause)
		if !ok {
			return nil, fieldErr("Breaches.Clause", "no fixed clause %q", b.Clause)
		}
		l, err := fc.Compute(total, b.Event)
		if err != nil {
			return nil, err
		}
		r.Lines = append(r.Lines, l)
		r.Summary.Fixed += *l.Amount
	}
	if c.Scorecard != nil {
		sr, err := c.Scorecard.Score(append(occ, in.Occurrences...), in.Surveys)
		if err != nil {
			return nil, err
		}
		r.Lines = append(r.Lines, sr.Lines...)
		deducted, score := sr.Deducted, sr.Score
		for _, l := range extraPoints {
			r.Lines = append(r.Lines, l)
			deducted = deducted.Add(*l.Points)
			score = score.Sub(*l.Points)
		}
		if score.Cmp(c.Scorecard.Floor) < 0 {
			score = c.Scorecard.Floor
		}
		r.Summary.PointsDeducted, r.Summary.Score = numPtr(deducted), numPtr(score)
		r.Lines = append(r.Lines, Line{Section: "scorecard", Item: "score", Rule: c.Scorecard.Name + " (" + c.Scorecard.Clause + ")",
			Calc: fmt.Sprintf("%s - %s = %s", c.Scorecard.full(), deducted, score)})
		if c.Payment != nil {
			pr, err := c.Payment.Pay(total, year, append(append([]Num(nil), in.PriorScores...), score))
			if err != nil {
				return nil, err
			}
			r.Lines = append(r.Lines, pr.Lines...)
			r.Summary.Paid, r.Summary.Withheld, r.Summary.Terminate = fenPtr(pr.Paid), fenPtr(pr.Withheld), pr.Terminate
			if pr.Pending > 0 {
				r.Summary.Notes = append(r.Summary.Notes, fmt.Sprintf("%d payment tranche(s) wait for a later assessment", pr.Pending))
			}
		}
		if c.Deduction != nil {
			l, err := c.Deduction.Deduct(total, score)
			if err != nil {
				return nil, err
			}
			r.Lines = append(r.Lines, l)
			r.Summary.Deduction = *l.Amount
		}
	} else if len(in.Occurrences)+len(in.Surveys) > 0 {
		return nil, fieldErr("Occurrences", "contract %s has no scorecard", c.Name)
	}
	return r, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(chinaStandardTime)
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

func timerLine(res IncidentResult, tr TargetResult) Line {
	calc := fmt.Sprintf("start %s, stop %s: %s counted of %s; deadline %s", fmtTime(tr.Start), fmtTime(tr.Stop), fmtDur(tr.Elapsed), tr.Within, fmtTime(tr.Deadline))
	if tr.Within.WorkingDays > 0 {
		calc = fmt.Sprintf("start %s (day after the event), stop %s: %s of whole working days counted of %s; deadline %s",
			fmtTime(tr.Start), fmtTime(tr.Stop), fmtDur(tr.Elapsed), tr.Within, fmtTime(tr.Deadline))
	}
	if tr.Overrun > 0 {
		calc += "; overrun " + fmtDur(tr.Overrun)
	}
	return Line{Section: "timer", Item: res.Level + " " + string(tr.Kind), Event: res.ID,
		Rule: fmt.Sprintf("%s within %s on %s (%s)", tr.Kind, tr.Within, tr.Calendar, tr.Clause), Calc: calc, Note: string(tr.Status)}
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

var sectionTitles = []struct{ key, title string }{
	{"timer", "Incident timers"},
	{"availability", "Availability"},
	{"penalty", "Penalty clauses"},
	{"fixed", "Fixed-percent clauses"},
	{"scorecard", "Scorecard"},
	{"payment", "Payments"},
	{"deduction", "Score deduction"},
}

// Markdown renders the report: one table per section, then the summary.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n\n", r.Contract, r.Title)
	fmt.Fprintf(&b, "Source: %s. As of %s. Total %s. Amounts rounded half-up to the fen once per line.\n", r.Source, fmtTime(r.AsOf), r.Total.Format())
	by := map[string][]Line{}
	for _, l := range r.Lines {
		by[l.Section] = append(by[l.Section], l)
	}
	for _, s := range sectionTitles {
		ls := by[s.key]
		if len(ls) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n| # | item | event | rule | calculation | points | amount | note |\n|---|---|---|---|---|---|---|---|\n", s.title)
		for i, l := range ls {
			pts, amt := "", ""
			if l.Points != nil {
				pts = l.Points.String()
			}
			if l.Amount != nil {
				amt = l.Amount.Format()
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, md(l.Item), md(l.Event), md(l.Rule), md(l.Calc), pts, amt, md(l.Note))
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n## Summary\n\n- targets breached: %d\n", s.Breaches)
	if s.Score != nil {
		fmt.Fprintf(&b, "- points deducted: %s; score: %s\n", s.PointsDeducted, s.Score)
	}
	fmt.Fprintf(&b, "- owed by the vendor: penalties %s; fixed clauses %s; score deduction %s\n", s.Penalties.Format(), s.Fixed.Format(), s.Deduction.Format())
	if s.PurchaserOwes != 0 {
		fmt.Fprintf(&b, "- owed by the purchaser: penalties %s\n", s.PurchaserOwes.Format())
	}
	if s.Paid != nil {
		fmt.Fprintf(&b, "- paid: %s; withheld: %s\n", s.Paid.Format(), s.Withheld.Format())
	}
	if s.Terminate {
		b.WriteString("- an assessment failed: the purchaser may terminate the contract\n")
	}
	notes := append([]string(nil), s.Notes...)
	sort.Strings(notes)
	for _, n := range notes {
		fmt.Fprintf(&b, "- note: %s\n", n)
	}
	return b.String()
}

func md(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
