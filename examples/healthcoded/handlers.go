package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

const maxBody = 64 << 10 // every JSON body but bulk uploads

// Routes returns the full handler: public API behind the load shedder,
// admin API behind bearer tokens, and the operational endpoints (never
// shed, so that health checks and scrapes work under overload).
func (a *App) Routes() http.Handler {
	mux := http.NewServeMux()
	m := a.metrics
	allow := map[string][]string{} // path -> methods, for 405 answers
	handle := func(method, path string, h http.Handler) {
		mux.Handle(method+" "+path, h)
		allow[path] = append(allow[path], method)
	}
	public := func(name string, h http.HandlerFunc) http.Handler {
		return m.Route(name, strictRequest(a.shed.Middleware(nil, h)))
	}
	handle("POST", "/v1/code", public("code", a.handleCode))
	handle("POST", "/v1/token/verify", public("token_verify", a.handleVerify))
	handle("POST", "/v1/scans", public("scan", a.handleScan))

	admin := func(name, role string, h adminHandler) http.Handler {
		return m.Route(name, a.guarded(name, role, h, strictRequest))
	}
	handle("POST", "/admin/transcode", admin("transcode", "transcoder", a.handleTranscode))
	handle("GET", "/admin/alarms", admin("alarms", "auditor", a.handleAlarms))
	handle("POST", "/admin/alarms/silence", admin("alarms_silence", "rules-admin", a.handleAlarmSilence))
	handle("POST", "/admin/alarms/resolve", admin("alarms_resolve", "rules-admin", a.handleAlarmResolve))
	handle("POST", "/admin/alarms/reload", admin("alarms_reload", "rules-admin", a.handleAlarmReload))
	handle("POST", "/admin/quality/run", admin("quality_run", "rules-admin", a.handleQualityRun))
	handle("POST", "/admin/quality/stop", admin("quality_stop", "rules-admin", a.handleQualityStop))
	handle("GET", "/admin/quality/runs", admin("quality_runs", "auditor", a.handleQualityRuns))
	handle("GET", "/admin/quality/runs/{id}", admin("quality_get", "auditor", a.handleQualityGet))
	handle("GET", "/admin/quality/runs/{id}/{format}", admin("quality_get", "auditor", a.handleQualityGet))
	handle("POST", "/admin/quality/records", admin("quality_records", "auditor", a.handleQualityRecords))
	handle("POST", "/admin/quality/stats", admin("quality_stats", "auditor", a.handleQualityStats))
	handle("POST", "/admin/history", admin("history", "auditor", a.handleHistory))
	handle("GET", "/admin/rules", admin("rules", "auditor", a.handleRules))
	handle("POST", "/admin/rules", admin("rules_upload", "rules-admin", a.handleRulesUpload))
	handle("POST", "/admin/rules/activate", admin("rules_activate", "rules-admin", a.handleRulesActivate))
	handle("POST", "/admin/rules/rollback", admin("rules_rollback", "rules-admin", a.handleRulesRollback))
	handle("PUT", "/admin/risk-areas", admin("risk_areas", "rules-admin", a.handleRiskAreas))
	handle("POST", "/admin/evaluate", admin("evaluate", "rules-admin", a.handleEvaluate))
	handle("GET", "/admin/stats", admin("stats", "auditor", a.handleStats))

	handle("GET", "/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	handle("GET", "/readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.ready.Load() {
			serve.WriteError(w, http.StatusServiceUnavailable, "not_ready", "healthcoded: starting or shutting down")
			return
		}
		serve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}))
	handle("GET", "/metrics", m.Handler())
	if err := a.mountConsole(mux); err != nil {
		panic(err) // the console's templates are embedded: only a bug fails here
	}

	// A known path with another method is 405 with Allow, an unknown path
	// 404, both as JSON like every other error (the mux's own are text).
	for path, methods := range allow {
		if slices.Contains(methods, "GET") {
			methods = append(methods, "HEAD")
		}
		slices.Sort(methods)
		list := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", list)
			serve.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				fmt.Sprintf("healthcoded: %s %s: want %s", r.Method, path, list))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteError(w, http.StatusNotFound, "not_found", "healthcoded: no endpoint "+r.URL.Path+" (see README.md)")
	})
	return mux
}

// strictRequest refuses, before any work, a request the handlers would
// misread: a query string (identities travel in bodies, never in URLs, and
// no endpoint takes parameters) or a body that is not UTF-8 JSON, NDJSON
// or YAML (415).
func strictRequest(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				// The message names neither the query nor its values: they
				// may hold an identity.
				serve.WriteError(w, http.StatusBadRequest, "bad_request", "healthcoded: malformed query string; this endpoint takes no query parameters")
				return
			}
			names := slices.Sorted(maps.Keys(q))
			serve.WriteJSON(w, http.StatusBadRequest, serve.ErrorBody{Error: "bad_request",
				Message: fmt.Sprintf("healthcoded: query parameter %q: this endpoint takes none (identities go in the JSON body)", names[0]),
				Details: map[string]any{"parameter": names[0]}})
			return
		}
		if err := serve.CheckContentType(r.Header); err != nil {
			serve.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// who is how a request names a person: a document number (with an
// optional type when it cannot be guessed), else a mobile number. Both
// travel in the body, never in the URL, so they stay out of access logs.
type who struct {
	ID      string `json:"id,omitempty"`
	DocType string `json:"doc_type,omitempty"` // "passport", "hk_macao_travel_permit", ...; empty: guess
	Phone   string `json:"phone,omitempty"`
}

// docKinds are the doc_type names the API accepts.
var docKinds = map[string]codes.Kind{
	"resident_id": codes.KindResidentID, "hk_permit": codes.KindHKPermit,
	"macao_permit": codes.KindMacaoPermit, "taiwan_permit": codes.KindTaiwanPermit,
	"foreign_pr": codes.KindForeignPR, "passport": codes.KindPassport,
	"hk_macao_travel_permit": codes.KindHKMacaoTravelPermit,
	"taiwan_travel_permit":   codes.KindTaiwanTravelPermit,
	"home_return_permit":     codes.KindHomeReturnPermit,
}

// fieldError is a bad request naming the field.
type fieldError struct {
	Field string
	Err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *fieldError) Unwrap() error { return e.Err }

var errNoIdentity = errors.New("give id (a document number) or phone")

// key resolves a person to its store key: by document when one is given,
// else by phone (tender 2.1.4). region is the document's GB/T 2260 region,
// if it has one, and masked its loggable form.
func (a *App) key(p who) (key codes.Key, region, masked string, err error) {
	key, _, region, masked, err = a.keySource(p, true)
	return key, region, masked, err
}

// keySource is key with the source the key was derived from; region and
// masked are left empty unless labels is set (the lookup path has no use
// for them, and building them costs allocations on every request).
func (a *App) keySource(p who, labels bool) (key codes.Key, src codes.Source, region, masked string, err error) {
	var doc codes.Identity
	var phone codes.Phone
	if p.ID != "" {
		if p.DocType != "" {
			kind, ok := docKinds[p.DocType]
			if !ok {
				return key, 0, "", "", &fieldError{"doc_type", fmt.Errorf("unknown document type %q", p.DocType)}
			}
			doc, err = codes.ParseDocument(kind, p.ID)
		} else {
			doc, err = codes.Parse(p.ID)
		}
		if err != nil {
			return key, 0, "", "", &fieldError{"id", err}
		}
		if labels {
			if r, ok := doc.(codes.ResidentID); ok {
				region = r.Region()
			}
			masked = doc.Masked()
		}
	}
	if p.Phone != "" {
		if phone, err = codes.ParsePhone(p.Phone); err != nil {
			return key, 0, "", "", &fieldError{"phone", err}
		}
		if labels && masked == "" {
			masked = phone.Masked()
		}
	}
	if doc == nil && phone.IsZero() {
		return key, 0, "", "", &fieldError{"id", errNoIdentity}
	}
	key, src, err = a.keyer.Record(doc, phone)
	return key, src, region, masked, err
}

// badRequest answers 400 (413 for a body over its limit) with the most
// precise position the error has.
func badRequest(w http.ResponseWriter, err error) {
	status, body := http.StatusBadRequest, serve.ErrorBody{Error: "bad_request", Message: err.Error()}
	if errors.Is(err, serve.ErrBodyTooLarge) {
		status, body.Error = http.StatusRequestEntityTooLarge, "too_large"
	}
	var be *serve.BodyError
	var fe *fieldError
	var ie *codes.IDError
	switch {
	case errors.As(err, &be):
		body.Details = map[string]any{"line": be.Line, "column": be.Column, "field": be.Field}
	case errors.As(err, &ie):
		d := map[string]any{"kind": ie.Kind.String(), "input": ie.Input}
		if errors.As(err, &fe) {
			d["field"] = fe.Field
		}
		if ie.Pos > 0 {
			d["position"] = ie.Pos
		}
		if ie.Want != "" {
			d["want"] = ie.Want
		}
		body.Details = d
	case errors.As(err, &fe):
		body.Details = map[string]any{"field": fe.Field}
	}
	serve.WriteJSON(w, status, body)
}

type provenanceJSON struct {
	Source        string     `json:"source"` // "document" or "phone"
	Key           string     `json:"key"`    // pseudonym
	Colour        string     `json:"colour"`
	Reason        string     `json:"reason,omitempty"`
	RuleID        string     `json:"rule_id,omitempty"`
	RuleVersion   string     `json:"rule_version,omitempty"`
	Actor         string     `json:"actor,omitempty"`
	Authorisation string     `json:"authorisation,omitempty"`
	Since         *time.Time `json:"since,omitempty"` // pointers: omitzero would box each time.Time
	Expires       *time.Time `json:"expires,omitempty"`
}

// provenance is p as JSON; its times point into p, which must outlive it.
func provenance(p *codes.Provenance, now time.Time) provenanceJSON {
	j := provenanceJSON{
		Source: p.Source.String(), Key: p.Key.String(), Colour: p.State.ColourAt(now).String(),
		Reason: p.State.Reason, RuleID: p.State.Cause.RuleID, RuleVersion: p.State.Cause.RuleVersion,
		Actor: p.State.Cause.Actor, Authorisation: p.State.Cause.Authorisation,
	}
	if !p.State.Since.IsZero() {
		j.Since = &p.State.Since
	}
	if !p.State.Expires.IsZero() {
		j.Expires = &p.State.Expires
	}
	return j
}

type codeRequest struct {
	who
	Name string `json:"name,omitempty"` // shown masked on the token
}

type codeResponse struct {
	Colour  string           `json:"colour"`
	Sources []provenanceJSON `json:"sources"`
	Token   string           `json:"token"`
}

// handleCode looks up a person's displayed code: the most severe of the
// states keyed by their document and by the phones they own, with every
// provenance, and an offline token a scanner verifies without network.
func (a *App) handleCode(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return
	}
	key, src, _, _, err := a.keySource(req.who, false)
	if err != nil {
		badRequest(w, err)
		return
	}
	now := a.now()
	ans, _ := a.answers.Get().(*codeAnswer)
	if ans == nil {
		ans = new(codeAnswer)
	}
	defer a.answers.Put(ans)
	defer ans.reset()
	d := &ans.display
	if err := a.reg.DisplayTo(r.Context(), d, key, src, now); err != nil {
		a.internal(w, "display", err)
		return
	}
	tok, _, err := a.tokens.Token(key, d.Colour, codes.MaskName(req.Name), now)
	if err != nil {
		a.internal(w, "token", err)
		return
	}
	resp := &ans.resp
	resp.Colour, resp.Token = d.Colour.String(), tok
	for i := range d.Sources {
		resp.Sources = append(resp.Sources, provenance(&d.Sources[i], now))
	}
	serve.WriteJSON(w, http.StatusOK, resp)
}

// codeAnswer is what a lookup builds, recycled through App.answers: the
// display the registry fills and the JSON answer made from it.
type codeAnswer struct {
	display codes.Display
	resp    codeResponse
}

// reset drops every reference the answer holds, keeping the arrays.
func (c *codeAnswer) reset() {
	clear(c.display.Sources)
	clear(c.resp.Sources)
	c.display = codes.Display{Sources: c.display.Sources[:0]}
	c.resp = codeResponse{Sources: c.resp.Sources[:0]}
}

// handleVerify checks an offline token as a scanner would.
func (a *App) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return
	}
	c, err := a.verify.Verify(req.Token, a.now())
	if err != nil {
		serve.WriteJSON(w, http.StatusOK, map[string]any{"valid": false, "error": err.Error()})
		return
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{
		"valid": true, "colour": c.Colour.String(), "name": c.Name,
		"issued": c.Issued, "expires": c.Expires, "key_id": c.KeyID,
	})
}

// handleScan records a venue scan under the person's pseudonym.
func (a *App) handleScan(w http.ResponseWriter, r *http.Request) {
	var req struct {
		who
		Venue string    `json:"venue"`
		Time  time.Time `json:"time,omitzero"` // default: now
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return
	}
	if req.Venue == "" || len(req.Venue) > 64 {
		badRequest(w, &fieldError{"venue", errors.New("want a venue code of 1 to 64 characters")})
		return
	}
	now := a.now()
	if err := checkTime(req.Time, now); !req.Time.IsZero() && err != nil {
		badRequest(w, &fieldError{"time", err})
		return
	}
	key, _, _, err := a.key(req.who)
	if err != nil {
		badRequest(w, err)
		return
	}
	t := req.Time
	if t.IsZero() {
		t = now
	}
	if err := a.scans.Append(t, req.Venue, key); err != nil {
		a.internal(w, "scan", err)
		return
	}
	serve.WriteJSON(w, http.StatusCreated, map[string]any{"recorded": true, "time": t.Unix()})
}

// Times a client sends (a scan's, a test's) lie between minTime and a day
// after the server's now: year 0, the epoch or a far-future date is a
// client's bug, and would land in the scan log and the statistics as is.
var minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAhead = 24 * time.Hour

// checkTime says why t is out of range at now.
func checkTime(t, now time.Time) error {
	if t.Before(minTime) || t.After(now.Add(maxAhead)) {
		return fmt.Errorf("%s is out of range: want a time from %s to a day after the server's now (%s)",
			t.Format(time.RFC3339), minTime.Format(time.DateOnly), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// internal logs an unexpected failure (never with personal data: errors
// from the SDK mask identities) and answers 500.
func (a *App) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, codes.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		// The database is away or too slow: say so at once and when to
		// come back, rather than hold the client (and a slot) for longer.
		a.log.Warn("store unavailable", "op", what, "err", err)
		a.storeErrors.WithLabelValues(what).Inc()
		w.Header().Set("Retry-After", "1")
		serve.WriteError(w, http.StatusServiceUnavailable, "store_unavailable", "healthcoded: "+what+": the code store is unavailable, retry shortly")
		return
	}
	a.log.Error("request failed", "op", what, "err", err)
	serve.WriteError(w, http.StatusInternalServerError, "internal", "healthcoded: "+what+" failed")
}
