package codes

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

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
// national form, the +86 / 0086 international forms and 86 followed by the
// 11 digits, with spaces, dashes,
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
	case len(nat) == 13 && strings.HasPrefix(nat, "861"):
		nat = nat[2:] // country code without + or 00, as some exports write it
	}
	if len(nat) != 11 {
		return Phone{}, idErr(KindUnknown, ErrLength, d, 0, strconv.Itoa(len(nat))+" digits", "11")
	}
	if nat[0] != '1' {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "", "a number starting with 1")
	}
	if !isMainlandMobile(nat) {
		return Phone{}, idErr(KindUnknown, ErrNotMobile, d, 0, "not in a mobile range of the CN number plan", "")
	}
	return Phone{e164: "+86" + nat}, nil
}

// numberPlan is the CN part of libphonenumber's metadata reduced to what
// ParsePhone asks: is an 11-digit national number a valid mobile number?
// It mirrors phonenumbers.GetNumberType (the general description must
// match, the special types are tried before mobile) with the regular
// expressions compiled once, which makes a parse about a hundred times
// cheaper than phonenumbers.Parse plus GetNumberType. It is immutable once
// built; TestMobilePlanOracle checks it against the library.
type numberPlan struct {
	general *numberDesc
	special []*numberDesc // premium, toll-free, shared-cost, VoIP, personal, pager, UAN, voicemail
	mobile  *numberDesc
}

type numberDesc struct {
	lengths []int32
	re      *regexp.Regexp
}

func newNumberDesc(d *phonenumbers.PhoneNumberDesc) *numberDesc {
	if d == nil || d.GetNationalNumberPattern() == "" {
		return nil
	}
	return &numberDesc{lengths: d.PossibleLength, re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func (d *numberDesc) match(n string) bool {
	if d == nil {
		return false
	}
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(n))) {
		return false
	}
	return d.re.MatchString(n)
}

var cnPlan = sync.OnceValue(func() *numberPlan {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() != "CN" {
			continue
		}
		p := &numberPlan{general: newNumberDesc(md.GetGeneralDesc()), mobile: newNumberDesc(md.GetMobile())}
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
			md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			if nd := newNumberDesc(d); nd != nil {
				p.special = append(p.special, nd)
			}
		}
		return p
	}
	return nil
})

// isMainlandMobile reports whether nat (11 digits) is a mobile number of
// the CN plan.
func isMainlandMobile(nat string) bool {
	p := cnPlan()
	if p == nil {
		return slowIsMainlandMobile(nat)
	}
	if !p.general.match(nat) {
		return false
	}
	for _, d := range p.special {
		if d.match(nat) {
			return false
		}
	}
	return p.mobile.match(nat)
}

// slowIsMainlandMobile asks the library directly.
func slowIsMainlandMobile(nat string) bool {
	num, err := phonenumbers.Parse(nat, "CN")
	if err != nil || !phonenumbers.IsValidNumberForRegion(num, "CN") {
		return false
	}
	t := phonenumbers.GetNumberType(num)
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
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
