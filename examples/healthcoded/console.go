package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

// mountConsole adds the admin console (examples/console) at /console/,
// over consoleBackend.
func (a *App) mountConsole(mux *http.ServeMux) error {
	c, err := console.New(console.Config{Backend: consoleBackend{a}, Now: a.now, Secure: a.tls != nil, Logger: a.log})
	if err != nil {
		return err
	}
	mux.Handle("/console/", a.metrics.Route("console", c.Handler()))
	return nil
}

// consoleBackend is console.Backend over the App: the same tokens,
// lookups, audited transcode path and statistics as the admin API.
type consoleBackend struct{ a *App }

var _ console.Backend = consoleBackend{}

func (b consoleBackend) Authenticate(token string) (console.Principal, error) {
	r := &http.Request{Header: http.Header{"Authorization": {"Bearer " + token}}}
	p, err := b.a.admins.Authenticate(r)
	if err != nil {
		return console.Principal{}, console.ErrUnauthenticated
	}
	return console.Principal{Actor: p.Actor, Roles: p.Roles}, nil
}

// consoleFieldError turns a bad identity into the console's inline error.
func consoleFieldError(err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &console.FieldError{Field: fe.Field, Msg: fe.Err.Error()}
	}
	return err
}

func (b consoleBackend) Person(ctx context.Context, w console.Who) (console.PersonView, error) {
	a := b.a
	key, src, _, masked, err := a.keySource(who{ID: w.ID, DocType: w.DocType, Phone: w.Phone}, true)
	if err != nil {
		return console.PersonView{}, consoleFieldError(err)
	}
	now := a.now()
	d, err := a.reg.Display(ctx, key, src, now)
	if err != nil {
		return console.PersonView{}, fmt.Errorf("display: %w", err)
	}
	v := console.PersonView{Masked: masked, Colour: d.Colour.String(), ChainOK: true}
	for _, p := range d.Sources {
		v.Sources = append(v.Sources, console.Source{Kind: p.Source.String(), Colour: p.State.ColourAt(now).String(),
			Reason: p.State.Reason, RuleID: p.State.Cause.RuleID, RuleVersion: p.State.Cause.RuleVersion,
			Actor: p.State.Cause.Actor, Authorisation: p.State.Cause.Authorisation, Since: p.State.Since})
	}
	h, err := a.reg.History(ctx, key)
	var chain *codes.ChainError
	switch {
	case errors.As(err, &chain):
		v.ChainOK, v.ChainError = false, fmt.Sprintf("entry %d: %s", chain.Index, chain.Reason)
	case err != nil:
		return console.PersonView{}, fmt.Errorf("history: %w", err)
	}
	for _, e := range h {
		v.History = append(v.History, console.HistoryRow{Seq: e.Seq, At: e.State.Since, Colour: e.State.Colour.String(),
			Reason: e.State.Reason, RuleID: e.State.Cause.RuleID, RuleVersion: e.State.Cause.RuleVersion,
			Actor: e.State.Cause.Actor, Authorisation: e.State.Cause.Authorisation, Hash: fmt.Sprintf("%x", e.Hash)})
	}
	return v, nil
}

// Transcode is handleTranscode's path for the console, with its audit
// record (action "console_transcode", the session's actor) in the same
// trail.
func (b consoleBackend) Transcode(ctx context.Context, p console.Principal, w console.Who, colour, authorisation, reason, client string) error {
	a := b.a
	now := a.now()
	rec := codes.AuditRecord{At: now, Node: a.cfg.Node, Role: "transcoder", Action: "console_transcode", Client: client,
		Actor: p.Actor, Authorisation: authorisation, Reason: reason}
	outcome, detail, err := b.transcode(ctx, p, w, colour, authorisation, reason, now, &rec)
	rec.Outcome, rec.Detail = outcome, detail
	if outcome == "ok" {
		rec.Changed = 1
	}
	a.record(ctx, rec)
	return err
}

func (b consoleBackend) transcode(ctx context.Context, p console.Principal, w console.Who, colour, authorisation, reason string, now time.Time, rec *codes.AuditRecord) (outcome, detail string, err error) {
	a := b.a
	key, region, _, err := a.key(who{ID: w.ID, DocType: w.DocType, Phone: w.Phone})
	if err != nil {
		return "invalid", "bad identity", consoleFieldError(err)
	}
	rec.Target = key.String()
	col, ok := parseColour(colour)
	if !ok {
		return "invalid", "bad colour", &console.FieldError{Field: "colour", Msg: fmt.Sprintf("want green, yellow or red, got %q", colour)}
	}
	before, err := a.reg.Lookup(ctx, key)
	if err != nil {
		return "error", "error", fmt.Errorf("transcode: %w", err)
	}
	_, err = a.reg.Transcode(ctx, key, codes.Transcode{Colour: col, Actor: p.Actor, Authorisation: authorisation, Reason: reason, At: now})
	var ce *codes.ChangeError
	if errors.As(err, &ce) {
		field := transcodeFields[ce.Field]
		if field == "" {
			field = ce.Field
		}
		return "refused", "refused: " + field, &console.FieldError{Field: field, Msg: err.Error()}
	}
	if err != nil {
		return "error", "error", fmt.Errorf("transcode: %w", err)
	}
	a.counted(before, col, "manual", region, now)
	return "ok", "transcoded to " + col.String(), nil
}

func (b consoleBackend) Stats(ctx context.Context, now time.Time) (console.StatsView, error) {
	a := b.a
	today, baseline, _ := a.stats.window(now, demoDays)
	days := append(baseline, today)
	v := console.StatsView{Today: dayOf(now)}
	causes, regions := map[string]int{}, map[string]int{}
	for _, d := range days {
		v.Days = append(v.Days, console.DayRow{Date: dayOf(d.Day), Red: d.ByColour[codes.Red], Yellow: d.ByColour[codes.Yellow], Green: d.ByColour[codes.Green]})
		for _, c := range []codes.Colour{codes.Red, codes.Yellow} {
			for k, n := range d.ByCause[c] {
				causes[k] += n
			}
			for k, n := range d.ByRegion[c] {
				regions[k] += n
			}
		}
	}
	v.Causes, v.Regions = ranked(causes), ranked(regions)
	var err error
	if v.Venues, err = b.venueStats(ctx, now); err != nil {
		return v, err
	}
	an, err := checkAnomalies(today, baseline)
	if err != nil {
		return v, fmt.Errorf("anomalies: %w", err)
	}
	for _, x := range an {
		v.Anomalies = append(v.Anomalies, x.String())
	}
	return v, nil
}

func ranked(m map[string]int) []console.Ranked {
	out := make([]console.Ranked, 0, len(m))
	for k, n := range m {
		out = append(out, console.Ranked{Label: k, Count: n})
	}
	slices.SortFunc(out, func(x, y console.Ranked) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Label, y.Label))
	})
	return out
}

func (b consoleBackend) Audit(ctx context.Context, rec console.AuditAttempt) {
	b.a.record(ctx, codes.AuditRecord{At: rec.At, Node: b.a.cfg.Node, Actor: rec.Actor, Role: rec.Role,
		Action: rec.Action, Outcome: rec.Outcome, Detail: rec.Detail, Client: rec.Client})
}

// serve.Principal and console.Principal are the same shape; keep them so.
var _ = console.Principal(serve.Principal{})
