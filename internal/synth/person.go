package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Sex is a person's sex as encoded in the ID sequence number: odd for male,
// even for female.
type Sex byte

// Sex values.
const (
	Male   Sex = 'M'
	Female Sex = 'F'
)

// String returns "M" or "F".
func (s Sex) String() string { return string(rune(s)) }

// DocType is the kind of identity document a person registered with.
type DocType int

// Document types. The share of each in People is given in the package
// documentation.
const (
	DocResident      DocType = iota // 18-digit resident ID card (居民身份证)
	DocResident15                   // legacy 15-digit resident ID, as still found in old records
	DocHKMacaoPermit                // residence permit for Hong Kong and Macao residents (810000/820000)
	DocTaiwanPermit                 // residence permit for Taiwan residents (830000)
	DocForeignPR                    // foreign permanent resident ID, 2023 format (leading 9)
	DocPassport                     // passport, "E" + 8 digits
)

var docTypeNames = [...]string{"resident", "resident15", "hkmacao_permit", "taiwan_permit", "foreign_pr", "passport"}

// String returns a short English name such as "resident" or "passport".
func (d DocType) String() string {
	if d < 0 || int(d) >= len(docTypeNames) {
		return "DocType(" + strconv.Itoa(int(d)) + ")"
	}
	return docTypeNames[d]
}

// Person is one synthetic person. Safe to copy; holds no references into
// the generator.
type Person struct {
	Seq        int       // position in the generator's output, from 0
	Name       string    // Chinese name; minority names may contain a middle dot
	Sex        Sex       // Male or Female
	Birth      time.Time // date of birth at 00:00 UTC
	Region     string    // six-digit GB/T 2260 code carried by the document (810000/820000/830000 for permits), else the county of residence
	Ethnicity  string    // "汉", "回", "维吾尔", ...; "" for foreign nationals
	DocType    DocType   // kind of document
	DocNumber  string    // document number as issued (15 digits for DocResident15)
	ResidentID string    // valid 18-character form for resident IDs, legacy IDs and HK/Macao/Taiwan permits; "" otherwise
	Phone      string    // 11-digit mainland mobile number; "" for about 3 % of people
	Address    string    // mainland address of residence
}

// Birth date range and the share of births per period, a rough shape of
// China's population pyramid around 2022.
var (
	birthFirst = time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC)
	birthLast  = time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)
	birthBands = []struct {
		from, to int // years, inclusive
		w        float64
	}{
		{1930, 1939, 2}, {1940, 1949, 5}, {1950, 1959, 11}, {1960, 1969, 17}, {1970, 1979, 15},
		{1980, 1989, 16}, {1990, 1999, 14}, {2000, 2009, 11}, {2010, 2019, 8}, {2020, 2022, 1},
	}
)

// birthDays is the number of days from birthFirst to birthLast inclusive.
var birthDays = dayIndex(birthLast) + 1

func dayIndex(t time.Time) int { return int(t.Sub(birthFirst).Hours() / 24) }
func dayDate(i int) time.Time  { return birthFirst.AddDate(0, 0, i) }

// birthDay draws a day index; before2000 restricts it to births before 2000.
func (g *Gen) birthDay(before2000 bool) int {
	total := 0.0
	for _, b := range birthBands {
		if before2000 && b.from >= 2000 {
			break
		}
		total += b.w
	}
	x := g.rng.Float64() * total
	for _, b := range birthBands {
		if x < b.w || (before2000 && b.to == 1999) {
			lo := dayIndex(time.Date(b.from, 1, 1, 0, 0, 0, 0, time.UTC))
			hi := dayIndex(time.Date(b.to, 12, 31, 0, 0, 0, 0, time.UTC))
			return lo + g.rng.IntN(hi-lo+1)
		}
		x -= b.w
	}
	return g.rng.IntN(birthDays)
}

// idAllocator hands out sequence numbers so that IDs never repeat within a
// Gen: one counter per (region, birth day) cell and sex. A cell has 500 odd
// (male) and 499 even (female) sequence numbers; the n-th person of a cell
// gets number (offset+n) mod size, with a per-cell offset so numbers look
// random rather than counting from 001. Counters live in a map while few
// cells are used and move to a dense array (about 37 MB) once many are, so
// small generators stay small and large ones stay fast; the numbers handed
// out do not depend on the representation.
type idAllocator struct {
	sparse map[uint32]uint32 // cell -> male<<16 | female
	dense  []uint32          // same, indexed by cell, once len(sparse) > sparseMax
}

const sparseMax = 1 << 16

// next returns the three-digit sequence for a cell and sex, or -1 if the
// cell is exhausted.
func (a *idAllocator) next(seed uint64, region, day int, sex Sex) int {
	cell := uint32(region*birthDays + day)
	var c uint32
	switch {
	case a.dense != nil:
		c = a.dense[cell]
	case a.sparse == nil:
		a.sparse = make(map[uint32]uint32)
	default:
		c = a.sparse[cell]
	}
	male, female := c>>16, c&0xffff
	h := mix64(seed ^ uint64(cell)*0x9e3779b97f4a7c15)
	var seq int
	if sex == Male {
		if male >= 500 {
			return -1
		}
		seq = 2*int((h+uint64(male))%500) + 1 // 001..999 odd
		male++
	} else {
		if female >= 499 {
			return -1
		}
		seq = 2*int((h+uint64(female))%499) + 2 // 002..998 even
		female++
	}
	c = male<<16 | female
	if a.dense != nil {
		a.dense[cell] = c
		return seq
	}
	a.sparse[cell] = c
	if len(a.sparse) > sparseMax {
		a.dense = make([]uint32, (len(regions().list)+len(permitRegions))*birthDays)
		for k, v := range a.sparse {
			a.dense[k] = v
		}
		a.sparse = nil
	}
	return seq
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Document type shares in People, in per mille, summing to 1000.
var docShares = [...]struct {
	d DocType
	w int
}{
	{DocPassport, 5}, {DocForeignPR, 5}, {DocHKMacaoPermit, 7}, {DocTaiwanPermit, 3},
	{DocResident15, 30}, {DocResident, 950},
}

// ISO 3166-1 numeric nationality codes used in foreign permanent resident IDs.
var nationalities = []string{"840", "826", "276", "250", "392", "410", "124", "036", "643", "702", "458", "704", "356", "586"}

// Person returns the next synthetic person.
func (g *Gen) Person() Person {
	p := Person{Seq: g.people}
	g.people++
	r := g.rng
	p.Sex = Male
	if r.IntN(2) == 1 {
		p.Sex = Female
	}
	x := r.IntN(1000)
	for _, s := range docShares {
		if x < s.w {
			p.DocType = s.d
			break
		}
		x -= s.w
	}
	t := regions()
	home := t.list[r.IntN(len(t.list))]
	p.Address = g.address(home)
	switch p.DocType {
	case DocResident, DocResident15:
		ri := g.regionIndex(home)
		p.Region = home.Code
		p.Ethnicity = g.ethnicity(home)
		p.Name = g.name(p.Sex, p.Ethnicity)
		var day, seq int
		for {
			day = g.birthDay(p.DocType == DocResident15)
			if seq = g.ids.next(g.seed, ri, day, p.Sex); seq >= 0 {
				break
			}
		}
		p.Birth = dayDate(day)
		id := string(appendID18(make([]byte, 0, 18), p.Region, p.Birth.Year(), int(p.Birth.Month()), p.Birth.Day(), seq))
		p.ResidentID = id
		p.DocNumber = id
		if p.DocType == DocResident15 {
			p.DocNumber = Downgrade18(id)
		}
	case DocHKMacaoPermit, DocTaiwanPermit:
		pi := 2 // Taiwan
		if p.DocType == DocHKMacaoPermit {
			pi = r.IntN(2)
		}
		p.Region = permitRegions[pi].Code
		p.Ethnicity = "汉"
		p.Name = g.name(p.Sex, "汉")
		var day, seq int
		for {
			day = g.birthDay(false)
			if seq = g.ids.next(g.seed, len(t.list)+pi, day, p.Sex); seq >= 0 {
				break
			}
		}
		p.Birth = dayDate(day)
		p.ResidentID = string(appendID18(make([]byte, 0, 18), p.Region, p.Birth.Year(), int(p.Birth.Month()), p.Birth.Day(), seq))
		p.DocNumber = p.ResidentID
	case DocForeignPR:
		p.Region = home.Code
		p.Name = pick(r, foreignNames)
		for {
			p.Birth = dayDate(g.birthDay(false))
			seq := 2*r.IntN(499) + 1
			if p.Sex == Female {
				seq++
			}
			// 9 + two-digit province + three-digit nationality = the six
			// leading digits; appendID18 treats them like a region code.
			lead := "9" + home.Code[:2] + pick(r, nationalities)
			id := string(appendID18(make([]byte, 0, 18), lead, p.Birth.Year(), int(p.Birth.Month()), p.Birth.Day(), seq))
			if g.claim(id) {
				p.DocNumber = id
				break
			}
		}
	case DocPassport:
		p.Region = home.Code
		p.Ethnicity = "汉"
		p.Name = g.name(p.Sex, "汉")
		p.Birth = dayDate(g.birthDay(false))
		for {
			n := "E" + strconv.Itoa(10000000+r.IntN(90000000))
			if g.claim(n) {
				p.DocNumber = n
				break
			}
		}
	}
	if !chance(r, 0.03) {
		p.Phone = g.phone()
	}
	return p
}

// claim records a non-resident document number and reports whether it was
// new.
func (g *Gen) claim(n string) bool {
	if _, ok := g.other[n]; ok {
		return false
	}
	g.other[n] = struct{}{}
	return true
}

func (g *Gen) regionIndex(r Region) int { return regions().byCode[r.Code] }

// People returns n persons (see Person); none if n <= 0.
func (g *Gen) People(n int) []Person {
	out := make([]Person, max(n, 0))
	for i := range out {
		out[i] = g.Person()
	}
	return out
}

// ethnicity draws an ethnic group with shares that depend on the region.
func (g *Gen) ethnicity(home Region) string {
	r := g.rng
	x := r.Float64()
	code := home.Code
	switch {
	case code[:2] == "65": // Xinjiang
		switch {
		case x < 0.45:
			return "维吾尔"
		case x < 0.52:
			return "哈萨克"
		case x < 0.57:
			return "回"
		}
	case code[:2] == "54", code[:4] == "5133": // Tibet, Ganzi
		if x < 0.8 {
			return "藏"
		}
	case code[:4] == "5132": // Aba
		switch {
		case x < 0.55:
			return "藏"
		case x < 0.72:
			return "羌"
		}
	case code[:4] == "5134": // Liangshan
		if x < 0.5 {
			return "彝"
		}
	case code[:2] == "64", code[:4] == "6229": // Ningxia, Linxia
		if x < 0.35 {
			return "回"
		}
	case code[:2] == "45": // Guangxi
		if x < 0.3 {
			return "壮"
		}
	case code[:4] == "5329": // Dali
		if x < 0.45 {
			return "白"
		}
	default:
		if x < 0.03 {
			return pick(r, ethnicMinor)
		}
	}
	return "汉"
}

// name draws a name in the style of the given ethnic group.
func (g *Gen) name(sex Sex, ethnicity string) string {
	r := g.rng
	switch ethnicity {
	case "维吾尔", "哈萨克":
		if sex == Male {
			return pick(r, uyghurMale) + "·" + pick(r, uyghurMale)
		}
		return pick(r, uyghurFemale) + "·" + pick(r, uyghurMale)
	case "藏":
		if sex == Male {
			return pick(r, tibetanFirst) + pick(r, tibetanLastM)
		}
		return pick(r, tibetanFirst) + pick(r, tibetanLastF)
	}
	var b strings.Builder
	b.WriteString(g.surname())
	given := givenMale
	if sex == Female {
		given = givenFemale
	}
	b.WriteRune(pickGiven(r, given))
	if r.IntN(10) < 7 { // most given names have two characters
		b.WriteRune(pickGiven(r, given))
	}
	return b.String()
}

func pickGiven(r *rand.Rand, sexed []rune) rune {
	if r.IntN(4) == 0 {
		return givenAny[r.IntN(len(givenAny))]
	}
	return sexed[r.IntN(len(sexed))]
}

// surnameTotal is the sum of surname weights.
var surnameTotal = func() float64 {
	t := 0.0
	for _, s := range surnames {
		t += s.w
	}
	return t
}()

func (g *Gen) surname() string {
	x := g.rng.Float64() * surnameTotal
	for _, s := range surnames {
		if x < s.w {
			return s.s
		}
		x -= s.w
	}
	return surnames[len(surnames)-1].s
}

// address draws a street address in the given county.
func (g *Gen) address(home Region) string {
	r := g.rng
	b := make([]byte, 0, 96)
	b = append(b, home.Name()...)
	b = append(b, pick(r, roads)...)
	b = strconv.AppendInt(b, int64(1+r.IntN(300)), 10)
	b = append(b, "号"...)
	if r.IntN(3) > 0 {
		b = strconv.AppendInt(b, int64(1+r.IntN(30)), 10)
		b = append(b, "栋"...)
		b = strconv.AppendInt(b, int64(1+r.IntN(4)), 10)
		b = append(b, "单元"...)
		b = strconv.AppendInt(b, int64((1+r.IntN(30))*100+1+r.IntN(4)), 10)
	}
	return string(b)
}

// Mainland mobile prefixes (three digits) of China Mobile, China Unicom,
// China Telecom and China Broadnet that libphonenumber classifies as CN
// mobile numbers.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159",
	"166", "173", "175", "176", "177", "178",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"191", "193", "195", "196", "197", "198", "199",
}

// phone draws an 11-digit mainland mobile number.
func (g *Gen) phone() string {
	b := make([]byte, 0, 11)
	b = append(b, pick(g.rng, mobilePrefixes)...)
	return string(appendPad(b, g.rng.IntN(100000000), 8))
}
