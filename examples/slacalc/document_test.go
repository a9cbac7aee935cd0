package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/sla"
)

// workedExamples are the three presets' worked examples of README.md, with
// the figures checked by hand there (and in main_test.go): what the filed
// document must say.
var workedExamples = []struct {
	name string
	args []string // after "report"
	// payable is the hand-computed fact: chengdu's tranches due, the
	// others' total, less what the vendor owes.
	payable sla.Fen
	// headings are the sections the example has.
	headings []string
}{
	{"chengdu", chengduArgs[1:], 378681800, // 1,785,000.00 + 2,001,818.00, nothing owed
		[]string{"事件响应与处理时限", "系统可用性", "服务考核评分", "服务费支付"}},
	{"shaanxi", shaanxiArgs, 29200000 - 2920000, // 292,000.00 - 10 % fixed; the late clauses are alternatives, not added
		[]string{"事件响应与处理时限", "系统可用性", "违约金条款", "固定比例违约金"}},
	{"sichuan", sichuanArgs, 1000000000 - 44100000, // 10,000,000.00 - (9.41 - 5) × 1 %
		[]string{"服务考核评分", "考核扣款"}},
}

var (
	shaanxiArgs = []string{"-contract", "shaanxi",
		"-incidents", "testdata/shaanxi-incidents.csv", "-outages", "testdata/shaanxi-outages.csv",
		"-period", "2022-01-01..2022-12-31", "-late", "vendor_delivery:17::delivery", "-breach", "no_response_24h:T-099"}
	sichuanArgs = []string{"-contract", "sichuan", "-events", "testdata/sichuan-events.csv",
		"-surveys", "80,85", "-total", "10000000.00", "-period", "2024-01-01..2024-03-31"}
)

// created is the document's creation time in tests.
var created = time.Date(2025, 1, 15, 9, 30, 0, 0, sla.ChinaStandardTime())

// assessExample runs an example's command line up to the report.
func assessExample(t *testing.T, args []string) (*sla.Contract, sla.Input, *sla.Report) {
	t.Helper()
	cfg, err := parseReportFlags(args, io.Discard)
	require.NoError(t, err)
	c, in, rep, err := assess(context.Background(), cfg, strings.NewReader(""))
	require.NoError(t, err)
	return c, in, rep
}

func fact(t *testing.T, d report.Document, prefix string) report.Cell {
	t.Helper()
	for _, f := range d.Facts {
		if strings.HasPrefix(f.Label, prefix) {
			return f.Value
		}
	}
	t.Fatalf("no fact %q in %v", prefix, d.Facts)
	return report.Cell{}
}

func column(t *testing.T, s report.Section, prefix string) int {
	t.Helper()
	for i, c := range s.Columns {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	t.Fatalf("section %s: no column %q in %q", s.Heading, prefix, s.Columns)
	return -1
}

func money(t *testing.T, c report.Cell) sla.Fen {
	t.Helper()
	require.Equal(t, report.Money, c.Kind, "%+v", c)
	return sla.Fen(c.Fen)
}

// The document's figures are the report's, to the fen: every line's amount
// in its row, and every total, summed again here from the rows, equal to
// the report's summary; the facts add up.
func TestDocumentFigures(t *testing.T) {
	for _, ex := range workedExamples {
		t.Run(ex.name, func(t *testing.T) {
			c, in, rep := assessExample(t, ex.args)
			d, err := slaDocument(c, in, rep, created)
			require.NoError(t, err)
			require.NoError(t, d.Validate())
			require.Equal(t, "服务水平考核报告 (SLA assessment)", d.Title)
			require.Contains(t, d.Subtitle, rep.Title)
			require.Contains(t, d.Subtitle, "考核期 (period) "+strings.Replace(cfgPeriod(ex.args), "..", " 至 ", 1))

			var headings []string
			lines := map[string][]sla.Line{}
			for _, l := range rep.Lines {
				lines[l.Section] = append(lines[l.Section], l)
			}
			sum := map[string]sla.Fen{} // by amount column, over all sections
			for _, s := range d.Sections {
				if s.Sheet == "说明" {
					continue
				}
				h, _, _ := strings.Cut(s.Heading, " (")
				headings = append(headings, h)
				key := sectionKey(t, s.Heading)
				ls := lines[key]
				require.Len(t, s.Rows, len(ls), s.Heading)
				require.NotNil(t, s.Total, "%s: a total row", s.Heading)
				for i, l := range ls {
					row := s.Rows[i]
					require.Equal(t, l.Rule, row[column(t, s, "条款")].Text, "the clause")
					require.Equal(t, l.Calc, row[column(t, s, "计算")].Text, "the arithmetic")
					if key == "timer" {
						continue
					}
					amt := row[column(t, s, "金额")]
					if l.Amount == nil {
						require.Equal(t, report.T(""), amt)
					} else {
						require.Equal(t, *l.Amount, money(t, amt), "%s line %d", s.Heading, i+1)
					}
					if key == "penalty" {
						continue
					}
					pts := row[column(t, s, "扣分")]
					if l.Points == nil {
						require.Equal(t, report.T(""), pts)
					} else {
						require.Equal(t, report.Number, pts.Kind)
						require.Equal(t, l.Points.String(), formatFloat(pts.Num))
					}
				}
				// Totals are the sums of the money columns, summed here again.
				for ci, tc := range s.Total {
					if tc.Kind != report.Money {
						continue
					}
					var got sla.Fen
					for _, row := range s.Rows {
						if ci < len(row) && row[ci].Kind == report.Money && !(key == "penalty" && ci == column(t, s, "金额")) {
							got += sla.Fen(row[ci].Fen)
						}
					}
					require.Equal(t, got, sla.Fen(tc.Fen), "%s: total of %s", s.Heading, s.Columns[ci])
					sum[key+" "+s.Columns[ci]] += got
				}
			}
			require.Equal(t, ex.headings, headings)

			s := rep.Summary
			require.Equal(t, rep.Total, money(t, fact(t, d, "合同总额")))
			require.Equal(t, s.Penalties, money(t, fact(t, d, "违约金")))
			require.Equal(t, s.Penalties, sum["penalty 计入供应商应付 (counted, vendor owes)"])
			require.Equal(t, s.Fixed, money(t, fact(t, d, "固定比例违约金")))
			require.Equal(t, s.Fixed, sum["fixed "+colAmount])
			require.Equal(t, s.Deduction, money(t, fact(t, d, "考核扣款")))
			require.Equal(t, s.Deduction, sum["deduction "+colAmount])
			require.Equal(t, s.Penalties+s.Fixed+s.Deduction, money(t, fact(t, d, "扣款合计")))
			if s.Paid != nil {
				require.Equal(t, *s.Paid, money(t, fact(t, d, "本期服务费")))
				require.Equal(t, *s.Paid, sum["payment "+colAmount])
				require.Equal(t, *s.Withheld, money(t, fact(t, d, "暂扣")))
			}
			require.Equal(t, ex.payable, money(t, fact(t, d, "应付金额")), "payable, by hand")
			require.Equal(t, float64(s.Breaches), fact(t, d, "未达成").Num)
			if s.Score != nil {
				require.Equal(t, s.Score.String(), formatFloat(fact(t, d, "考核得分").Num))
				require.Equal(t, s.PointsDeducted.String(), formatFloat(fact(t, d, "扣分").Num))
			}
		})
	}
}

func cfgPeriod(args []string) string {
	for i, a := range args {
		if a == "-period" {
			return args[i+1]
		}
	}
	return ""
}

func sectionKey(t *testing.T, heading string) string {
	t.Helper()
	for _, s := range docSections {
		if s.heading == heading {
			return s.key
		}
	}
	t.Fatalf("unknown heading %q", heading)
	return ""
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// shaanxi's delay is priced under two clauses of one obligation: both are
// shown with their amounts, neither is counted; the fixed clause is.
func TestDocumentAlternativeClauses(t *testing.T) {
	c, in, rep := assessExample(t, shaanxiArgs)
	d, err := slaDocument(c, in, rep, created)
	require.NoError(t, err)
	var pen report.Section
	for _, s := range d.Sections {
		if s.Sheet == "违约金" {
			pen = s
		}
	}
	require.Len(t, pen.Rows, 2)
	amt, vendor := column(t, pen, "金额"), column(t, pen, "计入供应商应付")
	require.Equal(t, sla.Fen(8760), money(t, pen.Rows[0][amt]))
	require.Equal(t, sla.Fen(1460000), money(t, pen.Rows[1][amt]))
	for _, row := range pen.Rows {
		require.Equal(t, report.T(""), row[vendor])
		require.Contains(t, row[len(row)-1].Text, "not added")
	}
	require.Equal(t, sla.Fen(0), money(t, pen.Total[vendor]))
	require.NotEmpty(t, pen.Note)

	// Priced under one clause, the same delay counts.
	in.Late = []sla.LateInput{{Clause: "vendor_late_per_day", Late: in.Late[0].Late}}
	rep, err = c.Assess(in)
	require.NoError(t, err)
	d, err = slaDocument(c, in, rep, created)
	require.NoError(t, err)
	require.Equal(t, sla.Fen(1460000), money(t, fact(t, d, "违约金")))
	require.Equal(t, sla.Fen(29200000-2920000-1460000), money(t, fact(t, d, "应付金额")))
}

// A document that would disagree with the assessment is refused.
func TestDocumentRefusesDisagreement(t *testing.T) {
	c, in, rep := assessExample(t, sichuanArgs)
	rep.Summary.Deduction++ // one fen
	_, err := slaDocument(c, in, rep, created)
	require.ErrorContains(t, err, "score deduction ¥441,000.00 differs from the assessment's ¥441,000.01")

	c, in, rep = assessExample(t, shaanxiArgs)
	in.Late = nil // the penalty lines no longer match what was priced
	_, err = slaDocument(c, in, rep, created)
	require.ErrorContains(t, err, "2 penalty lines for 0 priced clauses")
}
