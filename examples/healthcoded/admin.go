package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/healthcode-sdk/healthcode/rules"
)

// adminHandler handles an authenticated admin call and returns what the
// audit log records of it: the target (a pseudonym, never an identity)
// and the outcome.
type adminHandler func(w http.ResponseWriter, r *http.Request, p serve.Principal) (target, outcome string)

// handleTranscode changes one person's code by hand. It needs an actor
// (from the token), an authorisation reference and a reason; refused calls
// change nothing (tender 2.1.4; the Henan lesson).
func (a *App) handleTranscode(w http.ResponseWriter, r *http.Request, p serve.Principal) (string, string) {
	var req struct {
		who
		Colour        string    `json:"colour"`
		Authorisation string    `json:"authorisation"`
		Reason        string    `json:"reason"`
		Expires       time.Time `json:"expires,omitzero"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	noteAudit(r, req.Authorisation, req.Reason)
	if k := r.Header.Get("Idempotency-Key"); len(k) > maxIdempotencyKey || !utf8.ValidString(k) {
		badRequest(w, &fieldError{"Idempotency-Key", fmt.Errorf("%d bytes: want at most %d bytes of UTF-8", len(k), maxIdempotencyKey)})
		return "", "bad request"
	}
	key, region, _, err := a.key(req.who)
	if err != nil {
		badRequest(w, err)
		return "", "bad identity"
	}
	col, ok := parseColour(req.Colour)
	if !ok {
		badRequest(w, &fieldError{"colour", fmt.Errorf("want green, yellow or red, got %q", req.Colour)})
		return key.String(), "bad colour"
	}
	now := a.now()
	before, err := a.reg.Lookup(r.Context(), key)
	if err != nil {
		a.internal(w, "transcode", err)
		return key.String(), "error"
	}
	e, err := a.reg.Transcode(r.Context(), key, codes.Transcode{
		Colour: col, Actor: p.Actor, Authorisation: req.Authorisation, Reason: req.Reason,
		At: now, Expires: req.Expires,
		// A client that lost our answer sends the same key again; the
		// store records the transcode once.
		RequestID: r.Header.Get("Idempotency-Key"),
	})
	var ce *codes.ChangeError
	if errors.As(err, &ce) {
		field := transcodeFields[ce.Field]
		if field == "" {
			field = ce.Field
		}
		serve.WriteJSON(w, http.StatusUnprocessableEntity, serve.ErrorBody{
			Error: "refused", Message: fmt.Sprintf("%s: %v", field, err), Details: map[string]string{"field": field}})
		return key.String(), "refused: " + field
	}
	if err != nil {
		a.internal(w, "transcode", err)
		return key.String(), "error"
	}
	a.counted(before, col, "manual", region, now)
	noteChanged(r, 1)
	serve.WriteJSON(w, http.StatusOK, map[string]any{
		"key": key.String(), "colour": col.String(), "seq": e.Seq, "hash": fmt.Sprintf("%x", e.Hash)})
	return key.String(), "transcoded to " + col.String()
}

// maxIdempotencyKey is the longest Idempotency-Key header (the store's
// limit on a change's request id).
const maxIdempotencyKey = 128

// transcodeFields names the request's field (or header) for a field of a
// refused codes.Change, so the client reads what it sent.
var transcodeFields = map[string]string{
	"State.Reason": "reason", "State.Expires": "expires",
	"Cause.Actor": "authorisation", "Cause.Authorisation": "authorisation",
	"Transcode.Actor/Authorisation": "authorisation", "RequestID": "Idempotency-Key",
}

// counted updates the statistics and the in-force gauge for one change
// from the state before (the zero State if the key had no record: its
// first code is issued, whatever its colour).
func (a *App) counted(before codes.State, to codes.Colour, cause, region string, at time.Time) {
	if !isNew(before) {
		if before.Colour == to {
			return
		}
		a.colours.add(before.Colour, -1)
	}
	a.colours.add(to, 1)
	a.stats.record(at, to, cause, region)
}

// isNew reports whether a looked-up state is the zero State of a key that
// has no record (every recorded state has a Since).
func isNew(s codes.State) bool { return s.Since.IsZero() }

// handleHistory returns a person's full history and whether its hash
// chain verifies (and if not, the first broken link).
func (a *App) handleHistory(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req who
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	key, _, _, err := a.key(req)
	if err != nil {
		badRequest(w, err)
		return "", "bad identity"
	}
	h, err := a.reg.History(r.Context(), key)
	verified := map[string]any{"ok": err == nil}
	var chain *codes.ChainError
	switch {
	case errors.As(err, &chain):
		verified["first_broken"] = chain.Index
		verified["reason"] = chain.Reason
	case err != nil:
		a.internal(w, "history", err)
		return key.String(), "error"
	}
	type entry struct {
		Seq uint64 `json:"seq"`
		provenanceJSON
		Hash string `json:"hash"`
		Prev string `json:"prev"`
	}
	out := make([]entry, len(h))
	now := a.now()
	for i, e := range h {
		out[i] = entry{Seq: e.Seq, provenanceJSON: provenance(&codes.Provenance{Source: codes.FromDocument, Key: e.Key, State: e.State}, now),
			Hash: fmt.Sprintf("%x", e.Hash), Prev: fmt.Sprintf("%x", e.Prev)}
		out[i].Colour = e.State.Colour.String() // the colour recorded, not as of now
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"key": key.String(), "entries": out, "verified": verified})
	return key.String(), fmt.Sprintf("%d entries, chain ok=%v", len(h), err == nil)
}

// handleRules shows the sets in force, scheduled and uploaded.
func (a *App) handleRules(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	now := a.now()
	desc := func(c *rules.Compiled) map[string]any {
		return map[string]any{"id": c.ID(), "version": c.Version(), "effective_from": c.EffectiveFrom(), "rules": len(c.RuleSet().Rules)}
	}
	out := map[string]any{}
	if c := a.engine.Active(now); c != nil {
		out["active"] = desc(c)
	}
	var sched, pend []map[string]any
	for _, c := range a.engine.Scheduled(now) {
		sched = append(sched, desc(c))
	}
	a.mu.Lock()
	for _, c := range a.pending {
		pend = append(pend, desc(c))
	}
	a.mu.Unlock()
	out["scheduled"], out["pending"] = sched, pend
	if ra := a.engine.RiskAreas(); ra != nil {
		out["risk_areas"] = map[string]any{"version": ra.Version(), "regions": ra.Len()}
	}
	serve.WriteJSON(w, http.StatusOK, out)
	return "", "ok"
}

const maxRuleSet = 1 << 20

// handleRulesUpload compiles an uploaded rule set (YAML or JSON). A set
// that does not compile is answered 422 with every problem and its
// position; one that does is kept as pending and dry-run against the
// population, so the admin sees who would change colour before activating.
func (a *App) handleRulesUpload(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRuleSet+1))
	if err == nil && len(data) > maxRuleSet {
		err = fmt.Errorf("%w: want a rule set of at most 1 MiB", serve.ErrBodyTooLarge)
	}
	if err != nil {
		badRequest(w, &fieldError{"body", err})
		return "", "bad request"
	}
	c, rep, step, err := a.uploadRules(r.Context(), data)
	var ce *rules.CompileError
	if errors.As(err, &ce) {
		type problem struct {
			Line       int    `json:"line,omitempty"`
			Column     int    `json:"column,omitempty"`
			RuleID     string `json:"rule_id,omitempty"`
			Field      string `json:"field,omitempty"`
			ExprLine   int    `json:"expr_line,omitempty"`
			ExprColumn int    `json:"expr_column,omitempty"`
			Message    string `json:"message"`
		}
		ps := make([]problem, len(ce.Problems))
		for i, p := range ce.Problems {
			ps[i] = problem{p.Line, p.Column, p.RuleID, p.Field, p.ExprLine, p.ExprColumn, p.Msg}
		}
		serve.WriteJSON(w, http.StatusUnprocessableEntity, serve.ErrorBody{Error: "compile", Message: err.Error(), Details: ps})
		return "", fmt.Sprintf("rejected: %d problems", len(ps))
	}
	switch {
	case err != nil && step == "compile":
		badRequest(w, err)
		return "", "rejected"
	case err != nil:
		a.internal(w, step, err)
		return c.Version(), "error"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"pending": c.ID() + "@" + c.Version(), "dry_run": dryRunJSON(rep)})
	return c.ID() + "@" + c.Version(), fmt.Sprintf("compiled; dry run: %d of %d change", rep.Changed, rep.Total)
}

// dryRunJSON is the wire form of a dry-run report.
func dryRunJSON(r rules.DryRunReport) map[string]any {
	type transition struct {
		From     string `json:"from"`
		To       string `json:"to"`
		FromRule string `json:"from_rule"` // "" = the default colour
		ToRule   string `json:"to_rule"`
		Count    int    `json:"count"`
		Samples  []int  `json:"samples"` // population indexes
	}
	ts := make([]transition, len(r.Transitions))
	for i, t := range r.Transitions {
		ts[i] = transition{string(t.From), string(t.To), t.FromRule, t.ToRule, t.Count, t.Samples}
	}
	errs := make([]map[string]any, len(r.ErrorSamples))
	for i, e := range r.ErrorSamples {
		errs[i] = map[string]any{"index": e.Index, "error": e.Err}
	}
	return map[string]any{"candidate": r.Candidate, "total": r.Total, "changed": r.Changed,
		"errors": r.Errors, "transitions": ts, "error_samples": errs}
}

// handleRulesActivate swaps a pending set in: at once, or at its
// effective-from time if that is later, or at the optional effective_at
// (RFC 3339; a time not after now means at once, one more than 90 days
// ahead is refused).
func (a *App) handleRulesActivate(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		Version     string `json:"version"`
		EffectiveAt string `json:"effective_at"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if req.Version == "" {
		badRequest(w, &fieldError{"version", errors.New("required: the version of an uploaded rule set")})
		return "", "bad request"
	}
	var at time.Time
	if req.EffectiveAt != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, req.EffectiveAt); err != nil {
			badRequest(w, &fieldError{"effective_at", fmt.Errorf("want an RFC 3339 time such as 2022-09-02T00:00:00+08:00, got %q", req.EffectiveAt)})
			return req.Version, "bad request"
		}
	}
	c, state, err := a.activateRules(r.Context(), req.Version, at)
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		badRequest(w, err)
		return req.Version, "refused: " + fe.Error()
	case errors.Is(err, errUnknownVersion):
		serve.WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("healthcoded: no pending rule set with version %q (upload it first)", req.Version))
		return req.Version, "unknown version"
	case errors.Is(err, errNoPending):
		// Another node activated it between our look and the note.
		serve.WriteError(w, http.StatusConflict, "already_activated", fmt.Sprintf("healthcoded: rule set %q was activated meanwhile", req.Version))
		return req.Version, "activated meanwhile"
	case err != nil:
		a.internal(w, "activate", err)
		return req.Version, "refused"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"version": c.Version(), "state": state, "effective_from": c.EffectiveFrom()})
	return c.ID() + "@" + c.Version(), activateDetail(state, at)
}

func (a *App) handleRulesRollback(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	// Every node rolls back in feed order; one with nothing to roll back
	// to refuses alike on every node.
	c, err := a.rollbackRules(r.Context())
	if err != nil {
		if errors.Is(err, rules.ErrNoPrevious) {
			serve.WriteError(w, http.StatusConflict, "no_history", err.Error())
			return "", "refused"
		}
		a.internal(w, "rollback", err)
		return "", "error"
	}
	out := map[string]any{"rolled_back": true}
	if c != nil {
		out["active"] = c.ID() + "@" + c.Version()
	}
	serve.WriteJSON(w, http.StatusOK, out)
	return fmt.Sprint(out["active"]), "rolled back"
}

// handleRiskAreas publishes a new risk-area snapshot; no rule recompiles.
func (a *App) handleRiskAreas(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		Version string `json:"version"`
		Areas   []struct {
			Region string `json:"region"`
			Level  string `json:"level"`
		} `json:"areas"`
	}
	if err := serve.DecodeJSON(r.Body, 4<<20, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if req.Version == "" {
		badRequest(w, &fieldError{"version", errors.New("required")})
		return "", "bad request"
	}
	areas := make([]rules.RiskArea, len(req.Areas))
	for i, x := range req.Areas {
		areas[i] = rules.RiskArea{Region: x.Region, Level: x.Level}
		// The package checks the region, then the level; an area alone
		// says which of the two is wrong.
		if _, err := rules.NewRiskAreas(req.Version, areas[i:i+1]); err != nil {
			field := fmt.Sprintf("areas.%d.region", i)
			if _, lerr := rules.ParseRiskLevel(x.Level); lerr != nil && len(x.Region) == 6 && strings.Trim(x.Region, "0123456789") == "" {
				field = fmt.Sprintf("areas.%d.level", i)
			}
			badRequest(w, &fieldError{field, err})
			return req.Version, "rejected"
		}
	}
	ra, err := rules.NewRiskAreas(req.Version, areas)
	if err != nil {
		badRequest(w, &fieldError{"areas", err})
		return req.Version, "rejected"
	}
	if err := a.share(r.Context(), topicRiskAreas, riskAreasNote{Version: req.Version, Areas: areas}); err != nil {
		a.internal(w, "risk areas", err)
		return req.Version, "error"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"version": ra.Version(), "regions": ra.Len()})
	return req.Version, fmt.Sprintf("%d regions", ra.Len())
}

// factsJSON is the wire form of rules.Facts.
type factsJSON struct {
	Now   time.Time `json:"now,omitzero"` // default: the server's now
	Tests []struct {
		Kind     string    `json:"kind"`
		Positive bool      `json:"positive"`
		Sampled  time.Time `json:"sampled"`
		Reported time.Time `json:"reported,omitzero"`
	} `json:"tests,omitempty"`
	Travel []struct {
		Region string    `json:"region"`
		Time   time.Time `json:"time"`
	} `json:"travel,omitempty"`
	Contact struct {
		Kind         string    `json:"kind"`
		LastExposure time.Time `json:"last_exposure,omitzero"`
		Identified   time.Time `json:"identified,omitzero"`
	} `json:"contact,omitzero"`
	VaccineDoses int      `json:"vaccine_doses,omitempty"`
	EntryStatus  string   `json:"entry_status,omitempty"`
	ManualFlags  []string `json:"manual_flags,omitempty"`
}

func (f factsJSON) facts(now time.Time) rules.Facts {
	out := rules.Facts{Now: f.Now, VaccineDoses: f.VaccineDoses, EntryStatus: f.EntryStatus, ManualFlags: f.ManualFlags,
		Contact: rules.Contact{Kind: f.Contact.Kind, LastExposure: f.Contact.LastExposure, Identified: f.Contact.Identified}}
	if out.Now.IsZero() {
		out.Now = now
	}
	for _, t := range f.Tests {
		out.Tests = append(out.Tests, rules.Test{Kind: t.Kind, Positive: t.Positive, Sampled: t.Sampled, Reported: t.Reported})
	}
	for _, v := range f.Travel {
		out.Travel = append(out.Travel, rules.Visit{Region: v.Region, Time: v.Time})
	}
	return out
}

// lineError is one rejected line of a bulk upload.
type lineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

const maxLineErrors = 100

// maxEvalLine is the longest line of a bulk upload.
const maxEvalLine = 1 << 20

// statusOf is 413 for a body over its limit, else 400.
func statusOf(err error) int {
	if errors.Is(err, serve.ErrBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// check refuses what the rules would evaluate to nonsense: a time out of
// range (checkTime) or a negative count. The field is the JSON path
// inside facts.
func (f *factsJSON) check(now time.Time) *fieldError {
	at := func(field string, t time.Time) *fieldError {
		if err := checkTime(t, now); !t.IsZero() && err != nil {
			return &fieldError{field, err}
		}
		return nil
	}
	if fe := at("now", f.Now); fe != nil {
		return fe
	}
	for i, t := range f.Tests {
		if t.Sampled.IsZero() {
			return &fieldError{fmt.Sprintf("tests.%d.sampled", i), errors.New("required")}
		}
		if fe := at(fmt.Sprintf("tests.%d.sampled", i), t.Sampled); fe != nil {
			return fe
		}
		if fe := at(fmt.Sprintf("tests.%d.reported", i), t.Reported); fe != nil {
			return fe
		}
	}
	for i, v := range f.Travel {
		if fe := at(fmt.Sprintf("travel.%d.time", i), v.Time); fe != nil {
			return fe
		}
	}
	if fe := at("contact.last_exposure", f.Contact.LastExposure); fe != nil {
		return fe
	}
	if fe := at("contact.identified", f.Contact.Identified); fe != nil {
		return fe
	}
	if f.VaccineDoses < 0 || f.VaccineDoses > 100 {
		return &fieldError{"vaccine_doses", fmt.Errorf("%d: want 0 to 100", f.VaccineDoses)}
	}
	return nil
}

// handleEvaluate reads NDJSON lines {"id"|"phone", "facts": {...}},
// evaluates them with the rule set in force on all cores, applies the
// decisions to the store in batches (one history entry per real change)
// and streams progress as NDJSON: {"done": n} lines, then a summary.
// Bad lines are reported with their line number and skipped.
func (a *App) handleEvaluate(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	now := a.now()
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 64<<10), maxEvalLine)
	var (
		keys     []codes.Key
		regions  []string
		pop      population
		badLines []lineError
		nBad     int
		line     int
	)
	bad := func(le lineError) {
		nBad++
		if len(badLines) < maxLineErrors {
			badLines = append(badLines, le)
		}
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec struct {
			who
			Facts factsJSON `json:"facts"`
		}
		if err := serve.DecodeJSON(bytes.NewReader(b), maxEvalLine, &rec); err != nil {
			var be *serve.BodyError
			le := lineError{Line: line, Message: err.Error()}
			if errors.As(err, &be) {
				le.Field, le.Message = be.Field, fmt.Sprintf("column %d: %v", be.Column, be.Err)
			}
			bad(le)
			continue
		}
		if fe := rec.Facts.check(now); fe != nil {
			bad(lineError{Line: line, Field: "facts." + fe.Field, Message: fe.Err.Error()})
			continue
		}
		key, region, _, err := a.key(rec.who)
		if err != nil {
			le := lineError{Line: line, Message: err.Error()}
			var fe *fieldError
			if errors.As(err, &fe) {
				le.Field = fe.Field
			}
			bad(le)
			continue
		}
		keys, regions = append(keys, key), append(regions, region)
		facts := rec.Facts.facts(now)
		pop.add(&facts)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: want lines of at most %d bytes", serve.ErrBodyTooLarge, maxEvalLine)
		}
		serve.WriteJSON(w, statusOf(err), serve.ErrorBody{Error: "bad_upload", Message: fmt.Sprintf("line %d: %v", line+1, err),
			Details: map[string]any{"line": line + 1}})
		return "", "bad upload"
	}
	if pop.Len() == 0 {
		// Nothing to evaluate: answer before the population a dry run
		// uses is replaced by an empty one.
		msg := "healthcoded: no lines to evaluate: want NDJSON lines {\"id\" or \"phone\", \"facts\"}"
		if nBad > 0 {
			msg = fmt.Sprintf("healthcoded: all %d lines rejected, nothing evaluated", nBad)
		}
		serve.WriteJSON(w, http.StatusBadRequest, serve.ErrorBody{Error: "bad_upload", Message: msg, Details: map[string]any{"errors": badLines}})
		return "", "bad upload: nothing to evaluate"
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	progress := func(done int) {
		_ = enc.Encode(map[string]int{"done": done, "total": pop.Len()})
		_ = rc.Flush()
	}
	decisions := make([]rules.Decision, pop.Len())
	var evalErrs []lineError
	err := a.engine.Batch(r.Context(), pop.All(), rules.BatchConfig{
		ChunkSize: 1024,
		Progress:  func(done int) { progress(done) },
	}, func(i int, d rules.Decision, err error) {
		if err != nil {
			nBad++
			if len(evalErrs) < maxLineErrors {
				evalErrs = append(evalErrs, lineError{Line: i + 1, Message: err.Error()})
			}
			d = rules.Decision{}
		}
		decisions[i] = d
	})
	if err != nil {
		_ = enc.Encode(map[string]string{"error": err.Error()})
		return "", "cancelled"
	}
	// Each committed batch is acknowledged with {"applied": n}: the first n
	// decisions are durable, whatever happens to the server next.
	changed, err := a.applyDecisions(r.Context(), keys, regions, decisions, now, func(applied int) {
		_ = enc.Encode(map[string]int{"applied": applied})
		_ = rc.Flush()
	})
	noteChanged(r, changed) // a run that failed half way changed codes too
	if err != nil {
		_ = enc.Encode(map[string]string{"error": err.Error()})
		return "", "error"
	}
	if err := a.refreshFilter(r.Context()); err != nil {
		_ = enc.Encode(map[string]string{"error": err.Error()})
		return "", "error"
	}
	a.mu.Lock()
	a.population = pop
	a.mu.Unlock()
	_ = enc.Encode(map[string]any{
		"evaluated": pop.Len(), "changed": changed, "unchanged": pop.Len() - changed - len(evalErrs),
		"rejected": nBad, "errors": append(badLines, evalErrs...),
	})
	return "", fmt.Sprintf("%d evaluated, %d changed, %d rejected", pop.Len(), changed, nBad)
}

// refreshFilter rebuilds the registry's non-green filter from the store
// after a bulk evaluation: a Bloom filter only ever gains keys, so every
// code that went back to green would otherwise keep sending its lookups
// past the filter to the cache and the store. Lookups go on meanwhile.
func (a *App) refreshFilter(ctx context.Context) error {
	start := time.Now()
	if err := a.reg.Rebuild(ctx, 0); err != nil {
		return fmt.Errorf("rebuild filter: %w", err)
	}
	fs := a.reg.FilterStats()
	a.log.Info("filter rebuilt", "took", time.Since(start).Round(time.Millisecond).String(), "filter", fs)
	return nil
}

// applyBatch is how many changes go to the store per Apply.
const applyBatch = 10_000

// applyDecisions turns rule decisions into code changes and applies them
// through the registry in batches, calling acked (if not nil) with the
// number of decisions durable so far after each batch commits. A decision
// without colour (a failed evaluation) is skipped. It returns how many keys
// changed colour; the statistics count those, by deciding rule and region.
func (a *App) applyDecisions(ctx context.Context, keys []codes.Key, regions []string, ds []rules.Decision, at time.Time, acked func(int)) (int, error) {
	type tallied struct {
		before        codes.State
		to            codes.Colour
		cause, region string
	}
	var (
		changed int
		changes = make([]codes.Change, 0, min(len(ds), applyBatch))
		tally   []tallied
	)
	// flush commits the batch; decisions [0, upto) are then durable.
	flush := func(upto int) error {
		if len(changes) > 0 {
			if _, err := a.reg.Apply(ctx, changes); err != nil {
				return err
			}
		}
		for _, t := range tally {
			a.counted(t.before, t.to, t.cause, t.region, at)
		}
		changes, tally = changes[:0], tally[:0]
		if acked != nil {
			acked(upto)
		}
		return nil
	}
	for i, d := range ds {
		col, ok := parseColour(string(d.Colour))
		if !ok {
			continue
		}
		rule := d.RuleID
		if rule == "" {
			rule = "default" // the set's default colour: no rule matched
		}
		old, err := a.reg.Lookup(ctx, keys[i])
		if err != nil {
			return changed, err
		}
		if isNew(old) || old.Colour != col {
			changed++
			tally = append(tally, tallied{old, col, rule, regions[i]})
		}
		changes = append(changes, codes.Change{Key: keys[i], State: codes.State{
			Colour: col, Reason: d.Reason, Since: at,
			Cause: codes.Cause{RuleID: d.RuleSetID + "/" + rule, RuleVersion: d.RuleSetVersion},
		}})
		if len(changes) == applyBatch {
			if err := flush(i + 1); err != nil {
				return changed, err
			}
		}
	}
	return changed, flush(len(ds))
}

// handleStats returns today's counts, the 14 days before, and the
// red/yellow anomaly check of today against them (tender 2.2.6).
func (a *App) handleStats(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	now := a.now()
	today, baseline, days := a.stats.window(now, demoDays)
	out := map[string]any{"today": dayOf(now), "days": days}
	an, err := checkAnomalies(today, baseline)
	if err != nil {
		out["anomalies_error"] = err.Error()
	} else {
		list := make([]map[string]any, len(an))
		for i, x := range an {
			list[i] = map[string]any{"colour": x.Colour.String(), "dimension": x.Dimension, "label": x.Label,
				"today": x.Today, "mean": x.Mean, "stddev": x.StdDev, "rise": x.Rise, "text": x.String()}
		}
		out["anomalies"] = list
	}
	serve.WriteJSON(w, http.StatusOK, out)
	return "", "ok"
}
