package report

import (
	"fmt"
	"time"
)

// sample is a quality-check report as examples/quality files it: three
// sections (per city, per check, samples), 40 rows, money, ratios and
// totals, in Chinese.
func sample() Document {
	cities := []string{"广州市", "深圳市", "珠海市", "汕头市", "佛山市", "韶关市", "河源市", "梅州市",
		"惠州市", "汕尾市", "东莞市", "中山市", "江门市", "阳江市", "湛江市", "茂名市"}
	var (
		byCity                      [][]Cell
		sumRec, sumMiss, sumInvalid float64
		sumFine                     int64
	)
	for i, c := range cities {
		rec := float64(120000 + 7919*i)
		miss := float64(37 * (i + 3))
		invalid := float64(11*i + 5)
		fine := int64(1234567 + 98765*i) // fen
		byCity = append(byCity, []Cell{T(c), N(rec), N(miss), N(invalid), R((miss + invalid) / rec), M(fine)})
		sumRec, sumMiss, sumInvalid, sumFine = sumRec+rec, sumMiss+miss, sumInvalid+invalid, sumFine+fine
	}
	checks := []struct{ name, rule string }{
		{"身份证号校验位", "GB 11643-1999"}, {"手机号格式", "11 位，1 开头"}, {"核酸采样时间", "不晚于上报时间"},
		{"检测机构编码", "在机构名录内"}, {"姓名非空", "必填"}, {"证件类型", "01–09"},
		{"健康码颜色", "绿/黄/红"}, {"重复上报", "同人同日一次"}, {"地址行政区划", "GB/T 2260"},
		{"疫苗接种剂次", "1–4"}, {"时间戳时区", "UTC+8"}, {"结果与状态一致", "阴性→绿码"},
	}
	var byCheck [][]Cell
	var sumHits float64
	for i, c := range checks {
		hits := float64(13*i*i + 7)
		byCheck = append(byCheck, []Cell{T(fmt.Sprintf("Q%02d", i+1)), T(c.name), T(c.rule), N(hits), R(hits / sumRec)})
		sumHits += hits
	}
	var samples [][]Cell
	for i := range 12 {
		samples = append(samples, []Cell{
			T(fmt.Sprintf("4401%014d", 20260300000000+int64(i)*7)),
			T(cities[i%len(cities)]),
			T(checks[(i*5)%len(checks)].name),
			T([]string{"校验位应为 X", "字段为空", "采样晚于上报 2 小时", "机构不在名录"}[i%4]),
			M(int64(5000 * (i + 1))),
		})
	}
	return Document{
		Title:    "数据质量核查报告",
		Subtitle: "广东省健康码平台 · 2026 年 3 月 · 规则集 v2.4",
		Created:  time.Date(2026, 4, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600)),
		Facts: []Fact{
			{"核查记录数", N(sumRec)},
			{"问题记录数", N(sumMiss + sumInvalid)},
			{"问题率", R((sumMiss + sumInvalid) / sumRec)},
			{"扣款合计", M(sumFine)},
			{"规则数", N(float64(len(checks)))},
		},
		Sections: []Section{{
			Heading: "一、各地市核查结果",
			Sheet:   "各地市",
			Note:    "缺失指必填字段为空；无效指字段不符合规则。扣款按合同第 7 条，每条问题记录计价。",
			Columns: []string{"地市", "记录数", "缺失", "无效", "问题率", "扣款（元）"},
			Rows:    byCity,
			Total:   []Cell{T("合计"), N(sumRec), N(sumMiss), N(sumInvalid), R((sumMiss + sumInvalid) / sumRec), M(sumFine)},
		}, {
			Heading: "二、逐项规则",
			Columns: []string{"编号", "规则", "依据", "命中", "占比"},
			Rows:    byCheck,
			Total:   []Cell{T("合计"), T(""), T(""), N(sumHits), R(sumHits / sumRec)},
		}, {
			Heading: "三、问题样本",
			Sheet:   "样本",
			Note:    "每地市抽取问题记录；证件号为测试数据。",
			Columns: []string{"证件号", "地市", "规则", "说明", "扣款（元）"},
			Rows:    samples,
		}},
	}
}

// long is one section of n rows, for tables that span pages.
func long(n int) Document {
	var rows [][]Cell
	for i := range n {
		rows = append(rows, []Cell{N(float64(i + 1)), T(fmt.Sprintf("核查对象 %03d", i+1)), M(int64(i) * 10001), R(float64(i) / float64(n))})
	}
	return Document{
		Title: "长表测试",
		Sections: []Section{{
			Heading: "明细",
			Columns: []string{"序号", "对象名称", "金额（元）", "比例"},
			Rows:    rows,
		}},
	}
}
