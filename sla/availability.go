package sla

import (
	"fmt"
	"sort"
	"time"
)

// OutageKind says whose downtime an outage is.
//
// Values are immutable strings, safe for concurrent use.
type OutageKind string

const (
	// Vendor downtime counts against the availability target.
	Vendor OutageKind = "vendor"
	// NonVendor downtime is excluded: the purchaser found it was not the
	// vendor's doing (chengdu 第七章 可用性: 经采购方认定由非供应商原因引起的).
	NonVendor OutageKind = "non_vendor"
	// Planned maintenance is excluded from availability but counted against
	// the planned-downtime cap (chengdu 考核表 14).
	Planned OutageKind = "planned"
)

// Outage is a span of downtime of one system.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Outage struct {
	ID         string
	Start, End time.Time
	Kind       OutageKind
}

// AvailabilityPolicy is an availability target with its exclusions and an
// optional cap on planned downtime. Availability is measured on the 7x24
// clock over the assessment period.
//
// Methods only read it: safe for concurrent use as long as no one mutates it.
type AvailabilityPolicy struct {
	// Target, e.g. 99.95% (chengdu) or 99.5% (shaanxi 附件 2.2(1)).
	Target Num    `yaml:"target" json:"target"`
	Clause string `yaml:"clause" json:"clause"`
	// PlannedCap is the planned downtime allowed per period (chengdu: 8 h a
	// year); zero means no cap.
	PlannedCap Duration `yaml:"planned_cap" json:"planned_cap"`
	// PlannedPointsPerMinute is deducted per whole minute over the cap
	// (chengdu: 0.01 point).
	PlannedPointsPerMinute Num    `yaml:"planned_points_per_minute" json:"planned_points_per_minute"`
	PlannedClause          string `yaml:"planned_clause" json:"planned_clause"`
}

// Validate reports the first bad field.
func (p AvailabilityPolicy) Validate() error {
	if p.Target.Sign() <= 0 || p.Target.Cmp(Int(1)) > 0 {
		return fieldErr("target", "must be in (0, 100%%]")
	}
	if p.PlannedCap.D < 0 || p.PlannedCap.WorkingDays != 0 {
		return fieldErr("planned_cap", "must be a non-negative duration")
	}
	if p.PlannedPointsPerMinute.Sign() < 0 {
		return fieldErr("planned_points_per_minute", "must not be negative")
	}
	return nil
}

// Budget is the downtime a target allows over a period.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Budget struct {
	Period  time.Duration
	Allowed time.Duration
	// AllowedMinutes is exact: 99.95% of a 365-day year is 262.8 minutes
	// (365×24×60×0.0005, chengdu 第七章); of a 366-day year, 263.52.
	AllowedMinutes Num
}

// Budget returns the downtime allowed in [from, to) by the target.
func (p AvailabilityPolicy) Budget(from, to time.Time) (Budget, error) {
	if err := p.Validate(); err != nil {
		return Budget{}, err
	}
	if !to.After(from) {
		return Budget{}, fieldErr("period", "ends before it starts")
	}
	period := to.Sub(from)
	allowed := Int(1).Sub(p.Target).Mul(Int(int64(period)))
	return Budget{
		Period:         period,
		Allowed:        time.Duration(allowed.Floor()),
		AllowedMinutes: allowed.Quo(Int(int64(time.Minute))),
	}, nil
}

// AvailabilityResult is measured availability over a period.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type AvailabilityResult struct {
	From, To        time.Time
	Budget          Budget
	VendorDowntime  time.Duration // vendor outages, minus time already excluded
	NonVendor       time.Duration
	PlannedDowntime time.Duration
	Achieved        Num // 1 - vendor/period, exact
	Met             bool
	Overrun         time.Duration // vendor downtime beyond the budget
	PlannedOver     time.Duration // planned downtime beyond the cap
	PlannedOverMins int64         // whole minutes over the cap
	PlannedPoints   Num           // points deducted for planned overrun
	Lines           []Line
}

type span struct{ s, e int64 }

func unionOf(spans []span) []span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].s < spans[j].s })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.s <= out[n-1].e {
			out[n-1].e = max(out[n-1].e, sp.e)
			continue
		}
		out = append(out, sp)
	}
	return out
}

func total(spans []span) int64 {
	var t int64
	for _, s := range spans {
		t += s.e - s.s
	}
	return t
}

// minus returns a \ b for sorted disjoint span lists.
func minus(a, b []span) []span {
	var out []span
	j := 0
	for _, x := range a {
		cur := x.s
		for j < len(b) && b[j].e <= cur {
			j++
		}
		for k := j; k < len(b) && b[k].s < x.e; k++ {
			if b[k].s > cur {
				out = append(out, span{cur, b[k].s})
			}
			cur = max(cur, b[k].e)
		}
		if cur < x.e {
			out = append(out, span{cur, x.e})
		}
	}
	return out
}

// Measure computes availability over [from, to). Outages are clipped to the
// period; overlapping outages of a kind are merged; vendor time that
// overlaps an excluded (non-vendor or planned) outage is not counted twice
// against the vendor.
func (p AvailabilityPolicy) Measure(outages []Outage, from, to time.Time) (AvailabilityResult, error) {
	b, err := p.Budget(from, to)
	if err != nil {
		return AvailabilityResult{}, err
	}
	byKind := map[OutageKind][]span{}
	for i, o := range outages {
		switch o.Kind {
		case Vendor, NonVendor, Planned:
		default:
			return AvailabilityResult{}, fieldErr(fmt.Sprintf("outages[%d].kind", i), "%q is not vendor, non_vendor or planned", o.Kind)
		}
		if o.End.Before(o.Start) {
			return AvailabilityResult{}, fieldErr(fmt.Sprintf("outages[%d]", i), "ends before it starts")
		}
		s, e := max(o.Start.UnixNano(), from.UnixNano()), min(o.End.UnixNano(), to.UnixNano())
		if e > s {
			byKind[o.Kind] = append(byKind[o.Kind], span{s, e})
		}
	}
	vendor := unionOf(byKind[Vendor])
	nonV := unionOf(byKind[NonVendor])
	planned := unionOf(byKind[Planned])
	excluded := unionOf(append(append([]span(nil), nonV...), planned...))
	vd := time.Duration(total(minus(vendor, excluded)))
	r := AvailabilityResult{
		From: from, To: to, Budget: b,
		VendorDowntime:  vd,
		NonVendor:       time.Duration(total(nonV)),
		PlannedDowntime: time.Duration(total(planned)),
		Achieved:        Int(1).Sub(NewNum(int64(vd), int64(b.Period))),
	}
	r.Met = r.Achieved.Cmp(p.Target) >= 0
	if !r.Met {
		r.Overrun = vd - b.Allowed
	}
	r.Lines = append(r.Lines, Line{
		Section: "availability", Item: "availability",
		Rule: fmt.Sprintf("availability >= %s over %s, non-vendor and planned downtime excluded (%s)", p.Target.Percent(), fmtDur(b.Period), p.Clause),
		Calc: fmt.Sprintf("budget (1 - %s) × %s = %s min; vendor downtime %s (excluded: non-vendor %s, planned %s); achieved %s",
			p.Target.Percent(), fmtDur(b.Period), b.AllowedMinutes, fmtDur(vd), fmtDur(r.NonVendor), fmtDur(r.PlannedDowntime), r.Achieved.Percent()),
		Note: map[bool]string{true: "met", false: "breached by " + fmtDur(r.Overrun)}[r.Met],
	})
	if p.PlannedCap.D > 0 && r.PlannedDowntime > p.PlannedCap.D {
		r.PlannedOver = r.PlannedDowntime - p.PlannedCap.D
		r.PlannedOverMins = int64(r.PlannedOver / time.Minute)
		r.PlannedPoints = p.PlannedPointsPerMinute.Mul(Int(r.PlannedOverMins))
		r.Lines = append(r.Lines, Line{
			Section: "scorecard", Item: "planned_downtime",
			Rule:   fmt.Sprintf("planned downtime at most %s, %s point per whole minute over (%s)", fmtDur(p.PlannedCap.D), p.PlannedPointsPerMinute, p.PlannedClause),
			Calc:   fmt.Sprintf("%s planned - %s cap = %s → %d whole min × %s = %s points", fmtDur(r.PlannedDowntime), fmtDur(p.PlannedCap.D), fmtDur(r.PlannedOver), r.PlannedOverMins, p.PlannedPointsPerMinute, r.PlannedPoints),
			Points: numPtr(r.PlannedPoints),
		})
	}
	return r, nil
}

// fmtDur prints a duration in days, hours, minutes and seconds.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	s := ""
	if days := d / (24 * time.Hour); days > 0 {
		s += fmt.Sprintf("%dd", days)
		d -= days * 24 * time.Hour
	}
	if d > 0 {
		s += d.String()
		s = trimZeroUnits(s)
	}
	if neg {
		s = "-" + s
	}
	return s
}

func trimZeroUnits(s string) string {
	for _, suf := range []string{"0s", "0m"} {
		if len(s) > 2 && s[len(s)-2:] == suf && (s[len(s)-3] < '0' || s[len(s)-3] > '9') {
			s = s[:len(s)-2]
		}
	}
	return s
}
