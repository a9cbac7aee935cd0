package dedupe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// reviewFixture returns the open groups of the golden "suspicious" and
// "conflict" scenarios.
func reviewFixture(t *testing.T) []ReviewGroup {
	in := strings.Join([]string{
		"id,name,doc_type,doc_number,birth,sex,ethnicity,address,phone,registered",
		"20,阿依古丽·买买提,身份证,650102197810240040,1978-10-24,女,维吾尔,乌鲁木齐市某路4号,13600136000,2022-06-01T08:00:00+08:00",
		"21,阿依古丽·买买提,身份证,650102197810240040,1978-10-24,女,维吾尔,乌鲁木齐市某路4号,13600136000,2022-06-03T08:00:00+08:00",
		"22,阿依古丽·买提,身份证,650102197810240040,1978-01-24,女,维吾尔,乌鲁木齐市某路4号,13600136000,2022-06-02T08:00:00+08:00",
		"30,张三,身份证,110101199003070011,1990-03-07,男,汉,北京市东城区某街1号,13800138000,2022-06-01T08:00:00+08:00",
		"31,张三,身份证,110101199003070011,1990-03-07,男,汉,北京市朝阳区某街9号,13800138999,2022-06-02T08:00:00+08:00",
	}, "\n")
	recs := readCSV(t, strings.Split(in, "\n"))
	res, err := Resolve(context.Background(), recs, Policy{})
	require.NoError(t, err)
	require.Len(t, res.Reviews, 2)
	return res.Reviews
}

func TestQueueApply(t *testing.T) {
	at := time.Date(2022, 6, 10, 9, 0, 0, 0, chinaTime)
	tests := []struct {
		name string
		v    Verdict
		want []Change
	}{
		{"keep", Verdict{Group: "rev-20", Action: ActionKeep, Reviewer: "王", Reason: "two people", At: at}, []Change{
			{Op: ChangeConfirm, Record: 21}, {Op: ChangeConfirm, Record: 22}}},
		{"drop", Verdict{Group: "rev-20", Action: ActionDrop, Records: []int64{22}, Reviewer: "王", Reason: "typo record", At: at}, []Change{
			{Op: ChangeConfirm, Record: 21}, {Op: ChangeDelete, Record: 22}}},
		{"merge", Verdict{Group: "rev-30", Action: ActionMerge, Survivor: 30, Set: map[Field]string{FieldPhone: "13800138999", FieldName: "张三"},
			Reviewer: "李", Reason: "new phone", At: at}, []Change{
			{Op: ChangeUpdate, Record: 30, Fields: []FieldChange{{Field: FieldPhone, Old: "13800138000", New: "13800138999"}}},
			{Op: ChangeDelete, Record: 31, MergedInto: 30}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue(reviewFixture(t))
			got, err := q.Apply([]Verdict{tt.v})
			require.NoError(t, err)
			for i := range tt.want {
				tt.want[i].Group, tt.want[i].Reviewer, tt.want[i].Reason, tt.want[i].At = tt.v.Group, tt.v.Reviewer, tt.v.Reason, at
			}
			require.Equal(t, tt.want, got)
			require.Len(t, q.Open(), 1, "the decided group is closed")
			_, err = q.Apply([]Verdict{tt.v})
			require.ErrorIs(t, err, ErrUnknownGroup, "a closed group cannot be decided again")
		})
	}
}

func TestQueueRefusesAndAppliesNothing(t *testing.T) {
	at := time.Date(2022, 6, 10, 9, 0, 0, 0, chinaTime)
	good := Verdict{Group: "rev-30", Action: ActionKeep, Reviewer: "李", Reason: "ok", At: at}
	tests := []struct {
		name string
		bad  Verdict
		err  error
		want string
	}{
		{"unknown group", Verdict{Group: "rev-99", Action: ActionKeep, Reviewer: "a", Reason: "b", At: at}, ErrUnknownGroup, "no open review group"},
		{"no reviewer", Verdict{Group: "rev-20", Action: ActionKeep, Reason: "b", At: at}, ErrInvalidDecision, "reviewer"},
		{"no reason", Verdict{Group: "rev-20", Action: ActionKeep, Reviewer: "a", Reason: " ", At: at}, ErrInvalidDecision, "reason"},
		{"no time", Verdict{Group: "rev-20", Action: ActionKeep, Reviewer: "a", Reason: "b"}, ErrInvalidDecision, "At"},
		{"no action", Verdict{Group: "rev-20", Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "action"},
		{"stranger", Verdict{Group: "rev-20", Action: ActionDrop, Records: []int64{30}, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "not in the group"},
		{"auto-dropped", Verdict{Group: "rev-20", Action: ActionDrop, Records: []int64{20}, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "already dropped"},
		{"drop all", Verdict{Group: "rev-20", Action: ActionDrop, Records: []int64{21, 22}, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "every record"},
		{"merge no survivor", Verdict{Group: "rev-20", Action: ActionMerge, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "survivor"},
		{"merge into itself", Verdict{Group: "rev-20", Action: ActionMerge, Survivor: 21, Records: []int64{21}, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "merged away"},
		{"keep with records", Verdict{Group: "rev-20", Action: ActionKeep, Records: []int64{21}, Reviewer: "a", Reason: "b", At: at}, ErrInvalidDecision, "keep takes"},
		{"twice", good, ErrInvalidDecision, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue(reviewFixture(t))
			before := q.Open()
			cs, err := q.Apply([]Verdict{good, tt.bad})
			require.ErrorIs(t, err, tt.err)
			require.Contains(t, err.Error(), tt.want)
			var de *DecisionError
			require.ErrorAs(t, err, &de)
			require.Equal(t, 1, de.Index)
			require.Nil(t, cs)
			require.Equal(t, before, q.Open(), "nothing applied")
		})
	}
}

func TestApplyChanges(t *testing.T) {
	recs := []Record{{ID: 1, Phone: "1"}, {ID: 2}, {ID: 3}}
	out := ApplyChanges(recs, []Change{
		{Op: ChangeUpdate, Record: 1, Fields: []FieldChange{{Field: FieldPhone, Old: "1", New: "2"}}},
		{Op: ChangeDelete, Record: 2, MergedInto: 1},
		{Op: ChangeConfirm, Record: 3},
	})
	require.Equal(t, []Record{{ID: 1, Phone: "2"}, {ID: 3}}, out)
	require.Equal(t, "1", recs[0].Phone, "input not modified")
}
