package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/healthcode-sdk/healthcode/rules"
)

// The rule-set actions shared by the admin API (admin.go) and the
// console's rules page: one path, two front ends.

var errUnknownVersion = errors.New("no uploaded rule set with version")

// uploadRules compiles data, keeps it as pending on every node (shared in
// feed order) and dry-runs it against this node's population. step names
// what failed: "compile" (a *rules.CompileError for problems with
// positions), "share rule set" or "dry run".
func (a *App) uploadRules(ctx context.Context, data []byte) (c *rules.Compiled, rep rules.DryRunReport, step string, err error) {
	if c, err = a.env.CompileYAML("upload", data); err != nil {
		return nil, rep, "compile", err
	}
	if err := a.share(ctx, topicUpload, data); err != nil {
		return c, rep, "share rule set", err
	}
	a.mu.Lock()
	pop := a.population
	a.mu.Unlock()
	if rep, err = a.engine.DryRun(ctx, c, pop.All(), rules.DryRunConfig{}); err != nil {
		return c, rep, "dry run", err
	}
	return c, rep, "", nil
}

// maxScheduleAhead is how far ahead an activation may be scheduled: far
// enough for any announced change of guidance, near enough that a typo in
// the year is refused rather than scheduled.
const maxScheduleAhead = 90 * 24 * time.Hour

var errTooFarAhead = errors.New("more than 90 days ahead")

// activateRules swaps the pending set with version in on every node. With
// a zero at it takes effect at once or at its own effective-from time if
// that is later; else at at, a time not after now meaning at once. The
// state is "active" or "scheduled", and the set returned carries the
// effective-from time it was swapped in with. It fails with
// errUnknownVersion if no such set was uploaded, errNoPending if another
// node activated it meanwhile, and a *fieldError "effective_at" wrapping
// errTooFarAhead for a time more than maxScheduleAhead after now.
func (a *App) activateRules(ctx context.Context, version string, at time.Time) (*rules.Compiled, string, error) {
	now := a.now()
	if at.After(now.Add(maxScheduleAhead)) {
		return nil, "", &fieldError{"effective_at", fmt.Errorf("%w: %s is after %s",
			errTooFarAhead, at.Format(time.RFC3339), now.Add(maxScheduleAhead).Format(time.RFC3339))}
	}
	a.mu.Lock()
	c, ok := a.pending[version]
	a.mu.Unlock()
	if !ok {
		return nil, "", fmt.Errorf("%w %q", errUnknownVersion, version)
	}
	if !at.IsZero() {
		c = c.WithEffectiveFrom(at)
	}
	if err := a.share(ctx, topicActivate, activateNote{Version: version, At: now, EffectiveAt: at}); err != nil {
		return c, "", err
	}
	if c.EffectiveFrom().After(now) {
		return c, "scheduled", nil
	}
	return c, "active", nil
}

// activateDetail is an activation's audit detail: the state, and the
// time the operator chose, if any.
func activateDetail(state string, at time.Time) string {
	if at.IsZero() {
		return state
	}
	return state + "; effective_at " + at.Format(time.RFC3339)
}

// rollbackRules returns every node to the sets before the last swap and
// returns the set now in force (nil if none); rules.ErrNoPrevious when
// there is nothing to roll back to.
func (a *App) rollbackRules(ctx context.Context) (*rules.Compiled, error) {
	if err := a.share(ctx, topicRollback, []byte{}); err != nil {
		return nil, err
	}
	return a.engine.Active(a.now()), nil
}

var _ console.RulesBackend = consoleBackend{}

func ruleSetView(c *rules.Compiled) console.RuleSetView {
	return console.RuleSetView{ID: c.ID(), Version: c.Version(), EffectiveFrom: c.EffectiveFrom(), Rules: len(c.RuleSet().Rules)}
}

// Rules is handleRules' view: in force, scheduled, uploaded.
func (b consoleBackend) Rules(context.Context) (console.RulesView, error) {
	a := b.a
	now := a.now()
	var v console.RulesView
	if c := a.engine.Active(now); c != nil {
		rv := ruleSetView(c)
		v.Active = &rv
	}
	for _, c := range a.engine.Scheduled(now) {
		v.Scheduled = append(v.Scheduled, ruleSetView(c))
	}
	a.mu.Lock()
	for _, c := range a.pending {
		v.Uploaded = append(v.Uploaded, ruleSetView(c))
	}
	a.mu.Unlock()
	slices.SortFunc(v.Uploaded, func(x, y console.RuleSetView) int { return strings.Compare(x.Version, y.Version) })
	if ra := a.engine.RiskAreas(); ra != nil {
		v.RiskAreas = fmt.Sprintf("%s (%d)", ra.Version(), ra.Len())
	}
	return v, nil
}

// consoleRecord audits one of the console's rule actions with the
// session's actor, in the same trail as the admin API's.
func (b consoleBackend) consoleRecord(ctx context.Context, p console.Principal, action, client, target, outcome, detail string) {
	b.a.record(ctx, codes.AuditRecord{At: b.a.now(), Node: b.a.cfg.Node, Role: console.RoleRulesAdmin, Action: action,
		Client: client, Actor: p.Actor, Target: target, Outcome: outcome, Detail: detail})
}

// UploadRules is handleRulesUpload's path for the console.
func (b consoleBackend) UploadRules(ctx context.Context, p console.Principal, src []byte, client string) (console.DryRunView, error) {
	const action = "console_rules_upload"
	c, rep, step, err := b.a.uploadRules(ctx, src)
	var ce *rules.CompileError
	switch {
	case errors.As(err, &ce):
		rp := &console.RulesProblems{}
		for _, x := range ce.Problems {
			rp.Problems = append(rp.Problems, console.Problem{Line: x.Line, Column: x.Column, RuleID: x.RuleID, Msg: x.Msg})
		}
		b.consoleRecord(ctx, p, action, client, "", "refused", fmt.Sprintf("rejected: %d problems", len(rp.Problems)))
		return console.DryRunView{}, rp
	case err != nil && step == "compile":
		b.consoleRecord(ctx, p, action, client, "", "invalid", "rejected")
		return console.DryRunView{}, &console.RulesProblems{Problems: []console.Problem{{Msg: err.Error()}}}
	case err != nil:
		b.consoleRecord(ctx, p, action, client, c.ID()+"@"+c.Version(), "error", step)
		return console.DryRunView{}, fmt.Errorf("%s: %w", step, err)
	}
	b.consoleRecord(ctx, p, action, client, c.ID()+"@"+c.Version(), "ok", fmt.Sprintf("compiled; dry run: %d of %d change", rep.Changed, rep.Total))
	v := console.DryRunView{Candidate: rep.Candidate, Version: c.Version(), Total: rep.Total, Changed: rep.Changed, Errors: rep.Errors}
	for _, t := range rep.Transitions {
		v.Transitions = append(v.Transitions, console.TransitionView{From: string(t.From), To: string(t.To), FromRule: t.FromRule, ToRule: t.ToRule, Count: t.Count})
	}
	return v, nil
}

// ActivateRules is handleRulesActivate's path for the console.
func (b consoleBackend) ActivateRules(ctx context.Context, p console.Principal, version string, at time.Time, client string) error {
	const action = "console_rules_activate"
	c, state, err := b.a.activateRules(ctx, version, at)
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		b.consoleRecord(ctx, p, action, client, version, "refused", fe.Error())
		return &console.FieldError{Field: fe.Field, Msg: "healthcoded: " + fe.Error()}
	case errors.Is(err, errUnknownVersion), errors.Is(err, errNoPending):
		b.consoleRecord(ctx, p, action, client, version, "refused", "unknown version")
		return &console.FieldError{Field: "version", Msg: "healthcoded: " + err.Error()}
	case err != nil:
		b.consoleRecord(ctx, p, action, client, version, "error", "error")
		return fmt.Errorf("activate: %w", err)
	}
	b.consoleRecord(ctx, p, action, client, c.ID()+"@"+c.Version(), "ok", activateDetail(state, at))
	return nil
}

// RollbackRules is handleRulesRollback's path for the console.
func (b consoleBackend) RollbackRules(ctx context.Context, p console.Principal, client string) error {
	const action = "console_rules_rollback"
	c, err := b.a.rollbackRules(ctx)
	switch {
	case errors.Is(err, rules.ErrNoPrevious):
		b.consoleRecord(ctx, p, action, client, "", "refused", "nothing to roll back to")
		return &console.FieldError{Field: "rollback", Msg: err.Error()}
	case err != nil:
		b.consoleRecord(ctx, p, action, client, "", "error", "error")
		return fmt.Errorf("rollback: %w", err)
	}
	target := ""
	if c != nil {
		target = c.ID() + "@" + c.Version()
	}
	b.consoleRecord(ctx, p, action, client, target, "ok", "rolled back")
	return nil
}
