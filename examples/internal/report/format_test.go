package report

import (
	"math"
	"strings"
	"testing"
)

func TestCellString(t *testing.T) {
	for _, tc := range []struct {
		c    Cell
		want string
	}{
		{M(0), "¥0.00"},
		{M(5), "¥0.05"},
		{M(-5), "-¥0.05"},
		{M(100), "¥1.00"},
		{M(99999), "¥999.99"},
		{M(100000), "¥1,000.00"},
		{M(1234567), "¥12,345.67"},
		{M(-123456789), "-¥1,234,567.89"},
		{M(math.MaxInt64), "¥92,233,720,368,547,758.07"},
		{M(math.MinInt64), "-¥92,233,720,368,547,758.08"},
		{N(0), "0"},
		{N(999), "999"},
		{N(1000), "1,000"},
		{N(-1234567), "-1,234,567"},
		{N(1234.5), "1,234.5"},
		{N(0.125), "0.125"},
		{R(0), "0.00%"},
		{R(0.1234), "12.34%"},
		{R(1), "100.00%"},
		{R(-0.005), "-0.50%"},
		{T("<b>"), "<b>"},
		{Cell{Kind: 9}, "%!Kind(9)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{
		0: "0.00", 1: "0.01", -1: "-0.01", 1234567: "12345.67", -100: "-1.00",
		math.MinInt64: "-92233720368547758.08",
	} {
		if got := yuan(fen); got != want {
			t.Errorf("yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func TestSheetNames(t *testing.T) {
	long := strings.Repeat("长", 40)
	got, err := sheetNames([]Section{
		{Heading: "各地市", Sheet: "各地市"},
		{Heading: "各地市"},                 // taken: numbered
		{Heading: "a/b:c?[d]*'"},         // forbidden characters, quote at the end
		{Heading: long},                  // cut to 31
		{Heading: long},                  // cut and numbered
		{Heading: "  "},                  // nothing left
		{Heading: "摘要"},                  // the summary sheet's name
		{Heading: "x", Sheet: "Details"}, // given names are kept
		{Heading: "details"},             // case-insensitively unique
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"各地市", "各地市 (2)", "a_b_c__d__", strings.Repeat("长", 31), strings.Repeat("长", 27) + " (2)", "Sheet6", "摘要 (2)", "Details", "details (2)"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sheet %d: %q, want %q", i, got[i], want[i])
		}
	}
	for _, bad := range [][]Section{
		{{Sheet: "a:b"}},
		{{Sheet: "'q'"}},
		{{Sheet: long}},
		{{Sheet: "A"}, {Sheet: "a"}},
		{{Sheet: SummarySheet}},
	} {
		if _, err := sheetNames(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := sample().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]Document{
		"unknown kind": {Facts: []Fact{{"x", Cell{Kind: 7}}}},
		"NaN":          {Sections: []Section{{Columns: []string{"a"}, Rows: [][]Cell{{R(math.NaN())}}}}},
		"Inf total":    {Sections: []Section{{Columns: []string{"a"}, Total: []Cell{N(math.Inf(1))}}}},
		"long row":     {Sections: []Section{{Columns: []string{"a"}, Rows: [][]Cell{{T("1"), T("2")}}}}},
		"bad sheet":    {Sections: []Section{{Sheet: "a[1]"}}},
	} {
		err := d.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
