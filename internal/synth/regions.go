package synth

import (
	_ "embed"
	"strings"
	"sync"
)

// Region is one county-level division of GB/T 2260 (or, for residence
// permits, the region codes 810000, 820000 and 830000).
type Region struct {
	Code     string // six digits, e.g. "510104"
	Province string // e.g. "四川省"; for municipalities the city, "北京市"
	City     string // prefecture, e.g. "成都市"; "" for municipalities
	County   string // e.g. "锦江区"
}

// Name returns the full name, e.g. "四川省成都市锦江区".
func (r Region) Name() string { return r.Province + r.City + r.County }

// ProvinceCode returns the two-digit province prefix of the code.
func (r Region) ProvinceCode() string { return r.Code[:2] }

//go:embed regions.txt
var regionsText string

// permitRegions are the codes that HK/Macao and Taiwan residence permit
// numbers carry instead of a mainland county code: 810000 and 820000 are
// the GB/T 2260 codes of Hong Kong and Macao; 830000 is the permit rule's
// code for Taiwan (GB/T 2260 itself lists Taiwan as 710000).
var permitRegions = []Region{
	{Code: "810000", Province: "香港特别行政区"},
	{Code: "820000", Province: "澳门特别行政区"},
	{Code: "830000", Province: "台湾省"},
}

type regionTable struct {
	list   []Region         // mainland counties, in file order (by code)
	byCode map[string]int   // code -> index in list, or -1-i for permitRegions[i]
	byProv map[string][]int // two-digit province -> indexes in list
	provs  []string         // distinct province prefixes, sorted
}

// regions parses the embedded table once. The result is never modified.
var regions = sync.OnceValue(func() *regionTable {
	t := &regionTable{byCode: make(map[string]int), byProv: make(map[string][]int)}
	for line := range strings.SplitSeq(regionsText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 4 || len(f[0]) != 6 {
			panic("synth: bad line in embedded regions.txt: " + line)
		}
		r := Region{Code: f[0], Province: f[1], City: f[2], County: f[3]}
		if _, dup := t.byCode[r.Code]; dup {
			panic("synth: duplicate code in embedded regions.txt: " + r.Code)
		}
		i := len(t.list)
		t.list = append(t.list, r)
		t.byCode[r.Code] = i
		p := r.Code[:2]
		if len(t.byProv[p]) == 0 {
			t.provs = append(t.provs, p)
		}
		t.byProv[p] = append(t.byProv[p], i)
	}
	for i, r := range permitRegions {
		t.byCode[r.Code] = -1 - i
	}
	return t
})

// Regions returns the embedded mainland county-level regions (a fresh copy,
// sorted by code). Residents' IDs and addresses use only these codes.
func Regions() []Region {
	return append([]Region(nil), regions().list...)
}

// LookupRegion returns the region with the given six-digit code. It knows
// the embedded mainland counties and the permit codes 810000 (Hong Kong),
// 820000 (Macao) and 830000 (Taiwan).
func LookupRegion(code string) (Region, bool) {
	t := regions()
	i, ok := t.byCode[code]
	switch {
	case !ok:
		return Region{}, false
	case i < 0:
		return permitRegions[-1-i], true
	default:
		return t.list[i], true
	}
}
