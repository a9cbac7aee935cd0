package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func nums(ss ...string) []Num {
	out := make([]Num, len(ss))
	for i, s := range ss {
		out[i] = MustNum(s)
	}
	return out
}

// chengdu, one six-month period, by hand (考核表 item numbers):
//
//	fault_l1 (19) INC-1 during a major event   2 + 5 extra   = 7
//	fault_l1_response_late (19) INC-1                         = 2
//	fault_l1_handling_late (19) 2 days overdue   2 × 2        = 4
//	response_late (22) 15 min over = 3 × 5 min   3 × 0.01     = 0.03
//	complaint_public (28) twice for one outage   counted once = 0.1
//	key_staff_missing (3) 1.5 person-months      1.5 × 0.2    = 0.3
//	satisfaction (29) surveys 86, 91: N = 88.5   (100-88.5)/10 = 1.15
//	total 14.58 -> score 85.42
func TestScorecardChengdu(t *testing.T) {
	sc := mustPreset(t, "chengdu").Scorecard
	occ := []Occurrence{
		{Item: "fault_l1", Event: "INC-1", MajorEvent: true},
		{Item: "fault_l1_response_late", Event: "INC-1"},
		{Item: "fault_l1_handling_late", Event: "INC-1", Quantity: Int(2)},
		{Item: "response_late", Event: "REQ-7", Quantity: Int(Units(15*time.Minute, 5*time.Minute))},
		{Item: "complaint_public", Event: "outage-0301"},
		{Item: "complaint_public", Event: "outage-0301"},
		{Item: "key_staff_missing", Event: "2024-H1", Quantity: MustNum("1.5")},
	}
	r, err := sc.Score(occ, nums("86", "91"))
	require.NoError(t, err)
	require.Equal(t, "14.58", r.Deducted.String())
	require.Equal(t, "85.42", r.Score.String())
	// The repeated complaint is listed at zero.
	require.Equal(t, "0", r.Lines[5].Points.String())

	// One survey missing: (100-86)/10 = 1.4, plus 1 for the missing one.
	r, err = sc.Score(nil, nums("86"))
	require.NoError(t, err)
	require.Equal(t, "2.4", r.Deducted.String())

	// Two security incidents of class I take the score to the floor, 0.
	r, err = sc.Score([]Occurrence{{Item: "security_i", Event: "S1"}, {Item: "security_i_response_late", Event: "S1"}, {Item: "security_i", Event: "S2"}}, nums("100", "100"))
	require.NoError(t, err)
	require.Equal(t, "150", r.Deducted.String())
	require.Equal(t, "0", r.Score.String())
	require.True(t, r.Floored)

	_, err = sc.Score([]Occurrence{{Item: "nope"}}, nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// sichuan, by hand (考核表, 第四条 same event once, 第五条 money):
//
//	severe_fault_response_late F1                        = 1
//	severe_fault_handling_late F1: same event, once      = 0
//	key_staff_missing 2 person-months × 0.3             = 0.6
//	late_or_early 3 × 0.02                               = 0.06
//	surveys 92, 88, 95, 85: N = 90 ≥ 90, no deduction    = 0
//	total 1.66 -> 98.34; 1.66 points lost ≤ 5: nothing withheld.
//
// With surveys 80, 85 only: N = 82.5 -> 1.75; 2 missing × 3 = 6;
// total 9.41 -> 90.59; (9.41 - 5) × 1 % = 4.41 % of ¥10,000,000.00 = 441,000.00.
func TestScorecardSichuan(t *testing.T) {
	c := mustPreset(t, "sichuan")
	occ := []Occurrence{
		{Item: "severe_fault_response_late", Event: "F1"},
		{Item: "severe_fault_handling_late", Event: "F1"},
		{Item: "key_staff_missing", Event: "Q2", Quantity: Int(2)},
		{Item: "late_or_early", Event: "sign-in sheet", Quantity: Int(3)},
	}
	r, err := c.Scorecard.Score(occ, nums("92", "88", "95", "85"))
	require.NoError(t, err)
	require.Equal(t, "1.66", r.Deducted.String())
	l, err := c.Deduction.Deduct(yuan(t, "10000000.00"), r.Score)
	require.NoError(t, err)
	require.Equal(t, Fen(0), *l.Amount)

	r, err = c.Scorecard.Score(occ, nums("80", "85"))
	require.NoError(t, err)
	require.Equal(t, "9.41", r.Deducted.String())
	require.Equal(t, "90.59", r.Score.String())
	l, err = c.Deduction.Deduct(yuan(t, "10000000.00"), r.Score)
	require.NoError(t, err)
	require.Equal(t, yuan(t, "441000.00"), *l.Amount)
}

func TestUnits(t *testing.T) {
	tests := []struct {
		over, unit     time.Duration
		whole, started int64
	}{
		{12 * time.Minute, 5 * time.Minute, 2, 3},
		{10 * time.Minute, 5 * time.Minute, 2, 2},
		{3 * time.Hour, 24 * time.Hour, 0, 1},
		{0, 24 * time.Hour, 0, 0},
		{-time.Minute, time.Minute, 0, 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.whole, Units(tc.over, tc.unit))
		require.Equal(t, tc.started, StartedUnits(tc.over, tc.unit))
	}
}
