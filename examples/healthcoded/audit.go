package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
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
			a.record(r.Context(), rec)
			w.Header().Set("WWW-Authenticate", `Bearer realm="healthcode-admin"`)
			serve.WriteError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
			return
		}
		rec.Actor = p.Actor
		if !p.Has(role) {
			rec.Outcome = "forbidden"
			a.record(r.Context(), rec)
			serve.WriteError(w, http.StatusForbidden, "forbidden", "serve: "+p.Actor+" lacks role "+strconv.Quote(role))
			return
		}
		note := &auditNote{}
		r = r.WithContext(context.WithValue(r.Context(), auditNoteKey{}, note))
		sw := &statusRecorder{ResponseWriter: w}
		wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			note.target, note.outcome = h(w, r, p)
		})).ServeHTTP(sw, r)
		rec.Target, rec.Detail, rec.Changed = note.target, note.outcome, note.changed
		rec.Authorisation, rec.Reason = note.authorisation, note.reason
		rec.Outcome = outcomeOf(sw.status(), note.outcome)
		if rec.Detail == "" { // refused before the handler ran
			rec.Detail = "status " + strconv.Itoa(sw.status())
		}
		a.record(r.Context(), rec)
	})
}

// record appends rec to the audit trail, and wakes the alarm engine's
// reader of the trail and the syslog export. The append outlives a client
// that hung up: the attempt was made.
func (a *App) record(ctx context.Context, rec codes.AuditRecord) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.StoreTimeout+time.Second)
	defer cancel()
	stored, err := a.audit.AppendAudit(ctx, []codes.AuditRecord{rec})
	if err != nil {
		// The code history still names the actor of any change; this
		// counts and logs the record lost, with no personal data in it.
		a.auditErrors.Inc()
		a.log.Error("audit record not stored", "action", rec.Action, "actor", rec.Actor, "outcome", rec.Outcome, "err", err)
		return
	}
	a.log.Info("audit", "seq", stored[0].Seq, "actor", rec.Actor, "action", rec.Action, "target", rec.Target, "outcome", rec.Outcome)
	if a.export != nil {
		a.export.Notify()
	}
	select {
	case a.trailWake <- struct{}{}:
	default:
	}
}

// outcomeOf is the audit record's outcome, in the words alarm rules read,
// from the status the call was answered with; detail is the handler's own
// account, which may tell of a failure behind a 200 (a bulk run's
// streamed answer).
func outcomeOf(status int, detail string) string {
	switch {
	case detail == "error" || status >= 500:
		return "error"
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized:
		return "unauthenticated"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusUnprocessableEntity || status == http.StatusConflict || status == http.StatusNotFound:
		return "refused"
	}
	return "invalid"
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
