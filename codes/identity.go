package codes

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is the type of an identity document.
type Kind uint8

// Document kinds. The numbering is part of the key derivation (see Keyer) and
// must not change.
const (
	KindUnknown             Kind = iota
	KindResidentID               // 居民身份证, GB 11643 (18 digits; 15-digit legacy cards are upgraded)
	KindHKPermit                 // 港澳台居民居住证 issued to Hong Kong residents (region 810000)
	KindMacaoPermit              // residence permit for Macao residents (region 820000)
	KindTaiwanPermit             // residence permit for Taiwan residents (region 830000)
	KindForeignPR                // 外国人永久居留身份证, 2023 format (18 characters, leading 9)
	KindPassport                 // passport of any country, opaque
	KindHKMacaoTravelPermit      // 往来港澳通行证 (mainland residents), opaque
	KindTaiwanTravelPermit       // 往来台湾通行证 (mainland residents), opaque
	KindHomeReturnPermit         // 港澳居民来往内地通行证, opaque
	kindCount
)

var kindNames = [kindCount]string{
	"unknown document", "resident ID", "Hong Kong residence permit", "Macao residence permit",
	"Taiwan residence permit", "foreign permanent resident ID", "passport",
	"Hong Kong/Macao travel permit", "Taiwan travel permit", "home-return permit",
}

func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Sex is the sex recorded in a structured identity number.
type Sex uint8

// Sexes. SexUnknown is the zero value.
const (
	SexUnknown Sex = iota
	SexMale
	SexFemale
)

func (s Sex) String() string {
	switch s {
	case SexMale:
		return "M"
	case SexFemale:
		return "F"
	}
	return "?"
}

// Identity is a parsed, normalised identity document. Number returns the
// canonical number (personal data: never log it); String and Masked return the
// masked form, so formatting an Identity with %v is safe for logs.
// Implementations are immutable values, safe for concurrent use.
type Identity interface {
	Kind() Kind
	Number() string
	Masked() string
	String() string
}

// ResidentID is an 18-character number in the GB 11643-1999 structure:
// six-digit region, birth date YYYYMMDD, three-digit sequence (odd for men)
// and an ISO 7064 MOD 11-2 check character. It is used for mainland resident
// identity cards and for the residence permits of Hong Kong, Macao and Taiwan
// residents; Kind tells them apart. The zero value is not a valid ID. An
// immutable value, safe for concurrent use.
type ResidentID struct {
	num    [18]byte
	kind   Kind
	legacy bool
}

var (
	_ Identity = ResidentID{}
	_ Identity = ForeignPR{}
	_ Identity = Document{}
)

// Kind returns KindResidentID, KindHKPermit, KindMacaoPermit or KindTaiwanPermit.
func (id ResidentID) Kind() Kind { return id.kind }

// Number returns the 18-character number with an upper-case X.
func (id ResidentID) Number() string { return string(id.num[:]) }

// Masked returns the number with its middle hidden: 110***********123X.
func (id ResidentID) Masked() string { return Mask(string(id.num[:])) }

// String returns Masked.
func (id ResidentID) String() string { return id.Masked() }

// Region returns the six-digit GB/T 2260 region code (810000, 820000 or
// 830000 for residence permits).
func (id ResidentID) Region() string { return string(id.num[:6]) }

// Province returns the two-digit province prefix of Region.
func (id ResidentID) Province() string { return string(id.num[:2]) }

// BirthDate returns the birth date at midnight UTC.
func (id ResidentID) BirthDate() time.Time { return birth(id.num[6:14]) }

// Sex returns the sex encoded by the parity of the sequence number.
func (id ResidentID) Sex() Sex { return sexOf(id.num[16]) }

// Legacy reports whether the ID was given in the 15-digit form and upgraded.
func (id ResidentID) Legacy() bool { return id.legacy }

// ForeignPR is a foreign permanent resident ID card number in the 2023 format
// (外国人永久居留身份证): 9, two-digit province of the issuing authority,
// three-digit ISO 3166-1 numeric nationality, birth date YYYYMMDD, three-digit
// sequence (odd for men) and a MOD 11-2 check character. The pre-2023
// 15-character format is not accepted. An immutable value, safe for
// concurrent use.
type ForeignPR struct{ num [18]byte }

// Kind returns KindForeignPR.
func (ForeignPR) Kind() Kind { return KindForeignPR }

// Number returns the 18-character number.
func (id ForeignPR) Number() string { return string(id.num[:]) }

// Masked returns the number with its middle hidden.
func (id ForeignPR) Masked() string { return Mask(string(id.num[:])) }

// String returns Masked.
func (id ForeignPR) String() string { return id.Masked() }

// Province returns the two-digit province code of the issuing authority.
func (id ForeignPR) Province() string { return string(id.num[1:3]) }

// Nationality returns the three-digit ISO 3166-1 numeric country code.
func (id ForeignPR) Nationality() string { return string(id.num[3:6]) }

// BirthDate returns the birth date at midnight UTC.
func (id ForeignPR) BirthDate() time.Time { return birth(id.num[6:14]) }

// Sex returns the sex encoded by the parity of the sequence number.
func (id ForeignPR) Sex() Sex { return sexOf(id.num[16]) }

// Document is an opaque document number (passport, travel permit): upper-case
// letters and digits, 5 to 20 characters, no check structure. An immutable
// value, safe for concurrent use.
type Document struct {
	kind Kind
	num  string
}

// Kind returns the document kind.
func (d Document) Kind() Kind { return d.kind }

// Number returns the normalised number.
func (d Document) Number() string { return d.num }

// Masked returns the number with its middle hidden.
func (d Document) Masked() string { return Mask(d.num) }

// String returns Masked.
func (d Document) String() string { return d.Masked() }

func birth(b []byte) time.Time {
	y := atoi(b[0:4])
	m := atoi(b[4:6])
	d := atoi(b[6:8])
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

func sexOf(c byte) Sex {
	if (c-'0')%2 == 1 {
		return SexMale
	}
	return SexFemale
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckDigit returns the ISO 7064 MOD 11-2 check character ('0'-'9' or 'X')
// for the first 17 digits of a GB 11643 number. It panics if first17 is not
// 17 ASCII digits.
func CheckDigit(first17 string) byte {
	if len(first17) != 17 {
		panic("codes: CheckDigit needs 17 digits")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			panic("codes: CheckDigit needs 17 digits")
		}
		sum += int(c-'0') * checkWeights[i]
	}
	return "10X98765432"[sum%11]
}

// normalize folds full-width and other compatibility characters (NFKC),
// removes white space and upper-cases ASCII letters. It returns the
// significant characters.
func normalize(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = norm.NFKC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseResidentID parses a mainland resident ID or a Hong Kong, Macao or
// Taiwan residence permit number: 18 characters, or the 15-digit legacy form
// (born 1900-1999, upgraded by inserting 19 and computing the check digit).
// Full-width digits, white space anywhere and a lower-case x are accepted.
// Errors are *IDError wrapping ErrEmpty, ErrLength, ErrChar, ErrDate,
// ErrRegion or ErrChecksum (whose Want is the expected check character).
func ParseResidentID(s string) (ResidentID, error) {
	n := normalize(s)
	return parseResident(n)
}

func parseResident(n string) (ResidentID, error) {
	var id ResidentID
	kind := KindResidentID
	if len(n) >= 2 {
		switch n[:2] {
		case "81":
			kind = KindHKPermit
		case "82":
			kind = KindMacaoPermit
		case "83":
			kind = KindTaiwanPermit
		}
	}
	switch utf8.RuneCountInString(n) {
	case 0:
		return id, idErr(kind, ErrEmpty, n, 0, "", "")
	case 15:
		if err := digitsOnly(kind, n, 15); err != nil {
			return id, err
		}
		if kind != KindResidentID {
			// Residence permits date from 2018; they never had a 15-digit form.
			return id, idErr(kind, ErrLength, n, 0, "15 characters", "18")
		}
		copy(id.num[:6], n[:6])
		id.num[6], id.num[7] = '1', '9'
		copy(id.num[8:17], n[6:15])
		id.num[17] = CheckDigit(string(id.num[:17]))
		id.legacy = true
	case 18:
		if err := digitsOnly(kind, n, 17); err != nil {
			return id, err
		}
		c := n[17]
		if (c < '0' || c > '9') && c != 'X' {
			return id, idErr(kind, ErrChar, n, 18, charName(n[17:]), "digit or X")
		}
		copy(id.num[:], n)
	default:
		return id, idErr(kind, ErrLength, n, 0, strconv.Itoa(utf8.RuneCountInString(n))+" characters", "18 (or 15 for a legacy ID)")
	}
	id.kind = kind
	num := string(id.num[:])
	if kind == KindResidentID {
		if _, ok := provinces[num[:2]]; !ok {
			return ResidentID{}, idErr(kind, ErrRegion, n, 1, "province "+num[:2], "a GB/T 2260 province code")
		}
	} else if _, ok := permitRegions[num[:6]]; !ok {
		return ResidentID{}, idErr(kind, ErrRegion, n, 1, "", num[:2]+"0000")
	}
	if err := checkDate(kind, n, id.num[6:14]); err != nil {
		return ResidentID{}, err
	}
	if !id.legacy {
		if want := CheckDigit(num[:17]); want != id.num[17] {
			return ResidentID{}, idErr(kind, ErrChecksum, n, 18, string(id.num[17]), string(want))
		}
	}
	return id, nil
}

// digitsOnly checks that the first count characters of n are ASCII digits.
func digitsOnly(kind Kind, n string, count int) error {
	pos := 0
	for _, r := range n {
		pos++
		if pos > count {
			break
		}
		if r < '0' || r > '9' {
			return idErr(kind, ErrChar, n, pos, charName(string(r)), "digit")
		}
	}
	return nil
}

// charName quotes the first rune of s for an error message.
func charName(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return strconv.QuoteRune(r)
}

// checkDate validates an 8-digit YYYYMMDD birth date between 1850 and 2100.
func checkDate(kind Kind, n string, d []byte) error {
	const pos = 7 // the date starts at the 7th character in both the 15- and 18-character forms
	y, m, day := atoi(d[0:4]), atoi(d[4:6]), atoi(d[6:8])
	if y < 1850 || y > 2100 {
		return idErr(kind, ErrDate, n, pos, "year out of range", "1850-2100")
	}
	if m < 1 || m > 12 {
		return idErr(kind, ErrDate, n, pos, "month out of range", "01-12")
	}
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	if day < 1 || t.Day() != day {
		return idErr(kind, ErrDate, n, pos, "day out of range for its month", "")
	}
	return nil
}

// ParseForeignPR parses a 2023-format foreign permanent resident ID.
func ParseForeignPR(s string) (ForeignPR, error) {
	return parseForeignPR(normalize(s))
}

func parseForeignPR(n string) (ForeignPR, error) {
	var id ForeignPR
	const kind = KindForeignPR
	switch l := utf8.RuneCountInString(n); l {
	case 0:
		return id, idErr(kind, ErrEmpty, n, 0, "", "")
	case 18:
	default:
		return id, idErr(kind, ErrLength, n, 0, strconv.Itoa(l)+" characters", "18")
	}
	if err := digitsOnly(kind, n, 17); err != nil {
		return id, err
	}
	if c := n[17]; (c < '0' || c > '9') && c != 'X' {
		return id, idErr(kind, ErrChar, n, 18, charName(n[17:]), "digit or X")
	}
	if n[0] != '9' {
		return id, idErr(kind, ErrFormat, n, 1, "", "leading 9")
	}
	if _, ok := provinces[n[1:3]]; !ok {
		return id, idErr(kind, ErrRegion, n, 2, "province "+n[1:3], "a GB/T 2260 province code")
	}
	if n[3:6] == "000" {
		return id, idErr(kind, ErrRegion, n, 4, "nationality 000", "an ISO 3166-1 numeric code")
	}
	copy(id.num[:], n)
	if err := checkDate(kind, n, id.num[6:14]); err != nil {
		return ForeignPR{}, err
	}
	if want := CheckDigit(n[:17]); want != n[17] {
		return ForeignPR{}, idErr(kind, ErrChecksum, n, 18, n[17:], string(want))
	}
	return id, nil
}

// ParseDocument parses s as a document of the given kind. Structured kinds
// (resident IDs, residence permits, foreign permanent resident IDs) are fully
// validated; a residence-permit kind must match the number's region. Opaque
// kinds (passports, travel permits) are normalised and must be 5 to 20
// letters and digits.
func ParseDocument(kind Kind, s string) (Identity, error) {
	n := normalize(s)
	switch kind {
	case KindResidentID, KindHKPermit, KindMacaoPermit, KindTaiwanPermit:
		id, err := parseResident(n)
		if err != nil {
			return nil, err
		}
		if id.kind != kind {
			return nil, idErr(kind, ErrRegion, n, 1, id.kind.String(), kind.String())
		}
		return id, nil
	case KindForeignPR:
		id, err := parseForeignPR(n)
		if err != nil {
			return nil, err
		}
		return id, nil
	case KindPassport, KindHKMacaoTravelPermit, KindTaiwanTravelPermit, KindHomeReturnPermit:
		return parseOpaque(kind, n)
	}
	return nil, idErr(kind, ErrFormat, n, 0, "", "a known document kind")
}

func parseOpaque(kind Kind, n string) (Document, error) {
	l := utf8.RuneCountInString(n)
	if l == 0 {
		return Document{}, idErr(kind, ErrEmpty, n, 0, "", "")
	}
	pos := 0
	for _, r := range n {
		pos++
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return Document{}, idErr(kind, ErrChar, n, pos, charName(string(r)), "letter or digit")
		}
	}
	if l < 5 || l > 20 {
		return Document{}, idErr(kind, ErrLength, n, 0, strconv.Itoa(l)+" characters", "5-20")
	}
	return Document{kind: kind, num: n}, nil
}

// Parse guesses the kind of a document number and parses it:
//   - 15 digits, or 18 characters not starting with 9: a resident ID, or a
//     residence permit when the region is 810000, 820000 or 830000;
//   - 18 characters starting with 9: a foreign permanent resident ID;
//   - C + 8 digits or C + letter + 7 digits: a Hong Kong/Macao travel permit;
//   - L + 8 digits: a Taiwan travel permit;
//   - H or M + 8 or 10 digits: a home-return permit;
//   - anything else that starts with a letter: a passport.
//
// Callers that know the kind (a registry with a document-type column) should
// use ParseDocument. Phone numbers are parsed by ParsePhone.
func Parse(s string) (Identity, error) {
	n := normalize(s)
	if n == "" {
		return nil, idErr(KindUnknown, ErrEmpty, n, 0, "", "")
	}
	c := n[0]
	if c >= '0' && c <= '9' {
		if c == '9' && utf8.RuneCountInString(n) == 18 {
			id, err := parseForeignPR(n)
			if err != nil {
				return nil, err
			}
			return id, nil
		}
		id, err := parseResident(n)
		if err != nil {
			return nil, err
		}
		return id, nil
	}
	if c < 'A' || c > 'Z' {
		return nil, idErr(KindUnknown, ErrChar, n, 1, charName(n), "letter or digit")
	}
	kind := KindPassport
	switch {
	case c == 'C' && opaqueShape(n, 8):
		kind = KindHKMacaoTravelPermit
	case c == 'L' && len(n) == 9 && allDigits(n[1:]):
		kind = KindTaiwanTravelPermit
	case (c == 'H' || c == 'M') && (len(n) == 9 || len(n) == 11) && allDigits(n[1:]):
		kind = KindHomeReturnPermit
	}
	d, err := parseOpaque(kind, n)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// opaqueShape reports whether n is a letter followed by digits digits, or two
// letters followed by digits-1 digits.
func opaqueShape(n string, digits int) bool {
	if len(n) != digits+1 {
		return false
	}
	if allDigits(n[1:]) {
		return true
	}
	return n[1] >= 'A' && n[1] <= 'Z' && allDigits(n[2:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
