package sla

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Fen is an amount of renminbi in fen (0.01 yuan), the unit every payment
// is finally made in. Amounts are computed exactly as Num and rounded to fen
// once, at the end of each line item, by RoundFen.
//
// Values are immutable, safe for concurrent use.
type Fen int64

// ParseYuan parses "292000", "292000.00", "292,000.00" or "¥292,000.00".
// More than two decimal places is an error: amounts are never rounded on
// the way in.
func ParseYuan(s string) (Fen, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "¥"), "￥")
	t = strings.ReplaceAll(t, ",", "")
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 15 {
		return 0, fieldErr("amount", "%q is not a yuan amount with at most 2 decimals", s)
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fieldErr("amount", "%q is not a yuan amount with at most 2 decimals", s)
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fieldErr("amount", "%q is out of range", s)
	}
	if neg {
		v = -v
	}
	return Fen(v), nil
}

// Yuan returns the amount as an exact Num of yuan.
func (f Fen) Yuan() Num { return NewNum(int64(f), 100) }

// String prints yuan with two decimals: "292000.00".
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Format prints yuan with thousands separators: "¥292,000.00".
func (f Fen) Format() string {
	s := f.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + "¥" + b.String() + "." + frac
}

// UnmarshalYAML reads a yuan amount ("292000.00").
func (f *Fen) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return scalarErr(n, "expected a yuan amount")
	}
	v, err := ParseYuan(n.Value)
	if err != nil {
		return scalarErr(n, "expected a yuan amount with at most 2 decimals")
	}
	*f = v
	return nil
}

// RoundFen is the package's one rounding rule: an exact amount in yuan is
// rounded to the nearest fen, halves away from zero (四舍五入, "half-up" on
// magnitudes). It is applied once per line item, never to intermediates.
func RoundFen(yuan Num) Fen {
	r := new(big.Rat).Mul(yuan.rat(), big.NewRat(100, 1)) // in fen
	neg := r.Sign() < 0
	if neg {
		r.Neg(r)
	}
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	v := q.Int64()
	if neg {
		v = -v
	}
	return Fen(v)
}
