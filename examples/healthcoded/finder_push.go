package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/console"
)

// Push for coding (推送赋码): a task's contacts are given a colour one by
// one, each through the same authorised path as a single transcode and
// each audited (action "transcode", so the alarm rules on transcode rate
// and off-hours bulk see a push as they see the admin API). A push runs in
// the background; the console polls its progress. One push per task runs
// at a time. A push stopped or cut short by a restart leaves the people
// done transcoded; running it again transcodes the rest and, since every
// transcode carries a request id of the push and the person, none twice
// within one push.

// pushRunner runs pushes until it is closed. Safe for concurrent use.
type pushRunner struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*pushJob // by push id: running, or finished and not yet on its task
}

type pushJob struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	v      console.PushView
}

func (j *pushJob) view() console.PushView {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.v
}

func newPushRunner() *pushRunner {
	ctx, cancel := context.WithCancel(context.Background())
	return &pushRunner{ctx: ctx, cancel: cancel, jobs: map[string]*pushJob{}}
}

// close stops every running push and waits for it to record its state.
func (r *pushRunner) close() {
	r.cancel()
	r.wg.Wait()
}

// merge puts the task's pushes known to this process (running ones)
// before those stored, newest first.
func (r *pushRunner) merge(task string, stored []console.PushView) []console.PushView {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []console.PushView
	for _, j := range r.jobs {
		if v := j.view(); v.Task == task && v.State == console.PushRunning {
			out = append(out, v)
		}
	}
	return append(out, stored...)
}

// pushID is the task's id and the push's number on it: "T7-P2".
func pushID(task string, n int) string { return task + "-P" + strconv.Itoa(n) }

func pushTask(id string) (string, bool) {
	i := strings.LastIndex(id, "-P")
	if i <= 0 {
		return "", false
	}
	return id[:i], true
}

// Push validates the request against the store's own rules for a
// transcode (so a refusal starts nothing), then starts the push.
func (b consoleBackend) Push(ctx context.Context, p console.Principal, req console.PushRequest, client string) (console.PushView, error) {
	a := b.a
	rec := codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: "transcoder", Action: "push", Client: client, Actor: p.Actor,
		Authorisation: req.Authorisation, Reason: req.Reason, Detail: "console push of task " + clipDetail(req.Task)}
	v, outcome, err := b.push(ctx, p, req)
	rec.Outcome = outcome
	if err == nil {
		rec.Detail = fmt.Sprintf("console push %s of task %s: %d people to %s", v.ID, v.Task, v.Total, v.Colour)
	}
	a.record(ctx, rec)
	return v, err
}

func (b consoleBackend) push(ctx context.Context, p console.Principal, req console.PushRequest) (console.PushView, string, error) {
	a := b.a
	col, ok := parseColour(req.Colour)
	if !ok {
		return console.PushView{}, "invalid", &console.FieldError{Field: "colour", Msg: fmt.Sprintf("want green, yellow or red, got %q", req.Colour)}
	}
	t, err := a.tasks.get(req.Task)
	if err != nil {
		return console.PushView{}, "invalid", err
	}
	var keys []codes.Key
	seen := map[string]bool{}
	for _, c := range t.Found {
		if (req.MaxHop > 0 && c.Hop > req.MaxHop) || seen[c.Person] {
			continue
		}
		seen[c.Person] = true
		k, err := parseKey(c.Person)
		if err != nil {
			return console.PushView{}, "error", fmt.Errorf("task %s: %w", t.ID, err)
		}
		keys = append(keys, k)
	}
	now := a.now()
	tc := codes.Transcode{Colour: col, Actor: p.Actor, Authorisation: req.Authorisation, Reason: req.Reason, At: now}
	if len(keys) == 0 {
		return console.PushView{}, "invalid", &console.FieldError{Field: "max_hop", Msg: "no contacts to push"}
	}
	probe := codes.Change{Key: keys[0], State: codes.State{Colour: col, Reason: tc.Reason, Since: now,
		Cause: codes.Cause{Actor: tc.Actor, Authorisation: tc.Authorisation}}}
	if tc.Authorisation == "" {
		return console.PushView{}, "refused", &console.FieldError{Field: "authorisation", Msg: "required"}
	}
	if err := probe.Validate(0); err != nil {
		var ce *codes.ChangeError
		field := "reason"
		if errors.As(err, &ce) && transcodeFields[ce.Field] != "" {
			field = transcodeFields[ce.Field]
		}
		return console.PushView{}, "refused", &console.FieldError{Field: field, Msg: err.Error()}
	}
	r := a.pushes
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if v := j.view(); v.Task == t.ID && v.State == console.PushRunning {
			return console.PushView{}, "refused", &console.FieldError{Field: "confirm", Msg: fmt.Sprintf("push %s of this task is running", v.ID)}
		}
	}
	// Numbered after the task's recorded pushes, read again under the
	// lock: a push that ended since t was read is on the task by now, or
	// still in jobs.
	n := len(t.Pushes) + 1
	if fresh, err := a.tasks.get(t.ID); err == nil {
		n = len(fresh.Pushes) + 1
	}
	for ; r.jobs[pushID(t.ID, n)] != nil; n++ {
	}
	jctx, cancel := context.WithCancel(r.ctx)
	j := &pushJob{cancel: cancel, v: console.PushView{ID: pushID(t.ID, n), Task: t.ID, Actor: p.Actor, Colour: col.String(),
		State: console.PushRunning, Total: len(keys), Started: now}}
	r.jobs[j.v.ID] = j
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		b.runPush(jctx, j, keys, tc, t.ID)
	}()
	return j.view(), "ok", nil
}

// runPush transcodes each person, audits each, and records the push on
// its task when it ends.
func (b consoleBackend) runPush(ctx context.Context, j *pushJob, keys []codes.Key, tc codes.Transcode, task string) {
	a := b.a
	id := j.view().ID
	state := console.PushDone
	for _, k := range keys {
		if ctx.Err() != nil {
			state = console.PushStopped
			break
		}
		tc.At = a.now()
		tc.RequestID = id + "-" + k.String()
		before, err := a.reg.Lookup(ctx, k)
		if err == nil {
			_, err = a.reg.Transcode(ctx, k, tc)
		}
		rec := codes.AuditRecord{At: tc.At, Node: a.cfg.Node, Role: "transcoder", Action: "transcode", Actor: tc.Actor,
			Target: k.String(), Authorisation: tc.Authorisation, Reason: tc.Reason, Outcome: "ok",
			Detail: fmt.Sprintf("console push %s of task %s: transcoded to %s", id, task, tc.Colour)}
		j.mu.Lock()
		switch {
		case err == nil:
			j.v.Done++
			rec.Changed = 1
		case ctx.Err() != nil:
			state = console.PushStopped
			rec.Outcome, rec.Detail = "error", fmt.Sprintf("console push %s of task %s: stopped", id, task)
		default:
			j.v.Failed++
			if j.v.Error == "" {
				j.v.Error = err.Error()
			}
			rec.Outcome, rec.Detail = "error", fmt.Sprintf("console push %s of task %s: %v", id, task, err)
		}
		j.mu.Unlock()
		if err == nil {
			a.counted(before, tc.Colour, "manual", "", tc.At)
		}
		a.record(ctx, rec)
		if state == console.PushStopped {
			break
		}
	}
	j.mu.Lock()
	if state == console.PushDone && j.v.Failed == len(keys) {
		state = console.PushFailed
	}
	v := j.v
	j.mu.Unlock()
	v.State, v.Ends = state, a.now()
	// The task records the ended push before the job says it ended: a
	// reader told "done" by the job then finds the push on the task page.
	err := a.tasks.addPush(v)
	j.mu.Lock()
	j.v.State, j.v.Ends = v.State, v.Ends
	j.mu.Unlock()
	if err != nil {
		a.log.Error("finder: record push", "push", v.ID, "err", err)
	} else {
		// The task holds it now; PushStatus reads it there.
		a.pushes.mu.Lock()
		delete(a.pushes.jobs, v.ID)
		a.pushes.mu.Unlock()
	}
	a.record(context.WithoutCancel(ctx), codes.AuditRecord{At: v.Ends, Node: a.cfg.Node, Role: "transcoder", Action: "push", Actor: v.Actor,
		Authorisation: tc.Authorisation, Reason: tc.Reason, Outcome: "ok",
		Detail: fmt.Sprintf("console push %s of task %s %s: %d of %d done, %d failed", v.ID, task, v.State, v.Done, v.Total, v.Failed)})
}

// PushStatus returns a push's progress: from this process while it runs,
// else from its task.
func (b consoleBackend) PushStatus(_ context.Context, id string) (console.PushView, error) {
	r := b.a.pushes
	r.mu.Lock()
	j := r.jobs[id]
	r.mu.Unlock()
	if j != nil {
		return j.view(), nil
	}
	task, ok := pushTask(id)
	if !ok {
		return console.PushView{}, console.ErrNoTask
	}
	t, err := b.a.tasks.get(task)
	if err != nil {
		return console.PushView{}, err
	}
	for _, v := range t.Pushes {
		if v.ID == id {
			return v, nil
		}
	}
	return console.PushView{}, console.ErrNoTask
}

// StopPush stops a running push; the people done stay done. Stopping a
// push that has ended is not an error.
func (b consoleBackend) StopPush(ctx context.Context, p console.Principal, id, client string) error {
	a := b.a
	r := a.pushes
	r.mu.Lock()
	j := r.jobs[id]
	r.mu.Unlock()
	if j == nil {
		if _, err := b.PushStatus(ctx, id); err != nil {
			return err
		}
		return nil
	}
	j.cancel()
	a.record(ctx, codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: "transcoder", Action: "push", Client: client, Actor: p.Actor,
		Outcome: "ok", Detail: "console push " + id + ": stop asked"})
	return nil
}

// parseKey reads a key in hex.
func parseKey(s string) (codes.Key, error) {
	var k codes.Key
	if b, err := hex.DecodeString(s); err != nil || len(b) != len(k) {
		return k, fmt.Errorf("key %q: want %d hex digits", maskKey(s), 2*len(k))
	} else {
		copy(k[:], b)
	}
	return k, nil
}
