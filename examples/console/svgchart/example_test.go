package svgchart_test

import (
	"fmt"
	"html/template"
	"os"
	"strings"

	"github.com/healthcode-sdk/healthcode/examples/console/svgchart"
)

func ExampleBars() {
	svg, err := svgchart.Bars(svgchart.Chart{
		Title:  "近3日赋码",
		Labels: []string{"3月1日", "3月2日", "3月3日"},
		Series: []svgchart.Series{
			{Name: "红码", Colour: "#d93025", Values: []float64{12, 30, 7}},
			{Name: "黄码", Colour: "#f9ab00", Values: []float64{40, 52, 33}},
		},
		Stacked: true,
		YLabel:  "人数",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	page := template.Must(template.New("").Parse(`<section>{{.}}</section>`))
	var b strings.Builder
	if err := page.Execute(&b, svg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Count(b.String(), "<rect"), "bars")
	fmt.Println(strings.Contains(b.String(), "<title>3月2日 红码：30</title>"))
	// Output:
	// 6 bars
	// true
}

func ExampleHBars() {
	_, err := svgchart.HBars(svgchart.Chart{
		Labels:  []string{"火车站", "人民医院"},
		Series:  []svgchart.Series{{Values: []float64{5, -1}}},
		Stacked: true,
	})
	fmt.Fprintln(os.Stdout, err)
	// Output:
	// svgchart: invalid chart: series 0 ("") value 1 ("人民医院"): -1 is negative in a stacked chart
}
