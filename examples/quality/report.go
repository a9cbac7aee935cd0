package quality

import (
	"fmt"
	"strings"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
)

var stateNames = map[State]string{Running: "运行中", Done: "完成", Stopped: "已停止", Failed: "失败"}

// figureColumns heads the figure columns of the tables.
var figureColumns = []string{"行数", "缺失", "多余", "重复", "无效", "不一致"}

func figureCells(f Figures) []report.Cell {
	return []report.Cell{report.N(float64(f.Rows)), report.N(float64(f.Missing)), report.N(float64(f.Extra)),
		report.N(float64(f.Duplicated)), report.N(float64(f.Invalid)), report.N(float64(f.Mismatched))}
}

// sheetName makes an xlsx sheet name: at most 31 characters, none of
// : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > 31 {
		s = string(rs[:31])
	}
	return s
}

// Document lays the run out as a report (数据质量核查报告): the key figures,
// a summary table of the checks, a sheet per check with its problems by
// field, the masked samples and the run's log. Every figure is a number
// cell.
func (r Run) Document() report.Document {
	t := r.Total
	doc := report.Document{
		Title:    "数据质量核查报告",
		Subtitle: fmt.Sprintf("规则 %s，数据日期 %s，运行 %s", r.Rule, r.Day, r.ID),
		Created:  r.Ended,
		Facts: []report.Fact{
			{Label: "规则 (rule)", Value: report.T(r.Rule)},
			{Label: "数据日期 (day)", Value: report.T(r.Day)},
			{Label: "状态 (state)", Value: report.T(stateNames[r.State])},
			{Label: "行数 (rows)", Value: report.N(float64(t.Rows))},
			{Label: "缺失 (missing)", Value: report.N(float64(t.Missing))},
			{Label: "多余 (extra)", Value: report.N(float64(t.Extra))},
			{Label: "重复 (duplicated)", Value: report.N(float64(t.Duplicated))},
			{Label: "无效 (invalid)", Value: report.N(float64(t.Invalid))},
			{Label: "不一致 (mismatched)", Value: report.N(float64(t.Mismatched))},
		},
	}
	if r.Reason != "" {
		doc.Facts = append(doc.Facts, report.Fact{Label: "原因 (reason)", Value: report.T(r.Reason)})
	}
	sum := report.Section{Heading: "汇总", Sheet: "汇总", Columns: append([]string{"核查", "数据集"}, figureColumns...)}
	if r.State != Done {
		sum.Note = fmt.Sprintf("运行%s：仅列出已完成的核查。", stateNames[r.State])
	}
	for _, c := range r.Checks {
		sum.Rows = append(sum.Rows, append([]report.Cell{report.T(c.Name), report.T(c.Dataset)}, figureCells(c.Figures)...))
	}
	sum.Total = append([]report.Cell{report.T("合计"), report.T("")}, figureCells(t)...)
	doc.Sections = append(doc.Sections, sum)
	for i, c := range r.Checks {
		s := report.Section{Heading: "核查 " + c.Name, Sheet: sheetName(fmt.Sprintf("%d %s", i+1, c.Name)),
			Note: "按字段统计的问题数（一行有两个字段有问题时两个字段各计一次）。", Columns: []string{"字段", "问题数"}}
		total := 0
		for _, f := range sortedKeys(c.ByField) {
			s.Rows = append(s.Rows, []report.Cell{report.T(f), report.N(float64(c.ByField[f]))})
			total += c.ByField[f]
		}
		s.Total = []report.Cell{report.T("合计"), report.N(float64(total))}
		doc.Sections = append(doc.Sections, s)
	}
	samples := report.Section{Heading: "样本", Sheet: "样本", Note: "每项核查的前若干条记录，个人信息已脱敏；全部记录可按核查下钻查看。",
		Columns: []string{"核查", "数据集", "行", "编号", "键", "字段", "问题", "值"}}
	for _, c := range r.Checks {
		for _, s := range c.Samples {
			samples.Rows = append(samples.Rows, []report.Cell{report.T(c.Name), report.T(s.Dataset), report.N(float64(s.Line)),
				report.N(float64(s.ID)), report.T(s.Key), report.T(s.Field), report.T(s.Problem), report.T(s.Value)})
		}
	}
	doc.Sections = append(doc.Sections, samples)
	log := report.Section{Heading: "运行日志", Sheet: "运行日志", Columns: []string{"时间", "内容"}}
	for _, l := range r.Log {
		log.Rows = append(log.Rows, []report.Cell{report.T(l.At.In(chinaTime).Format("2006-01-02 15:04:05")), report.T(l.Msg)})
	}
	doc.Sections = append(doc.Sections, log)
	return doc
}

// PeriodDocument lays out statistics over rules and days (Store.Stats) as
// a report (数据质量统计报告): a table per rule and day and a total per
// rule. Every figure is a number cell.
func PeriodDocument(stats []DayStat) report.Document {
	doc := report.Document{Title: "数据质量统计报告"}
	if len(stats) > 0 {
		from, to := stats[0].Day, stats[0].Day
		for _, s := range stats {
			from, to = min(from, s.Day), max(to, s.Day)
		}
		doc.Subtitle = fmt.Sprintf("%s 至 %s", from, to)
	}
	cols := append([]string{"规则", "日期", "运行次数", "完成", "停止", "失败"}, figureColumns...)
	days := report.Section{Heading: "按日统计", Sheet: "按日统计", Columns: cols,
		Note: "每天的数字取当天最后一次完成的运行；运行次数含重新运行。"}
	byRule := report.Section{Heading: "按规则统计", Sheet: "按规则统计", Columns: append([]string{"规则", "天数"}, cols[2:]...)}
	var all DayStat
	var ruleSum DayStat
	ruleDays := 0
	flush := func() {
		if ruleSum.Rule == "" {
			return
		}
		byRule.Rows = append(byRule.Rows, statCells([]report.Cell{report.T(ruleSum.Rule), report.N(float64(ruleDays))}, ruleSum))
	}
	for _, s := range stats {
		days.Rows = append(days.Rows, statCells([]report.Cell{report.T(s.Rule), report.T(s.Day)}, s))
		if s.Rule != ruleSum.Rule {
			flush()
			ruleSum, ruleDays = DayStat{Rule: s.Rule}, 0
		}
		ruleDays++
		addStat(&ruleSum, s)
		addStat(&all, s)
	}
	flush()
	days.Total = statCells([]report.Cell{report.T("合计"), report.T("")}, all)
	doc.Facts = []report.Fact{
		{Label: "运行次数 (runs)", Value: report.N(float64(all.Runs))},
		{Label: "失败 (failed)", Value: report.N(float64(all.Failed))},
		{Label: "缺失 (missing)", Value: report.N(float64(all.Figures.Missing))},
		{Label: "多余 (extra)", Value: report.N(float64(all.Figures.Extra))},
		{Label: "重复 (duplicated)", Value: report.N(float64(all.Figures.Duplicated))},
		{Label: "无效 (invalid)", Value: report.N(float64(all.Figures.Invalid))},
		{Label: "不一致 (mismatched)", Value: report.N(float64(all.Figures.Mismatched))},
	}
	doc.Sections = []report.Section{byRule, days}
	return doc
}

func addStat(dst *DayStat, s DayStat) {
	dst.Runs += s.Runs
	dst.Done += s.Done
	dst.Stopped += s.Stopped
	dst.Failed += s.Failed
	dst.Figures.Rows += s.Figures.Rows
	dst.Figures.add(s.Figures)
}

func statCells(head []report.Cell, s DayStat) []report.Cell {
	return append(append(head, report.N(float64(s.Runs)), report.N(float64(s.Done)), report.N(float64(s.Stopped)),
		report.N(float64(s.Failed))), figureCells(s.Figures)...)
}
