package sla

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseYuan(t *testing.T) {
	tests := []struct {
		in   string
		want Fen
		ok   bool
	}{
		{"292000.00", 29200000, true},
		{"¥292,000.00", 29200000, true},
		{"292000", 29200000, true},
		{"0.5", 50, true},
		{"-1.01", -101, true},
		{"1.005", 0, false}, // never rounded on the way in
		{"abc", 0, false},
		{"", 0, false},
		{"1e5", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseYuan(tc.in)
		if !tc.ok {
			require.ErrorIs(t, err, ErrInvalid, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	require.Equal(t, "¥1,234,567.89", Fen(123456789).Format())
	require.Equal(t, "-¥0.05", Fen(-5).Format())
	require.Equal(t, "-0.05", Fen(-5).String())
}

// RoundFen rounds halves away from zero, exactly once.
func TestRoundFen(t *testing.T) {
	tests := []struct {
		yuan string
		want Fen
	}{
		{"0.005", 1},      // exact half goes up
		{"0.00499999", 0}, // just below half goes down
		{"617283.945", 61728395},
		{"-0.005", -1}, // half away from zero
		{"1.2345", 123},
		{"29.2", 2920},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, RoundFen(MustNum(tc.yuan)), tc.yuan)
	}
	// 1/3 yuan is 33.33... fen -> 33 fen; 2/3 -> 67.
	require.Equal(t, Fen(33), RoundFen(NewNum(1, 3)))
	require.Equal(t, Fen(67), RoundFen(NewNum(2, 3)))
}

func TestNum(t *testing.T) {
	require.Equal(t, "0.0005", MustNum("0.05%").String())
	require.Equal(t, "262.8", MustNum("525600").Mul(MustNum("0.0005")).String())
	require.Equal(t, "0.3333333333...", NewNum(1, 3).String())
	require.Equal(t, "99.95%", MustNum("0.9995").Percent())
	require.Equal(t, int64(-2), MustNum("-1.5").Floor())
	require.Equal(t, int64(1), MustNum("1.5").Floor())
	for _, bad := range []string{"", "%", "1/3", "1e3", "1.2.3", "--1", "abc", "1_000"} {
		_, err := ParseNum(bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
	b, err := MustNum("0.01").MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, `"0.01"`, string(b))
	var n Num
	require.NoError(t, n.UnmarshalJSON([]byte(`"5%"`)))
	require.Equal(t, 0, n.Cmp(MustNum("0.05")))
}
