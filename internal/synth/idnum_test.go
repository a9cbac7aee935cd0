package synth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The two worked examples printed in GB 11643-1999.
func TestCheckDigitStandardExamples(t *testing.T) {
	for _, tc := range []struct {
		id string
	}{
		{"11010519491231002X"},
		{"440524188001010014"},
	} {
		require.Equal(t, tc.id[17], CheckDigit(tc.id[:17]), tc.id)
		require.True(t, ValidID(tc.id))
	}
}

// checkDigitOracle computes the MOD 11-2 check the long way: the sum of
// digit * 2^(17-i) mod 11, then the character with (sum + c) mod 11 == 1.
func checkDigitOracle(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	for c := 0; c <= 10; c++ {
		if (sum+c)%11 == 1 {
			if c == 10 {
				return 'X'
			}
			return byte('0' + c)
		}
	}
	return 0
}

func TestCheckDigitOracle(t *testing.T) {
	g := New(7)
	for range 20000 {
		var b strings.Builder
		for range 17 {
			b.WriteByte(byte('0' + g.rng.IntN(10)))
		}
		s := b.String()
		require.Equal(t, checkDigitOracle(s), CheckDigit(s), s)
	}
}

func TestCheckDigitRejects(t *testing.T) {
	for _, s := range []string{"", "1234", "1101051949123100", "110105194912310021", "11010519491231002a", "11010519491231 02"} {
		require.Zero(t, CheckDigit(s), "%q", s)
	}
	require.False(t, ValidID("110105194912310021"))
	require.False(t, ValidID("11010519491231002x"), "lower-case x is not the issued form")
}

func TestUpgradeDowngrade(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"110105491231002", "11010519491231002X"},
		{"44052480010100", ""},   // 14 digits
		{"4405248001010011", ""}, // 16 digits
		{"11010549123100X", ""},  // non-digit
		{"１１０１０５４９１２３１００２", ""},  // full-width is not normalised here
	} {
		require.Equal(t, tc.want, Upgrade15(tc.in), tc.in)
	}
	require.Equal(t, "110105491231002", Downgrade18("11010519491231002X"))
	require.Equal(t, "", Downgrade18("110105200001010011"), "born in 2000: no 15-digit form")
}

func FuzzUpgrade15(f *testing.F) {
	f.Add("110105491231002")
	f.Add("51010480010100X")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		up := Upgrade15(s)
		if up == "" {
			return
		}
		if !ValidID(up) {
			t.Fatalf("Upgrade15(%q) = %q fails the check digit", s, up)
		}
		if Downgrade18(up) != s {
			t.Fatalf("Downgrade18(Upgrade15(%q)) = %q", s, Downgrade18(up))
		}
	})
}
