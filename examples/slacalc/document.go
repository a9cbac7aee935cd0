package main

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/sla"
)

// docSections are the sla report's sections in its own order, with the
// headings and sheet names the filed document uses.
var docSections = []struct{ key, heading, sheet string }{
	{"timer", "事件响应与处理时限 (incident timers)", "事件时限"},
	{"availability", "系统可用性 (availability)", "系统可用性"},
	{"penalty", "违约金条款 (penalty clauses)", "违约金"},
	{"fixed", "固定比例违约金 (fixed-percent clauses)", "固定比例违约金"},
	{"scorecard", "服务考核评分 (scorecard)", "考核评分"},
	{"payment", "服务费支付 (payments)", "服务费支付"},
	{"deduction", "考核扣款 (score deduction)", "考核扣款"},
}

const docTitle = "服务水平考核报告 (SLA assessment)"

// Column headings shared by the sections.
const (
	colNo     = "序号 (#)"
	colItem   = "事项 (item)"
	colEvent  = "来源 (event)"
	colRule   = "条款 (rule and clause)"
	colCalc   = "计算 (arithmetic)"
	colPoints = "扣分 (points)"
	colAmount = "金额 (amount, ¥)"
	colNote   = "备注 (note)"
	totalText = "合计 (total)"
)

// slaDocument lays out the assessment r of contract c on input in as the
// document contract managers file: the key figures first, then one
// section per clause group of the report, each line with its clause, its
// arithmetic as text, its points and amount as numbers, and a total row.
//
// Every total is summed here from the lines, in fen, and checked against
// the report's own summary: a document whose totals disagree with the
// assessment is an error, never a file. c and in are needed only for the
// penalty clauses: a delay priced under several clauses of one obligation
// shows each, adds none (sla.LateInput), and the document marks which
// lines count.
func slaDocument(c *sla.Contract, in sla.Input, r *sla.Report, created time.Time) (report.Document, error) {
	d := report.Document{
		Title:    docTitle,
		Subtitle: docSubtitle(r, in),
		Created:  created,
	}
	by := map[string][]sla.Line{}
	var keys []string // sections the table above does not know, in report order
	for _, l := range r.Lines {
		if _, ok := by[l.Section]; !ok && !knownSection(l.Section) {
			keys = append(keys, l.Section)
		}
		by[l.Section] = append(by[l.Section], l)
	}
	var t docTotals
	for _, s := range docSections {
		ls := by[s.key]
		if len(ls) == 0 {
			continue
		}
		var sec report.Section
		var err error
		switch s.key {
		case "timer":
			sec, err = timerSection(r, ls, &t)
		case "penalty":
			sec, err = penaltySection(c, in.Late, ls, &t)
		default:
			sec, err = lineSection(s.key, ls, &t)
		}
		if err != nil {
			return report.Document{}, err
		}
		sec.Heading, sec.Sheet = s.heading, s.sheet
		d.Sections = append(d.Sections, sec)
	}
	for _, k := range keys {
		sec, err := lineSection(k, by[k], &t)
		if err != nil {
			return report.Document{}, err
		}
		sec.Heading = k
		d.Sections = append(d.Sections, sec)
	}
	if err := t.check(r.Summary); err != nil {
		return report.Document{}, err
	}
	d.Facts = docFacts(r, t)
	if len(r.Summary.Notes) > 0 {
		sec := report.Section{Heading: "说明 (notes)", Sheet: "说明", Columns: []string{colNo, colNote}}
		for i, n := range r.Summary.Notes {
			sec.Rows = append(sec.Rows, []report.Cell{report.N(float64(i + 1)), report.T(n)})
		}
		d.Sections = append(d.Sections, sec)
	}
	return d, nil
}

func knownSection(key string) bool {
	for _, s := range docSections {
		if s.key == key {
			return true
		}
	}
	return false
}

// docSubtitle names the contract, the period and the assessment time.
func docSubtitle(r *sla.Report, in sla.Input) string {
	parts := []string{r.Contract + ": " + r.Title}
	if !in.From.IsZero() && in.To.After(in.From) {
		// To is the day after the last, at midnight (parsePeriod).
		parts = append(parts, fmt.Sprintf("考核期 (period) %s 至 %s", in.From.Format(time.DateOnly), in.To.AddDate(0, 0, -1).Format(time.DateOnly)))
	}
	parts = append(parts, "截至 (as of) "+r.AsOf.In(sla.ChinaStandardTime()).Format("2006-01-02 15:04"))
	return strings.Join(parts, " · ")
}

// docTotals are the document's own sums, each checked against the
// report's summary.
type docTotals struct {
	breaches      int
	points        sla.Num // scorecard points deducted
	hasPoints     bool
	penalties     sla.Fen // counted, owed by the vendor
	purchaserOwes sla.Fen // counted, owed by the purchaser
	fixed         sla.Fen
	deduction     sla.Fen
	paid          sla.Fen
	hasPaid       bool
}

func (t docTotals) check(s sla.Summary) error {
	bad := func(what string, doc, rep any) error {
		return fmt.Errorf("report: the document's %s %v differs from the assessment's %v", what, doc, rep)
	}
	switch {
	case t.breaches != s.Breaches:
		return bad("targets breached", t.breaches, s.Breaches)
	case t.penalties != s.Penalties:
		return bad("penalties", t.penalties.Format(), s.Penalties.Format())
	case t.purchaserOwes != s.PurchaserOwes:
		return bad("penalties owed by the purchaser", t.purchaserOwes.Format(), s.PurchaserOwes.Format())
	case t.fixed != s.Fixed:
		return bad("fixed-percent penalties", t.fixed.Format(), s.Fixed.Format())
	case t.deduction != s.Deduction:
		return bad("score deduction", t.deduction.Format(), s.Deduction.Format())
	case s.Paid == nil && t.hasPaid:
		return bad("payments", t.paid.Format(), "none")
	case s.Paid != nil && t.paid != *s.Paid:
		return bad("payments", t.paid.Format(), s.Paid.Format())
	case s.PointsDeducted != nil && t.points.Cmp(*s.PointsDeducted) != 0:
		return bad("points deducted", t.points, *s.PointsDeducted)
	case s.PointsDeducted == nil && t.hasPoints:
		return bad("points deducted", t.points, "none")
	}
	return nil
}

// deductions is what the vendor owes under the contract: penalties, fixed
// clauses and the score deduction.
func (t docTotals) deductions() sla.Fen { return t.penalties + t.fixed + t.deduction }

// docFacts are the key figures: the total, what is deducted, what is
// payable, each exact to the fen, with the formula in the label.
func docFacts(r *sla.Report, t docTotals) []report.Fact {
	s := r.Summary
	f := []report.Fact{
		{Label: "合同总额 (contract total)", Value: report.M(int64(r.Total))},
		{Label: "依据 (source)", Value: report.T(r.Source)},
		{Label: "未达成时限目标 (targets breached)", Value: report.N(float64(t.breaches))},
	}
	if s.Score != nil {
		f = append(f,
			report.Fact{Label: "扣分 (points deducted)", Value: numCell(t.points)},
			report.Fact{Label: "考核得分 (score)", Value: numCell(*s.Score)})
	}
	f = append(f,
		report.Fact{Label: "违约金 (penalties)", Value: report.M(int64(t.penalties))},
		report.Fact{Label: "固定比例违约金 (fixed-percent penalties)", Value: report.M(int64(t.fixed))},
		report.Fact{Label: "考核扣款 (score deduction)", Value: report.M(int64(t.deduction))},
		report.Fact{Label: "扣款合计 (deductions = penalties + fixed + score deduction)", Value: report.M(int64(t.deductions()))})
	if t.purchaserOwes != 0 {
		f = append(f, report.Fact{Label: "采购人应付违约金 (owed by the purchaser, not in the deductions)", Value: report.M(int64(t.purchaserOwes))})
	}
	if s.Paid != nil {
		f = append(f,
			report.Fact{Label: "本期服务费 (tranches due this period)", Value: report.M(int64(t.paid))},
			report.Fact{Label: "暂扣 (withheld by the score)", Value: report.M(int64(*s.Withheld))},
			report.Fact{Label: "应付金额 (payable = tranches due − deductions)", Value: report.M(int64(t.paid - t.deductions()))})
	} else {
		f = append(f, report.Fact{Label: "应付金额 (payable = contract total − deductions)", Value: report.M(int64(r.Total - t.deductions()))})
	}
	if s.Terminate {
		f = append(f, report.Fact{Label: "考核不合格 (assessment failed)", Value: report.T("采购人可解除合同 (the purchaser may terminate the contract)")})
	}
	return f
}

// numCell is an exact decimal as a numeric cell. A value with no finite
// decimal (a mean of three surveys) is rounded to 10 places, as
// sla.Num.String prints it; the calculation text keeps it exact.
func numCell(n sla.Num) report.Cell {
	v, err := strconv.ParseFloat(strings.TrimSuffix(n.String(), "..."), 64)
	if err != nil {
		return report.T(n.String())
	}
	return report.N(v)
}

func minutes(d time.Duration) report.Cell { return report.N(d.Minutes()) }

func blank() report.Cell { return report.T("") }

// timerSection has a row per incident target: the line's clause and
// arithmetic, the working minutes counted and overrun as numbers, and 1
// in the breached column, so the total row counts the breaches.
func timerSection(r *sla.Report, ls []sla.Line, t *docTotals) (report.Section, error) {
	sec := report.Section{
		Columns: []string{colNo, colItem, colEvent, colRule, colCalc, "计时 (min)", "超时 (min)", "未达成 (missed)", "状态 (status)"},
	}
	var over time.Duration
	i := 0
	for _, res := range r.Incidents {
		for _, tr := range res.Targets {
			if i >= len(ls) || ls[i].Event != res.ID || ls[i].Item != res.Level+" "+string(tr.Kind) {
				return sec, fmt.Errorf("report: timer line %d does not match incident %s target %s", i+1, res.ID, tr.Kind)
			}
			l := ls[i]
			i++
			breached := 0
			if tr.Breached() {
				breached = 1
				t.breaches++
			}
			over += tr.Overrun
			sec.Rows = append(sec.Rows, []report.Cell{report.N(float64(i)), report.T(l.Item), report.T(l.Event), report.T(l.Rule), report.T(l.Calc),
				minutes(tr.Elapsed), minutes(tr.Overrun), report.N(float64(breached)), report.T(l.Note)})
		}
	}
	if i != len(ls) {
		return sec, fmt.Errorf("report: %d timer lines for %d incident targets", len(ls), i)
	}
	sec.Total = []report.Cell{report.T(totalText), blank(), blank(), blank(), blank(), blank(), minutes(over), report.N(float64(t.breaches)), blank()}
	return sec, nil
}

// lineSection is the general layout: clause, arithmetic, points, amount.
// The total row sums the points and the amounts.
func lineSection(key string, ls []sla.Line, t *docTotals) (report.Section, error) {
	sec := report.Section{Columns: []string{colNo, colItem, colEvent, colRule, colCalc, colPoints, colAmount, colNote}}
	var pts sla.Num
	var amt sla.Fen
	var hasPts, hasAmt bool
	for i, l := range ls {
		row := []report.Cell{report.N(float64(i + 1)), report.T(l.Item), report.T(l.Event), report.T(l.Rule), report.T(l.Calc), blank(), blank(), report.T(l.Note)}
		if l.Points != nil {
			row[5] = numCell(*l.Points)
			pts, hasPts = pts.Add(*l.Points), true
		}
		if l.Amount != nil {
			row[6] = report.M(int64(*l.Amount))
			amt, hasAmt = amt+*l.Amount, true
		}
		sec.Rows = append(sec.Rows, row)
	}
	sec.Total = []report.Cell{report.T(totalText), blank(), blank(), blank(), blank(), blank(), blank(), blank()}
	if hasPts {
		sec.Total[5] = numCell(pts)
	}
	if hasAmt {
		sec.Total[6] = report.M(int64(amt))
	}
	switch key {
	case "scorecard":
		t.points, t.hasPoints = pts, hasPts
	case "fixed":
		t.fixed = amt
	case "deduction":
		t.deduction = amt
	case "payment":
		t.paid, t.hasPaid = amt, true
	default:
		if hasPts {
			return sec, fmt.Errorf("report: section %s deducts points the summary does not count", key)
		}
		if hasAmt {
			return sec, fmt.Errorf("report: section %s has amounts the summary does not count", key)
		}
	}
	return sec, nil
}

// Who a penalty line is counted against.
const (
	countedVendor    = "vendor"
	countedPurchaser = "purchaser"
	shownOnly        = ""
)

// penaltyPayers says, for each penalty line the delays late produce in
// order, whom it is counted against, or shownOnly for a delay priced under
// several clauses of one obligation (Contract.Assess computes each, adds
// none: the parties choose).
func penaltyPayers(c *sla.Contract, late []sla.LateInput) []string {
	payer := func(p sla.PenaltyClause) string {
		if p.Payer == "purchaser" {
			return countedPurchaser
		}
		return countedVendor
	}
	var out []string
	for _, li := range late {
		if p, ok := c.Penalty(li.Clause); ok {
			out = append(out, payer(p))
			continue
		}
		var group []sla.PenaltyClause
		for _, p := range c.Penalties {
			if cmp.Or(p.Obligation, p.ID) == li.Clause {
				group = append(group, p)
			}
		}
		if len(group) == 1 {
			out = append(out, payer(group[0]))
			continue
		}
		for range group {
			out = append(out, shownOnly)
		}
	}
	return out
}

// penaltySection shows every computed clause with its amount, and the
// amount again in the column of whoever owes it when it is counted, so
// that the total row of those columns is the summary's and a delay priced
// under alternative clauses is not added twice.
func penaltySection(c *sla.Contract, late []sla.LateInput, ls []sla.Line, t *docTotals) (report.Section, error) {
	sec := report.Section{
		Columns: []string{colNo, colItem, colEvent, colRule, colCalc, colAmount, "计入供应商应付 (counted, vendor owes)", "计入采购人应付 (counted, purchaser owes)", colNote},
	}
	payers := penaltyPayers(c, late)
	if len(payers) != len(ls) {
		return sec, fmt.Errorf("report: %d penalty lines for %d priced clauses", len(ls), len(payers))
	}
	alternatives := false
	for i, l := range ls {
		if l.Amount == nil {
			return sec, fmt.Errorf("report: penalty line %d (%s) has no amount", i+1, l.Item)
		}
		row := []report.Cell{report.N(float64(i + 1)), report.T(l.Item), report.T(l.Event), report.T(l.Rule), report.T(l.Calc),
			report.M(int64(*l.Amount)), blank(), blank(), report.T(l.Note)}
		switch payers[i] {
		case countedVendor:
			row[6] = report.M(int64(*l.Amount))
			t.penalties += *l.Amount
		case countedPurchaser:
			row[7] = report.M(int64(*l.Amount))
			t.purchaserOwes += *l.Amount
		default:
			alternatives = true
			row[8] = report.T(strings.TrimSpace("并列条款，不计入合计 (alternative clause, not added) " + l.Note))
		}
		sec.Rows = append(sec.Rows, row)
	}
	if alternatives {
		sec.Note = "同一迟延由多个条款计价时，各条款均列出，均不计入合计，由双方选定执行条款。 (A delay priced under several clauses shows each; none is added to the totals: the parties decide which is enforced.)"
	}
	sec.Total = []report.Cell{report.T(totalText), blank(), blank(), blank(), blank(), blank(), report.M(int64(t.penalties)), report.M(int64(t.purchaserOwes)), blank()}
	return sec, nil
}
