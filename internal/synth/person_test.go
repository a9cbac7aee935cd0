package synth

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

func TestRegionsTable(t *testing.T) {
	rs := Regions()
	require.Greater(t, len(rs), 200)
	seen := map[string]bool{}
	provs := map[string]bool{}
	for i, r := range rs {
		require.Regexp(t, `^[1-6][0-9]{5}$`, r.Code)
		require.NotEqual(t, "00", r.Code[4:], "%s is not county level", r.Code)
		require.False(t, seen[r.Code], "duplicate %s", r.Code)
		seen[r.Code] = true
		provs[r.Code[:2]] = true
		if i > 0 {
			require.Less(t, rs[i-1].Code, r.Code, "table sorted by code")
		}
		require.NotEmpty(t, r.Province)
		require.NotEmpty(t, r.County)
	}
	require.GreaterOrEqual(t, len(provs), 10)
	for _, tc := range []struct{ code, name string }{
		{"510104", "四川省成都市锦江区"},
		{"610113", "陕西省西安市雁塔区"},
		{"110101", "北京市东城区"},
		{"410105", "河南省郑州市金水区"},
		{"650102", "新疆维吾尔自治区乌鲁木齐市天山区"},
		{"810000", "香港特别行政区"},
		{"830000", "台湾省"},
	} {
		r, ok := LookupRegion(tc.code)
		require.True(t, ok, tc.code)
		require.Equal(t, tc.name, r.Name())
	}
	_, ok := LookupRegion("510100")
	require.False(t, ok, "prefecture codes are not county level")
	rs[0].Code = "mutated"
	require.NotEqual(t, "mutated", Regions()[0].Code, "Regions returns a copy")
}

var (
	rePassport = regexp.MustCompile(`^E[0-9]{8}$`)
	re15       = regexp.MustCompile(`^[0-9]{15}$`)
)

// checkBirthDigits checks that the 8 digits at off in id are p.Birth.
func checkBirthDigits(t *testing.T, id string, off int, birth time.Time) {
	t.Helper()
	d, err := time.Parse("20060102", id[off:off+8])
	require.NoError(t, err, id)
	require.True(t, d.Equal(birth), "%s encodes %v, person born %v", id, d, birth)
}

func TestPeopleInvariants(t *testing.T) {
	const n = 40000
	people := New(2022).People(n)
	count := map[DocType]int{}
	seenDoc := map[string]bool{}
	noPhone, dotted, minors, under18 := 0, 0, 0, 0
	asOf := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range people {
		require.Equal(t, i, p.Seq)
		count[p.DocType]++
		require.NotEmpty(t, p.Name)
		require.Contains(t, []Sex{Male, Female}, p.Sex)
		require.False(t, p.Birth.Before(time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC)), p.Birth)
		require.False(t, p.Birth.After(time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)), p.Birth)
		require.Equal(t, time.UTC, p.Birth.Location())
		require.Zero(t, p.Birth.Hour()+p.Birth.Minute()+p.Birth.Second())
		require.False(t, seenDoc[p.DocNumber], "document number issued twice: %s", p.DocNumber)
		seenDoc[p.DocNumber] = true
		_, ok := LookupRegion(p.Region)
		require.True(t, ok, "unknown region %s", p.Region)
		require.True(t, strings.HasSuffix(p.Address, "号") || strings.Contains(p.Address, "单元"), p.Address)

		switch p.DocType {
		case DocResident, DocResident15, DocHKMacaoPermit, DocTaiwanPermit:
			id := p.ResidentID
			require.Len(t, id, 18)
			require.True(t, ValidID(id), id)
			require.Equal(t, p.Region, id[:6])
			checkBirthDigits(t, id, 6, p.Birth)
			odd := (id[16]-'0')%2 == 1
			require.Equal(t, p.Sex == Male, odd, "sex parity of %s", id)
			switch p.DocType {
			case DocResident:
				require.Equal(t, id, p.DocNumber)
				reg, _ := LookupRegion(p.Region)
				require.NotEmpty(t, reg.County, "resident region is a county")
			case DocResident15:
				require.Regexp(t, re15, p.DocNumber)
				require.Equal(t, id, Upgrade15(p.DocNumber))
				require.Less(t, p.Birth.Year(), 2000)
			case DocHKMacaoPermit:
				require.Contains(t, []string{"810000", "820000"}, p.Region)
				require.Equal(t, id, p.DocNumber)
			case DocTaiwanPermit:
				require.Equal(t, "830000", p.Region)
				require.Equal(t, id, p.DocNumber)
			}
		case DocForeignPR:
			require.Empty(t, p.ResidentID)
			require.Len(t, p.DocNumber, 18)
			require.Equal(t, byte('9'), p.DocNumber[0])
			require.True(t, ValidID(p.DocNumber), p.DocNumber)
			require.Equal(t, p.Region[:2], p.DocNumber[1:3], "province of the issuing office")
			require.Contains(t, nationalities, p.DocNumber[3:6])
			checkBirthDigits(t, p.DocNumber, 6, p.Birth)
			require.Equal(t, p.Sex == Male, (p.DocNumber[16]-'0')%2 == 1)
			require.Empty(t, p.Ethnicity)
		case DocPassport:
			require.Empty(t, p.ResidentID)
			require.Regexp(t, rePassport, p.DocNumber)
		default:
			t.Fatalf("unknown doc type %v", p.DocType)
		}
		if p.DocType != DocForeignPR {
			require.NotEmpty(t, p.Ethnicity)
			if p.Ethnicity != "汉" {
				minors++
			}
		}
		if p.Phone == "" {
			noPhone++
		} else {
			require.Len(t, p.Phone, 11)
		}
		if strings.Contains(p.Name, "·") {
			dotted++
		}
		if p.Birth.AddDate(18, 0, 0).After(asOf) {
			under18++
		}
	}
	share := func(k int) float64 { return float64(k) / n }
	for _, tc := range []struct {
		d      DocType
		lo, hi float64
	}{
		{DocResident, 0.93, 0.97}, {DocResident15, 0.02, 0.04},
		{DocHKMacaoPermit, 0.004, 0.01}, {DocTaiwanPermit, 0.001, 0.005},
		{DocForeignPR, 0.003, 0.008}, {DocPassport, 0.003, 0.008},
	} {
		require.InDelta(t, (tc.lo+tc.hi)/2, share(count[tc.d]), (tc.hi-tc.lo)/2, "share of %v", tc.d)
	}
	require.InDelta(t, 0.03, share(noPhone), 0.01)
	require.Greater(t, dotted, 0, "some minority or foreign names with a middle dot")
	require.InDelta(t, 0.07, share(minors), 0.05, "minority share")
	require.InDelta(t, 0.18, share(under18), 0.06, "share under 18 in mid-2022")
}

func TestBirthDays(t *testing.T) {
	// 93 years, 23 of them leap years (1932 ... 2020).
	require.Equal(t, 93*365+23, birthDays)
	require.Equal(t, birthLast, dayDate(birthDays-1))
}

func TestPhonesValidPerLibphonenumber(t *testing.T) {
	g := New(99)
	checked := 0
	for _, p := range g.People(5000) {
		if p.Phone == "" {
			continue
		}
		num, err := phonenumbers.Parse(p.Phone, "CN")
		require.NoError(t, err, p.Phone)
		require.True(t, phonenumbers.IsValidNumber(num), p.Phone)
		require.Equal(t, phonenumbers.MOBILE, phonenumbers.GetNumberType(num), p.Phone)
		checked++
	}
	// Every prefix, not only those the sample happened to draw.
	for _, pre := range mobilePrefixes {
		for range 50 {
			n := pre + string(appendPad(nil, g.rng.IntN(100000000), 8))
			num, err := phonenumbers.Parse(n, "CN")
			require.NoError(t, err)
			require.True(t, phonenumbers.IsValidNumber(num), n)
			checked++
		}
	}
	require.Greater(t, checked, 6000)
}

func TestIDsUniqueAtScale(t *testing.T) {
	// Dense birth cells: many people in one region and year must still get
	// distinct IDs (the allocator), not birthday-paradox collisions.
	g := New(5)
	seen := make(map[string]struct{}, 200000)
	for range 200000 {
		p := g.Person()
		_, dup := seen[p.DocNumber]
		require.False(t, dup, "duplicate %s", p.DocNumber)
		seen[p.DocNumber] = struct{}{}
	}
}
