package console

// labels are the pages' words, by language: the core set and those of
// each later page, merged once. Chinese is the default: the users are CDC
// staff.
var labels = mergeLabels(coreLabels, statsLabels, rulesLabels, finderLabels)

// mergeLabels merges label sets into one map per language; a key given
// twice is a programming error, caught by TestLabels.
func mergeLabels(sets ...map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, set := range sets {
		for lang, words := range set {
			if out[lang] == nil {
				out[lang] = map[string]string{}
			}
			for k, v := range words {
				out[lang][k] = v
			}
		}
	}
	return out
}

// coreLabels are the words of the sign-in, person, statistics, dashboard,
// rules and finder pages as first built.
var coreLabels = map[string]map[string]string{
	"zh": {
		"console": "健康码管理后台", "signin": "登录", "signout": "退出", "token": "管理令牌",
		"person": "人员查询", "stats": "统计", "screen": "大屏",
		"doc_type": "证件类型", "id": "证件号码", "phone": "手机号码", "lookup": "查询",
		"resident_id": "居民身份证", "passport": "护照", "hk_macao_travel_permit": "港澳通行证",
		"taiwan_travel_permit": "台湾通行证", "home_return_permit": "回乡证",
		"displayed": "当前码色", "provenance": "来源", "source": "依据", "since": "起始时间",
		"rule": "规则", "actor": "操作人", "authorisation": "授权文号", "reason": "原因",
		"history": "变更历史", "seq": "序号", "at": "时间", "colour": "码色", "hash": "哈希",
		"chain_ok": "哈希链校验通过", "chain_bad": "哈希链校验失败",
		"transcode": "人工转码", "submit": "提交转码", "transcoded": "已转码",
		"red": "红码", "yellow": "黄码", "green": "绿码",
		"document": "证件", "by_phone": "手机",
		"days": "近15日赋码（按码色）", "date": "日期", "causes": "红黄码原因排行", "regions": "按地区",
		"anomalies": "今日异常检测", "no_anomaly": "今日无异常", "label": "名称", "count": "数量",
		"today": "今日赋码", "forbidden": "无权限", "expired": "会话已过期，请重新登录",
		"bad_token": "令牌无效", "no_person": "请先查询人员", "lang": "English", "lang_to": "en",
		"signed_in_as": "当前用户", "roles": "角色", "updated": "更新于",
		"rules": "规则管理", "in_force": "现行规则集", "scheduled": "已排期", "uploaded": "已上传待激活", "version": "版本", "effective_from": "生效时间", "rule_count": "规则数", "risk_areas": "风险地区", "none": "无", "upload": "上传规则集", "source_yaml": "规则集（YAML）", "file": "或选择文件", "dry_run": "试运行报告（激活前）", "evaluated": "评估人数", "changed": "码色将变化", "eval_errors": "评估失败", "default_rule": "（默认码色）", "total": "合计", "problems": "规则集有误", "line_col": "行:列", "message": "说明", "activate": "激活", "rollback": "回滚", "confirm": "确认", "cancel": "取消", "confirm_activate": "确认激活 %s？", "confirm_rollback": "确认回滚到上一个规则集？", "done_activate": "已激活", "done_rollback": "已回滚", "not_confirmed": "未经确认，操作被拒绝", "no_upload": "请粘贴或选择规则集", "too_large": "规则集超过 1 MiB", "no_version": "请指定版本", "read_only": "只读：审计员不能上传、激活或回滚",
		"finder": "精准找人", "index_case": "指标病例", "or_visits": "或报告的场所行程", "venue_search": "场所名称（可部分、乱序）", "search": "搜索", "visit_from": "到达时间", "visit_to": "离开时间", "case_since": "病例扫码起", "case_until": "病例扫码止", "before": "前（分钟）", "after": "后（分钟）", "depth": "层级", "max_per_window": "每时空窗上限", "max_per_hop": "每层上限", "find": "查找", "contacts": "密接人员", "hop": "层级", "contact": "人员（脱敏）", "venue": "场所", "time": "时间", "via": "经由", "via_time": "经由时间", "hops": "各层统计", "windows": "时空窗", "capped_windows": "触顶窗口", "cut_by_window": "窗口截断人数", "cut_by_hop": "层级截断人数", "export_csv": "导出 CSV", "took": "耗时", "no_match": "无匹配场所", "bad_value": "取值无效", "no_case": "请填写证件号码、手机号码或选择场所", "no_result": "查询结果已失效，请重新查询", "case": "病例", "reported_visit": "报告行程",
	},
	"en": {
		"console": "Health code console", "signin": "Sign in", "signout": "Sign out", "token": "Admin token",
		"person": "Person", "stats": "Statistics", "screen": "Dashboard",
		"doc_type": "Document type", "id": "Document number", "phone": "Phone", "lookup": "Look up",
		"resident_id": "Resident ID", "passport": "Passport", "hk_macao_travel_permit": "HK/Macao permit",
		"taiwan_travel_permit": "Taiwan permit", "home_return_permit": "Home-return permit",
		"displayed": "Displayed code", "provenance": "Provenance", "source": "Source", "since": "Since",
		"rule": "Rule", "actor": "Actor", "authorisation": "Authorisation", "reason": "Reason",
		"history": "History", "seq": "Seq", "at": "At", "colour": "Colour", "hash": "Hash",
		"chain_ok": "Hash chain verified", "chain_bad": "Hash chain broken",
		"transcode": "Transcode", "submit": "Transcode", "transcoded": "Transcoded",
		"red": "Red", "yellow": "Yellow", "green": "Green",
		"document": "Document", "by_phone": "Phone",
		"days": "Codes issued, last 15 days, by colour", "date": "Date", "causes": "Red/yellow causes", "regions": "By region",
		"anomalies": "Today's anomaly check", "no_anomaly": "No anomaly today", "label": "Label", "count": "Count",
		"today": "Issued today", "forbidden": "Forbidden", "expired": "Session expired: sign in again",
		"bad_token": "Unknown token", "no_person": "Look a person up first", "lang": "中文", "lang_to": "zh",
		"signed_in_as": "Signed in as", "roles": "Roles", "updated": "Updated",
		"rules": "Rules", "in_force": "In force", "scheduled": "Scheduled", "uploaded": "Uploaded, not active", "version": "Version", "effective_from": "Effective from", "rule_count": "Rules", "risk_areas": "Risk areas", "none": "none", "upload": "Upload a rule set", "source_yaml": "Rule set (YAML)", "file": "or a file", "dry_run": "Dry run (before activation)", "evaluated": "Evaluated", "changed": "Would change", "eval_errors": "Errors", "default_rule": "(default colour)", "total": "Total", "problems": "The rule set has problems", "line_col": "line:col", "message": "Problem", "activate": "Activate", "rollback": "Roll back", "confirm": "Confirm", "cancel": "Cancel", "confirm_activate": "Activate %s?", "confirm_rollback": "Roll back to the previous rule set?", "done_activate": "Activated", "done_rollback": "Rolled back", "not_confirmed": "Not confirmed: refused", "no_upload": "Paste or choose a rule set", "too_large": "The rule set is over 1 MiB", "no_version": "Name a version", "read_only": "Read-only: auditors may not upload, activate or roll back",
		"finder": "Person finder", "index_case": "Index case", "or_visits": "or reported visits", "venue_search": "Venue name (partial, any order)", "search": "Search", "visit_from": "Arrived", "visit_to": "Left", "case_since": "Case scans from", "case_until": "Case scans to", "before": "Before (min)", "after": "After (min)", "depth": "Depth", "max_per_window": "Cap per window", "max_per_hop": "Cap per hop", "find": "Find", "contacts": "Contacts", "hop": "Hop", "contact": "Person (masked)", "venue": "Venue", "time": "Time", "via": "Via", "via_time": "Via at", "hops": "Per hop", "windows": "Windows", "capped_windows": "Capped windows", "cut_by_window": "Cut by window cap", "cut_by_hop": "Cut by hop cap", "export_csv": "Export CSV", "took": "Took", "no_match": "No venue matches", "bad_value": "invalid value", "no_case": "Give a document, a phone or a venue", "no_result": "That result has expired: run the query again", "case": "Case", "reported_visit": "reported visit",
	},
}
