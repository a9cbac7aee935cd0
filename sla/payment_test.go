package sla

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// chengdu F rule at its boundaries (服务考核方案 (2)) and the year-1 and
// later tranches (3), with G = ¥5,950,000.00 (the tender's ceiling price,
// 第一章 一.5, used as an illustrative annual amount):
//
//	year 1: g1 = 30 % G = 1,785,000.00 (not scaled)
//	        g2 = 40 % G × F/100, g3 = 30 % G × F/100
//	score 90    -> F = 100 -> g2 = 2,380,000.00
//	score 89.99 -> F = 89.99 -> g2 = 2,380,000 × 0.8999 = 2,141,762.00
//	score 60    -> F = 60 -> g2 = 1,428,000.00
//	score 59.99 -> F = 0, failed -> g2 = 0.00, termination flagged
//	scores 92, 85 -> g3 = 1,785,000 × 0.85 = 1,517,250.00; paid 5,682,250.00,
//	                 withheld 267,750.00
//
// later years with G = ¥1,234,567.89, scores 87.33 and 90:
//
//	g1 = 50 % G × 0.8733 = 617,283.945 × 0.8733 = 539,074.0691685 -> 539,074.07
//	g2 = 50 % G × 1      = 617,283.945 -> 617,283.95 (an exact half, up)
//	paid 1,156,358.02, withheld 78,209.87
func TestChengduPayment(t *testing.T) {
	p := mustPreset(t, "chengdu").Payment
	g := yuan(t, "5950000.00")
	tests := []struct {
		score     string
		g2        string
		terminate bool
	}{
		{"100", "2380000.00", false},
		{"90", "2380000.00", false},
		{"89.99", "2141762.00", false},
		{"60", "1428000.00", false},
		{"59.99", "0.00", true},
		{"0", "0.00", true},
	}
	for _, tc := range tests {
		t.Run(tc.score, func(t *testing.T) {
			r, err := p.Pay(g, 1, nums(tc.score))
			require.NoError(t, err)
			require.Equal(t, yuan(t, "1785000.00"), *r.Lines[0].Amount)
			require.Equal(t, yuan(t, tc.g2), *r.Lines[1].Amount)
			require.Equal(t, tc.terminate, r.Terminate)
			require.Equal(t, 1, r.Pending) // g3 waits for the second assessment
			require.Nil(t, r.Lines[2].Amount)
		})
	}
	r, err := p.Pay(g, 1, nums("92", "85"))
	require.NoError(t, err)
	require.Equal(t, yuan(t, "1517250.00"), *r.Lines[2].Amount)
	require.Equal(t, yuan(t, "5682250.00"), r.Paid)
	require.Equal(t, yuan(t, "267750.00"), r.Withheld)

	for _, year := range []int{2, 3} {
		r, err = p.Pay(yuan(t, "1234567.89"), year, nums("87.33", "90"))
		require.NoError(t, err)
		require.Len(t, r.Lines, 2)
		require.Equal(t, yuan(t, "539074.07"), *r.Lines[0].Amount)
		require.Equal(t, yuan(t, "617283.95"), *r.Lines[1].Amount)
		require.Equal(t, yuan(t, "1156358.02"), r.Paid)
		require.Equal(t, yuan(t, "78209.87"), r.Withheld)
	}
}

// sichuan 第五条 at its boundaries, total ¥10,000,000.00 (illustrative):
//
//	score 100   lost 0     -> 0
//	score 95    lost 5     -> 0 (up to 5 points free)
//	score 94.5  lost 5.5   -> 0.5 %  = 50,000.00
//	score 94    lost 6     -> 1 %    = 100,000.00
//	score 85.01 lost 14.99 -> 9.99 % = 999,000.00
//	score 85    lost 15    -> 10 %   = 1,000,000.00 (1 % × 10 points)
//	score 84.99 lost 15.01 -> beyond 15: the whole 10 % = 1,000,000.00
//	score 40    lost 60    -> 10 %   = 1,000,000.00
func TestSichuanDeduction(t *testing.T) {
	d := mustPreset(t, "sichuan").Deduction
	total := yuan(t, "10000000.00")
	for score, want := range map[string]string{
		"100": "0.00", "95": "0.00", "94.5": "50000.00", "94": "100000.00",
		"85.01": "999000.00", "85": "1000000.00", "84.99": "1000000.00", "40": "1000000.00",
	} {
		l, err := d.Deduct(total, MustNum(score))
		require.NoError(t, err, score)
		require.Equal(t, yuan(t, want), *l.Amount, "score %s: %s", score, l.Calc)
	}
	_, err := d.Deduct(total, MustNum("101"))
	require.ErrorIs(t, err, ErrInvalid)
}

func TestPaymentPlanValidate(t *testing.T) {
	p := PaymentPlan{FullFrom: Int(90), FailBelow: Int(60), Years: [][]Tranche{{{Name: "a", Share: MustNum("50%"), Unscaled: true}}}}
	require.ErrorIs(t, p.Validate(), ErrInvalid) // shares add to 50 %
	p.Years[0] = append(p.Years[0], Tranche{Name: "b", Share: MustNum("50%")})
	require.ErrorIs(t, p.Validate(), ErrInvalid) // scaled without an assessment
	p.Years[0][1].Assessment = 1
	require.NoError(t, p.Validate())
}
