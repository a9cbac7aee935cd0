package codes

// provinces maps the province-level prefix of a GB/T 2260 administrative
// division code (its first two digits) to the province's name. It is the set
// of prefixes printed on mainland resident identity cards; 71 (Taiwan) is
// listed in GB/T 2260 but never issued on a mainland card, and 81/82/83 are
// the prefixes of the Hong Kong, Macao and Taiwan residence permits, checked
// separately. Only the province level is embedded: county codes change every
// year (GB/T 2260 is re-published by the Ministry of Civil Affairs) and a card
// issued under a since-abolished county code stays valid for its holder.
var provinces = map[string]string{
	"11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
	"21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
	"31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
	"41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
	"50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
	"61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
}

// permitRegions maps the six-digit region field of a residence permit for
// Hong Kong, Macao and Taiwan residents to the place it stands for.
var permitRegions = map[string]string{
	"810000": "香港特别行政区",
	"820000": "澳门特别行政区",
	"830000": "台湾地区",
}

// ProvinceName returns the name of the province whose GB/T 2260 prefix starts
// code (a two- or six-digit region code), and whether it is known. For the
// residence-permit codes 810000, 820000 and 830000 it returns the name of the
// region the permit is issued for.
func ProvinceName(code string) (string, bool) {
	if n, ok := permitRegions[code]; ok {
		return n, true
	}
	if len(code) < 2 {
		return "", false
	}
	n, ok := provinces[code[:2]]
	return n, ok
}
