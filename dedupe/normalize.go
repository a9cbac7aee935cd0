package dedupe

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Normalisation puts values into one canonical form before they are
// compared, so that formatting noise never hides a duplicate. Every
// function here is pure and safe for concurrent use, and idempotent:
// normalising a normalised value returns it unchanged.

// MiddleDot is the canonical separator of transliterated minority and
// foreign names (阿依古丽·买买提): U+00B7.
const MiddleDot = '\u00B7'

// isDotVariant reports whether r is written for a name's middle dot: the
// bullet, hyphenation point, katakana and half-width katakana middle dots,
// dot operators, the Korean araea and the word separator middle dot.
// The ASCII full stop counts only between two non-ASCII letters (see
// NormalizeName).
func isDotVariant(r rune) bool {
	switch r {
	case '\u00B7', '\u0387', '\u2022', '\u2027', '\u2219', '\u22C5', '\u30FB', '\uFF65', '\u318D', '\u2E31', '\uA78F', '\u16EB', '\u2981':
		return true
	}
	return false
}

// isInvisible reports format characters that carry no text: zero-width
// spaces and joiners, the byte order mark, soft hyphen.
func isInvisible(r rune) bool {
	switch r {
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD':
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plain reports whether s is already in every canonical form this file
// produces for free text: only printable ASCII, CJK unified ideographs
// (U+4E00-U+9FFF, which NFKC and width folding leave alone) and the
// middle dot U+00B7, with no leading, trailing or doubled space. Most
// registry values are plain, and skip the Unicode machinery.
func plain(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == ' ' && prevSpace {
				return false
			}
			prevSpace = c == ' '
			i++
			continue
		}
		prevSpace = false
		r, size := utf8.DecodeRuneInString(s[i:])
		if !(r >= 0x4E00 && r <= 0x9FFF || r == MiddleDot) {
			return false
		}
		i += size
	}
	return true
}

// hanOnly reports whether s is non-empty and only CJK unified ideographs
// and middle dots (a typical Chinese name, already normalised).
func hanOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 0x4E00 && r <= 0x9FFF || r == MiddleDot) {
			return false
		}
	}
	return true
}

// fold applies full-width to half-width folding and Unicode NFKC. NFKC
// already folds full-width ASCII; width.Fold also folds the few
// characters NFKC leaves wide (such as U+FFE0-U+FFE6 signs). ASCII input
// is returned as is.
func fold(s string) string {
	if isASCII(s) || hanOnly(s) {
		return s
	}
	s = width.Fold.String(s)
	return norm.NFKC.String(s)
}

// NormalizeText folds width and applies NFKC, drops invisible format
// characters, collapses every run of white space (including the
// ideographic space) to one ASCII space and trims both ends. It is used
// for addresses, sources and other free text.
func NormalizeText(s string) string {
	if plain(s) {
		return s
	}
	s = fold(s)
	if isASCII(s) && !needsSpaceWork(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case isInvisible(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// needsSpaceWork reports whether an ASCII string has leading, trailing,
// doubled or non-space white space.
func needsSpaceWork(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			return true
		}
		if c == ' ' && i+1 < len(s) && s[i+1] == ' ' {
			return true
		}
	}
	return false
}

// NormalizeName normalises a person's name: NormalizeText, then every
// middle-dot variant (·, •, ‧, ・, ･, ∙, ⋅ and an ASCII "." between two
// non-ASCII letters) becomes U+00B7, white space next to a Han character
// or a middle dot is removed ("张 三" = "张三", "阿依古丽 · 买买提" =
// "阿依古丽·买买提"), and Latin letters are upper-cased ("John Smith" =
// "JOHN SMITH").
func NormalizeName(s string) string {
	if hanOnly(s) {
		return s
	}
	s = NormalizeText(s)
	if isASCII(s) {
		return strings.ToUpper(s)
	}
	rs := []rune(s)
	for i, r := range rs {
		if isDotVariant(r) {
			rs[i] = MiddleDot
		}
	}
	// An ASCII full stop between non-ASCII letters is a dot too; look
	// past spaces on each side.
	for i, r := range rs {
		if r != '.' {
			continue
		}
		if prevNonSpace(rs, i) >= utf8.RuneSelf && nextNonSpace(rs, i) >= utf8.RuneSelf {
			rs[i] = MiddleDot
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		if r == ' ' && (glue(prevNonSpace(rs, i)) || glue(nextNonSpace(rs, i))) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// glue reports whether spaces next to r are noise: r is a Han character
// or the middle dot.
func glue(r rune) bool { return r == MiddleDot || unicode.Is(unicode.Han, r) }

func prevNonSpace(rs []rune, i int) rune {
	for j := i - 1; j >= 0; j-- {
		if rs[j] != ' ' {
			return rs[j]
		}
	}
	return 0
}

func nextNonSpace(rs []rune, i int) rune {
	for j := i + 1; j < len(rs); j++ {
		if rs[j] != ' ' {
			return rs[j]
		}
	}
	return 0
}

// NormalizeAddress normalises an address: NormalizeText, then white space
// next to a Han character is removed ("北京市西城区 某路5号" =
// "北京市西城区某路5号"); spaces between Latin words or digits stay.
func NormalizeAddress(s string) string {
	if plain(s) && !strings.Contains(s, " ") {
		return s
	}
	s = NormalizeText(s)
	if isASCII(s) || !strings.Contains(s, " ") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		if r == ' ' && (unicode.Is(unicode.Han, prevNonSpace(rs, i)) || unicode.Is(unicode.Han, nextNonSpace(rs, i))) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NormalizeDocNumber normalises a document number: width folding and
// NFKC, white space and hyphens removed, letters upper-cased (a trailing
// "x" becomes "X"), and a legacy 15-digit resident ID upgraded to its
// 18-digit form. Any number of exactly 15 ASCII digits is taken as a
// legacy resident ID: no other document type issued in China has that
// shape.
func NormalizeDocNumber(s string) string {
	if len(s) == 18 && isUpperAlnum(s) {
		return s // the common case: already canonical
	}
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || r == '-' || isInvisible(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	out := b.String()
	if up := upgrade15(out); up != "" {
		return up
	}
	return out
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// NormalizeDate parses a date in one of the forms registries use and
// returns it as "2006-01-02": 2006-01-02, 2006-1-2, 20060102, 2006/1/2,
// 2006.1.2, 2006年1月2日, in full-width or half-width digits, optionally
// followed by a time of day (" 15:04:05" or "T15:04:05Z07:00"), which is
// ignored. It returns an error wrapping ErrDate for anything else or for a
// date that does not exist.
func NormalizeDate(s string) (string, error) {
	y, m, d, err := parseDate(s)
	if err != nil {
		return "", err
	}
	var b [10]byte
	b[0] = byte('0' + y/1000)
	b[1] = byte('0' + y/100%10)
	b[2] = byte('0' + y/10%10)
	b[3] = byte('0' + y%10)
	b[4] = '-'
	b[5] = byte('0' + m/10)
	b[6] = byte('0' + m%10)
	b[7] = '-'
	b[8] = byte('0' + d/10)
	b[9] = byte('0' + d%10)
	return string(b[:]), nil
}

// ParseDate is NormalizeDate returning a time.Time at 00:00 UTC.
func ParseDate(s string) (time.Time, error) {
	y, m, d, err := parseDate(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

func parseDate(s string) (y, m, d int, err error) {
	bad := func(reason string) (int, int, int, error) {
		return 0, 0, 0, fmt.Errorf("%w: %s", ErrDate, reason)
	}
	s = strings.TrimSpace(fold(s))
	if s == "" {
		return bad("empty")
	}
	// Drop a time of day.
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	var parts [3]int
	var lens [3]int
	n := 0
	if len(s) == 8 && allDigits(s) {
		parts = [3]int{atoi(s[:4]), atoi(s[4:6]), atoi(s[6:])}
		lens = [3]int{4, 2, 2}
		n = 3
	} else {
		var sep string
		i := 0
		for i < len(s) {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i || j-i > 4 {
				return bad("want year, month and day")
			}
			if n == 3 {
				return bad("too many parts")
			}
			parts[n], lens[n] = atoi(s[i:j]), j-i
			n++
			// One separator: -, /, . or 年/月/日.
			r, size := utf8.DecodeRuneInString(s[j:])
			switch {
			case j == len(s):
				i = j
				continue
			case r == '-' || r == '/' || r == '.':
				if sep != "" && sep != string(r) {
					return bad("mixed separators")
				}
				sep = string(r)
			case r == '年' && n == 1, r == '月' && n == 2, r == '日' && n == 3:
				sep = "年"
			default:
				return bad("unexpected character")
			}
			i = j + size
		}
	}
	if n != 3 || lens[0] != 4 || lens[1] > 2 || lens[2] > 2 {
		return bad("want year, month and day")
	}
	y, m, d = parts[0], parts[1], parts[2]
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return bad("no such day")
	}
	return y, m, d, nil
}

// atoi converts a short string of ASCII digits (checked by the caller).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// NormalizePhone normalises a mainland phone number: width folding, white
// space, hyphens, dots and parentheses removed, and a +86, 0086 or 86
// country prefix dropped from a 13-digit mobile number. Anything else is
// returned folded but otherwise unchanged.
func NormalizePhone(s string) string {
	if len(s) == 11 && allDigits(s) {
		return s // the common case: already canonical
	}
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r == '-', r == '(', r == ')', r == '.', isInvisible(r):
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	for _, p := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(out, p); ok && len(rest) == 11 && rest[0] == '1' && allDigits(rest) {
			return rest
		}
	}
	return out
}

// NormalizeSex maps the usual spellings of sex to "男" or "女": 男, 男性,
// M, male, 1 and 女, 女性, F, female, 2 (GB/T 2261.1 codes). Anything
// else is returned as NormalizeText gives it.
func NormalizeSex(s string) string {
	if s == "男" || s == "女" {
		return s
	}
	t := NormalizeText(s)
	switch strings.ToLower(t) {
	case "男", "男性", "m", "male", "1":
		return "男"
	case "女", "女性", "f", "female", "2":
		return "女"
	}
	return t
}

// NormalizeEthnicity normalises an ethnic group: NormalizeText, inner
// spaces removed, and the suffix 族 dropped ("汉族" = "汉"), except for
// the name that is the suffix alone.
func NormalizeEthnicity(s string) string {
	t := strings.ReplaceAll(NormalizeText(s), " ", "")
	if r, ok := strings.CutSuffix(t, "族"); ok && r != "" {
		return r
	}
	return t
}

// NormalizeDocType normalises a document type: NormalizeText with inner
// spaces removed, and the common names of the resident ID card
// (居民身份证, 二代身份证, 第二代居民身份证) mapped to "身份证".
func NormalizeDocType(s string) string {
	t := strings.ReplaceAll(NormalizeText(s), " ", "")
	switch t {
	case "居民身份证", "二代身份证", "第二代居民身份证", "第二代身份证":
		return "身份证"
	}
	return t
}

// Normalize returns r with every field in canonical form (the functions
// above, field by field). A birth date that does not parse is kept as
// NormalizeText gives it, so that two records with the same unparseable
// date still compare equal. ID, times and Extra are copied unchanged.
func Normalize(r Record) Record {
	r.Name = NormalizeName(r.Name)
	r.DocType = NormalizeDocType(r.DocType)
	r.DocNumber = NormalizeDocNumber(r.DocNumber)
	if d, err := NormalizeDate(r.Birth); err == nil {
		r.Birth = d
	} else {
		r.Birth = NormalizeText(r.Birth)
	}
	r.Sex = NormalizeSex(r.Sex)
	r.Ethnicity = NormalizeEthnicity(r.Ethnicity)
	r.Address = NormalizeAddress(r.Address)
	r.Phone = NormalizePhone(r.Phone)
	r.Source = NormalizeText(r.Source)
	return r
}

// normalizeField normalises one field as Normalize does.
func normalizeField(f Field, v string) string {
	switch f {
	case FieldName:
		return NormalizeName(v)
	case FieldDocType:
		return NormalizeDocType(v)
	case FieldDocNumber:
		return NormalizeDocNumber(v)
	case FieldBirth:
		if d, err := NormalizeDate(v); err == nil {
			return d
		}
		return NormalizeText(v)
	case FieldSex:
		return NormalizeSex(v)
	case FieldEthnicity:
		return NormalizeEthnicity(v)
	case FieldPhone:
		return NormalizePhone(v)
	case FieldAddress:
		return NormalizeAddress(v)
	}
	return NormalizeText(v)
}
