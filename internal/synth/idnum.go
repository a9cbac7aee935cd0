package synth

import (
	"strconv"
)

// weights of the first 17 digits in the ISO 7064 MOD 11-2 check of GB 11643.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckDigit returns the ISO 7064 MOD 11-2 check character ('0'-'9' or 'X')
// for the first 17 digits of an 18-character resident ID (GB 11643-1999).
// The same rule is used by HK/Macao/Taiwan residence permits and the 2023
// foreign permanent resident ID. It returns 0 if first17 is not exactly 17
// ASCII digits.
func CheckDigit(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return checkChars[sum%11]
}

// ValidID reports whether id is 18 characters whose last one is the check
// character of the first 17 digits. It checks only the checksum, not the
// region or date.
func ValidID(id string) bool {
	return len(id) == 18 && CheckDigit(id[:17]) == id[17]
}

// Upgrade15 converts a legacy 15-digit resident ID (region, YYMMDD,
// sequence) to its 18-digit form: "19" is inserted before the two-digit
// year and the check digit appended. Legacy IDs were issued only to people
// born in the 1900s. It returns "" if id15 is not 15 ASCII digits.
func Upgrade15(id15 string) string {
	if len(id15) != 15 {
		return ""
	}
	for i := 0; i < 15; i++ {
		if id15[i] < '0' || id15[i] > '9' {
			return ""
		}
	}
	first17 := id15[:6] + "19" + id15[6:]
	return first17 + string(CheckDigit(first17))
}

// Downgrade18 returns the legacy 15-digit form of an 18-digit resident ID
// of someone born in the 1900s (the inverse of Upgrade15), or "" if the ID
// has no such form.
func Downgrade18(id18 string) string {
	if len(id18) != 18 || id18[6:8] != "19" {
		return ""
	}
	return id18[:6] + id18[8:17]
}

// appendID18 appends region + YYYYMMDD + seq + check digit to b.
func appendID18(b []byte, region string, year, month, day, seq int) []byte {
	start := len(b)
	b = append(b, region...)
	b = appendPad(b, year, 4)
	b = appendPad(b, month, 2)
	b = appendPad(b, day, 2)
	b = appendPad(b, seq, 3)
	return append(b, CheckDigit(string(b[start:])))
}

// appendPad appends v in decimal, left-padded with zeros to width digits.
func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
