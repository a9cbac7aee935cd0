package rules

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHistory is how many earlier states an Engine keeps for Rollback.
const DefaultHistory = 4

// EngineConfig configures an Engine. The zero value is valid and means the
// defaults. A plain value.
type EngineConfig struct {
	// History is how many earlier states (before a Swap) Rollback can return
	// to. Zero means DefaultHistory.
	History int
}

// DefaultEngineConfig returns the default configuration.
func DefaultEngineConfig() EngineConfig { return EngineConfig{History: DefaultHistory} }

// Validate reports a bad field.
func (c EngineConfig) Validate() error {
	if c.History < 0 {
		return fmt.Errorf("%w: EngineConfig.History is %d, must be >= 0", ErrBadOption, c.History)
	}
	return nil
}

// Engine holds the compiled rule sets in force and the current risk areas,
// and evaluates people against them.
//
// The state is an immutable snapshot behind an atomic pointer: Evaluate,
// Explain, Batch and DryRun never block and always see a whole set; Swap and
// Rollback build a new snapshot and publish it atomically (writers are
// serialised among themselves). A set swapped in with a future
// EffectiveFrom is scheduled: evaluations whose time (Facts.Now) is at or
// after it use it, earlier ones the set before. An Engine is safe for
// concurrent use.
type Engine struct {
	history int
	state   atomic.Pointer[engineState]
	areas   atomic.Pointer[RiskAreas]
	mu      sync.Mutex // serialises Swap and Rollback
}

type engineState struct {
	timeline []entry // by activation time; the first may be used for earlier times if immediate
	prev     *engineState
}

type entry struct {
	set       *Compiled
	at        time.Time // activation time
	immediate bool      // swapped in already effective
}

// NewEngine returns an Engine with no rule set.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.History == 0 {
		cfg.History = DefaultHistory
	}
	e := &Engine{history: cfg.History}
	e.state.Store(&engineState{})
	return e, nil
}

// Swap installs a compiled set at time now. If its EffectiveFrom is after
// now it is scheduled for that time; otherwise it is in force at once and
// the sets it supersedes are dropped (they stay reachable by Rollback).
// To schedule a set at a time of the caller's choosing, swap in
// c.WithEffectiveFrom(t).
// Sets scheduled later than it stay scheduled. Swap fails with
// ErrNotCompiled for a nil set and ErrSchema for a set whose Env has the
// other kind of schema than the sets already installed; nothing changes then.
func (e *Engine) Swap(c *Compiled, now time.Time) error {
	if c == nil {
		return fmt.Errorf("%w: Swap was given a nil set", ErrNotCompiled)
	}
	if now.IsZero() {
		return fmt.Errorf("%w: Swap needs the current time", ErrNoTime)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.state.Load()
	for _, en := range old.timeline {
		if en.set.env.custom != c.env.custom {
			return fmt.Errorf("%w: Swap: set %s@%s and installed set %s@%s have different kinds of schema",
				ErrSchema, c.id, c.version, en.set.id, en.set.version)
		}
	}
	ne := entry{set: c, at: now, immediate: true}
	if c.effectiveFrom.After(now) {
		ne = entry{set: c, at: c.effectiveFrom}
	}
	next := &engineState{prev: old}
	for _, en := range old.timeline {
		switch {
		case ne.immediate && !en.at.After(now):
			// superseded by the new set in force now
		case !ne.immediate && en.at.Equal(ne.at):
			// replaced by the new set scheduled at the same time
		default:
			next.timeline = append(next.timeline, en)
		}
	}
	// Insert keeping the timeline sorted by activation time.
	i := len(next.timeline)
	for i > 0 && next.timeline[i-1].at.After(ne.at) {
		i--
	}
	next.timeline = append(next.timeline, entry{})
	copy(next.timeline[i+1:], next.timeline[i:])
	next.timeline[i] = ne
	e.state.Store(e.trim(next))
	return nil
}

// trim bounds the rollback chain to the configured history by copying its
// newest states.
func (e *Engine) trim(s *engineState) *engineState {
	n := 0
	for p := s; p != nil; p = p.prev {
		n++
	}
	if n <= e.history+1 {
		return s
	}
	head := &engineState{timeline: s.timeline}
	cur := head
	for p, k := s.prev, 0; p != nil && k < e.history; p, k = p.prev, k+1 {
		cp := &engineState{timeline: p.timeline}
		cur.prev = cp
		cur = cp
	}
	return head
}

// Rollback returns to the state before the most recent Swap (or before the
// Rollback's own predecessor Swap, repeatedly, up to the history depth).
func (e *Engine) Rollback() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.state.Load()
	if s.prev == nil {
		return fmt.Errorf("%w to roll back to", ErrNoPrevious)
	}
	e.state.Store(s.prev)
	return nil
}

// SetRiskAreas publishes a new risk-area snapshot for the evaluations that
// start after it. nil clears the areas.
func (e *Engine) SetRiskAreas(a *RiskAreas) { e.areas.Store(a) }

// RiskAreas returns the current risk-area snapshot (nil if none).
func (e *Engine) RiskAreas() *RiskAreas { return e.areas.Load() }

// Active returns the set in force at t, or nil.
func (e *Engine) Active(t time.Time) *Compiled {
	return e.state.Load().at(t)
}

// Scheduled returns the sets that take effect after t, in order.
func (e *Engine) Scheduled(t time.Time) []*Compiled {
	var out []*Compiled
	for _, en := range e.state.Load().timeline {
		if en.at.After(t) && !en.immediate {
			out = append(out, en.set)
		}
	}
	return out
}

func (s *engineState) at(t time.Time) *Compiled {
	tl := s.timeline
	for i := len(tl) - 1; i >= 0; i-- {
		if !tl[i].at.After(t) {
			return tl[i].set
		}
	}
	if len(tl) > 0 && tl[0].immediate {
		return tl[0].set
	}
	return nil
}

func (e *Engine) setAt(t time.Time) (*Compiled, error) {
	c := e.state.Load().at(t)
	if c == nil {
		return nil, fmt.Errorf("%w: at %s", ErrNoRuleSet, t.Format(time.RFC3339))
	}
	return c, nil
}

// Evaluate decides the colour for f with the set in force at f.Now and the
// current risk areas.
func (e *Engine) Evaluate(ctx context.Context, f *Facts) (Decision, error) {
	if f == nil || f.Now.IsZero() {
		return Decision{}, fmt.Errorf("%w: Facts.Now must be set", ErrNoTime)
	}
	c, err := e.setAt(f.Now)
	if err != nil {
		return Decision{}, err
	}
	return c.Evaluate(ctx, f, e.areas.Load())
}

// Explain is Evaluate with the trace of every rule.
func (e *Engine) Explain(ctx context.Context, f *Facts) (Explanation, error) {
	if f == nil || f.Now.IsZero() {
		return Explanation{}, fmt.Errorf("%w: Facts.Now must be set", ErrNoTime)
	}
	c, err := e.setAt(f.Now)
	if err != nil {
		return Explanation{}, err
	}
	return c.Explain(ctx, f, e.areas.Load())
}

// EvaluateVars decides the colour for a custom schema's variables with the
// set in force at now.
func (e *Engine) EvaluateVars(ctx context.Context, vars map[string]any, now time.Time) (Decision, error) {
	c, err := e.setAt(now)
	if err != nil {
		return Decision{}, err
	}
	return c.EvaluateVars(ctx, vars, now)
}
