package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/rules"
)

// What the nodes of a cluster share besides codes: the rule sets uploaded,
// which one was activated when, rollbacks and risk-area snapshots. Each
// is a note on the store's feed (codes.Feed); every node, the writer
// included, applies the notes in feed order, so all of them hold the same
// rule timeline and decisions name the same versions. With a store that
// has no feed (the embedded bbolt file) a note is applied at once.
const (
	topicUpload    = "rules/upload"   // body: the rule set's YAML or JSON
	topicActivate  = "rules/activate" // body: activateNote
	topicRollback  = "rules/rollback" // body: empty
	topicRiskAreas = "risk-areas"     // body: riskAreasNote
)

type activateNote struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"` // the writer's now: every node swaps as of it
	// EffectiveAt is the time the operator chose for the set to take
	// effect, the same instant on every node; zero (and absent from the
	// notes of earlier versions, which apply as before) means the set's
	// own effective_from. A node of an earlier version ignores it and
	// schedules the set at its own time: upgrade every node first.
	EffectiveAt time.Time `json:"effective_at,omitzero"`
}

type riskAreasNote struct {
	Version string           `json:"version"`
	Areas   []rules.RiskArea `json:"areas"`
}

// share applies a note on every node: at once without a feed; else it is
// published and share returns once this node's follower has applied it,
// so the writer reads its own write. The error is the note's own (a rule
// set that does not compile here) or the store's.
func (a *App) share(ctx context.Context, topic string, body any) error {
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if a.feed == nil {
		return a.applyNote(topic, b)
	}
	pos, err := a.feed.Publish(ctx, topic, b)
	if err != nil {
		return err
	}
	if err := a.reg.WaitFeed(ctx, pos); err != nil {
		return fmt.Errorf("wait for the feed to reach the note: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.noteErrs[pos]
}

// onFeed is the registry's Config.OnFeed: notes are applied, link changes
// drop the persons from the link cache.
func (a *App) onFeed(r codes.FeedRecord) {
	if len(r.Links) > 0 {
		a.links.forget(r.Links...)
	}
	if !r.IsNote() {
		return
	}
	err := a.applyNote(r.Topic, r.Body)
	if err != nil {
		a.log.Warn("shared note not applied", "pos", r.Pos, "topic", r.Topic, "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// Kept for the writer waiting in share; the newest few are enough.
	a.noteErrs[r.Pos] = err
	for p := range a.noteErrs {
		if p+64 < r.Pos {
			delete(a.noteErrs, p)
		}
	}
}

// applyNote applies one shared note to this node's rule engine.
func (a *App) applyNote(topic string, body []byte) error {
	switch topic {
	case topicUpload:
		c, err := a.env.CompileYAML("upload", body)
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.pending[c.Version()] = c
		a.mu.Unlock()
		return nil
	case topicActivate:
		var n activateNote
		if err := json.Unmarshal(body, &n); err != nil {
			return err
		}
		a.mu.Lock()
		c, ok := a.pending[n.Version]
		delete(a.pending, n.Version)
		a.mu.Unlock()
		if !ok {
			return fmt.Errorf("%w: %q", errNoPending, n.Version)
		}
		if !n.EffectiveAt.IsZero() {
			c = c.WithEffectiveFrom(n.EffectiveAt)
		}
		return a.engine.Swap(c, n.At)
	case topicRollback:
		return a.engine.Rollback()
	case topicRiskAreas:
		var n riskAreasNote
		if err := json.Unmarshal(body, &n); err != nil {
			return err
		}
		ra, err := rules.NewRiskAreas(n.Version, n.Areas)
		if err != nil {
			return err
		}
		a.engine.SetRiskAreas(ra)
		return nil
	}
	return fmt.Errorf("unknown topic %q", topic)
}

var errNoPending = errors.New("no pending rule set with version")

// replayNotes applies the notes published before this node opened its
// registry; Follow brings the ones after.
func (a *App) replayNotes(ctx context.Context) error {
	if a.feed == nil {
		return nil
	}
	notes, err := a.feed.Notes(ctx, 0, a.reg.FeedPos())
	if err != nil {
		return fmt.Errorf("replay shared notes: %w", err)
	}
	for _, n := range notes {
		if err := a.applyNote(n.Topic, n.Body); err != nil {
			a.log.Warn("shared note not applied", "pos", n.Pos, "topic", n.Topic, "err", err)
		}
	}
	if len(notes) > 0 {
		a.log.Info("shared notes replayed", "notes", len(notes), "upto", a.reg.FeedPos())
	}
	return nil
}
