// Package sla computes what IT-service contracts for public-health
// platforms say about time and money: response and resolution deadlines on
// 7x24 and working-hours calendars (with the mainland's public holidays and
// make-up working days), availability budgets, late-delivery penalties,
// deduction scorecards, and the payments that scores turn into, exact to
// the fen. Contracts are data: the three seed contracts ship as YAML
// presets (chengdu, shaanxi, sichuan), each number quoted with its clause.
//
// # Usage
//
// Load a contract and assess a period:
//
//	c, err := sla.Preset("chengdu") // or sla.ParseContract(yamlBytes)
//	rep, err := c.Assess(sla.Input{
//		AsOf:      asOf,
//		Total:     annualFee,                 // sla.Fen
//		Incidents: []sla.AssessedIncident{...}, // opened, responded, paused, resumed, resolved, reopened
//		From: yearStart, To: yearEnd, Outages: outages,
//		Surveys: surveys,
//	})
//	fmt.Print(rep.Markdown()) // or rep.JSON()
//
// Or use the parts on their own: NewWorkingCalendar with Between and Add;
// NewPolicy and Policy.Evaluate (Policy.EvaluateAll for millions);
// AvailabilityPolicy.Budget and Measure; PenaltyClause.Compute;
// Scorecard.Score; PaymentPlan.Pay; ScoreDeduction.Deduct.
//
// # Calendars
//
// A working-hours calendar precomputes working time per day and its prefix
// sums over the years of its holiday data, so Between and Add cost a binary
// search whatever the interval; tests check both against a minute-by-minute
// walk. The default zone is a fixed UTC+08:00 (mainland China has had no
// daylight saving since 1991). The official schedules 2020-2026 are
// embedded (data/holidays_cn.yaml, with the 2020 COVID-19 extension and the
// 2025 rule change); an instant in a year without data is
// ErrNoCalendarData, never a guess.
//
// The State Council publishes the next year's schedule each autumn. Until
// a release ships it, write the year in the same format (ParseHolidays
// checks it strictly: a year given twice, a date outside its year, a day
// both off and worked are *FieldError with line and column) and merge it:
//
//	user, err := sla.ParseHolidays(yearBytes)
//	h, err := sla.ChinaMainland().Merge(user) // a year in both: the user's
//	cal, err := sla.NewWorkingCalendar(sla.WorkingConfig{Holidays: h})
//	c, err := sla.ParseContractWith(doc, sla.ContractOptions{Holidays: h})
//
// A contract can name such a file itself (holidays: 2027.yaml); the package
// reads nothing, so ParseContractWith takes the caller's
// ContractOptions.ReadFile to fetch it. Working-day periods ("2 working days")
// follow the Civil Code: the day of the event is not counted and the period
// ends at 24:00 of the last working day.
//
// # Money
//
// Amounts are Fen (int64); rates, shares and points are Num (exact
// rationals). Every intermediate is exact; each line item is rounded once,
// half away from zero, by RoundFen. Where a contract is ambiguous the
// package chooses, documents and shows the choice in the report: "每5天"
// counts complete periods, "每超过5分钟" whole units, "逾期天数" started
// days, and shaanxi's two late-delivery clauses are both computed.
//
// # Concurrency
//
// Calendars, HolidaySets, Policies and Contracts are immutable after
// construction and safe for concurrent use; EvaluateAll uses every core.
// Reports and results are plain values.
//
// # Reference server
//
// This package does no I/O: callers load documents and events and render
// reports where they like. The reference server, examples/healthcoded,
// shows it behind HTTP next to the other packages.
package sla
