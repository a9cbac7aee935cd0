package svgchart

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden SVG files in testdata")

// days returns n x-axis labels from 3月1日.
func days(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf("3月%d日", i+1)
	}
	return l
}

// codes is 15 days of code counts per colour, made by a formula so the
// goldens are stable.
func codes(days int) []Series {
	mk := func(base, amp float64, phase int) []float64 {
		v := make([]float64, days)
		for i := range v {
			v[i] = math.Round(base + amp*math.Sin(float64(i+phase)/2.5))
		}
		return v
	}
	return []Series{
		{Name: "红码", Colour: "#d93025", Values: mk(120, 60, 0)},
		{Name: "黄码", Colour: "#f9ab00", Values: mk(300, 120, 3)},
		{Name: "绿码", Colour: "#188038", Values: mk(700, 200, 6)},
	}
}

var golden = []struct {
	name string
	draw func(Chart) (template.HTML, error)
	c    Chart
}{
	{"bars", Bars, Chart{Title: "近7日赋码（分组）", Labels: days(7), Series: codes(7), YLabel: "人数"}},
	{"bars_stacked", Bars, Chart{Title: "近15日赋码", Labels: days(15), Series: codes(15), Stacked: true, YLabel: "人数"}},
	{"lines", Lines, Chart{Title: "近15日红黄码趋势", Labels: days(15), Series: codes(15)[:2]}},
	{"hbars", HBars, Chart{
		Title:  "转码原因前五",
		Labels: []string{"密接判定", "中高风险地区旅居", "核酸检测阳性", "健康申报异常", "其他"},
		Series: []Series{{Name: "", Colour: "#d93025", Values: []float64{1130, 842, 310, 95.5, 7}}},
		YLabel: "人次", Width: 560, Height: 240,
	}},
	{"hbars_stacked", HBars, Chart{
		Title:  "场所扫码前五（按区）",
		Labels: []string{"人民医院", "火车站", "万达广场", "市政务服务中心", "第一中学"},
		Series: []Series{
			{Name: "绿码", Colour: "#188038", Values: []float64{5200, 4100, 3900, 2100, 1500}},
			{Name: "黄码", Colour: "#f9ab00", Values: []float64{120, 340, 60, 10, 5}},
			{Name: "红码", Colour: "#d93025", Values: []float64{4, 12, 0, 1, 0}},
		},
		Stacked: true,
	}},
	{"empty", Bars, Chart{Title: "今日赋码"}},
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			out, err := g.draw(g.c)
			if err != nil {
				t.Fatal(err)
			}
			wellFormed(t, string(out))
			path := filepath.Join("testdata", g.name+".svg")
			got := []byte(string(out) + "\n")
			if *rewrite {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the output (run with -rewrite and review the diff):\n%s", path, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("at byte %d:\nwant ...%s\ngot  ...%s", i, want[lo:min(len(want), i+80)], got[lo:min(len(got), i+80)])
}

// wellFormed parses svg as XML and returns the count of each element.
func wellFormed(t testing.TB, svg string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	d := xml.NewDecoder(strings.NewReader(svg))
	var root string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
				if se.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", se.Name.Space)
				}
			}
			counts[se.Name.Local]++
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return counts
}

func TestElementsPerValue(t *testing.T) {
	for _, g := range golden {
		for _, stacked := range []bool{false, true} {
			c := g.c
			c.Stacked = stacked
			for name, draw := range map[string]func(Chart) (template.HTML, error){"Bars": Bars, "Lines": Lines, "HBars": HBars} {
				if name == "Lines" && stacked {
					continue
				}
				out, err := draw(c)
				if err != nil {
					t.Fatalf("%s %s stacked=%v: %v", name, g.name, stacked, err)
				}
				counts := wellFormed(t, string(out))
				points := len(c.Labels) * len(c.Series)
				if g.name == "empty" {
					points = 0
				}
				rects, circles := counts["rect"], counts["circle"]
				if name == "Lines" {
					rects, circles = circles, rects
				}
				if rects != points || circles != 0 {
					t.Errorf("%s %s stacked=%v: %d marks and %d others, want %d (one per value)", name, g.name, stacked, rects, circles, points)
				}
				if got := counts["title"]; got != points+1 {
					t.Errorf("%s %s: %d <title>, want %d (the chart's and one per value)", name, g.name, got, points+1)
				}
			}
		}
	}
}

func TestAccessibleAndScalable(t *testing.T) {
	out, err := Bars(golden[0].c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`role="img"`, `aria-label="近7日赋码（分组）"`, `viewBox="0 0 640 280"`,
		`font-family="&#39;Noto Sans CJK SC&#39;,`, `<title>3月1日 红码：`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s", want)
		}
	}
	noTitle, err := Lines(Chart{Labels: []string{"a"}, Series: []Series{{Values: []float64{1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(noTitle), `aria-label="折线图"`) {
		t.Errorf("untitled chart has no aria-label naming its kind:\n%s", noTitle)
	}
}

func TestEscaping(t *testing.T) {
	evil := `<script>alert("x")</script>&'`
	c := Chart{
		Title:  evil,
		Labels: []string{evil, "a\x00b\x1b\xff"},
		Series: []Series{{Name: evil, Values: []float64{1, 2}}},
		YLabel: evil,
	}
	for name, draw := range map[string]func(Chart) (template.HTML, error){"Bars": Bars, "Lines": Lines, "HBars": HBars} {
		out, err := draw(c)
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		if strings.Contains(s, "<script") || strings.Contains(s, `"x"`) {
			t.Errorf("%s: unescaped text in\n%s", name, s)
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s: label not kept as text", name)
		}
		wellFormed(t, s)
		// In an html/template the chart is inserted as is, and stays safe.
		var b strings.Builder
		tmpl := template.Must(template.New("").Parse(`<div>{{.}}</div>`))
		if err := tmpl.Execute(&b, out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "<script") {
			t.Errorf("%s: template output has a script element", name)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 1130, []float64{0, 250, 500, 750, 1000, 1250}},
		{0, 1000, []float64{0, 200, 400, 600, 800, 1000}},
		{0, 10, []float64{0, 2, 4, 6, 8, 10}},
		{0, 1, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 7, []float64{0, 2, 4, 6, 8}},
		{-30, 95, []float64{-50, -25, 0, 25, 50, 75, 100}},
		{0, 0.3, []float64{0, 0.1, 0.2, 0.3}},
		{0, 5e14, []float64{0, 1e14, 2e14, 3e14, 4e14, 5e14}},
	} {
		if got := niceTicks(tc.lo, tc.hi, 5); !slices.Equal(got, tc.want) {
			t.Errorf("niceTicks(%g, %g) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
	// Steps of 1, 2, 2.5 or 5 x 10^k, and the ticks cover the range.
	for hi := 0.001; hi < 1e15; hi *= 1.37 {
		ticks := niceTicks(0, hi, 5)
		if ticks[0] > 0 || ticks[len(ticks)-1] < hi || len(ticks) < 3 || len(ticks) > 12 {
			t.Fatalf("niceTicks(0, %g) = %v", hi, ticks)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 7: "7", 1130: "1,130", 1234567.5: "1,234,567.5", -1000: "-1,000", 0.1 + 0.2: "0.3", 999: "999",
	} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	ok := func() Chart {
		return Chart{Labels: []string{"a", "b"}, Series: []Series{{Name: "s", Values: []float64{1, 2}}}}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*Chart)
		draw   func(Chart) (template.HTML, error)
		substr string
	}{
		{"too few values", func(c *Chart) { c.Series[0].Values = []float64{1} }, Bars, "1 values for 2 labels"},
		{"too many values", func(c *Chart) { c.Series[0].Values = []float64{1, 2, 3} }, HBars, "3 values for 2 labels"},
		{"NaN", func(c *Chart) { c.Series[0].Values[1] = math.NaN() }, Lines, "NaN"},
		{"Inf", func(c *Chart) { c.Series[0].Values[0] = math.Inf(1) }, Bars, "+Inf"},
		{"-Inf", func(c *Chart) { c.Series[0].Values[0] = math.Inf(-1) }, HBars, "-Inf"},
		{"huge", func(c *Chart) { c.Series[0].Values[0] = 1e16 }, Bars, "beyond"},
		{"negative stacked", func(c *Chart) { c.Stacked = true; c.Series[0].Values[0] = -1 }, Bars, "negative in a stacked chart"},
		{"negative stacked hbars", func(c *Chart) { c.Stacked = true; c.Series[0].Values[0] = -1 }, HBars, "negative"},
		{"stacked lines", func(c *Chart) { c.Stacked = true }, Lines, "cannot be stacked"},
		{"bad colour", func(c *Chart) { c.Series[0].Colour = `red" onclick="x` }, Bars, "not a CSS colour"},
		{"too small", func(c *Chart) { c.Width = 50 }, Bars, "below the minimum"},
		{"negative size", func(c *Chart) { c.Height = -1 }, Lines, "below the minimum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.edit(&c)
			out, err := tc.draw(c)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("err = %v, want ErrInvalid with %q", err, tc.substr)
			}
			if out != "" {
				t.Errorf("output with an error: %q", out)
			}
		})
	}
	// Negative values are drawn (below a zero line) when not stacked.
	c := ok()
	c.Series[0].Values[0] = -5
	for _, draw := range []func(Chart) (template.HTML, error){Bars, Lines, HBars} {
		if _, err := draw(c); err != nil {
			t.Errorf("negative value, not stacked: %v", err)
		}
	}
	for _, col := range []string{"#d93025", "#FFF", "#d9302580", "red", "rgb(217, 48, 37)", "hsl(4 71% 50% / 0.5)"} {
		c := ok()
		c.Series[0].Colour = col
		if _, err := Bars(c); err != nil {
			t.Errorf("colour %q: %v", col, err)
		}
	}
}

func BenchmarkBars(b *testing.B) {
	for _, stacked := range []bool{false, true} {
		b.Run(fmt.Sprintf("days=15/series=3/stacked=%v", stacked), func(b *testing.B) {
			c := Chart{Title: "近15日赋码", Labels: days(15), Series: codes(15), Stacked: stacked, YLabel: "人数"}
			b.ReportAllocs()
			for b.Loop() {
				out, err := Bars(c)
				if err != nil || len(out) < 1000 {
					b.Fatalf("Bars: %d bytes, %v", len(out), err)
				}
			}
		})
	}
}
