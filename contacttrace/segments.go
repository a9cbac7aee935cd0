package contacttrace

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Segments is a scan index held as immutable segments, one per day: what
// a server ingesting a province's scans day after day keeps. Appending a
// day builds that day's segment alone, so its cost is the day's scans,
// not everything held (an [Index.Append] copies the whole index); scans
// for a day already held are merged into that day's segment only; and
// days older than the retention window are dropped at once, by letting go
// of their segments. A [Tracer] from [NewSegmentTracer] answers queries
// over all of them as over one index.
//
// Segments is immutable: Append and Retain return a new value sharing the
// unchanged segments, and the old one stays usable. It is safe for
// concurrent use.
type Segments struct {
	cfg  SegmentConfig
	segs []segment // ascending by day
}

// segment is one day's index and its span.
type segment struct {
	day         int64 // unix seconds of the day's start
	ix          *Index
	first, last int64 // earliest and latest scan
}

// SegmentConfig sets how scans are cut into days and how many are kept.
// The zero value is usable.
type SegmentConfig struct {
	// Location decides where a day begins (Asia/Shanghai for a Chinese
	// province); nil means UTC.
	Location *time.Location
	// RetainDays is how many days are kept, counted back from the latest
	// day held: older segments are dropped as a newer day arrives, and
	// scans for them are ignored. Zero means DefaultRetainDays (21: the
	// incubation windows epidemiologists trace over); negative keeps
	// everything.
	RetainDays int
}

// DefaultRetainDays is the retention window of a zero SegmentConfig.
const DefaultRetainDays = 21

func (c SegmentConfig) withDefaults() SegmentConfig {
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.RetainDays == 0 {
		c.RetainDays = DefaultRetainDays
	}
	return c
}

// NewSegments returns an empty index with cfg.
func NewSegments(cfg SegmentConfig) *Segments {
	return &Segments{cfg: cfg.withDefaults()}
}

// dayStart returns the start (unix seconds) of the day holding t.
func (s *Segments) dayStart(t int64) int64 {
	lo, _ := s.dayBounds(t)
	return lo
}

// dayBounds returns the start of the day holding t and of the next (a day
// is 23 or 25 hours where clocks change).
func (s *Segments) dayBounds(t int64) (lo, hi int64) {
	y, m, d := time.Unix(t, 0).In(s.cfg.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location).Unix(), time.Date(y, m, d+1, 0, 0, 0, 0, s.cfg.Location).Unix()
}

// Append returns an index holding s's scans and scans, cut by day: a new
// day becomes a segment of its own, built from its scans alone; scans of
// a day s holds are merged into that day's segment, which is rebuilt
// (cost: that day). Then days beyond the retention window are dropped.
// s is not changed. Append returns ctx.Err() if ctx is cancelled.
func (s *Segments) Append(ctx context.Context, scans []Scan, cfg Config) (*Segments, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Group by day; a batch is typically one day, so most of the time
	// there is one group and no copy. A day's bounds are computed once
	// and each scan compared with them (a calendar lookup per scan cost
	// more than building the day).
	type group struct {
		day   int64
		scans []Scan
	}
	var groups []group
	if len(scans) > 0 {
		lo, hi := s.dayBounds(scans[0].Time)
		oneDay := true
		for _, sc := range scans {
			if sc.Time < lo || sc.Time >= hi {
				oneDay = false
				break
			}
		}
		if oneDay {
			groups = append(groups, group{lo, scans})
		} else {
			// Two passes: count each day's scans, then copy them into one
			// buffer cut by day, so nothing regrows.
			count := map[int64]int{}
			for _, sc := range scans {
				if sc.Time < lo || sc.Time >= hi {
					lo, hi = s.dayBounds(sc.Time)
				}
				count[lo]++
			}
			for d := range count {
				groups = append(groups, group{day: d})
			}
			slices.SortFunc(groups, func(a, b group) int { return cmpInt(a.day, b.day) })
			buf := make([]Scan, len(scans))
			at := map[int64]int{}
			off := 0
			for i := range groups {
				n := count[groups[i].day]
				groups[i].scans = buf[off : off : off+n]
				at[groups[i].day] = i
				off += n
			}
			for _, sc := range scans {
				if sc.Time < lo || sc.Time >= hi {
					lo, hi = s.dayBounds(sc.Time)
				}
				g := &groups[at[lo]]
				g.scans = append(g.scans, sc)
			}
		}
	}
	out := &Segments{cfg: s.cfg, segs: slices.Clone(s.segs)}
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out.expired(g.day) {
			continue
		}
		i, found := slices.BinarySearchFunc(out.segs, g.day, func(sg segment, d int64) int { return cmpInt(sg.day, d) })
		var ix *Index
		var err error
		if found {
			ix, err = out.segs[i].ix.Append(ctx, g.scans, cfg)
		} else {
			ix, err = Build(ctx, g.scans, cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("contacttrace: day %s: %w", time.Unix(g.day, 0).In(s.cfg.Location).Format(time.DateOnly), err)
		}
		sg := newSegment(g.day, ix)
		if found {
			out.segs[i] = sg
		} else {
			out.segs = slices.Insert(out.segs, i, sg)
		}
		out.dropExpired()
	}
	return out, nil
}

func newSegment(day int64, ix *Index) segment {
	sg := segment{day: day, ix: ix}
	if first, last, ok := ix.Span(); ok {
		sg.first, sg.last = first.Unix(), last.Unix()
	} else {
		sg.first, sg.last = day, day-1 // empty: overlaps nothing
	}
	return sg
}

// expired reports whether a day is beyond the retention window counted
// back from the latest day held.
func (s *Segments) expired(day int64) bool {
	if s.cfg.RetainDays < 0 || len(s.segs) == 0 {
		return false
	}
	return day < s.cutoff()
}

// cutoff is the start of the oldest day kept.
func (s *Segments) cutoff() int64 {
	latest := time.Unix(s.segs[len(s.segs)-1].day, 0).In(s.cfg.Location)
	y, m, d := latest.Date()
	return time.Date(y, m, d-(s.cfg.RetainDays-1), 0, 0, 0, 0, s.cfg.Location).Unix()
}

func (s *Segments) dropExpired() {
	if s.cfg.RetainDays < 0 || len(s.segs) == 0 {
		return
	}
	cut := s.cutoff()
	i := 0
	for i < len(s.segs) && s.segs[i].day < cut {
		i++
	}
	s.segs = s.segs[i:]
}

// Retain returns the index without the days that began before from; s is
// not changed. A server calls it to apply a retention window shorter than
// its configuration's, or to drop days on a clock of its own.
func (s *Segments) Retain(from time.Time) *Segments {
	cut := s.dayStart(from.Unix())
	i := 0
	for i < len(s.segs) && s.segs[i].day < cut {
		i++
	}
	return &Segments{cfg: s.cfg, segs: slices.Clone(s.segs[i:])}
}

// Days returns the start of each day held, oldest first.
func (s *Segments) Days() []time.Time {
	out := make([]time.Time, len(s.segs))
	for i, sg := range s.segs {
		out[i] = time.Unix(sg.day, 0).In(s.cfg.Location)
	}
	return out
}

// Day returns the index of the day starting at day, if held.
func (s *Segments) Day(day time.Time) (*Index, bool) {
	i, found := slices.BinarySearchFunc(s.segs, day.Unix(), func(sg segment, d int64) int { return cmpInt(sg.day, d) })
	if !found {
		return nil, false
	}
	return s.segs[i].ix, true
}

// Len is the number of scans held.
func (s *Segments) Len() int {
	n := 0
	for _, sg := range s.segs {
		n += sg.ix.Len()
	}
	return n
}

// Bytes is the memory held by the segments' columns.
func (s *Segments) Bytes() int64 {
	var n int64
	for _, sg := range s.segs {
		n += sg.ix.Bytes()
	}
	return n
}

// NumPersons is one more than the largest person id held.
func (s *Segments) NumPersons() int {
	n := 0
	for _, sg := range s.segs {
		n = max(n, sg.ix.NumPersons())
	}
	return n
}

// VenueScans appends to dst the scans at venue v with from <= Time <= to,
// in time order, ties by person (as [Index.VenueScans]).
func (s *Segments) VenueScans(dst []Scan, v uint32, from, to time.Time) []Scan {
	lo, hi := inclusiveSeconds(from, to)
	n := len(dst)
	for _, sg := range s.segs {
		if sg.last >= lo && sg.first <= hi {
			dst = sg.ix.VenueScans(dst, v, from, to)
		}
	}
	// Days are disjoint and ascending, so the days' runs are in order;
	// the check keeps that true should a segment ever hold another day.
	if !slices.IsSortedFunc(dst[n:], compareVenueScan) {
		slices.SortFunc(dst[n:], compareVenueScan)
	}
	return dst
}

// compareVenueScan orders one venue's scans: by time, then person.
func compareVenueScan(a, b Scan) int {
	if c := cmpInt(a.Time, b.Time); c != 0 {
		return c
	}
	return cmpInt(a.Person, b.Person)
}

// PersonScans appends to dst person p's scans with from <= Time <= to, in
// time order, ties by venue (as [Index.PersonScans]).
func (s *Segments) PersonScans(dst []Scan, p uint32, from, to time.Time) []Scan {
	lo, hi := inclusiveSeconds(from, to)
	n := len(dst)
	for _, sg := range s.segs {
		if sg.last >= lo && sg.first <= hi {
			dst = sg.ix.appendPersonScans(dst, p, lo, hi)
		}
	}
	slices.SortFunc(dst[n:], compareScan)
	return dst
}

// NewSegmentTracer returns a tracer over the segments' scans (as one
// index) and trips (nil: none). The tracer holds the segments it was
// given: after an Append, make a new tracer for the new value.
func NewSegmentTracer(s *Segments, trips *Trips, cfg Config) (*Tracer, error) {
	t, err := NewTracer(nil, trips, cfg)
	if err != nil {
		return nil, err
	}
	t.segs = make([]segment, len(s.segs))
	copy(t.segs, s.segs)
	if len(t.segs) == 1 {
		t.scans, t.segs = t.segs[0].ix, nil
	}
	return t, nil
}
