package console

// statsLabels are the words of the venue statistics and the red/yellow users list.
var statsLabels = map[string]map[string]string{
	"zh": {
		"venue_stats": "场所统计", "registered_venues": "登记场所数", "active_venues": "近15日有扫码的场所",
		"scans_today": "今日扫码", "scans_per_day": "近15日每日扫码量", "scans": "扫码量", "the_numbers": "逐日数字",
		"no_scan_log": "无扫码记录", "top_today": "今日扫码最多的场所", "top_week": "近7日扫码最多的场所",
		"venue_name": "场所名称", "venue_code": "场所编码",
		"users_list": "红黄码人员名单", "users_link": "查看红黄码人员名单（按地区、规则、日期筛选）",
		"users_audited":  "查看名单属于个人信息访问，每次查看均记入审计日志；人员均已脱敏。",
		"red_and_yellow": "红码和黄码", "region": "地区", "region_hint": "地区代码或其前缀（2–6位数字）",
		"state_since": "状态起始日期", "state_until": "状态起始日期（止）", "filter": "筛选",
		"people": "人", "rows_shown": "当前显示", "page": "页码", "masked_person": "人员（脱敏）",
		"no_users": "无符合条件的人员", "prev": "上一页", "next": "下一页",
		"bad_colour": "应为红码、黄码或两者", "bad_region": "应为2–6位数字的地区代码",
		"bad_rule": "规则编号无效", "bad_date": "日期格式应为 YYYY-MM-DD", "bad_range": "结束日期早于开始日期",
		"bad_page": "页码应为正整数",
	},
	"en": {
		"venue_stats": "Venue statistics", "registered_venues": "Registered venues", "active_venues": "Venues scanned (15 days)",
		"scans_today": "Scans today", "scans_per_day": "Scans a day, last 15 days", "scans": "Scans", "the_numbers": "The numbers",
		"no_scan_log": "No scan log", "top_today": "Most scanned venues today", "top_week": "Most scanned venues, last 7 days",
		"venue_name": "Venue", "venue_code": "Venue code",
		"users_list": "Red/yellow people", "users_link": "List the red/yellow people (by region, rule, date)",
		"users_audited":  "Viewing the list is a personal-data access: every view is audited. People are masked.",
		"red_and_yellow": "Red and yellow", "region": "Region", "region_hint": "region code or its prefix (2–6 digits)",
		"state_since": "State began", "state_until": "State began (until)", "filter": "Filter",
		"people": "people", "rows_shown": "showing", "page": "Page", "masked_person": "Person (masked)",
		"no_users": "No one matches", "prev": "Previous", "next": "Next",
		"bad_colour": "want red, yellow or both", "bad_region": "want a region code of 2 to 6 digits",
		"bad_rule": "not a rule id", "bad_date": "want a date, YYYY-MM-DD", "bad_range": "ends before it begins",
		"bad_page": "want a page number from 1",
	},
}
