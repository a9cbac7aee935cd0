package sla_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/sla"
)

var cst = sla.ChinaStandardTime()

// A chengdu level-1 fault: 0.2 h to respond, 1 h to resolve, on the 7x24
// clock. The response came 3 minutes late.
func ExamplePolicy_Evaluate() {
	c, err := sla.Preset("chengdu")
	if err != nil {
		panic(err)
	}
	day := func(h, m int) time.Time { return time.Date(2024, 3, 4, h, m, 0, 0, cst) }
	res, err := c.Policy().Evaluate(sla.Incident{ID: "INC-1", Level: "L1", Events: []sla.Event{
		{Kind: sla.Opened, At: day(10, 0)},
		{Kind: sla.Responded, At: day(10, 15)},
		{Kind: sla.Resolved, At: day(10, 50)},
	}}, day(12, 0))
	if err != nil {
		panic(err)
	}
	for _, t := range res.Targets {
		fmt.Printf("%s: %s, %v of %v, deadline %s, overrun %v\n", t.Kind, t.Status, t.Elapsed, t.Within, t.Deadline.Format("15:04"), t.Overrun)
	}
	// Output:
	// response: breached, 15m0s of 12m, deadline 10:12, overrun 3m0s
	// resolution: met, 50m0s of 1h, deadline 11:00, overrun 0s
}

// Working time across the 2024 Spring Festival: Friday 9 Feb 16:00 plus
// four working hours skips the holiday and lands on the make-up Sunday.
func ExampleCalendar_Add() {
	cal, err := sla.NewWorkingCalendar(sla.WorkingConfig{Name: "office"}) // 09:00-12:00, 13:30-17:30
	if err != nil {
		panic(err)
	}
	due, err := cal.Add(time.Date(2024, 2, 9, 16, 0, 0, 0, cst), 4*time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println(due.Format("Mon 2006-01-02 15:04"))
	_, err = cal.Add(time.Date(2027, 3, 1, 9, 0, 0, 0, cst), time.Hour)
	fmt.Println(err)
	// Output:
	// Sun 2024-02-18 11:30
	// sla: no calendar data for that year: 2027 (calendar "office" has 2020-2026; add the year's holidays (HolidaySet.Merge; a contract's holidays: file))
}

// The availability budget of 99.95 %: 262.8 minutes in a 365-day year,
// 263.52 in a leap year.
func ExampleAvailabilityPolicy_Budget() {
	p := sla.AvailabilityPolicy{Target: sla.MustNum("99.95%")}
	for _, y := range []int{2023, 2024} {
		b, err := p.Budget(time.Date(y, 1, 1, 0, 0, 0, 0, cst), time.Date(y+1, 1, 1, 0, 0, 0, 0, cst))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%d: %s min (%v)\n", y, b.AllowedMinutes, b.Allowed)
	}
	// Output:
	// 2023: 262.8 min (4h22m48s)
	// 2024: 263.52 min (4h23m31.2s)
}

// shaanxi's contract holds two late-delivery clauses; both are computed.
func ExamplePenaltyClause_Compute() {
	c, err := sla.Preset("shaanxi")
	if err != nil {
		panic(err)
	}
	for _, id := range []string{"vendor_late_per_5_days", "vendor_late_per_day"} {
		p, _ := c.Penalty(id)
		l, err := p.Compute(c.Total, sla.Late{Event: "delivery", Days: 17})
		if err != nil {
			panic(err)
		}
		fmt.Println(strings.TrimSpace(id + " " + l.Amount.Format() + " " + l.Note))
	}
	// Output:
	// vendor_late_per_5_days ¥87.60
	// vendor_late_per_day ¥14,600.00 capped
}

// A sichuan scorecard: the same event is deducted once, and 9.41 points
// lost withhold (9.41 - 5) × 1 % of the total.
func ExampleScorecard_Score() {
	c, err := sla.Preset("sichuan")
	if err != nil {
		panic(err)
	}
	res, err := c.Scorecard.Score([]sla.Occurrence{
		{Item: "severe_fault_response_late", Event: "F1"},
		{Item: "severe_fault_handling_late", Event: "F1"},
		{Item: "key_staff_missing", Event: "Q2", Quantity: sla.MustNum("2")},
		{Item: "late_or_early", Event: "sign-in", Quantity: sla.MustNum("3")},
	}, []sla.Num{sla.MustNum("80"), sla.MustNum("85")})
	if err != nil {
		panic(err)
	}
	total, _ := sla.ParseYuan("10000000.00")
	l, err := c.Deduction.Deduct(total, res.Score)
	if err != nil {
		panic(err)
	}
	fmt.Println("score", res.Score, "withheld", l.Amount.Format())
	// Output:
	// score 90.59 withheld ¥441,000.00
}

// chengdu's payment schedule, year 1: 30 % unscaled, then 40 % and 30 %
// scaled by F/100, where F is 100 from 90 points.
func ExamplePaymentPlan_Pay() {
	c, err := sla.Preset("chengdu")
	if err != nil {
		panic(err)
	}
	g, _ := sla.ParseYuan("5950000.00")
	res, err := c.Payment.Pay(g, 1, []sla.Num{sla.MustNum("92"), sla.MustNum("85")})
	if err != nil {
		panic(err)
	}
	for _, l := range res.Lines {
		fmt.Println(l.Item, l.Amount.Format())
	}
	fmt.Println("paid", res.Paid.Format(), "withheld", res.Withheld.Format())
	// Output:
	// g1 首年 30% G ¥1,785,000.00
	// g2 首年 40% G × F/100 ¥2,380,000.00
	// g3 首年 30% G × F/100 ¥1,517,250.00
	// paid ¥5,682,250.00 withheld ¥267,750.00
}

// A contract of your own, as YAML: a working-hours calendar with the
// mainland holidays and one level.
func ExampleParseContract() {
	c, err := sla.ParseContract([]byte(`
name: helpdesk
calendars:
  - {name: office, kind: working_hours, windows: ["09:00-12:00", "13:30-17:30"]}
levels:
  - name: P2
    targets:
      - {kind: response, within: 1h, calendar: office}
      - {kind: resolution, within: 1 working day, calendar: office}
`))
	if err != nil {
		panic(err)
	}
	// Opened on the eve of the 2025 National Day holiday (1-8 Oct).
	res, err := c.Policy().Evaluate(sla.Incident{ID: "T-1", Level: "P2", Events: []sla.Event{
		{Kind: sla.Opened, At: time.Date(2025, 9, 30, 17, 0, 0, 0, cst)},
	}}, time.Date(2025, 9, 30, 17, 10, 0, 0, cst))
	if err != nil {
		panic(err)
	}
	for _, t := range res.Targets {
		fmt.Println(t.Kind, "due", t.Deadline.Format("2006-01-02 15:04"))
	}
	_, err = sla.ParseContract([]byte("name: x\nlevels:\n  - name: P1\n    targets: [{kind: response, within: soon, calendar: office}]\n"))
	fmt.Println(err)
	// Output:
	// response due 2025-10-09 09:30
	// resolution due 2025-10-10 00:00
	// sla: 4:40: levels[0].targets[0].within: expected a duration like 30m, 0.2h, 2d or 2 working days
}

// Assess a period under a preset and render the report.
func ExampleContract_Assess() {
	c, err := sla.Preset("shaanxi")
	if err != nil {
		panic(err)
	}
	at := func(d, h int) time.Time { return time.Date(2025, 10, d, h, 0, 0, 0, cst) }
	rep, err := c.Assess(sla.Input{
		AsOf: at(31, 0),
		Incidents: []sla.AssessedIncident{{Incident: sla.Incident{ID: "SX-2", Level: "P2", Events: []sla.Event{
			{Kind: sla.Opened, At: at(9, 1)}, {Kind: sla.Responded, At: at(9, 1).Add(12 * time.Minute)},
			{Kind: sla.Solution, At: at(9, 2)}, {Kind: sla.Resolved, At: at(9, 4)},
		}}}},
		Breaches: []sla.BreachInput{{Clause: "no_response_24h", Event: "ticket T-9 unanswered for 30 h"}},
	})
	if err != nil {
		panic(err)
	}
	for _, l := range rep.Lines {
		amount := ""
		if l.Amount != nil {
			amount = l.Amount.Format()
		}
		fmt.Println(strings.TrimSpace(strings.Join([]string{l.Section, l.Item, l.Note, amount}, " ")))
	}
	// Output:
	// timer P2 response breached
	// timer P2 onsite not recorded
	// timer P2 solution met
	// timer P2 resolution met
	// fixed no_response_24h  ¥29,200.00
}

// Adding a year published after the release: parse the year's file (here a
// synthetic one: not the real 2027 notice) and merge it over the shipped
// years. A clock crossing 1 January then has a deadline instead of
// ErrNoCalendarData. A year the release already has would be replaced.
func ExampleHolidaySet_Merge() {
	user, err := sla.ParseHolidays([]byte(`
- year: 2027
  notice: synthetic example, not the State Council notice
  holidays:
    - {name: 元旦, off: [2027-01-01..2027-01-03]}
`))
	if err != nil {
		panic(err)
	}
	h, err := sla.ChinaMainland().Merge(user)
	if err != nil {
		panic(err)
	}
	first, last := h.Years()
	fmt.Println(first, last)
	cal, err := sla.NewWorkingCalendar(sla.WorkingConfig{Name: "office", Holidays: h})
	if err != nil {
		panic(err)
	}
	due, err := cal.Add(time.Date(2026, 12, 31, 17, 0, 0, 0, cst), time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println(due.Format("Mon 2006-01-02 15:04"))

	_, err = sla.ParseHolidays([]byte("- {year: 2027, holidays: [{name: x, off: [2027-05-01], work: [2027-05-01]}]}\n"))
	fmt.Println(err)
	// Output:
	// 2020 2027
	// Mon 2027-01-04 09:30
	// sla: 1:63: holidays[2027].holidays[0].work[0]: 2027-05-01 is both off and worked (off in holidays[0] x)
}
