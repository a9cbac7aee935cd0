package svgchart

import (
	"html/template"
	"math"
)

// Bars draws a bar chart: the series grouped side by side per label, or
// stacked when c.Stacked, on a value axis with round ticks. Each bar has
// a <title> with its label, series and value for hover.
func Bars(c Chart) (template.HTML, error) {
	return vertical(c, kindBars)
}

// Lines draws a line per series with a point (circle) per value, each
// with a <title> for hover.
func Lines(c Chart) (template.HTML, error) {
	return vertical(c, kindLines)
}

// vertical draws Bars and Lines: categories along x, values up y.
func vertical(c Chart, k kind) (template.HTML, error) {
	w, h, err := validate(c, k)
	if err != nil {
		return "", err
	}
	var s svg
	top, bottom, f := begin(&s, c, k, w, h)
	if empty(c) {
		return noData(&s, f, top, bottom), nil
	}
	lo, hi := domain(c)
	ticks := niceTicks(lo, hi, 5)
	dlo, dhi := ticks[0], ticks[len(ticks)-1]
	var tickW float64
	for _, t := range ticks {
		tickW = math.Max(tickW, textWidth(formatValue(t), axisFont))
	}
	left := 8 + tickW + 6
	if c.YLabel != "" {
		left += 16
	}
	f.x0, f.y0 = left, top
	f.pw, f.ph = f.w-12-left, bottom-18-top
	if f.pw < 20 || f.ph < 20 {
		return "", invalid("size %dx%d leaves no room for the plot", w, h)
	}
	y := func(v float64) float64 { return f.y0 + f.ph*(1-(v-dlo)/(dhi-dlo)) }

	// Grid and value axis.
	for _, t := range ticks {
		colour := "#e8eaed"
		if t == 0 {
			colour = "#9aa0a6"
		}
		line(&s, f.x0, y(t), f.x0+f.pw, y(t), colour)
		s.raw(`<text`)
		s.attr("x", f.x0-6)
		s.attr("y", y(t)+4)
		s.raw(` text-anchor="end" fill="#5f6368">`)
		s.text(formatValue(t))
		s.raw("</text>")
	}
	if c.YLabel != "" {
		s.raw(`<text transform="translate(14 `)
		s.num(f.y0 + f.ph/2)
		s.raw(`) rotate(-90)" text-anchor="middle" fill="#5f6368">`)
		s.text(c.YLabel)
		s.raw("</text>")
	}

	// Category axis: labels thinned to every k-th when they would touch.
	n := len(c.Labels)
	band := f.pw / float64(n)
	var labelW float64
	for _, l := range c.Labels {
		labelW = math.Max(labelW, textWidth(l, axisFont))
	}
	every := max(1, int(math.Ceil((math.Min(labelW, 8*axisFont)+6)/band)))
	for i, l := range c.Labels {
		if i%every != 0 {
			continue
		}
		s.raw(`<text`)
		s.attr("x", f.x0+(float64(i)+0.5)*band)
		s.attr("y", f.y0+f.ph+15)
		s.raw(` text-anchor="middle" fill="#5f6368">`)
		s.text(truncate(l, band*float64(every)-4, axisFont))
		s.raw("</text>")
	}

	if k == kindLines {
		drawLines(&s, c, f, band, y)
	} else {
		drawBars(&s, c, f, band, y)
	}
	s.raw("</svg>")
	return s.html(), nil
}

func drawBars(s *svg, c Chart, f frame, band float64, y func(float64) float64) {
	ns := float64(len(c.Series))
	for i, l := range c.Labels {
		x := f.x0 + float64(i)*band
		var cum float64
		for j, ser := range c.Series {
			v := ser.Values[i]
			var bx, bw, y1, y2 float64
			if c.Stacked {
				bx, bw = x+band*0.2, band*0.6
				y1, y2 = y(cum+v), y(cum)
				cum += v
			} else {
				gw := band * 0.8 / ns
				gap := 0.0
				if ns > 1 {
					gap = math.Min(2, gw*0.1)
				}
				bx, bw = x+band*0.1+float64(j)*gw, gw-gap
				y1, y2 = y(v), y(0)
			}
			rect(s, bx, math.Min(y1, y2), bw, math.Abs(y2-y1), colour(c, j))
			hover(s, l, ser.Name, v)
			s.raw("</rect>")
		}
	}
}

func drawLines(s *svg, c Chart, f frame, band float64, y func(float64) float64) {
	for j, ser := range c.Series {
		col := colour(c, j)
		s.raw(`<polyline fill="none" stroke-width="2" stroke-linejoin="round" stroke="`)
		s.text(col)
		s.raw(`" points="`)
		for i, v := range ser.Values {
			if i > 0 {
				s.raw(" ")
			}
			s.num(f.x0 + (float64(i)+0.5)*band)
			s.raw(",")
			s.num(y(v))
		}
		s.raw(`"/>`)
		for i, v := range ser.Values {
			s.raw("<circle")
			s.attr("cx", f.x0+(float64(i)+0.5)*band)
			s.attr("cy", y(v))
			s.raw(` r="3" fill="`)
			s.text(col)
			s.raw(`">`)
			hover(s, c.Labels[i], ser.Name, v)
			s.raw("</circle>")
		}
	}
}

// rect opens a <rect>; the caller writes its <title> and closes it.
func rect(s *svg, x, y, w, h float64, fill string) {
	s.raw("<rect")
	s.attr("x", x)
	s.attr("y", y)
	s.attr("width", w)
	s.attr("height", h)
	s.raw(` fill="`)
	s.text(fill)
	s.raw(`">`)
}

// HBars draws horizontal bars, one row per label from top to bottom, for
// rankings (top causes, top venues): the series grouped or, when
// c.Stacked, stacked, with the value (the total when stacked) at the
// end of each bar and the value axis along the bottom.
func HBars(c Chart) (template.HTML, error) {
	w, h, err := validate(c, kindHBars)
	if err != nil {
		return "", err
	}
	var s svg
	top, bottom, f := begin(&s, c, kindHBars, w, h)
	if empty(c) {
		return noData(&s, f, top, bottom), nil
	}
	lo, hi := domain(c)
	ticks := niceTicks(lo, hi, 5)
	dlo, dhi := ticks[0], ticks[len(ticks)-1]

	var labelW, valueW float64
	for _, l := range c.Labels {
		labelW = math.Max(labelW, textWidth(l, axisFont))
	}
	labelW = math.Min(labelW, f.w*0.35)
	for i := range c.Labels {
		var sum float64
		for _, ser := range c.Series {
			sum += ser.Values[i]
			valueW = math.Max(valueW, textWidth(formatValue(ser.Values[i]), valueFont))
		}
		valueW = math.Max(valueW, textWidth(formatValue(sum), valueFont))
	}
	if c.YLabel != "" {
		bottom -= 16
	}
	f.x0, f.y0 = 10+labelW+6, top
	f.pw = f.w - 12 - valueW - 4 - f.x0
	f.ph = bottom - 16 - top
	if f.pw < 20 || f.ph < 10 {
		return "", invalid("size %dx%d leaves no room for the plot", w, h)
	}
	x := func(v float64) float64 { return f.x0 + f.pw*(v-dlo)/(dhi-dlo) }

	for _, t := range ticks {
		colour := "#e8eaed"
		if t == 0 {
			colour = "#9aa0a6"
		}
		line(&s, x(t), f.y0, x(t), f.y0+f.ph, colour)
		s.raw(`<text`)
		s.attr("x", x(t))
		s.attr("y", f.y0+f.ph+14)
		s.raw(` text-anchor="middle" fill="#5f6368">`)
		s.text(formatValue(t))
		s.raw("</text>")
	}
	if c.YLabel != "" {
		s.raw(`<text`)
		s.attr("x", f.x0+f.pw/2)
		s.attr("y", f.y0+f.ph+30)
		s.raw(` text-anchor="middle" fill="#5f6368">`)
		s.text(c.YLabel)
		s.raw("</text>")
	}

	n := len(c.Labels)
	ns := float64(len(c.Series))
	band := f.ph / float64(n)
	for i, l := range c.Labels {
		yb := f.y0 + float64(i)*band
		if band >= axisFont {
			s.raw(`<text`)
			s.attr("x", f.x0-6)
			s.attr("y", yb+band/2+4)
			s.raw(` text-anchor="end" fill="#3c4043">`)
			s.text(truncate(l, labelW, axisFont))
			s.raw("</text>")
		}
		var cum float64
		for j, ser := range c.Series {
			v := ser.Values[i]
			var by, bh, x1, x2 float64
			if c.Stacked {
				by, bh = yb+band*0.2, band*0.6
				x1, x2 = x(cum), x(cum+v)
				cum += v
			} else {
				gh := band * 0.8 / ns
				gap := 0.0
				if ns > 1 {
					gap = math.Min(2, gh*0.1)
				}
				by, bh = yb+band*0.1+float64(j)*gh, gh-gap
				x1, x2 = x(0), x(v)
			}
			rect(&s, math.Min(x1, x2), by, math.Abs(x2-x1), bh, colour(c, j))
			hover(&s, l, ser.Name, v)
			s.raw("</rect>")
			if !c.Stacked && bh >= valueFont-1 {
				valueText(&s, math.Max(x1, x2)+4, by+bh/2+3.5, v)
			}
		}
		if c.Stacked && band*0.6 >= valueFont-1 {
			valueText(&s, x(cum)+4, yb+band/2+3.5, cum)
		}
	}
	s.raw("</svg>")
	return s.html(), nil
}

func valueText(s *svg, x, y, v float64) {
	s.raw(`<text`)
	s.attr("x", x)
	s.attr("y", y)
	s.raw(` font-size="10" fill="#3c4043">`)
	s.text(formatValue(v))
	s.raw("</text>")
}
