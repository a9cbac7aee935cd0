package svgchart

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error the chart functions return: the
// Chart does not describe a chart they can draw.
var ErrInvalid = errors.New("svgchart: invalid chart")

// MaxValue bounds the magnitude of values (and of stacked totals), so the
// scale arithmetic stays exact enough to draw.
const MaxValue = 1e15

// Default size, in CSS pixels (the viewBox; CSS may scale the chart).
const (
	DefaultWidth  = 640
	DefaultHeight = 280
)

// Smallest size accepted.
const (
	MinWidth  = 160
	MinHeight = 100
)

// FontFamily is the charts' font-family: Noto Sans CJK SC (Debian's
// fonts-noto-cjk) first, then common Chinese system fonts.
const FontFamily = `'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif`

// Palette gives the colours of series whose Colour is empty, by index.
var palette = [...]string{"#1a73e8", "#d93025", "#f9ab00", "#188038", "#9334e6", "#12b5cb", "#e8710a", "#5f6368"}

// Series is one named sequence of values, one per label of its Chart.
type Series struct {
	Name string
	// Colour is a CSS colour: #rgb, #rrggbb (with optional alpha), a
	// name such as "red", or rgb()/hsl(). Empty picks one from a
	// built-in palette by the series' index.
	Colour string
	Values []float64
}

// Chart describes a chart. The zero Width and Height mean 640x280.
type Chart struct {
	Title string
	// Labels name the categories: the x axis of Bars and Lines (days,
	// regions), the rows of HBars from top to bottom (a ranking).
	Labels []string
	Series []Series
	Width  int
	Height int
	// Stacked stacks the series of Bars and HBars instead of grouping
	// them. Lines cannot be stacked.
	Stacked bool
	// YLabel names the value axis (rotated beside the y axis of Bars and
	// Lines, under the x axis of HBars).
	YLabel string
}

type kind int

const (
	kindBars kind = iota
	kindLines
	kindHBars
)

func (k kind) String() string {
	return [...]string{"柱状图", "折线图", "条形图"}[k]
}

var colourRE = regexp.MustCompile(`^(#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-zA-Z]{1,32}|(rgb|rgba|hsl|hsla)\([0-9.,%/ a-z-]{1,64}\))$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// validate checks c for kind k and returns its size.
func validate(c Chart, k kind) (w, h int, err error) {
	w, h = c.Width, c.Height
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	if w < MinWidth || h < MinHeight {
		return 0, 0, invalid("size %dx%d below the minimum %dx%d", c.Width, c.Height, MinWidth, MinHeight)
	}
	if w > 10000 || h > 10000 {
		return 0, 0, invalid("size %dx%d above 10000x10000", c.Width, c.Height)
	}
	if k == kindLines && c.Stacked {
		return 0, 0, invalid("lines cannot be stacked")
	}
	for i, s := range c.Series {
		if len(s.Values) != len(c.Labels) {
			return 0, 0, invalid("series %d (%q) has %d values for %d labels", i, s.Name, len(s.Values), len(c.Labels))
		}
		if s.Colour != "" && !colourRE.MatchString(s.Colour) {
			return 0, 0, invalid("series %d (%q): colour %q is not a CSS colour", i, s.Name, s.Colour)
		}
		for j, v := range s.Values {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return 0, 0, invalid("series %d (%q) value %d (%q): %v", i, s.Name, j, c.Labels[j], v)
			case math.Abs(v) > MaxValue:
				return 0, 0, invalid("series %d (%q) value %d (%q): %g beyond ±%g", i, s.Name, j, c.Labels[j], v, MaxValue)
			case v < 0 && c.Stacked:
				return 0, 0, invalid("series %d (%q) value %d (%q): %g is negative in a stacked chart", i, s.Name, j, c.Labels[j], v)
			}
		}
	}
	if c.Stacked {
		for j := range c.Labels {
			var sum float64
			for _, s := range c.Series {
				sum += s.Values[j]
			}
			if sum > MaxValue {
				return 0, 0, invalid("stack %d (%q) totals %g, beyond %g", j, c.Labels[j], sum, MaxValue)
			}
		}
	}
	return w, h, nil
}

// domain returns the value range to draw: it includes 0, and for stacked
// charts the totals.
func domain(c Chart) (lo, hi float64) {
	for j := range c.Labels {
		var sum float64
		for _, s := range c.Series {
			v := s.Values[j]
			if c.Stacked {
				sum += v
				v = sum
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo == hi {
		hi = lo + 1
	}
	return lo, hi
}

// niceTicks returns about n+1 evenly spaced round values (steps of 1, 2,
// 2.5 or 5 times a power of ten) covering [lo, hi]; the first and last
// are the axis' ends. For lo 0 and hi 1130: 0, 250, ..., 1250.
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	if !(step > 0) || math.IsInf(step, 0) {
		return []float64{lo, hi}
	}
	start := math.Floor(lo/step+1e-9) * step
	end := math.Ceil(hi/step-1e-9) * step
	count := int(math.Round((end - start) / step))
	if count < 1 || count > 50 {
		return []float64{lo, hi}
	}
	ticks := make([]float64, count+1)
	for i := range ticks {
		ticks[i] = clean(start + float64(i)*step)
	}
	return ticks
}

// clean rounds v to 12 significant digits, dropping float noise such as
// 0.30000000000000004.
func clean(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	if err != nil {
		return v
	}
	if r == 0 {
		return 0 // no -0
	}
	return r
}

// formatValue formats a value for people: digits grouped by thousands.
func formatValue(v float64) string {
	s := strconv.FormatFloat(clean(v), 'f', -1, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// textWidth estimates the width of s in font size px: CJK characters are
// square, Latin ones about 0.6 em.
func textWidth(s string, size float64) float64 {
	var w float64
	for _, r := range s {
		switch {
		case r < 0x80:
			w += 0.6
		case r >= 0x1100:
			w += 1
		default:
			w += 0.7
		}
	}
	return w * size
}

// truncate shortens s to fit width px at size, ending it with "…".
func truncate(s string, width, size float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	limit := width - textWidth("…", size)
	var w float64
	for i, r := range s {
		w += textWidth(string(r), size)
		if w > limit {
			if i == 0 {
				return ""
			}
			return s[:i] + "…"
		}
	}
	return s
}

// svg builds the markup. Only raw takes markup, and is called only with
// the package's constants; text escapes, num formats.
type svg struct{ b strings.Builder }

func (s *svg) raw(m string) { s.b.WriteString(m) }

func (s *svg) num(v float64) {
	v = math.Round(v*100) / 100
	if v == 0 {
		v = 0
	}
	s.b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
}

// text writes t escaped for XML character data and attribute values.
func (s *svg) text(t string) { s.b.WriteString(template.HTMLEscapeString(xmlSafe(t))) }

// xmlSafe replaces invalid UTF-8 and characters XML 1.0 cannot hold.
func xmlSafe(t string) string {
	ok := utf8.ValidString(t)
	if ok {
		for _, r := range t {
			if !xmlChar(r) {
				ok = false
				break
			}
		}
	}
	if ok {
		return t
	}
	var b strings.Builder
	for _, r := range t { // invalid UTF-8 comes as utf8.RuneError
		if !xmlChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// attr writes ` name="value"` with value a number.
func (s *svg) attr(name string, v float64) {
	s.raw(" " + name + `="`)
	s.num(v)
	s.raw(`"`)
}

func (s *svg) html() template.HTML { return template.HTML(s.b.String()) }

// frame is a chart's layout: the SVG's size and its plot area.
type frame struct {
	w, h           float64
	x0, y0, pw, ph float64 // plot area: left, top, width, height
	legend         []legendItem
}

type legendItem struct {
	x, y   float64
	name   string
	colour string
}

const (
	axisFont   = 11
	titleFont  = 14
	legendFont = 12
	valueFont  = 10
)

func colour(c Chart, i int) string {
	if col := c.Series[i].Colour; col != "" {
		return col
	}
	return palette[i%len(palette)]
}

// begin opens the SVG, writes its title and legend, and returns the
// space left for the plot (top and bottom edges).
func begin(s *svg, c Chart, k kind, w, h int) (top, bottom float64, f frame) {
	f.w, f.h = float64(w), float64(h)
	label := c.Title
	if label == "" {
		label = k.String()
	}
	s.raw(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="`)
	s.text(label)
	s.raw(`" viewBox="0 0 `)
	s.num(f.w)
	s.raw(" ")
	s.num(f.h)
	s.raw(`"`)
	s.attr("width", f.w)
	s.attr("height", f.h)
	s.raw(` class="svgchart" font-family="` + template.HTMLEscapeString(FontFamily) + `" font-size="11">`)
	s.raw("<title>")
	s.text(label)
	s.raw("</title>")
	top = 8
	if c.Title != "" {
		s.raw(`<text x="10"`)
		s.attr("y", top+titleFont)
		s.raw(` font-size="14" font-weight="bold" fill="#202124">`)
		s.text(c.Title)
		s.raw("</text>")
		top += titleFont + 10
	}
	if named(c) {
		x, y := 10.0, top
		for i, ser := range c.Series {
			adv := 14 + textWidth(ser.Name, legendFont) + 16
			if x > 10 && x+adv > f.w-10 {
				x, y = 10, y+18
			}
			f.legend = append(f.legend, legendItem{x: x, y: y, name: ser.Name, colour: colour(c, i)})
			x += adv
		}
		for _, it := range f.legend {
			s.raw(`<path d="M`)
			s.num(it.x)
			s.raw(" ")
			s.num(it.y + 1)
			s.raw(`h10v10h-10z" fill="`)
			s.text(it.colour)
			s.raw(`"/><text`)
			s.attr("x", it.x+14)
			s.attr("y", it.y+10)
			s.raw(` font-size="12" fill="#3c4043">`)
			s.text(it.name)
			s.raw("</text>")
		}
		top = y + 18
	}
	return top + 6, f.h - 8, f
}

// named reports whether the chart needs a legend.
func named(c Chart) bool {
	for _, s := range c.Series {
		if s.Name != "" {
			return true
		}
	}
	return false
}

func empty(c Chart) bool { return len(c.Labels) == 0 || len(c.Series) == 0 }

// noData writes the placeholder of an empty chart and closes the SVG.
func noData(s *svg, f frame, top, bottom float64) template.HTML {
	s.raw(`<text`)
	s.attr("x", f.w/2)
	s.attr("y", (top+bottom)/2)
	s.raw(` text-anchor="middle" font-size="14" fill="#80868b">暂无数据</text></svg>`)
	return s.html()
}

// hover writes a <title> for one value: "3月1日 红码：1,130".
func hover(s *svg, label, series string, v float64) {
	s.raw("<title>")
	s.text(label)
	if series != "" {
		s.raw(" ")
		s.text(series)
	}
	s.raw("：")
	s.text(formatValue(v))
	s.raw("</title>")
}

func line(s *svg, x1, y1, x2, y2 float64, stroke string) {
	s.raw("<line")
	s.attr("x1", x1)
	s.attr("y1", y1)
	s.attr("x2", x2)
	s.attr("y2", y2)
	s.raw(` stroke="` + stroke + `"/>`)
}
