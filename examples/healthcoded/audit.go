package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/alarms"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

// auditNote is what an admin handler adds to the audit record of its call
// beyond its target and outcome: the authorisation and reason it was given,
// and how many persons' codes it changed.
type auditNote struct {
	target, outcome       string
	authorisation, reason string
	changed               int
}

type auditNoteKey struct{}

// noteAudit records on the audit record of r the authorisation and reason
// the caller gave.
func noteAudit(r *http.Request, authorisation, reason string) {
	if n, ok := r.Context().Value(auditNoteKey{}).(*auditNote); ok {
		n.authorisation, n.reason = authorisation, reason
	}
}

// noteChanged records on the audit record of r how many persons' codes the
// call changed (a bulk run: many), which the off-hours alarm sums.
func noteChanged(r *http.Request, n int) {
	if note, ok := r.Context().Value(auditNoteKey{}).(*auditNote); ok {
		note.changed = n
	}
}

// guarded wraps an admin handler: it authenticates the bearer token,
// checks the role, runs h, and records the attempt, whatever its outcome
// (refusals too: a burst of them is what abuse leaves behind), in the
// store's audit trail, the alarm engine and the syslog export.
func (a *App) guarded(action, role string, h adminHandler, wrap func(http.Handler) http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: role, Action: action, Client: clientHost(r)}
		p, err := a.admins.Authenticate(r)
		if err != nil {
			rec.Outcome = "unauthenticated"
			a.record(r.Context(), rec, rec.Outcome, 0)
			w.Header().Set("WWW-Authenticate", `Bearer realm="healthcode-admin"`)
			serve.WriteError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
			return
		}
		rec.Actor = p.Actor
		if !p.Has(role) {
			rec.Outcome = "forbidden"
			a.record(r.Context(), rec, rec.Outcome, 0)
			serve.WriteError(w, http.StatusForbidden, "forbidden", "serve: "+p.Actor+" lacks role "+strconv.Quote(role))
			return
		}
		note := &auditNote{}
		r = r.WithContext(context.WithValue(r.Context(), auditNoteKey{}, note))
		sw := &statusRecorder{ResponseWriter: w}
		wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			note.target, note.outcome = h(w, r, p)
		})).ServeHTTP(sw, r)
		rec.Target, rec.Outcome = note.target, note.outcome
		rec.Authorisation, rec.Reason = note.authorisation, note.reason
		if rec.Outcome == "" { // refused before the handler ran
			rec.Outcome = "invalid (" + strconv.Itoa(sw.status()) + ")"
		}
		// The alarm rules read "ok" for a call that was answered 2xx and
		// the handler's words for one that was not.
		outcome := rec.Outcome
		if sw.status() < 400 && outcome != "error" {
			outcome = "ok"
		}
		a.record(r.Context(), rec, outcome, note.changed)
	})
}

// record appends rec to the audit trail and shows it to the alarm engine.
// The append outlives a client that hung up: the attempt was made.
func (a *App) record(ctx context.Context, rec codes.AuditRecord, outcome string, changed int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.StoreTimeout+time.Second)
	defer cancel()
	stored, err := a.audit.AppendAudit(ctx, []codes.AuditRecord{rec})
	if err != nil {
		// The code history still names the actor of any change; this
		// counts and logs the record lost, with no personal data in it.
		a.auditErrors.Inc()
		a.log.Error("audit record not stored", "action", rec.Action, "actor", rec.Actor, "outcome", rec.Outcome, "err", err)
	} else {
		a.log.Info("audit", "seq", stored[0].Seq, "actor", rec.Actor, "action", rec.Action, "target", rec.Target, "outcome", rec.Outcome)
		if a.export != nil {
			a.export.Notify()
		}
	}
	if a.alarms != nil {
		a.alarms.Observe(alarms.Event{At: rec.At, Actor: rec.Actor, Action: rec.Action, Target: rec.Target,
			Outcome: outcome, Client: rec.Client, Changed: changed})
	}
}

// clientHost is the request's peer address without its port.
func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
