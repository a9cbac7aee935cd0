package contacttrace

import (
	"context"
	"fmt"
)

// Task is a query with an identifier and its result set, kept so that a
// later task can exclude the people this one identified ("排除已圈定的风险
// 人群", Sichuan tender 2.3.1).
//
// A Task is a plain value: safe for concurrent reads, not for concurrent
// modification.
type Task struct {
	ID string
	// Query is the query as run, its Exclude including the earlier tasks'
	// people.
	Query  Query
	Result Result
	// Excluded lists the IDs of the earlier tasks whose people were
	// excluded.
	Excluded []string
}

// Identified returns the people the task identified: its cases and its
// contacts.
func (t *Task) Identified() *PersonSet {
	s := t.Result.Persons()
	for _, p := range t.Query.Cases {
		s.Add(p)
	}
	return s
}

// RunTask runs q as task id, excluding, besides q.Exclude, everyone the
// earlier tasks identified. q.Exclude and the earlier tasks are not
// modified. It returns ctx.Err() if ctx is cancelled.
func (t *Tracer) RunTask(ctx context.Context, id string, q Query, earlier ...*Task) (*Task, error) {
	if id == "" {
		return nil, fieldErr("Task.ID", "empty")
	}
	ex := NewPersonSet()
	ex.Union(q.Exclude)
	task := &Task{ID: id}
	for i, e := range earlier {
		if e == nil {
			return nil, fieldErr(fmt.Sprintf("earlier[%d]", i), "nil task")
		}
		ex.Union(e.Identified())
		task.Excluded = append(task.Excluded, e.ID)
	}
	q.Exclude = ex
	res, err := t.Trace(ctx, q)
	if err != nil {
		return nil, err
	}
	task.Query, task.Result = q, res
	return task, nil
}
