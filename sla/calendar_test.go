package sla

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var cst = ChinaStandardTime()

func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, cst)
}

func office(t testing.TB) *Calendar {
	t.Helper()
	c, err := NewWorkingCalendar(WorkingConfig{Name: "office"})
	require.NoError(t, err)
	return c
}

// The official schedules, spot-checked day by day against the notices.
func TestChinaMainlandDays(t *testing.T) {
	h := ChinaMainland()
	first, last := h.Years()
	require.Equal(t, 2020, first)
	require.Equal(t, 2026, last)
	tests := []struct {
		date string
		want DayKind
		why  string
	}{
		{"2020-01-19", Workday, "2020 Spring Festival make-up Sunday, kept despite the extension"},
		{"2020-01-31", Off, "2020 Spring Festival extended for COVID-19"},
		{"2020-02-01", Off, "Saturday planned as make-up day, cancelled by the extension"},
		{"2020-02-02", Off, "last day of the extended 2020 Spring Festival"},
		{"2020-02-03", Ordinary, "back to work Monday 3 Feb 2020"},
		{"2020-10-08", Off, "2020 National Day + Mid-Autumn, 8 days"},
		{"2020-10-10", Workday, "2020 make-up Saturday"},
		{"2021-09-18", Workday, "2021 Mid-Autumn make-up Saturday"},
		{"2022-04-02", Workday, "2022 Qingming make-up Saturday"},
		{"2022-12-31", Off, "2023 New Year holiday began on 31 Dec 2022"},
		{"2023-01-02", Off, "2023 New Year Monday"},
		{"2023-01-29", Workday, "2023 Spring Festival make-up Sunday"},
		{"2023-04-05", Off, "2023 Qingming, a single Wednesday"},
		{"2024-02-18", Workday, "2024 Spring Festival make-up Sunday"},
		{"2024-02-17", Off, "2024 Spring Festival, 8 days"},
		{"2025-01-28", Off, "2025 New Year's Eve is now a statutory holiday"},
		{"2025-02-04", Off, "2025 Spring Festival, 8 days"},
		{"2025-02-08", Workday, "2025 make-up Saturday"},
		{"2025-05-05", Off, "2025 Labour Day, 5 days with 2 May statutory"},
		{"2025-04-27", Workday, "2025 Labour Day's only make-up day"},
		{"2025-05-10", Ordinary, "no second Labour Day make-up day in 2025"},
		{"2025-10-08", Off, "2025 National Day + Mid-Autumn"},
		{"2026-01-04", Workday, "2026 New Year make-up Sunday"},
		{"2026-02-23", Off, "2026 Spring Festival, 9 days"},
		{"2026-02-28", Workday, "2026 make-up Saturday"},
		{"2026-09-20", Workday, "2026 National Day make-up Sunday"},
		{"2026-09-25", Off, "2026 Mid-Autumn"},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			d, err := ParseDate(tc.date)
			require.NoError(t, err)
			kind, _, err := h.Lookup(d)
			require.NoError(t, err)
			require.Equal(t, tc.want, kind, tc.why)
		})
	}
	for _, y := range []int{2019, 2027} {
		_, _, err := h.Lookup(Date{y, 3, 1})
		require.ErrorIs(t, err, ErrNoCalendarData)
	}
}

// Working days per year, computed by hand from each notice as
// weekdays in the year - holidays falling on weekdays + make-up days:
//
//	2020: 262 - 19 (1+6+1+3+2+6) + 6 = 249
//	2021: 261 - 18 (1+5+1+3+1+2+5) + 7 = 250
//	2022: 260 - 18 (1+5+2+3+1+1+5) + 7 = 249
//	2023: 260 - 18 (1+5+1+3+2+6) + 7 = 249
//	2024: 262 - 19 (1+5+2+3+1+2+5) + 8 = 251
//	2025: 261 - 18 (1+6+1+3+1+6) + 5 = 248
//	2026: 261 - 19 (2+6+1+3+1+1+5) + 6 = 248
//
// One wrong date anywhere in a year changes its count.
func TestChinaMainlandWorkingDaysPerYear(t *testing.T) {
	h := ChinaMainland()
	want := map[int]int{2020: 249, 2021: 250, 2022: 249, 2023: 249, 2024: 251, 2025: 248, 2026: 248}
	for y, n := range want {
		got := 0
		for d := (Date{y, 1, 1}); d.Year == y; d = d.next() {
			kind, _, err := h.Lookup(d)
			require.NoError(t, err)
			wd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
			if kind == Workday || (kind == Ordinary && wd != time.Saturday && wd != time.Sunday) {
				got++
			}
		}
		require.Equal(t, n, got, "working days in %d", y)
	}
}

func TestCalendarBetweenAdd(t *testing.T) {
	c := office(t)
	tests := []struct {
		name     string
		from, to time.Time
		work     time.Duration
	}{
		// Mon 2024-03-04 10:00 -> 12:00 is 2h.
		{"same morning", at(2024, 3, 4, 10, 0), at(2024, 3, 4, 12, 0), 2 * time.Hour},
		// 11:00 -> 14:00: 1h morning + 30 min after 13:30.
		{"over lunch", at(2024, 3, 4, 11, 0), at(2024, 3, 4, 14, 0), 90 * time.Minute},
		// Fri 16:30 -> Mon 10:00: 1h Fri + 1h Mon.
		{"weekend", at(2024, 3, 8, 16, 30), at(2024, 3, 11, 10, 0), 2 * time.Hour},
		// Fri 2024-02-09 16:30 -> Sun 2024-02-18 10:00 (make-up Sunday):
		// 1h Fri, Feb 10-17 off, Feb 18 worked 09:00-10:00: 2h.
		{"spring festival into make-up Sunday", at(2024, 2, 9, 16, 30), at(2024, 2, 18, 10, 0), 2 * time.Hour},
		// Year boundary: Tue 2024-12-31 17:00 -> Thu 2025-01-02 09:30:
		// 30 min on the 31st, Jan 1 off, 30 min on the 2nd.
		{"new year", at(2024, 12, 31, 17, 0), at(2025, 1, 2, 9, 30), time.Hour},
		// A whole working day is 7h.
		{"one day", at(2024, 3, 4, 0, 0), at(2024, 3, 5, 0, 0), 7 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Between(tc.from, tc.to)
			require.NoError(t, err)
			require.Equal(t, tc.work, got)
			end, err := c.Add(tc.from, tc.work)
			require.NoError(t, err)
			// Add gives the earliest instant; it may precede tc.to when tc.to
			// lies outside working hours.
			back, err := c.Between(tc.from, end)
			require.NoError(t, err)
			require.Equal(t, tc.work, back)
			require.False(t, end.After(tc.to))
		})
	}
	// A target reached at the end of the morning is due at 12:00, not 13:30.
	end, err := c.Add(at(2024, 3, 4, 11, 0), time.Hour)
	require.NoError(t, err)
	require.Equal(t, at(2024, 3, 4, 12, 0), end)
	// Starting outside hours: Sat 2024-03-09 20:00 + 1 min -> Mon 09:01.
	end, err = c.Add(at(2024, 3, 9, 20, 0), time.Minute)
	require.NoError(t, err)
	require.Equal(t, at(2024, 3, 11, 9, 1), end)
}

func TestCalendarNoData(t *testing.T) {
	c := office(t)
	_, err := c.Between(at(2019, 12, 31, 9, 0), at(2020, 1, 2, 9, 0))
	require.ErrorIs(t, err, ErrNoCalendarData)
	_, err = c.Add(at(2026, 12, 31, 9, 0), 100*time.Hour)
	require.ErrorIs(t, err, ErrNoCalendarData)
	_, err = c.Add(at(2027, 1, 4, 9, 0), time.Hour)
	require.ErrorIs(t, err, ErrNoCalendarData)
	// The very end of the data is reachable.
	d, err := c.Between(at(2026, 12, 31, 9, 0), time.Date(2027, 1, 1, 0, 0, 0, 0, cst))
	require.NoError(t, err)
	require.Equal(t, 7*time.Hour, d)
}

func TestWorkingConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   WorkingConfig
		field string
	}{
		{"overlap", WorkingConfig{Windows: []Window{{9 * time.Hour, 12 * time.Hour}, {11 * time.Hour, 13 * time.Hour}}}, "Windows[1]"},
		{"past midnight", WorkingConfig{Windows: []Window{{20 * time.Hour, 25 * time.Hour}}}, "Windows[0]"},
		{"bad weekday", WorkingConfig{Weekdays: []time.Weekday{9}}, "Weekdays[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.Equal(t, tc.field, fe.Field)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
	require.NoError(t, WorkingConfig{}.Validate())
}

func TestParseWindow(t *testing.T) {
	w, err := ParseWindow("13:30-17:30")
	require.NoError(t, err)
	require.Equal(t, Window{13*time.Hour + 30*time.Minute, 17*time.Hour + 30*time.Minute}, w)
	w, err = ParseWindow("00:00-24:00")
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, w.End)
	for _, bad := range []string{"9:00-12:00", "12:00-09:00", "24:30-25:00", "0900-1200", "09:60-10:00"} {
		_, err := ParseWindow(bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}

// minuteWalk is the oracle: it inspects every minute.
func minuteWalkWorking(c *Calendar, t time.Time) bool {
	if c.always {
		return true
	}
	ok, err := c.IsWorkingDay(t)
	if err != nil || !ok {
		return false
	}
	lt := t.In(c.loc)
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute
	for _, w := range c.windows {
		if tod >= w.Start && tod < w.End {
			return true
		}
	}
	return false
}

func minuteWalkBetween(c *Calendar, a, b time.Time) time.Duration {
	var n time.Duration
	for t := a; t.Before(b); t = t.Add(time.Minute) {
		if minuteWalkWorking(c, t) {
			n += time.Minute
		}
	}
	return n
}

func minuteWalkAdd(c *Calendar, a time.Time, d time.Duration) time.Time {
	if d == 0 {
		return a
	}
	for t := a; ; t = t.Add(time.Minute) {
		if minuteWalkWorking(c, t) {
			d -= time.Minute
			if d == 0 {
				return t.Add(time.Minute)
			}
		}
	}
}

// The prefix-sum calendar agrees with the minute walk on random intervals
// around holidays, make-up days and year boundaries, in two calendars.
func TestCalendarMatchesMinuteWalk(t *testing.T) {
	office := office(t)
	split, err := NewWorkingCalendar(WorkingConfig{Name: "split", Windows: []Window{
		{0, 30 * time.Minute}, {8 * time.Hour, 12 * time.Hour}, {14 * time.Hour, 18 * time.Hour}, {23 * time.Hour, 24 * time.Hour},
	}, Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}})
	require.NoError(t, err)
	// Anchors: days where something happens.
	anchors := []time.Time{
		at(2020, 1, 17, 0, 0), at(2020, 1, 30, 0, 0), at(2020, 12, 30, 0, 0), at(2021, 9, 17, 0, 0),
		at(2022, 12, 29, 0, 0), at(2023, 9, 27, 0, 0), at(2024, 2, 8, 0, 0), at(2024, 12, 30, 0, 0),
		at(2025, 1, 25, 0, 0), at(2025, 4, 26, 0, 0), at(2025, 9, 27, 0, 0), at(2026, 2, 12, 0, 0),
		at(2026, 12, 29, 0, 0),
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, c := range []*Calendar{office, split} {
		for i := 0; i < 300; i++ {
			base := anchors[rng.IntN(len(anchors))]
			a := base.Add(time.Duration(rng.IntN(4*24*60)) * time.Minute)
			if a.Year() == 2026 && a.Month() == 12 && a.Day() > 30 {
				a = a.AddDate(0, 0, -2)
			}
			span := time.Duration(rng.IntN(6*24*60)) * time.Minute
			b := a.Add(span)
			if b.Year() > 2026 {
				b = time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
			}
			want := minuteWalkBetween(c, a, b)
			got, err := c.Between(a, b)
			require.NoError(t, err)
			require.Equal(t, want, got, "%s Between(%v, %v)", c.Name(), a, b)

			d := time.Duration(rng.IntN(int(want/time.Minute)+1)) * time.Minute
			wantEnd := minuteWalkAdd(c, a, d)
			gotEnd, err := c.Add(a, d)
			require.NoError(t, err)
			require.True(t, wantEnd.Equal(gotEnd), "%s Add(%v, %v) = %v, oracle %v", c.Name(), a, d, gotEnd, wantEnd)
		}
	}
}

// A zone with daylight saving still gives exact answers: the table is built
// from real instants. (Mainland China has none; this guards user zones.)
func TestCalendarDSTZone(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata on this host")
	}
	c, err := NewWorkingCalendar(WorkingConfig{Location: loc, Windows: []Window{{0, 24 * time.Hour}}, Weekdays: []time.Weekday{0, 1, 2, 3, 4, 5, 6}})
	require.NoError(t, err)
	// 2024-03-31 is a Sunday with 23 hours in Berlin; not a Chinese holiday.
	a := time.Date(2024, 3, 31, 0, 0, 0, 0, loc)
	b := time.Date(2024, 4, 1, 0, 0, 0, 0, loc)
	got, err := c.Between(a, b)
	require.NoError(t, err)
	require.Equal(t, 23*time.Hour, got)
}

// Holidays are data: a user-supplied set for other years works the same,
// and years outside it are refused.
func TestCustomHolidays(t *testing.T) {
	h, err := ParseHolidays([]byte(`
- year: 2030
  notice: test notice
  holidays:
    - {name: 春节, off: [2030-02-04..2030-02-08], work: [2030-02-09]}
`))
	require.NoError(t, err)
	require.Equal(t, "test notice", h.Notice(2030))
	c, err := NewWorkingCalendar(WorkingConfig{Name: "2030", Holidays: h, Windows: []Window{{9 * time.Hour, 17 * time.Hour}}})
	require.NoError(t, err)
	// Fri 2030-02-01 16:00 + 2 h: 1 h on Friday, Mon-Fri 4-8 Feb off, the
	// make-up Saturday 9 Feb 09:00 + 1 h = 10:00.
	due, err := c.Add(time.Date(2030, 2, 1, 16, 0, 0, 0, cst), 2*time.Hour)
	require.NoError(t, err)
	require.Equal(t, time.Date(2030, 2, 9, 10, 0, 0, 0, cst), due)
	_, err = c.Between(time.Date(2029, 12, 31, 9, 0, 0, 0, cst), time.Date(2030, 1, 2, 9, 0, 0, 0, cst))
	require.ErrorIs(t, err, ErrNoCalendarData)
	ok, err := c.IsWorkingDay(time.Date(2030, 2, 9, 12, 0, 0, 0, cst))
	require.NoError(t, err)
	require.True(t, ok)
}

// Properties at nanosecond resolution, where the minute walk cannot go:
// Between is additive, Add inverts Between, and Add is the earliest such
// instant.
func TestCalendarProperties(t *testing.T) {
	c := office(t)
	rng := rand.New(rand.NewPCG(3, 9))
	lo := at(2020, 1, 1, 0, 0).UnixNano()
	span := at(2026, 12, 20, 0, 0).UnixNano() - lo
	for i := 0; i < 2000; i++ {
		a := time.Unix(0, lo+rng.Int64N(span))
		b := a.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour))))
		m := a.Add(b.Sub(a) / 3)
		ab, err := c.Between(a, b)
		require.NoError(t, err)
		am, err := c.Between(a, m)
		require.NoError(t, err)
		mb, err := c.Between(m, b)
		require.NoError(t, err)
		require.Equal(t, ab, am+mb)

		d := time.Duration(rng.Int64N(int64(30 * time.Hour)))
		end, err := c.Add(a, d)
		require.NoError(t, err)
		got, err := c.Between(a, end)
		require.NoError(t, err)
		require.Equal(t, d, got, "Add(%v, %v) = %v", a, d, end)
		if d > 0 {
			early, err := c.Between(a, end.Add(-1))
			require.NoError(t, err)
			require.Less(t, early, d, "Add(%v, %v) is not the earliest instant", a, d)
		}
	}
}
