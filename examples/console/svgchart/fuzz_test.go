package svgchart

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// FuzzBars draws bars from arbitrary labels, values and sizes: it must
// never panic, and whatever it returns without an error must be
// well-formed XML with one <rect> per value.
//
// labels is split on "|"; data gives the values, 2 bytes each (counts),
// or 8 bytes each as raw float64 bits when floats is set (NaN, Inf,
// subnormals, huge values).
func FuzzBars(f *testing.F) {
	f.Add("近15日赋码", "3月1日|3月2日|3月3日", []byte{0, 12, 0, 30, 0, 7, 1, 0, 0, 52, 0, 33}, uint8(2), false, true, int16(0), int16(0))
	f.Add("<script>", "<b>&amp;|'\"", []byte{0xff, 0xff, 0, 0}, uint8(1), false, false, int16(200), int16(100))
	f.Fuzz(func(t *testing.T, title, labels string, data []byte, nseries uint8, floats, stacked bool, w, h int16) {
		c := Chart{Title: title, Stacked: stacked, Width: int(w), Height: int(h), YLabel: title}
		if labels != "" {
			c.Labels = strings.Split(labels, "|")
		}
		var values []float64
		if floats {
			for len(data) >= 8 {
				values = append(values, math.Float64frombits(binary.BigEndian.Uint64(data)))
				data = data[8:]
			}
		} else {
			for len(data) >= 2 {
				values = append(values, float64(binary.BigEndian.Uint16(data)))
				data = data[2:]
			}
		}
		ns := int(nseries%5) + 1
		for i := range ns {
			s := Series{Name: title}
			for j := range c.Labels {
				if k := i*len(c.Labels) + j; k < len(values) {
					s.Values = append(s.Values, values[k])
				} else {
					s.Values = append(s.Values, float64(j))
				}
			}
			c.Series = append(c.Series, s)
		}
		out, err := Bars(c)
		if err != nil {
			if out != "" {
				t.Fatalf("output with error %v", err)
			}
			return
		}
		counts := wellFormed(t, string(out))
		want := len(c.Labels) * len(c.Series)
		if len(c.Labels) == 0 {
			want = 0
		}
		if counts["rect"] != want {
			t.Fatalf("%d rects for %d values", counts["rect"], want)
		}
		if strings.Contains(string(out), "NaN") && !strings.Contains(title+labels, "NaN") {
			t.Fatalf("NaN in output:\n%s", out)
		}
	})
}
