package dedupe

import (
	"fmt"
	"time"
)

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 characters
// of an 18-character resident ID (GB 11643-1999): 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// idCheckDigit returns the check character for the 17 ASCII digits of s,
// or 0 if s is not 17 ASCII digits.
func idCheckDigit(s string) byte {
	if len(s) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// allDigits reports whether s is non-empty and all ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// upgrade15 converts a legacy 15-digit resident ID to 18 digits ("19"
// before the two-digit year, check digit appended). It returns "" if s is
// not 15 ASCII digits.
func upgrade15(s string) string {
	if len(s) != 15 || !allDigits(s) {
		return ""
	}
	var b [18]byte
	copy(b[:6], s[:6])
	b[6], b[7] = '1', '9'
	copy(b[8:17], s[6:])
	b[17] = idCheckDigit(string(b[:17]))
	return string(b[:])
}

// checkID18 checks an upper-cased 18-character resident-style ID: 17
// digits, a valid check character and a real birth date in positions
// 7-14. It returns nil or a *FieldError for FieldDocNumber whose reason
// never includes the ID itself.
func checkID18(id string) *FieldError {
	fe := func(err error, format string, args ...any) *FieldError {
		return &FieldError{Field: FieldDocNumber, Err: err, Reason: fmt.Sprintf(format, args...)}
	}
	if len(id) != 18 {
		return fe(ErrFormat, "want 18 characters (or 15 digits), got %d", len([]rune(id)))
	}
	if !allDigits(id[:17]) {
		return fe(ErrFormat, "the first 17 characters must be digits")
	}
	last := id[17]
	if (last < '0' || last > '9') && last != 'X' {
		return fe(ErrFormat, "the last character must be a digit or X")
	}
	if want := idCheckDigit(id[:17]); want != last {
		return fe(ErrChecksum, "check character does not match (ISO 7064 MOD 11-2)")
	}
	if _, err := time.Parse("20060102", id[6:14]); err != nil {
		return fe(ErrDate, "positions 7-14 are not a real date")
	}
	return nil
}
