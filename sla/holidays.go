package sla

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
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
	years       map[int]HolidayYear // as given, for Merge
	src         map[int]yearSource  // where each year came from, for errors
	days        map[int32]dayMark
}

// yearSource is where a year was read: a file name (empty when the caller
// names it) and the line and column of each of its values, keyed by their
// path below the year ("y.holidays[0].off[1]"). Both are zero for years
// built from values.
type yearSource struct {
	file string
	pos  positions
}

// Limits of a year's notice. Years before 1992 predate the current
// holiday rules; a notice covers its own year and may begin in the
// December before (2024's New Year holiday began 2023-12-30); a single
// range is at most a month.
const (
	minHolidayYear = 1992
	maxHolidayYear = 2200
	maxRangeDays   = 31
)

// NewHolidaySet builds a set from per-year notices. It checks each year as
// strictly as ParseHolidays: years unique, contiguous and within
// 1992..2200; every year with at least one holiday, every holiday with a
// name and days off; every date within its year or the December before
// (notices announce the New Year holiday, which may begin on 30 or 31
// December); no range longer than 31 days; no date listed twice, whether
// off twice or both off and worked, within a holiday, across the holidays
// of a year or across years. Errors are *FieldError naming
// "holidays[YEAR]..." paths.
func NewHolidaySet(years []HolidayYear) (*HolidaySet, error) {
	return buildHolidays(years, make([]yearSource, len(years)))
}

type dayUse struct {
	kind DayKind
	year int
	path string
	name string
}

// buildHolidays checks and indexes years; src[i] says where years[i] was
// read, for the positions of errors. Errors about two entries are reported
// at the later one in input order, so callers put the years they trust
// first (Merge puts the base set's).
func buildHolidays(years []HolidayYear, src []yearSource) (*HolidaySet, error) {
	if len(years) == 0 {
		return nil, fieldErr("holidays", "no years")
	}
	errAt := func(i int, rel, format string, args ...any) error {
		fe := &FieldError{Field: fmt.Sprintf("holidays[%d]%s", years[i].Year, rel), File: src[i].file, Msg: fmt.Sprintf(format, args...)}
		if p, ok := src[i].pos.lookup("y" + rel); ok {
			fe.Line, fe.Column = p[0], p[1]
		}
		return fe
	}
	h := &HolidaySet{years: map[int]HolidayYear{}, src: map[int]yearSource{}, days: map[int32]dayMark{}}
	where := map[int]int{} // year -> index
	used := map[int32]dayUse{}
	for i, y := range years {
		if y.Year < minHolidayYear || y.Year > maxHolidayYear {
			return nil, errAt(i, ".year", "year %d out of range %d..%d", y.Year, minHolidayYear, maxHolidayYear)
		}
		if j, dup := where[y.Year]; dup {
			if l := src[j].pos["y.year"][0]; l > 0 {
				return nil, errAt(i, ".year", "year %d given twice (first on line %d)", y.Year, l)
			}
			return nil, errAt(i, ".year", "year %d given twice", y.Year)
		}
		where[y.Year] = i
		if len(y.Holidays) == 0 {
			return nil, errAt(i, ".holidays", "no holidays: a notice lists at least one")
		}
		lo := Date{y.Year - 1, time.December, 1}.key()
		hi := Date{y.Year, time.December, 31}.key()
		for j, hol := range y.Holidays {
			hp := fmt.Sprintf(".holidays[%d]", j)
			if strings.TrimSpace(hol.Name) == "" {
				return nil, errAt(i, hp+".name", "missing")
			}
			if len(hol.Off) == 0 {
				return nil, errAt(i, hp+".off", "no days off")
			}
			for _, part := range []struct {
				kind   DayKind
				key    string
				ranges []DateRange
			}{{Off, "off", hol.Off}, {Workday, "work", hol.Work}} {
				for k, r := range part.ranges {
					rp := fmt.Sprintf("%s.%s[%d]", hp, part.key, k)
					if r.To.key() < r.From.key() {
						return nil, errAt(i, rp, "range %s..%s ends before it starts", r.From, r.To)
					}
					n := 0
					for d := r.From; d.key() <= r.To.key(); d = d.next() {
						if n++; n > maxRangeDays {
							return nil, errAt(i, rp, "range longer than %d days", maxRangeDays)
						}
						if d.key() < lo || d.key() > hi {
							return nil, errAt(i, rp, "%s is outside %d (a notice covers its year and may begin in the December before)", d, y.Year)
						}
						if u, dup := used[d.key()]; dup {
							where := fmt.Sprintf("%s in %s %s", u.kind.verb(), u.path, u.name)
							if u.year != y.Year {
								where = fmt.Sprintf("%s in holidays[%d]%s %s", u.kind.verb(), u.year, u.path, u.name)
							}
							if u.kind != part.kind {
								return nil, errAt(i, rp, "%s is both off and worked (%s)", d, strings.TrimPrefix(where, "."))
							}
							return nil, errAt(i, rp, "%s is listed twice (%s)", d, strings.TrimPrefix(where, "."))
						}
						used[d.key()] = dayUse{part.kind, y.Year, hp[1:], hol.Name}
						h.days[d.key()] = dayMark{part.kind, hol.Name}
					}
				}
			}
		}
		h.years[y.Year] = cloneYear(y)
		h.src[y.Year] = src[i]
	}
	ys := make([]int, 0, len(where))
	for y := range where {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	for k := 1; k < len(ys); k++ {
		if a, b := ys[k-1], ys[k]; b != a+1 {
			// Blame the neighbour that came later in the input.
			i := max(where[a], where[b])
			missing := fmt.Sprint(a + 1)
			if b > a+2 {
				missing = fmt.Sprintf("%d-%d", a+1, b-1)
			}
			return nil, errAt(i, ".year", "years must be contiguous: %s is missing between %d and %d", missing, a, b)
		}
	}
	h.first, h.last = ys[0], ys[len(ys)-1]
	return h, nil
}

// verb names a kind in messages: "off", "worked".
func (k DayKind) verb() string {
	if k == Workday {
		return "worked"
	}
	return "off"
}

func cloneYear(y HolidayYear) HolidayYear {
	y.Holidays = append([]Holiday(nil), y.Holidays...)
	for i := range y.Holidays {
		y.Holidays[i].Off = append([]DateRange(nil), y.Holidays[i].Off...)
		y.Holidays[i].Work = append([]DateRange(nil), y.Holidays[i].Work...)
	}
	return y
}

// ParseHolidays reads a YAML list of HolidayYear (the format of the
// embedded data/holidays_cn.yaml), checked as NewHolidaySet says. Unknown
// keys are errors too. Errors are *FieldError with the line and column of
// the offending value; File is empty, for the caller to fill in.
func ParseHolidays(data []byte) (*HolidaySet, error) {
	return parseHolidays(data, "")
}

func parseHolidays(data []byte, file string) (*HolidaySet, error) {
	var years []HolidayYear
	pos, err := decodeStrictPos(data, &years)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.File == "" {
			fe.File = file
		}
		return nil, err
	}
	src := make([]yearSource, len(years))
	for i := range src {
		src[i] = yearSource{file: file, pos: positions{}}
	}
	for path, p := range pos {
		// "[3].holidays[0].off[1]" -> year 3, "y.holidays[0].off[1]"
		rest, ok := strings.CutPrefix(path, "[")
		if !ok {
			continue
		}
		n, rel, ok := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= len(src) {
			continue
		}
		src[i].pos["y"+rel] = p
	}
	return buildHolidays(years, src)
}

// Merge returns a new set: h's years with over's merged over them. A year
// in over that h lacks is added; a year in both is replaced by over's, as
// a whole (that is how a corrected or a newly published notice is applied:
// give the year's full schedule, not only the changed days). The result
// must still be contiguous, and a date may not be marked by two years.
// Errors are *FieldError at over's year, with its line and column when
// over was parsed by ParseHolidays. Neither h nor over changes.
func (h *HolidaySet) Merge(over *HolidaySet) (*HolidaySet, error) {
	if over == nil {
		return nil, fieldErr("holidays", "Merge of a nil set")
	}
	var years []HolidayYear
	var src []yearSource
	for _, set := range []*HolidaySet{h, over} {
		for y := set.first; y <= set.last; y++ {
			if set == h && y >= over.first && y <= over.last {
				continue
			}
			years = append(years, set.years[y])
			src = append(src, set.src[y])
		}
	}
	return buildHolidays(years, src)
}

//go:embed data/holidays_cn.yaml
var holidaysCN []byte

// ChinaMainland returns the official mainland holiday schedules shipped with
// the package (2020-2026, from the State Council notices; see
// data/holidays_cn.yaml for sources and the 2020 and 2025 rule changes).
// Each call parses the embedded data afresh; keep the result. Merge adds a
// year whose notice came after this release.
func ChinaMainland() *HolidaySet {
	h, err := parseHolidays(holidaysCN, "sla/data/holidays_cn.yaml")
	if err != nil {
		// The embedded file is tested; this cannot happen in a released build.
		panic("sla: embedded holiday data: " + err.Error())
	}
	return h
}

// Years returns the first and last year covered.
func (h *HolidaySet) Years() (first, last int) { return h.first, h.last }

// Notice returns the source notice recorded for a year.
func (h *HolidaySet) Notice(year int) string { return h.years[year].Notice }

// Lookup says how d is marked and by which holiday. A year outside the set
// is ErrNoCalendarData.
func (h *HolidaySet) Lookup(d Date) (DayKind, string, error) {
	if d.Year < h.first || d.Year > h.last {
		return Ordinary, "", fmt.Errorf("%w: %d (have %d-%d; %s)", ErrNoCalendarData, d.Year, h.first, h.last, addYearHint)
	}
	m := h.days[d.key()]
	return m.kind, m.name, nil
}

// addYearHint ends every ErrNoCalendarData message.
const addYearHint = "add the year's holidays (HolidaySet.Merge; a contract's holidays: file)"
