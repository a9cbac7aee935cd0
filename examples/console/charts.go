package console

import (
	"bytes"
	"html/template"
)

// charts are the statistics' charts, as markup for the pages.
type charts struct {
	Days    template.HTML // codes issued per day by colour
	Causes  template.HTML
	Regions template.HTML
}

// daysTable is the codes-per-day chart as a table, until the SVG charts
// are in.
var daysTable = template.Must(template.New("days").Parse(`<table class="chart-table"><thead><tr><th>{{.T.date}}</th><th>{{.T.red}}</th><th>{{.T.yellow}}</th><th>{{.T.green}}</th></tr></thead><tbody>{{range .Days}}<tr><td>{{.Date}}</td><td>{{.Red}}</td><td>{{.Yellow}}</td><td>{{.Green}}</td></tr>{{end}}</tbody></table>`))

func makeCharts(st StatsView, t map[string]string) charts {
	var b bytes.Buffer
	if err := daysTable.Execute(&b, map[string]any{"T": t, "Days": st.Days}); err != nil {
		return charts{}
	}
	return charts{Days: template.HTML(b.String())}
}
