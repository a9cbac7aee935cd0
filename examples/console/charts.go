package console

import (
	"html/template"

	"github.com/healthcode-sdk/healthcode/examples/console/svgchart"
)

// charts are the statistics' charts, as SVG markup rendered on the server
// (svgchart): nothing runs in the browser and nothing is fetched.
type charts struct {
	Days    template.HTML // codes issued per day by colour
	Causes  template.HTML // red/yellow causes ranked
	Regions template.HTML // red/yellow codes by region
	// VenueDays is scans a day at every venue; TopVenues the venues
	// most scanned over 7 days. Both empty without venue statistics.
	VenueDays template.HTML
	TopVenues template.HTML
}

// Code colours as the charts draw them.
const (
	colourRed    = "#d93025"
	colourYellow = "#f2a900"
	colourGreen  = "#1e8e3e"
	colourBar    = "#3b6fb6"
)

// maxRanked is how many causes or regions a ranking shows.
const maxRanked = 10

// makeCharts draws the statistics. A chart that cannot be drawn (bad
// figures) is left out rather than failing the page; the tables beside
// it still show the numbers.
func makeCharts(st StatsView, t map[string]string) charts {
	var out charts
	labels := make([]string, len(st.Days))
	red, yellow, green := make([]float64, len(st.Days)), make([]float64, len(st.Days)), make([]float64, len(st.Days))
	for i, d := range st.Days {
		labels[i] = shortDate(d.Date)
		red[i], yellow[i], green[i] = float64(d.Red), float64(d.Yellow), float64(d.Green)
	}
	if h, err := svgchart.Bars(svgchart.Chart{Title: t["days"], Labels: labels, Stacked: true, Series: []svgchart.Series{
		{Name: t["red"], Colour: colourRed, Values: red},
		{Name: t["yellow"], Colour: colourYellow, Values: yellow},
		{Name: t["green"], Colour: colourGreen, Values: green},
	}}); err == nil {
		out.Days = h
	}
	ranking := func(title string, rs []Ranked) template.HTML {
		if len(rs) == 0 {
			return ""
		}
		if len(rs) > maxRanked {
			rs = rs[:maxRanked]
		}
		labels, values := make([]string, len(rs)), make([]float64, len(rs))
		for i, r := range rs {
			labels[i], values[i] = r.Label, float64(r.Count)
		}
		h, err := svgchart.HBars(svgchart.Chart{Title: title, Labels: labels, Height: 40 + 28*len(rs),
			Series: []svgchart.Series{{Name: title, Colour: colourBar, Values: values}}})
		if err != nil {
			return ""
		}
		return h
	}
	out.Causes = ranking(t["causes"], st.Causes)
	out.Regions = ranking(t["regions"], st.Regions)
	if v := st.Venues; v != nil {
		labels, scans := make([]string, len(v.Days)), make([]float64, len(v.Days))
		for i, d := range v.Days {
			labels[i], scans[i] = shortDate(d.Date), float64(d.Scans)
		}
		if h, err := svgchart.Bars(svgchart.Chart{Title: t["scans_per_day"], Labels: labels,
			Series: []svgchart.Series{{Name: t["scans"], Colour: colourBar, Values: scans}}}); err == nil {
			out.VenueDays = h
		}
		top := make([]Ranked, len(v.TopWeek))
		for i, r := range v.TopWeek {
			top[i] = Ranked{Label: r.Name, Count: r.Scans}
		}
		out.TopVenues = ranking(t["top_week"], top)
	}
	return out
}

// shortDate is MM-DD of a "2006-01-02" date, which fits under a bar.
func shortDate(d string) string {
	if len(d) == len("2006-01-02") {
		return d[5:]
	}
	return d
}
