package sla

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ChinaStandardTime is the default zone: UTC+08:00 with no daylight saving.
// Mainland China has not observed daylight saving since 1991, and every
// year with holiday data is later, so a fixed zone gives the same instants
// as the tz database's Asia/Shanghai without depending on the host's tzdata.
// Callers who prefer the tz entry can pass time.LoadLocation("Asia/Shanghai").
var chinaStandardTime = time.FixedZone("Asia/Shanghai", 8*3600)

// ChinaStandardTime returns the fixed UTC+08:00 zone used by default.
func ChinaStandardTime() *time.Location { return chinaStandardTime }

// Window is a span of working time within a day, [Start, End) as offsets
// from local midnight. End may be 24h (midnight of the next day).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Window struct {
	Start, End time.Duration
}

// ParseWindow parses "09:00-12:00" (and "00:00-24:00").
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fieldErr("window", "%q is not HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(strings.TrimSpace(a))
	end, err2 := parseClock(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Window{}, fieldErr("window", "%q is not HH:MM-HH:MM", s)
	}
	if end <= start {
		return Window{}, fieldErr("window", "%q ends before it starts", s)
	}
	return Window{start, end}, nil
}

func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, ErrInvalid
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, ErrInvalid
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func (w Window) String() string {
	f := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return f(w.Start) + "-" + f(w.End)
}

// WorkingConfig describes a working-hours calendar. The zero value of each
// field means its default.
//
// A plain value, read by NewWorkingCalendar; not retained.
type WorkingConfig struct {
	// Name appears in results ("office 5x8"). Default "working hours".
	Name string
	// Location is the calendar's zone. Default ChinaStandardTime().
	Location *time.Location
	// Windows are the working spans of a working day, sorted, not
	// overlapping. Default 09:00-12:00 and 13:30-17:30.
	Windows []Window
	// Weekdays are the normally worked days. Default Monday to Friday.
	Weekdays []time.Weekday
	// Holidays marks days off and make-up working days. Default
	// ChinaMainland(). Instants outside its years are ErrNoCalendarData.
	Holidays *HolidaySet
}

// DefaultWorkingConfig returns the defaults spelled out.
func DefaultWorkingConfig() WorkingConfig {
	return WorkingConfig{
		Name:     "working hours",
		Location: chinaStandardTime,
		Windows:  []Window{{9 * time.Hour, 12 * time.Hour}, {13*time.Hour + 30*time.Minute, 17*time.Hour + 30*time.Minute}},
		Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	}
}

func (c WorkingConfig) withDefaults() WorkingConfig {
	d := DefaultWorkingConfig()
	if c.Name == "" {
		c.Name = d.Name
	}
	if c.Location == nil {
		c.Location = d.Location
	}
	if len(c.Windows) == 0 {
		c.Windows = d.Windows
	}
	if len(c.Weekdays) == 0 {
		c.Weekdays = d.Weekdays
	}
	return c
}

// Validate reports the first bad field.
func (c WorkingConfig) Validate() error {
	c = c.withDefaults()
	for i, w := range c.Windows {
		if w.Start < 0 || w.End > 24*time.Hour || w.End <= w.Start {
			return fieldErr(fmt.Sprintf("Windows[%d]", i), "%v is not within 00:00-24:00", w)
		}
		if i > 0 && w.Start < c.Windows[i-1].End {
			return fieldErr(fmt.Sprintf("Windows[%d]", i), "%v overlaps or precedes %v", w, c.Windows[i-1])
		}
	}
	for i, d := range c.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			return fieldErr(fmt.Sprintf("Weekdays[%d]", i), "%d is not a weekday", d)
		}
	}
	return nil
}

// Calendar measures working time. A 7x24 calendar counts every instant; a
// working-hours calendar counts its windows on working days (weekdays not
// marked off, plus make-up workdays). Working-hours calendars precompute a
// prefix sum of working time per day over the years of their holiday data,
// so Between and Add cost a binary search at most, whatever the interval.
//
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	name     string
	loc      *time.Location
	always   bool
	windows  []Window
	weekdays [7]bool
	holidays *HolidaySet
	desc     string

	// Working-hours tables, one entry per day from Jan 1 of the first year
	// to Jan 1 after the last year (the final entry is that end instant).
	dayStart []int64 // unix ns of local midnight
	prefix   []int64 // working ns before the day
	winOff   []int32 // index into winS/winE of the day's first window
	winS     []int64 // absolute unix ns of window starts
	winE     []int64
}

// Always returns a 7x24 calendar: every instant is working time.
func Always(name string) *Calendar {
	if name == "" {
		name = "7x24"
	}
	desc := name + " (7x24)"
	if name == "7x24" {
		desc = name
	}
	return &Calendar{name: name, loc: chinaStandardTime, always: true, desc: desc}
}

// NewWorkingCalendar builds a working-hours calendar.
func NewWorkingCalendar(cfg WorkingConfig) (*Calendar, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Holidays == nil {
		cfg.Holidays = ChinaMainland()
	}
	c := &Calendar{name: cfg.Name, loc: cfg.Location, windows: append([]Window(nil), cfg.Windows...), holidays: cfg.Holidays}
	for _, d := range cfg.Weekdays {
		c.weekdays[d] = true
	}
	first, last := cfg.Holidays.Years()
	day := time.Date(first, 1, 1, 0, 0, 0, 0, c.loc)
	end := time.Date(last+1, 1, 1, 0, 0, 0, 0, c.loc)
	var acc int64
	for day.Before(end) {
		y, m, d := day.Date()
		c.dayStart = append(c.dayStart, day.UnixNano())
		c.prefix = append(c.prefix, acc)
		c.winOff = append(c.winOff, int32(len(c.winS)))
		if c.worksOn(Date{y, m, d}, day.Weekday()) {
			for _, w := range c.windows {
				// time.Date normalises, so windows are right even in zones with DST.
				ws := time.Date(y, m, d, int(w.Start/time.Hour), int(w.Start%time.Hour/time.Minute), 0, 0, c.loc)
				we := time.Date(y, m, d, int(w.End/time.Hour), int(w.End%time.Hour/time.Minute), 0, 0, c.loc)
				c.winS = append(c.winS, ws.UnixNano())
				c.winE = append(c.winE, we.UnixNano())
				acc += we.UnixNano() - ws.UnixNano()
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
	}
	c.desc = c.describe()
	c.dayStart = append(c.dayStart, end.UnixNano())
	c.prefix = append(c.prefix, acc)
	c.winOff = append(c.winOff, int32(len(c.winS)))
	return c, nil
}

func (c *Calendar) worksOn(d Date, wd time.Weekday) bool {
	kind, _, err := c.holidays.Lookup(d)
	if err != nil {
		return false
	}
	switch kind {
	case Off:
		return false
	case Workday:
		return true
	}
	return c.weekdays[wd]
}

// Name returns the calendar's name.
func (c *Calendar) Name() string { return c.name }

// Location returns the calendar's zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Is24x7 reports whether every instant is working time.
func (c *Calendar) Is24x7() bool { return c.always }

// Describe returns a one-line description for reports.
func (c *Calendar) Describe() string { return c.desc }

func (c *Calendar) describe() string {
	ws := make([]string, len(c.windows))
	for i, w := range c.windows {
		ws[i] = w.String()
	}
	first, last := c.holidays.Years()
	return fmt.Sprintf("%s (%s on working days, holidays %d-%d)", c.name, strings.Join(ws, ", "), first, last)
}

// Windows returns the working windows of a working day (nil for 7x24).
func (c *Calendar) Windows() []Window { return append([]Window(nil), c.windows...) }

// IsWorkingDay reports whether the local date of t is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	if c.always {
		return true, nil
	}
	d := DateOf(t, c.loc)
	if _, _, err := c.holidays.Lookup(d); err != nil {
		return false, err
	}
	return c.worksOn(d, t.In(c.loc).Weekday()), nil
}

// dayIndex returns i with dayStart[i] <= ns < dayStart[i+1].
func (c *Calendar) dayIndex(ns int64) (int, error) {
	n := len(c.dayStart) - 1
	if ns < c.dayStart[0] || ns >= c.dayStart[n] {
		y := time.Unix(0, ns).In(c.loc).Year()
		first, last := c.holidays.Years()
		return 0, fmt.Errorf("%w: %d (calendar %q has %d-%d; %s)", ErrNoCalendarData, y, c.name, first, last, addYearHint)
	}
	// Days are 24h except across DST changes: guess, then correct.
	i := int((ns - c.dayStart[0]) / int64(24*time.Hour))
	if i >= n {
		i = n - 1
	}
	for i > 0 && c.dayStart[i] > ns {
		i--
	}
	for i+1 < n && c.dayStart[i+1] <= ns {
		i++
	}
	return i, nil
}

// cum returns the working ns from the start of the table to ns.
func (c *Calendar) cum(ns int64) (int64, error) {
	i, err := c.dayIndex(ns)
	if err != nil {
		return 0, err
	}
	acc := c.prefix[i]
	for k := c.winOff[i]; k < c.winOff[i+1]; k++ {
		s, e := c.winS[k], c.winE[k]
		if ns <= s {
			break
		}
		if ns >= e {
			acc += e - s
		} else {
			acc += ns - s
		}
	}
	return acc, nil
}

// Between returns the working time in [a, b); zero if b is not after a.
// On a 7x24 calendar a span longer than a time.Duration holds (about 292
// years) is ErrInvalid.
func (c *Calendar) Between(a, b time.Time) (time.Duration, error) {
	if !b.After(a) {
		return 0, nil
	}
	if c.always {
		d := b.Sub(a)
		if !a.Add(d).Equal(b) {
			return 0, fieldErr("interval", "%s to %s is longer than %v", a.Format(time.DateOnly), b.Format(time.DateOnly), d)
		}
		return d, nil
	}
	ca, err := c.cum(a.UnixNano())
	if err != nil {
		return 0, err
	}
	// b may be exactly the end of the table.
	bn := b.UnixNano()
	var cb int64
	if bn == c.dayStart[len(c.dayStart)-1] {
		cb = c.prefix[len(c.prefix)-1]
	} else if cb, err = c.cum(bn); err != nil {
		return 0, err
	}
	return time.Duration(cb - ca), nil
}

// Add returns the earliest instant x >= t with Between(t, x) == d: the
// deadline of a clock started at t with d of working time to run. A target
// reached exactly at the end of a window is due at that end (12:00, not the
// 13:30 reopening). Add(t, 0) is t. Negative d is ErrInvalid.
func (c *Calendar) Add(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fieldErr("duration", "negative duration %v", d)
	}
	if d == 0 {
		return t, nil
	}
	if c.always {
		return t.Add(d), nil
	}
	ct, err := c.cum(t.UnixNano())
	if err != nil {
		return time.Time{}, err
	}
	target := ct + int64(d)
	n := len(c.prefix) - 1
	if target > c.prefix[n] {
		first, last := c.holidays.Years()
		return time.Time{}, fmt.Errorf("%w: deadline beyond %d (calendar %q has %d-%d; %s)", ErrNoCalendarData, last, c.name, first, last, addYearHint)
	}
	// Smallest day i whose end-of-day prefix reaches target: usually within
	// a few days of t, so look there first, then binary search.
	i0, _ := c.dayIndex(t.UnixNano())
	i := -1
	for j := i0; j < min(i0+8, n); j++ {
		if c.prefix[j+1] >= target {
			i = j
			break
		}
	}
	if i < 0 {
		i = i0 + sort.Search(n-i0, func(k int) bool { return c.prefix[i0+k+1] >= target })
	}
	rem := target - c.prefix[i]
	for k := c.winOff[i]; k < c.winOff[i+1]; k++ {
		l := c.winE[k] - c.winS[k]
		if rem <= l {
			return time.Unix(0, c.winS[k]+rem).In(t.Location()), nil
		}
		rem -= l
	}
	// Unreachable: prefix[i+1] >= target guarantees a window holds it.
	return time.Time{}, fmt.Errorf("%w: calendar table inconsistent", ErrInvalid)
}

// nextDayStart returns local midnight after t's date: where periods counted
// in days begin (Civil Code art. 201: the starting day is not counted).
func (c *Calendar) nextDayStart(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
}
