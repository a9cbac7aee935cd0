package dedupe

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verdict is a reviewer's decision on one review group. Verdict, Change,
// ChangeOp and FieldChange are plain values, safe to share read-only.
//
//   - ActionKeep: every record of the group stays as it is (they are
//     different people, or the difference is right). Records and Set must
//     be empty.
//   - ActionDrop: the Records listed are deleted, the rest stay. At least
//     one record of the group must stay.
//   - ActionMerge: the Records listed (all other open records when empty)
//     are deleted and merged into Survivor, which takes the values in Set.
//
// Records already dropped automatically (ReviewGroup.AutoDropped) cannot
// be named. Reviewer, Reason and At are required.
type Verdict struct {
	Group    string
	Action   Action
	Records  []int64
	Survivor int64
	Set      map[Field]string
	Reviewer string
	Reason   string
	At       time.Time
}

// ChangeOp is what a Change does to a registry record.
type ChangeOp uint8

// Change operations.
const (
	ChangeDelete  ChangeOp = iota + 1 // remove the record
	ChangeUpdate                      // set Fields on the record
	ChangeConfirm                     // the record was reviewed and stays as it is
)

func (o ChangeOp) String() string {
	switch o {
	case ChangeDelete:
		return "delete"
	case ChangeUpdate:
		return "update"
	case ChangeConfirm:
		return "confirm"
	}
	return fmt.Sprintf("ChangeOp(%d)", int(o))
}

// MarshalText writes "delete", "update" or "confirm".
func (o ChangeOp) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Change is one entry of the change set sent back to the registry. It
// says who decided (Reviewer, empty for automatic decisions), why, and
// when.
type Change struct {
	Op         ChangeOp
	Record     int64
	Fields     []FieldChange // ChangeUpdate: the fields that change
	MergedInto int64         // ChangeDelete: the record that survives instead, if any
	Group      string
	Reviewer   string
	Reason     string
	At         time.Time
}

// FieldChange is one field of a ChangeUpdate.
type FieldChange struct {
	Field    Field
	Old, New string
}

// Queue holds open review groups and applies reviewers' verdicts to them.
// A Queue is not safe for concurrent use.
type Queue struct {
	open  map[string]*ReviewGroup
	order []string
}

// NewQueue opens the given review groups (typically Result.Reviews).
func NewQueue(groups []ReviewGroup) *Queue {
	q := &Queue{open: make(map[string]*ReviewGroup, len(groups))}
	for i := range groups {
		g := groups[i]
		if _, ok := q.open[g.ID]; ok {
			continue
		}
		q.open[g.ID] = &g
		q.order = append(q.order, g.ID)
	}
	return q
}

// Open returns the groups still waiting for a verdict, in the order they
// were opened.
func (q *Queue) Open() []ReviewGroup {
	var out []ReviewGroup
	for _, id := range q.order {
		if g, ok := q.open[id]; ok {
			out = append(out, *g)
		}
	}
	return out
}

// Apply checks every verdict, and only if all are valid closes their groups
// and returns the change set, in verdict order. If any verdict is refused
// it returns a *DecisionError (wrapping ErrUnknownGroup or
// ErrInvalidDecision) for the first bad one, and nothing is applied: the
// queue is unchanged.
func (q *Queue) Apply(vs []Verdict) ([]Change, error) {
	seen := map[string]bool{}
	var out []Change
	for i, v := range vs {
		refuse := func(err error, format string, args ...any) error {
			return &DecisionError{Index: i, Group: v.Group, Err: err, Reason: fmt.Sprintf(format, args...)}
		}
		g, ok := q.open[v.Group]
		if !ok {
			return nil, refuse(ErrUnknownGroup, "no open review group with this id")
		}
		if seen[v.Group] {
			return nil, refuse(ErrInvalidDecision, "group decided twice in one batch")
		}
		seen[v.Group] = true
		cs, err := verdictChanges(g, v)
		if err != nil {
			return nil, refuse(ErrInvalidDecision, "%s", err)
		}
		out = append(out, cs...)
	}
	for _, v := range vs {
		delete(q.open, v.Group)
	}
	return out, nil
}

// verdictChanges checks v against g and returns its changes. Errors are
// plain reasons; Apply wraps them.
func verdictChanges(g *ReviewGroup, v Verdict) ([]Change, error) {
	if strings.TrimSpace(v.Reviewer) == "" {
		return nil, fmt.Errorf("reviewer is required")
	}
	if strings.TrimSpace(v.Reason) == "" {
		return nil, fmt.Errorf("reason is required")
	}
	if v.At.IsZero() {
		return nil, fmt.Errorf("time (At) is required")
	}
	byID := map[int64]*Record{}
	var live []int64
	for i := range g.Records {
		id := g.Records[i].ID
		byID[id] = &g.Records[i]
		if !slices.Contains(g.AutoDropped, id) {
			live = append(live, id)
		}
	}
	named := map[int64]bool{}
	for _, id := range v.Records {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("record %d is not in the group", id)
		}
		if slices.Contains(g.AutoDropped, id) {
			return nil, fmt.Errorf("record %d was already dropped automatically", id)
		}
		if named[id] {
			return nil, fmt.Errorf("record %d listed twice", id)
		}
		named[id] = true
	}
	for f := range v.Set {
		if !f.valid() {
			return nil, fmt.Errorf("unknown field %d in Set", int(f))
		}
	}
	base := Change{Group: g.ID, Reviewer: v.Reviewer, Reason: v.Reason, At: v.At}
	var out []Change
	switch v.Action {
	case ActionKeep:
		if len(v.Records) > 0 || len(v.Set) > 0 || v.Survivor != 0 {
			return nil, fmt.Errorf("keep takes no records, survivor or field values")
		}
		for _, id := range live {
			c := base
			c.Op, c.Record = ChangeConfirm, id
			out = append(out, c)
		}
	case ActionDrop:
		if len(v.Records) == 0 {
			return nil, fmt.Errorf("drop needs the records to drop")
		}
		if len(v.Set) > 0 || v.Survivor != 0 {
			return nil, fmt.Errorf("drop takes no survivor or field values")
		}
		if len(v.Records) == len(live) {
			return nil, fmt.Errorf("drop would remove every record of the group")
		}
		for _, id := range live {
			c := base
			c.Record = id
			c.Op = ChangeConfirm
			if named[id] {
				c.Op = ChangeDelete
			}
			out = append(out, c)
		}
	case ActionMerge:
		sv, ok := byID[v.Survivor]
		if !ok {
			return nil, fmt.Errorf("survivor %d is not in the group", v.Survivor)
		}
		if slices.Contains(g.AutoDropped, v.Survivor) {
			return nil, fmt.Errorf("survivor %d was already dropped automatically", v.Survivor)
		}
		if named[v.Survivor] {
			return nil, fmt.Errorf("survivor %d cannot also be merged away", v.Survivor)
		}
		merged := v.Records
		if len(merged) == 0 {
			for _, id := range live {
				if id != v.Survivor {
					merged = append(merged, id)
				}
			}
		}
		if len(merged) == 0 {
			return nil, fmt.Errorf("merge needs at least one other record")
		}
		up := base
		up.Op, up.Record = ChangeUpdate, v.Survivor
		for _, f := range AllFields() {
			nv, ok := v.Set[f]
			if ok && nv != sv.Get(f) {
				up.Fields = append(up.Fields, FieldChange{Field: f, Old: sv.Get(f), New: nv})
			}
		}
		if len(up.Fields) == 0 {
			up.Op = ChangeConfirm
		}
		out = append(out, up)
		for _, id := range live {
			if id == v.Survivor {
				continue
			}
			c := base
			c.Record = id
			c.Op = ChangeConfirm
			if slices.Contains(merged, id) {
				c.Op, c.MergedInto = ChangeDelete, v.Survivor
			}
			out = append(out, c)
		}
	default:
		return nil, fmt.Errorf("action must be keep, drop or merge")
	}
	return out, nil
}

// ApplyChanges returns recs with a change set applied: deleted records
// removed, updated fields set, confirmed records unchanged. recs is not
// modified. Changes naming records that are not in recs are ignored.
func ApplyChanges(recs []Record, cs []Change) []Record {
	del := map[int64]bool{}
	upd := map[int64][]FieldChange{}
	for _, c := range cs {
		switch c.Op {
		case ChangeDelete:
			del[c.Record] = true
		case ChangeUpdate:
			upd[c.Record] = append(upd[c.Record], c.Fields...)
		}
	}
	out := make([]Record, 0, len(recs))
	for _, r := range recs {
		if del[r.ID] {
			continue
		}
		for _, fc := range upd[r.ID] {
			r.Set(fc.Field, fc.New)
		}
		out = append(out, r)
	}
	return out
}
