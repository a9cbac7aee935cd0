package sla

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Num is an exact rational number: rates ("0.05%"), points ("0.01"),
// shares ("30%") and every intermediate amount. Arithmetic never rounds;
// the only rounding in the package is RoundFen, once per line item.
//
// The zero value is 0. A Num is immutable (methods return new values) and
// safe for concurrent use.
type Num struct{ r *big.Rat }

// NewNum returns a/b. b must not be zero.
func NewNum(a, b int64) Num {
	if b == 0 {
		panic("sla: NewNum with zero denominator")
	}
	return Num{new(big.Rat).SetFrac64(a, b)}
}

// Int returns the integer i as a Num.
func Int(i int64) Num { return Num{new(big.Rat).SetInt64(i)} }

// ParseNum parses a decimal ("0.01", "-2", "262.8") or a percentage
// ("99.95%", "0.05%", which is 0.0005). Exponents and fractions with "/"
// are refused, so documents stay readable.
func ParseNum(s string) (Num, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	if t == "" || len(t) > 40 || strings.ContainsAny(t, "eE/_") || strings.Count(t, ".") > 1 {
		return Num{}, fieldErr("number", "%q is not a decimal number or percentage", s)
	}
	for i, c := range t {
		if !(c >= '0' && c <= '9' || c == '.' || (i == 0 && (c == '-' || c == '+'))) {
			return Num{}, fieldErr("number", "%q is not a decimal number or percentage", s)
		}
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return Num{}, fieldErr("number", "%q is not a decimal number or percentage", s)
	}
	if pct {
		r.Quo(r, big.NewRat(100, 1))
	}
	return Num{r}, nil
}

// MustNum is ParseNum for constants in code and tests; it panics on error.
func MustNum(s string) Num {
	n, err := ParseNum(s)
	if err != nil {
		panic(err)
	}
	return n
}

func (n Num) rat() *big.Rat {
	if n.r == nil {
		return new(big.Rat)
	}
	return n.r
}

// Add returns n+m.
func (n Num) Add(m Num) Num { return Num{new(big.Rat).Add(n.rat(), m.rat())} }

// Sub returns n-m.
func (n Num) Sub(m Num) Num { return Num{new(big.Rat).Sub(n.rat(), m.rat())} }

// Mul returns n*m.
func (n Num) Mul(m Num) Num { return Num{new(big.Rat).Mul(n.rat(), m.rat())} }

// Quo returns n/m; m must not be zero.
func (n Num) Quo(m Num) Num {
	if m.Sign() == 0 {
		panic("sla: Num division by zero")
	}
	return Num{new(big.Rat).Quo(n.rat(), m.rat())}
}

// Cmp compares n and m: -1, 0 or +1.
func (n Num) Cmp(m Num) int { return n.rat().Cmp(m.rat()) }

// Sign returns -1, 0 or +1.
func (n Num) Sign() int { return n.rat().Sign() }

// IsZero reports n == 0.
func (n Num) IsZero() bool { return n.Sign() == 0 }

// Min returns the smaller of n and m.
func (n Num) Min(m Num) Num {
	if n.Cmp(m) <= 0 {
		return n
	}
	return m
}

// Max returns the larger of n and m.
func (n Num) Max(m Num) Num {
	if n.Cmp(m) >= 0 {
		return n
	}
	return m
}

// Floor returns the largest integer <= n.
func (n Num) Floor() int64 {
	r := n.rat()
	q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floor for positive denominators
	return q.Int64()
}

// String prints the exact value as a decimal when it has a finite one
// ("262.8", "0.0005"), else as a decimal to 10 places followed by "...".
func (n Num) String() string {
	r := n.rat()
	if r.IsInt() {
		return r.Num().String()
	}
	// A fraction has a finite decimal iff its reduced denominator is 2^a 5^b.
	d := new(big.Int).Set(r.Denom())
	places := 0
	for _, p := range []int64{2, 5} {
		bp := big.NewInt(p)
		k := 0
		for new(big.Int).Mod(d, bp).Sign() == 0 {
			d.Div(d, bp)
			k++
		}
		places = max(places, k)
	}
	if d.Cmp(big.NewInt(1)) == 0 {
		return strings.TrimRight(strings.TrimRight(r.FloatString(places), "0"), ".")
	}
	return r.FloatString(10) + "..."
}

// Percent prints n as a percentage ("0.05%").
func (n Num) Percent() string { return n.Mul(Int(100)).String() + "%" }

// MarshalJSON writes the exact decimal as a JSON string.
func (n Num) MarshalJSON() ([]byte, error) { return json.Marshal(n.String()) }

// UnmarshalJSON reads a decimal or percentage string, or a JSON number.
func (n *Num) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := ParseNum(s)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// UnmarshalYAML reads a decimal or a percentage ("0.01", "99.95%").
func (n *Num) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return scalarErr(node, "expected a number or percentage")
	}
	v, err := ParseNum(node.Value)
	if err != nil {
		return scalarErr(node, "expected a decimal number or percentage like 0.01 or 0.05%%")
	}
	*n = v
	return nil
}

// GoString helps test failure messages.
func (n Num) GoString() string { return fmt.Sprintf("sla.MustNum(%q)", n.String()) }
