package console

// labels are the pages' words, by language. Chinese is the default: the
// users are CDC staff.
var labels = map[string]map[string]string{
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
	},
}
