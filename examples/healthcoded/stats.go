package main

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/prometheus/client_golang/prometheus"
)

// colourNames maps the API's colour names to codes colours.
var colourNames = map[string]codes.Colour{"green": codes.Green, "yellow": codes.Yellow, "red": codes.Red}

func parseColour(s string) (codes.Colour, bool) {
	c, ok := colourNames[s]
	return c, ok
}

// dayCounts are one day's codes issued (changes applied), by colour, and by
// colour then cause or region. It is the JSON form of codes.DayStats.
type dayCounts struct {
	ByColour map[string]int            `json:"by_colour"`
	ByCause  map[string]map[string]int `json:"by_cause"`
	ByRegion map[string]map[string]int `json:"by_region"`
}

func (d *dayCounts) add(c codes.Colour, cause, region string) {
	col := c.String()
	d.ByColour[col]++
	inc := func(m map[string]map[string]int, label string) {
		if m[col] == nil {
			m[col] = map[string]int{}
		}
		m[col][label]++
	}
	inc(d.ByCause, cause)
	if region != "" {
		inc(d.ByRegion, region)
	}
}

func (d *dayCounts) dayStats(day time.Time) codes.DayStats {
	s := codes.DayStats{Day: day, ByColour: map[codes.Colour]int{},
		ByCause: map[codes.Colour]map[string]int{}, ByRegion: map[codes.Colour]map[string]int{}}
	for name, c := range colourNames {
		s.ByColour[c] = d.ByColour[name]
		s.ByCause[c] = maps.Clone(d.ByCause[name])
		s.ByRegion[c] = maps.Clone(d.ByRegion[name])
	}
	return s
}

// clone copies d deeply, so that it can be read after the lock that
// guards d is released.
func (d *dayCounts) clone() dayCounts {
	c := dayCounts{ByColour: maps.Clone(d.ByColour), ByCause: map[string]map[string]int{}, ByRegion: map[string]map[string]int{}}
	for k, m := range d.ByCause {
		c.ByCause[k] = maps.Clone(m)
	}
	for k, m := range d.ByRegion {
		c.ByRegion[k] = maps.Clone(m)
	}
	return c
}

// dailyStats keeps the counts per day (Asia/Shanghai days), persisted as
// JSON in the data directory. Safe for concurrent use.
type dailyStats struct {
	path string
	mu   sync.Mutex
	days map[string]*dayCounts // "2006-01-02" -> counts
}

var shanghai = time.FixedZone("CST", 8*3600) // China has kept UTC+8 without DST since 1991

func dayOf(t time.Time) string { return t.In(shanghai).Format(time.DateOnly) }

func loadStats(path string) (*dailyStats, error) {
	s := &dailyStats{path: path, days: map[string]*dayCounts{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.days); err != nil {
		return nil, &serve.BodyError{Field: path, Err: err}
	}
	return s, nil
}

func (s *dailyStats) record(t time.Time, c codes.Colour, cause, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := dayOf(t)
	d := s.days[k]
	if d == nil {
		d = &dayCounts{ByColour: map[string]int{}, ByCause: map[string]map[string]int{}, ByRegion: map[string]map[string]int{}}
		s.days[k] = d
	}
	d.add(c, cause, region)
}

// window returns the counts of day and of the n days before it (oldest
// first), as codes.DayStats; days without changes count zero. What it
// returns is a copy: record may go on while the caller reads it.
func (s *dailyStats) window(day time.Time, n int) (today codes.DayStats, baseline []codes.DayStats, json map[string]dayCounts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	json = map[string]dayCounts{}
	get := func(t time.Time) codes.DayStats {
		k := dayOf(t)
		d := s.days[k]
		if d == nil {
			d = &dayCounts{ByColour: map[string]int{}, ByCause: map[string]map[string]int{}, ByRegion: map[string]map[string]int{}}
		}
		json[k] = d.clone()
		mid, _ := time.ParseInLocation(time.DateOnly, k, shanghai)
		return d.dayStats(mid)
	}
	for i := n; i >= 1; i-- {
		baseline = append(baseline, get(day.Add(-time.Duration(i)*24*time.Hour)))
	}
	return get(day), baseline, json
}

func (s *dailyStats) save() error {
	s.mu.Lock()
	b, err := json.Marshal(s.days)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// colourGauge exports how many keys are in force at each colour.
type colourGauge struct {
	g *prometheus.GaugeVec
}

func newColourGauge(m *serve.Metrics) *colourGauge {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "healthcoded", Name: "codes_in_force",
		Help: "Keys whose last recorded state has each colour (expiry not applied).",
	}, []string{"colour"})
	m.Registry.MustRegister(g)
	for name := range colourNames {
		g.WithLabelValues(name)
	}
	return &colourGauge{g: g}
}

// registerLookupMetrics exports how lookups were answered (filter, cache,
// store) and the cache hit ratio, read from the registry at scrape time.
func registerLookupMetrics(m *serve.Metrics, reg *codes.Registry) {
	for _, x := range []struct {
		by string
		fn func(codes.LookupStats) uint64
	}{
		{"filter", func(s codes.LookupStats) uint64 { return s.FilterGreen }},
		{"cache", func(s codes.LookupStats) uint64 { return s.CacheHits }},
		{"store", func(s codes.LookupStats) uint64 { return s.StoreReads }},
	} {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "healthcoded", Name: "lookups_total",
			Help:        "Code lookups by what answered them: the non-green filter alone (green), the cache, or the store.",
			ConstLabels: prometheus.Labels{"answered_by": x.by},
		}, func() float64 { return float64(x.fn(reg.LookupStats())) }))
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "healthcoded", Name: "cache_hit_ratio",
		Help: "Share of lookups past the filter that the cache answered (0 before any).",
	}, func() float64 {
		s := reg.LookupStats()
		if s.CacheHits+s.StoreReads == 0 {
			return 0
		}
		return float64(s.CacheHits) / float64(s.CacheHits+s.StoreReads)
	}))
}

func (c *colourGauge) add(col codes.Colour, n float64) { c.g.WithLabelValues(col.String()).Add(n) }

// registerFeedMetrics exports the registry's progress along a shared
// store's change feed: how far it has read, how late the last record was
// applied, and the failed reads it retried.
func registerFeedMetrics(m *serve.Metrics, reg *codes.Registry) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "healthcoded", Name: "feed_position",
			Help: "Position of the last change-feed record this node has applied."},
			func() float64 { return float64(reg.FeedStats().Pos) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "healthcoded", Name: "feed_lag_seconds",
			Help: "From the commit of the last feed record applied to its application on this node."},
			func() float64 { return reg.FeedStats().Lag.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "healthcoded", Name: "feed_errors_total",
			Help: "Failed reads of the change feed, each retried."},
			func() float64 { return float64(reg.FeedStats().Errors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "healthcoded", Name: "feed_reloads_total",
			Help: "Full reloads after the feed was pruned past this node's position."},
			func() float64 { return float64(reg.FeedStats().Resyncs) }),
	)
}
