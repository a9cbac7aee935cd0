package main

import (
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/prometheus/client_golang/prometheus"
)

// anomalyCollector exports the red/yellow anomaly check that GET
// /admin/stats shows (today against the 14 days before, totals, causes and
// regions) as healthcoded_anomalies, computed at each scrape so that an
// alerting rule sees it as soon as the day's counts cross the band. Every
// colour, dimension and direction is exported, zero when quiet, so that a
// rule can tell "no anomaly" from "no data".
type anomalyCollector struct {
	a    *App
	desc *prometheus.Desc
}

func newAnomalyCollector(a *App) *anomalyCollector {
	return &anomalyCollector{a: a, desc: prometheus.NewDesc("healthcoded_anomalies",
		"Counts of today outside their baseline band (codes.CheckAnomalies): by colour, dimension (total, cause, region) and direction (rise, or drop, which can mean a feed failed). Zero while the baseline is shorter than its minimum.",
		[]string{"colour", "dimension", "direction"}, nil)}
}

func (c *anomalyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *anomalyCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ colour, dimension, direction string }
	counts := map[key]int{}
	for _, col := range []codes.Colour{codes.Red, codes.Yellow} {
		for _, dim := range []string{"total", "cause", "region"} {
			for _, dir := range []string{"rise", "drop"} {
				counts[key{col.String(), dim, dir}] = 0
			}
		}
	}
	if c.a.stats != nil {
		// A short baseline (ErrShortBaseline) leaves every count at zero.
		list, _ := c.a.anomalies(c.a.now())
		for _, x := range list {
			dir := "drop"
			if x.Rise {
				dir = "rise"
			}
			counts[key{x.Colour.String(), x.Dimension, dir}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k.colour, k.dimension, k.direction)
	}
}

// anomalies runs the red/yellow anomaly check of today against the days
// before (tender 2.2.6), "today" being the day of now.
func (a *App) anomalies(now time.Time) ([]codes.Anomaly, error) {
	today, baseline, _ := a.stats.window(now, demoDays)
	return checkAnomalies(today, baseline)
}

// checkAnomalies is the check over a window already read, for callers
// that show the window too.
func checkAnomalies(today codes.DayStats, baseline []codes.DayStats) ([]codes.Anomaly, error) {
	return codes.CheckAnomalies(baseline, today, codes.AnomalyConfig{Breakdowns: true})
}

// registerOpsMetrics registers what the shipped alerting rules watch
// beyond the HTTP, lookup and feed metrics: the anomaly check and the
// calls that found the code store unavailable.
func (a *App) registerOpsMetrics() {
	a.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "healthcoded", Name: "store_errors_total",
		Help: "Requests answered 503 because the code store was unavailable or too slow (codes.ErrUnavailable, the store timeout), by operation.",
	}, []string{"op"})
	a.storeErrors.WithLabelValues("display") // export a series before the first error
	a.metrics.Registry.MustRegister(a.storeErrors, newAnomalyCollector(a))
}
