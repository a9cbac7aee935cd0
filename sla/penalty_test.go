package sla

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func mustPreset(t testing.TB, name string) *Contract {
	t.Helper()
	c, err := Preset(name)
	require.NoError(t, err)
	return c
}

func yuan(t testing.TB, s string) Fen {
	t.Helper()
	f, err := ParseYuan(s)
	require.NoError(t, err)
	return f
}

// Worked examples, by hand.
//
// shaanxi (total ¥292,000.00, 合同条款前附表 5):
//
//	十.3, 0.01 % of the total per 5 days, cap 5 % = 14,600.00:
//	  7 days  -> 1 complete period  -> 292,000 × 0.0001 × 1 = 29.20
//	  12 days -> 2 periods          -> 58.40
//	  2504 days -> 500 periods      -> 14,600.00 (exactly the cap)
//	  2505 days -> 501 periods      -> 14,629.20, capped to 14,600.00
//	十.5, 0.3 % of the total per day, cap 5 %:
//	  7 days  -> 292,000 × 0.003 × 7  = 6,132.00
//	  16 days -> 14,016.00; 17 days -> 14,892.00, capped to 14,600.00
//
// sichuan (商务要求 1), 0.05 % of the late portion per day, cap 5 % of the
// total; an illustrative total of ¥10,000,000.00 (the requirement states
// none):
//
//	late portion 2,000,000.00, 30 days  -> 2,000,000 × 0.0005 × 30 = 30,000.00
//	late portion 2,000,000.00, 600 days -> 600,000.00, capped to 500,000.00
//	late portion 1,234.57, 3 days       -> 1.851855 -> 1.85 (one rounding)
func TestPenaltyClauses(t *testing.T) {
	sx, sc := mustPreset(t, "shaanxi"), mustPreset(t, "sichuan")
	sxTotal := sx.Total
	require.Equal(t, yuan(t, "292000.00"), sxTotal)
	scTotal := yuan(t, "10000000.00")
	tests := []struct {
		name     string
		c        *Contract
		clause   string
		total    Fen
		late     Late
		want     string
		isCapped bool
	}{
		{"shaanxi 十.3 7 days", sx, "vendor_late_per_5_days", sxTotal, Late{Days: 7}, "29.20", false},
		{"shaanxi 十.3 12 days", sx, "vendor_late_per_5_days", sxTotal, Late{Days: 12}, "58.40", false},
		{"shaanxi 十.3 4 days", sx, "vendor_late_per_5_days", sxTotal, Late{Days: 4}, "0.00", false},
		{"shaanxi 十.3 at cap", sx, "vendor_late_per_5_days", sxTotal, Late{Days: 2504}, "14600.00", false},
		{"shaanxi 十.3 over cap", sx, "vendor_late_per_5_days", sxTotal, Late{Days: 2505}, "14600.00", true},
		{"shaanxi 十.5 7 days", sx, "vendor_late_per_day", sxTotal, Late{Days: 7}, "6132.00", false},
		{"shaanxi 十.5 16 days", sx, "vendor_late_per_day", sxTotal, Late{Days: 16}, "14016.00", false},
		{"shaanxi 十.5 17 days", sx, "vendor_late_per_day", sxTotal, Late{Days: 17}, "14600.00", true},
		{"shaanxi 十.2 buyer 10 days", sx, "buyer_late_payment", sxTotal, Late{Days: 10}, "58.40", false},
		{"sichuan 30 days", sc, "late_delivery", scTotal, Late{Days: 30, LatePortion: yuan(t, "2000000.00")}, "30000.00", false},
		{"sichuan 600 days", sc, "late_delivery", scTotal, Late{Days: 600, LatePortion: yuan(t, "2000000.00")}, "500000.00", true},
		{"sichuan sub-fen", sc, "late_delivery", scTotal, Late{Days: 3, LatePortion: yuan(t, "1234.57")}, "1.85", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := tc.c.Penalty(tc.clause)
			require.True(t, ok)
			l, err := p.Compute(tc.total, tc.late)
			require.NoError(t, err)
			require.Equal(t, yuan(t, tc.want), *l.Amount, l.Calc)
			require.Equal(t, tc.isCapped, l.Note == "capped")
		})
	}
	// Counting started periods instead: 7 days = 2 periods of 5.
	p, _ := sx.Penalty("vendor_late_per_5_days")
	p.CountStarted = true
	l, err := p.Compute(sxTotal, Late{Days: 7})
	require.NoError(t, err)
	require.Equal(t, yuan(t, "58.40"), *l.Amount)
	// A late portion larger than the total is refused.
	_, err = p.Compute(sxTotal, Late{Days: 1, LatePortion: sxTotal + 1})
	require.ErrorIs(t, err, ErrInvalid)
}

// shaanxi fixed clauses on ¥292,000.00: 10 % = 29,200.00, 5 % = 14,600.00.
func TestFixedClauses(t *testing.T) {
	sx := mustPreset(t, "shaanxi")
	for id, want := range map[string]string{"no_response_24h": "29200.00", "ip_breach": "14600.00", "confidentiality_breach": "14600.00", "still_substandard": "14600.00"} {
		fc, ok := sx.FixedClause(id)
		require.True(t, ok, id)
		l, err := fc.Compute(sx.Total, "E1")
		require.NoError(t, err)
		require.Equal(t, yuan(t, want), *l.Amount, id)
	}
}

// shaanxi holds two late-delivery clauses; a delay without a named clause
// computes both and says so, without adding either to the total.
func TestShaanxiBothLateClauses(t *testing.T) {
	sx := mustPreset(t, "shaanxi")
	r, err := sx.Assess(Input{AsOf: at(2026, 1, 10, 0, 0), Late: []LateInput{{Clause: "vendor_delivery", Late: Late{Event: "optimisation delivered 7 days late", Days: 7}}}})
	require.NoError(t, err)
	var amounts []Fen
	for _, l := range r.Lines {
		if l.Section == "penalty" {
			amounts = append(amounts, *l.Amount)
		}
	}
	require.Equal(t, []Fen{yuan(t, "29.20"), yuan(t, "6132.00")}, amounts)
	require.Len(t, r.Summary.Notes, 1)
	require.Contains(t, r.Summary.Notes[0], "2 clauses price the same delay")
	require.Equal(t, Fen(0), r.Summary.Penalties)
}
