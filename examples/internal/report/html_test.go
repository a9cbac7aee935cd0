package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	d := Document{
		Title:    evil,
		Subtitle: `</style><script>1</script>`,
		Facts:    []Fact{{evil, T(evil)}},
		Sections: []Section{{
			Heading: evil, Note: evil,
			Columns: []string{evil},
			Rows:    [][]Cell{{T(evil)}, {T(`"; } body { display: none } x { content: "`)}},
			Total:   []Cell{T(evil)},
		}},
	}
	var buf bytes.Buffer
	if err := HTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("a <script> got through:\n%s", page)
	}
	if n := strings.Count(page, "&lt;script&gt;"); n < 7 {
		t.Errorf("%d escaped <script>, want one per place it was put", n)
	}
	if strings.Count(page, "</style>") != 1 {
		t.Error("the subtitle closed the style sheet")
	}
}

// TestHTMLSelfContained: nothing the page would fetch, no script.
func TestHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, re := range []string{`(?i)\b(src|href)\s*=`, `(?i)url\(`, `(?i)@import`, `(?i)https?:`, `(?i)<script`, `(?i)\bon[a-z]+\s*=`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("page has %q", m)
		}
	}
	for _, s := range []string{`"Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif`, `size: A4`, `counter(page)`, `table-header-group`, `lang="zh-CN"`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
}

func TestHTMLFigures(t *testing.T) {
	var buf bytes.Buffer
	err := HTML(&buf, Document{Sections: []Section{{
		Heading: "h",
		Columns: []string{"名称", "金额"},
		Rows:    [][]Cell{{T("甲"), M(1234567)}, {T("乙"), M(-5)}},
		Total:   []Cell{T("合计"), M(1234562)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`<th>名称</th><th class="num">金额</th>`,
		`<td>甲</td><td class="num">¥12,345.67</td>`,
		`<td class="num">-¥0.05</td>`,
		`<tr class="total"><td>合计</td><td class="num">¥12,345.62</td></tr>`,
	} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("page lacks %s", s)
		}
	}
}

func BenchmarkHTML(b *testing.B) {
	d := sample()
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := HTML(&buf, d); err != nil || !strings.Contains(buf.String(), "¥316,048.72") {
			b.Fatal(err)
		}
	}
}
