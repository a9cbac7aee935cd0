package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/alarms"
	"github.com/healthcode-sdk/healthcode/examples/auditexport"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/prometheus/client_golang/prometheus"
)

// What leaves the process: alarms (examples/alarms: the rules engine fed
// by every admin attempt and the anomaly check, the outbox, the notifiers)
// and the audit trail's syslog export (examples/auditexport). Both run in
// the background from Open to Close.

// openOps builds the alarm engine and the audit export the Config asks
// for. A bad alarm rules file refuses the start with every problem and its
// position (*alarms.RulesError).
func (a *App) openOps() error {
	cfg := a.cfg
	if cfg.AlarmsFile != "" {
		rules, err := readAlarmRules(cfg.AlarmsFile)
		if err != nil {
			return err
		}
		ns, err := alarms.NewNotifiers(rules.Notifiers, os.Getenv, nil)
		if err != nil {
			return fmt.Errorf("-alarms %s: %w", cfg.AlarmsFile, err)
		}
		if a.outbox, err = alarms.OpenOutbox(filepath.Join(cfg.DataDir, "alarms-outbox.db")); err != nil {
			return fmt.Errorf("alarm outbox: %w", err)
		}
		a.notifiers = ns
		if a.alarms, err = alarms.NewEngine(alarms.Config{Rules: rules, Now: a.now, Emit: a.outbox.Enqueue}); err != nil {
			return err
		}
	}
	if cfg.Syslog != "" {
		xc := auditexport.DefaultConfig()
		xc.URL, xc.Cursor, xc.Log = cfg.Syslog, filepath.Join(cfg.DataDir, "audit-export.cursor"), a.log.With("part", "audit-export")
		if h, err := os.Hostname(); err == nil && h != "" {
			xc.Hostname = h
		}
		x, err := auditexport.New(a.store, xc)
		if err != nil {
			return fmt.Errorf("-syslog: %w", err)
		}
		a.export = x
	}
	a.registerOpsState()
	return nil
}

// readAlarmRules reads and parses an alarm rules file.
func readAlarmRules(path string) (*alarms.Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-alarms: %w", err)
	}
	return alarms.ParseRules(path, b)
}

// startOps starts delivery, the alarm clock and the export; the func it
// returns stops them and waits.
func (a *App) startOps(parent context.Context) func() {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	var wg sync.WaitGroup
	if a.outbox != nil {
		opts := alarms.DefaultDeliverOptions()
		opts.Log = a.log.With("part", "alarms")
		if a.cfg.AlarmRetry > 0 {
			opts.MinBackoff = a.cfg.AlarmRetry
		}
		wg.Go(func() {
			if err := a.outbox.Run(ctx, a.notifiers, opts); err != nil && ctx.Err() == nil {
				a.log.Error("alarm delivery stopped", "err", err)
			}
		})
		wg.Go(func() { a.followTrail(ctx) })
		wg.Go(func() {
			t := time.NewTicker(a.cfg.AlarmTick)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					now := a.now()
					if list, err := a.anomalies(now); err == nil {
						a.alarms.ObserveAnomalies(now, list)
					}
					a.alarms.Tick(now)
				}
			}
		})
	}
	if a.export != nil {
		wg.Go(func() { _ = a.export.Run(ctx) })
	}
	if a.quality != nil {
		wg.Go(func() {
			if err := a.quality.Schedule(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("quality schedule stopped", "err", err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// followTrail shows the alarm engine every record of the store's audit
// trail, written by this node or any other over the same store, so that an
// operator whose calls a load balancer spreads over several nodes is
// counted in full. Records are read as this node appends them (trailWake)
// and at least once a second for the other nodes'. Where it stopped is kept
// in DATA/alarms-audit.cursor, so records written while it was down are
// seen after a restart; on a first start it begins a day back (the longest
// window a rule may have). Every node reads the same records in the same
// order, so nodes that all run the same rules raise alarms with the same
// IDs, which receivers drop as repeats (Idempotency-Key).
func (a *App) followTrail(ctx context.Context) {
	path := filepath.Join(a.cfg.DataDir, "alarms-audit.cursor")
	after, since := uint64(0), time.Time{}
	if b, err := os.ReadFile(path); err == nil {
		after, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			a.log.Error("alarm cursor unreadable: reading the trail from a day back", "file", path, "err", err)
			after = 0
		}
	}
	if after == 0 {
		since = a.now().Add(-alarms.MaxWindow)
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	failing := false
	for {
		for ctx.Err() == nil {
			recs, err := a.audit.ReadAudit(ctx, after, 500)
			var broken *codes.AuditChainError
			if errors.As(err, &broken) && broken.Seq > after {
				// A record that does not decode is for `audit verify` to
				// name; the alarms read on past it.
				a.log.Error("audit record unreadable: alarms skip it", "seq", broken.Seq, "err", err)
				if broken.Seq > after+1 {
					recs, err = a.audit.ReadAudit(ctx, after, int(broken.Seq-after-1))
				} else {
					recs, err = nil, nil
				}
				if err == nil {
					a.observe(recs, since)
					after = broken.Seq
					continue
				}
			}
			if err != nil {
				if !failing && ctx.Err() == nil {
					a.log.Warn("alarms cannot read the audit trail; retrying every second", "err", err)
				}
				failing = true
				break
			}
			failing = false
			if len(recs) == 0 {
				break
			}
			a.observe(recs, since)
			after = recs[len(recs)-1].Seq
			if err := writeFileAtomic(path, strconv.AppendUint(nil, after, 10)); err != nil {
				a.log.Error("alarm cursor not saved", "file", path, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.trailWake:
		case <-poll.C:
		}
	}
}

// observe shows the alarm engine the records at or after since.
func (a *App) observe(recs []codes.AuditRecord, since time.Time) {
	for _, r := range recs {
		if r.At.Before(since) {
			continue
		}
		a.alarms.Observe(alarms.Event{At: r.At, Actor: r.Actor, Action: r.Action, Target: r.Target,
			Outcome: r.Outcome, Client: r.Client, Changed: r.Changed})
	}
}

// ReloadAlarms reads the alarm rules file again. A file with problems
// changes nothing: the rules in force keep running, and the error lists
// every problem with its position. Open alarms of rules that remain stay
// open.
func (a *App) ReloadAlarms() error {
	if a.alarms == nil {
		return errNoAlarms
	}
	rules, err := readAlarmRules(a.cfg.AlarmsFile)
	if err != nil {
		return err
	}
	ns, err := alarms.NewNotifiers(rules.Notifiers, os.Getenv, nil)
	if err != nil {
		return fmt.Errorf("-alarms %s: %w", a.cfg.AlarmsFile, err)
	}
	if !sameNotifiers(a.notifiers, ns) {
		// The outbox's Run holds the notifiers it started with; a
		// different set needs a restart, so refuse rather than half-apply.
		return fmt.Errorf("-alarms %s: the notifiers changed: restart healthcoded to apply them (the rules in force are unchanged)", a.cfg.AlarmsFile)
	}
	a.alarms.Reload(rules)
	a.log.Info("alarm rules reloaded", "file", a.cfg.AlarmsFile, "rules", len(rules.Rules))
	return nil
}

func sameNotifiers(a, b map[string]alarms.Notifier) bool {
	if len(a) != len(b) {
		return false
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			return false
		}
	}
	return true
}

var errNoAlarms = errors.New("healthcoded: no alarm rules (start with -alarms FILE)")

// registerOpsState exports the alarms open, the deliveries waiting and the
// audit records not stored or not yet exported.
func (a *App) registerOpsState() {
	a.auditErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "healthcoded", Name: "audit_errors_total",
		Help: "Admin attempts whose audit record could not be stored (the store was away).",
	})
	a.metrics.Registry.MustRegister(a.auditErrors)
	if a.alarms != nil {
		open := prometheus.NewDesc("healthcoded_alarms_open", "Open alarms by severity (silenced ones included).", []string{"severity"}, nil)
		deliveries := prometheus.NewDesc("healthcoded_alarm_deliveries", "Alarm deliveries in the outbox: pending (retrying), failed (refused for good), delivered.", []string{"state"}, nil)
		a.metrics.Registry.MustRegister(collectorFunc{[]*prometheus.Desc{open, deliveries}, func(ch chan<- prometheus.Metric) {
			n := map[alarms.Severity]int{alarms.Info: 0, alarms.Warning: 0, alarms.Critical: 0}
			for _, al := range a.alarms.Alarms() {
				if al.Resolved.IsZero() {
					n[al.Severity]++
				}
			}
			for sev, c := range n {
				ch <- prometheus.MustNewConstMetric(open, prometheus.GaugeValue, float64(c), string(sev))
			}
			st := a.outbox.Stats()
			for state, c := range map[string]int{"pending": st.Pending, "failed": st.Failed, "delivered": st.Delivered} {
				ch <- prometheus.MustNewConstMetric(deliveries, prometheus.GaugeValue, float64(c), state)
			}
		}})
	}
	if a.export != nil {
		a.metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "healthcoded", Name: "audit_export_lag",
			Help: "Audit records read from the trail and not yet delivered to the syslog collector.",
		}, func() float64 { return float64(a.export.Stats().Lag) }))
	}
}

// collectorFunc is a prometheus.Collector from descriptions and a func.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// handleAlarms lists the open alarms (then the last resolved ones) and the
// deliveries waiting in the outbox.
func (a *App) handleAlarms(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	if a.alarms == nil {
		serve.WriteJSON(w, http.StatusOK, map[string]any{"alarms": []alarms.Alarm{}, "rules": ""})
		return "", "ok"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{
		"rules": a.cfg.AlarmsFile, "alarms": nonNil(a.alarms.Alarms()), "outbox": nonNil(a.outbox.Pending()),
	})
	return "", "ok"
}

// handleAlarmSilence holds an alarm's notifications back until a time,
// with a reason (the alarm stays open and listed).
func (a *App) handleAlarmSilence(w http.ResponseWriter, r *http.Request, p serve.Principal) (string, string) {
	var req struct {
		Cause  string `json:"cause"`
		For    string `json:"for"` // a Go duration: "30m", "2h"
		Reason string `json:"reason"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	noteAudit(r, "", req.Reason)
	if a.alarms == nil {
		serve.WriteError(w, http.StatusNotFound, "no_alarms", errNoAlarms.Error())
		return req.Cause, "no alarms"
	}
	d, err := time.ParseDuration(req.For)
	if err != nil || d < time.Second || d > 30*24*time.Hour {
		badRequest(w, &fieldError{"for", fmt.Errorf("want a duration from 1s to 720h, such as \"2h\", got %q", req.For)})
		return req.Cause, "bad request"
	}
	err = a.alarms.Silence(req.Cause, a.now().Add(d), req.Reason, p.Actor)
	return req.Cause, a.alarmAnswer(w, err)
}

// handleAlarmResolve closes an alarm by hand.
func (a *App) handleAlarmResolve(w http.ResponseWriter, r *http.Request, p serve.Principal) (string, string) {
	var req struct {
		Cause string `json:"cause"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if a.alarms == nil {
		serve.WriteError(w, http.StatusNotFound, "no_alarms", errNoAlarms.Error())
		return req.Cause, "no alarms"
	}
	return req.Cause, a.alarmAnswer(w, a.alarms.Resolve(req.Cause, p.Actor))
}

func (a *App) alarmAnswer(w http.ResponseWriter, err error) string {
	switch {
	case errors.Is(err, alarms.ErrNoReason):
		badRequest(w, &fieldError{"reason", err})
		return "refused: reason"
	case errors.Is(err, alarms.ErrUnknownCause):
		badRequest(w, &fieldError{"cause", err})
		return "refused: cause"
	case err != nil:
		a.internal(w, "alarm", err)
		return "error"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"alarms": nonNil(a.alarms.Alarms())})
	return "ok"
}

// handleAlarmReload reads the alarm rules file again; with problems in it,
// 422 lists them and the rules in force keep running.
func (a *App) handleAlarmReload(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	err := a.ReloadAlarms()
	var re *alarms.RulesError
	switch {
	case errors.As(err, &re):
		serve.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error": "invalid_rules", "message": "alarm rules not reloaded; the rules in force keep running", "problems": re.Problems})
		return a.cfg.AlarmsFile, "refused: invalid rules"
	case errors.Is(err, errNoAlarms):
		serve.WriteError(w, http.StatusNotFound, "no_alarms", err.Error())
		return "", "no alarms"
	case err != nil:
		serve.WriteError(w, http.StatusUnprocessableEntity, "not_reloaded", err.Error())
		return a.cfg.AlarmsFile, "refused"
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"rules": len(a.alarms.Rules().Rules)})
	return a.cfg.AlarmsFile, "ok"
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
