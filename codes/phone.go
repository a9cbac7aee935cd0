package codes

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone is a mainland China mobile number in E.164 form (+8613800138000).
// The zero value means "no phone". Phone is an immutable value, safe for
// concurrent use; String returns the masked form.
type Phone struct{ e164 string }

// E164 returns the number in E.164 form, or "" for the zero Phone.
func (p Phone) E164() string { return p.e164 }

// IsZero reports whether p is the zero Phone.
func (p Phone) IsZero() bool { return p.e164 == "" }

// Masked returns the national number with its middle hidden: +86 138****8000.
func (p Phone) Masked() string {
	if p.e164 == "" {
		return ""
	}
	return "+86 " + Mask(strings.TrimPrefix(p.e164, "+86"))
}

// String returns Masked.
func (p Phone) String() string { return p.Masked() }

// ParsePhone parses a mainland China mobile number. It accepts the 11-digit
// national form and the +86 / 0086 international forms, with spaces, dashes,
// dots, parentheses and full-width digits anywhere. The number must be valid
// for region CN in the libphonenumber plan and of mobile type; fixed lines,
// service numbers and other countries' numbers are refused with ErrNotMobile.
// Errors are *IDError with Kind KindUnknown.
func ParsePhone(s string) (Phone, error) {
	n := normalize(s)
	var b strings.Builder
	b.Grow(len(n))
	for i, r := range n {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '.' || r == '(' || r == ')':
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		default:
			return Phone{}, idErr(KindUnknown, ErrChar, n, phonePos(n, i), charName(n[i:]), "digit")
		}
	}
	d := b.String()
	if d == "" || d == "+" {
		return Phone{}, idErr(KindUnknown, ErrEmpty, n, 0, "", "")
	}
	// Fast shape check before the (slower) number-plan lookup, so that
	// obviously wrong lengths get a length error rather than "not mobile".
	nat := d
	switch {
	case strings.HasPrefix(nat, "+86"):
		nat = nat[3:]
	case strings.HasPrefix(nat, "0086"):
		nat = nat[4:]
	case strings.HasPrefix(nat, "+") || strings.HasPrefix(nat, "00"):
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 1, "foreign country code", "+86")
	}
	if len(nat) != 11 {
		return Phone{}, idErr(KindUnknown, ErrLength, d, 0, strconv.Itoa(len(nat))+" digits", "11")
	}
	if nat[0] != '1' {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "", "a number starting with 1")
	}
	num, err := phonenumbers.Parse(nat, "CN")
	if err != nil {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "", "")
	}
	if !phonenumbers.IsValidNumberForRegion(num, "CN") {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "unallocated number range", "")
	}
	if t := phonenumbers.GetNumberType(num); t != phonenumbers.MOBILE && t != phonenumbers.FIXED_LINE_OR_MOBILE {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "not a mobile range", "")
	}
	return Phone{e164: phonenumbers.Format(num, phonenumbers.E164)}, nil
}

// phonePos converts a byte offset in n to a 1-based character position.
func phonePos(n string, off int) int {
	pos := 0
	for i := range n {
		pos++
		if i == off {
			return pos
		}
	}
	return pos
}
