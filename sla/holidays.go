package sla

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a civil date (no time, no zone), as holiday notices print them.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fieldErr("date", "%q is not a YYYY-MM-DD date", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func (d Date) key() int32 { return int32(d.Year*10000 + int(d.Month)*100 + d.Day) }

// next returns the following date.
func (d Date) next() Date {
	t := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// DayKind says how a holiday set marks a date.
//
// Values are immutable, safe for concurrent use.
type DayKind uint8

const (
	// Ordinary: the weekday pattern decides.
	Ordinary DayKind = iota
	// Off: a public holiday (or a day of a holiday period); not worked.
	Off
	// Workday: a make-up working day (调休), worked although it falls on a
	// weekend.
	Workday
)

func (k DayKind) String() string {
	switch k {
	case Off:
		return "holiday"
	case Workday:
		return "make-up workday"
	}
	return "ordinary"
}

// Holiday is one holiday period of a year's notice: its days off and the
// make-up working days that go with it.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Holiday struct {
	Name string      `yaml:"name"`
	Off  []DateRange `yaml:"off"`
	Work []DateRange `yaml:"work"`
}

// HolidayYear is one year's official notice.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type HolidayYear struct {
	Year     int       `yaml:"year"`
	Notice   string    `yaml:"notice"`
	Holidays []Holiday `yaml:"holidays"`
}

// DateRange is a date or an inclusive range of dates, written "2020-01-24"
// or "2020-01-24..2020-02-02" in YAML.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type DateRange struct {
	From, To Date
}

// UnmarshalYAML parses "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD".
func (r *DateRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return scalarErr(n, "expected a date or a date range")
	}
	a, b, isRange := strings.Cut(n.Value, "..")
	from, err := ParseDate(strings.TrimSpace(a))
	if err != nil {
		return scalarErr(n, "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD")
	}
	to := from
	if isRange {
		if to, err = ParseDate(strings.TrimSpace(b)); err != nil {
			return scalarErr(n, "expected YYYY-MM-DD..YYYY-MM-DD")
		}
	}
	if to.key() < from.key() {
		return scalarErr(n, "range ends before it starts")
	}
	r.From, r.To = from, to
	return nil
}

type dayMark struct {
	kind DayKind
	name string
}

// HolidaySet is the public holidays and make-up working days of a
// contiguous run of years. It is immutable once built and safe for
// concurrent use.
type HolidaySet struct {
	first, last int
	notices     map[int]string
	days        map[int32]dayMark
}

// NewHolidaySet builds a set from per-year notices. Years must be
// contiguous and unique; a date may not be both off and a workday; each
// date must lie within a day of its notice's year (notices reach into the
// neighbouring year, e.g. 2023's New Year holiday began 2022-12-31).
func NewHolidaySet(years []HolidayYear) (*HolidaySet, error) {
	if len(years) == 0 {
		return nil, fieldErr("holidays", "no years")
	}
	ys := append([]HolidayYear(nil), years...)
	sort.Slice(ys, func(i, j int) bool { return ys[i].Year < ys[j].Year })
	h := &HolidaySet{first: ys[0].Year, last: ys[len(ys)-1].Year, notices: map[int]string{}, days: map[int32]dayMark{}}
	for i, y := range ys {
		if y.Year < 1992 || y.Year > 2200 {
			return nil, fieldErr(fmt.Sprintf("holidays[%d].year", y.Year), "year out of range 1992..2200")
		}
		if i > 0 && y.Year != ys[i-1].Year+1 {
			return nil, fieldErr(fmt.Sprintf("holidays[%d].year", y.Year), "years must be contiguous and unique (after %d)", ys[i-1].Year)
		}
		h.notices[y.Year] = y.Notice
		for _, hol := range y.Holidays {
			for kind, ranges := range map[DayKind][]DateRange{Off: hol.Off, Workday: hol.Work} {
				for _, r := range ranges {
					n := 0
					for d := r.From; d.key() <= r.To.key(); d = d.next() {
						if d.Year < y.Year-1 || d.Year > y.Year+1 {
							return nil, fieldErr(fmt.Sprintf("holidays[%d].%s", y.Year, hol.Name), "date %s too far from year %d", d, y.Year)
						}
						if old, dup := h.days[d.key()]; dup && old.kind != kind {
							return nil, fieldErr(fmt.Sprintf("holidays[%d].%s", y.Year, hol.Name), "%s is both a holiday and a workday", d)
						}
						h.days[d.key()] = dayMark{kind, hol.Name}
						if n++; n > 31 {
							return nil, fieldErr(fmt.Sprintf("holidays[%d].%s", y.Year, hol.Name), "range longer than 31 days")
						}
					}
				}
			}
		}
	}
	return h, nil
}

// ParseHolidays reads a YAML list of HolidayYear (the format of the
// embedded data/holidays_cn.yaml). Errors carry line and column.
func ParseHolidays(data []byte) (*HolidaySet, error) {
	var years []HolidayYear
	if err := decodeStrict(data, &years); err != nil {
		return nil, err
	}
	return NewHolidaySet(years)
}

//go:embed data/holidays_cn.yaml
var holidaysCN []byte

// ChinaMainland returns the official mainland holiday schedules shipped with
// the package (2020-2026, from the State Council notices; see
// data/holidays_cn.yaml for sources and the 2020 and 2025 rule changes).
// Each call parses the embedded data afresh; keep the result.
func ChinaMainland() *HolidaySet {
	h, err := ParseHolidays(holidaysCN)
	if err != nil {
		// The embedded file is tested; this cannot happen in a released build.
		panic("sla: embedded holiday data: " + err.Error())
	}
	return h
}

// Years returns the first and last year covered.
func (h *HolidaySet) Years() (first, last int) { return h.first, h.last }

// Notice returns the source notice recorded for a year.
func (h *HolidaySet) Notice(year int) string { return h.notices[year] }

// Lookup says how d is marked and by which holiday. A year outside the set
// is ErrNoCalendarData.
func (h *HolidaySet) Lookup(d Date) (DayKind, string, error) {
	if d.Year < h.first || d.Year > h.last {
		return Ordinary, "", fmt.Errorf("%w: %d (have %d-%d)", ErrNoCalendarData, d.Year, h.first, h.last)
	}
	m := h.days[d.key()]
	return m.kind, m.name, nil
}
