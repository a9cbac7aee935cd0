// Package svgchart draws bar, line and horizontal-bar charts as inline SVG
// on the server, for the admin console (管理后台). The charts need no
// JavaScript and nothing from the internet: the platforms run on
// government intranets.
//
// # Usage
//
//	svg, err := svgchart.Bars(svgchart.Chart{
//		Title:  "近15日赋码",
//		Labels: days, // x axis: "3月1日", ...
//		Series: []svgchart.Series{
//			{Name: "红码", Colour: "#d93025", Values: red},
//			{Name: "黄码", Colour: "#f9ab00", Values: yellow},
//		},
//		Stacked: true,
//		YLabel:  "人数",
//	})
//	// in an html/template: {{.Chart}} with Chart of type template.HTML
//
// The result is a template.HTML that html/template inserts unescaped. It
// is safe to do so: the markup is built only from the package's constant
// markup, formatted numbers, validated colours and text escaped for XML
// (a label "<script>" stays text). Text that XML cannot hold (control
// characters, invalid UTF-8) becomes U+FFFD.
//
// Every chart has role="img", an aria-label (the Title, else the kind of
// chart), a viewBox and class="svgchart" so the page's stylesheet can
// scale it (no style attribute: a Content-Security-Policy without
// 'unsafe-inline' would block it), and a font-family that puts Noto Sans
// CJK SC first (Debian: fonts-noto-cjk).
// Each bar and point has a <title> with its label, series and value,
// which browsers show on hover. Bars draw one <rect> per value and Lines
// one <circle> per value; nothing else is a rect or circle, so tests can
// count them.
//
// Values must be finite and at most MaxValue in magnitude; stacked bars
// take no negative values. Every series has one value per label. Broken
// input is an error wrapping ErrInvalid, never a panic. A chart with no
// labels or no series draws "暂无数据" (no data).
//
// # Concurrency
//
// The functions are pure and safe for concurrent use.
//
// The console (examples/console) is the reference user.
package svgchart
