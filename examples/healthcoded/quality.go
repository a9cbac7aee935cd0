package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
	"github.com/healthcode-sdk/healthcode/examples/quality"
)

// Data-quality checks as tasks (examples/quality, tender 2.2.3) behind the
// admin API: started, stopped and re-run by hand or on their schedule,
// kept in DATA/quality-runs.db, and an alarm (kind quality_problems) for a
// run that finds problems.

// openQuality loads the quality rules the Config names and opens the runs
// store. A rules file with problems refuses the start, each problem at its
// line:column.
func (a *App) openQuality() error {
	if a.cfg.QualityFile == "" {
		return nil
	}
	b, err := os.ReadFile(a.cfg.QualityFile)
	if err != nil {
		return fmt.Errorf("-quality: %w", err)
	}
	rules, err := quality.ParseRules(a.cfg.QualityFile, b)
	if err != nil {
		return err
	}
	base := a.cfg.QualityBase
	if base == "" {
		base = filepath.Dir(a.cfg.QualityFile)
	}
	if a.qstore, err = quality.OpenStore(filepath.Join(a.cfg.DataDir, "quality-runs.db")); err != nil {
		return fmt.Errorf("quality runs: %w", err)
	}
	a.quality, err = quality.NewRunner(quality.RunnerConfig{
		Rules: rules, Store: a.qstore, Base: base, Now: a.now, Log: a.log.With("part", "quality"),
		OnFinish: a.qualityFinished,
	})
	return err
}

// qualityFinished raises the alarm of a run that ended having found
// problems.
func (a *App) qualityFinished(r quality.Run) {
	a.log.Info("quality run ended", "run", r.ID, "rule", r.Rule, "day", r.Day, "state", r.State, "ok", r.OK())
	if a.alarms == nil || r.State != quality.Done || r.OK() {
		return
	}
	t := r.Total
	a.alarms.ObserveQuality(r.Ended, r.Rule, r.Day, t.Missing+t.Extra+t.Duplicated+t.Invalid+t.Mismatched)
}

// qualityAnswer maps the runner's errors to statuses.
func (a *App) qualityAnswer(w http.ResponseWriter, err error) string {
	switch {
	case errors.Is(err, quality.ErrUnknownRule), errors.Is(err, quality.ErrNotFound), errors.Is(err, quality.ErrUnknownCheck):
		serve.WriteError(w, http.StatusNotFound, "not_found", err.Error())
		return "refused: not found"
	case errors.Is(err, quality.ErrRunning):
		serve.WriteError(w, http.StatusConflict, "running", err.Error())
		return "refused: running"
	case errors.Is(err, quality.ErrOutsideValidity), errors.Is(err, quality.ErrBadDay):
		badRequest(w, &fieldError{"day", err})
		return "bad request"
	}
	a.internal(w, "quality", err)
	return "error"
}

// noQuality answers 404 when no -quality file was given.
func (a *App) noQuality(w http.ResponseWriter) bool {
	if a.quality != nil {
		return false
	}
	serve.WriteError(w, http.StatusNotFound, "no_quality", "healthcoded: no quality-check rules (start with -quality FILE)")
	return true
}

// handleQualityRun starts a rule's run over a day: 202 with the run, which
// goes on in the background.
func (a *App) handleQualityRun(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		Rule string `json:"rule"`
		Day  string `json:"day"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if a.noQuality(w) {
		return req.Rule, "no quality rules"
	}
	run, err := a.quality.Start(r.Context(), req.Rule, req.Day)
	if err != nil {
		return req.Rule, a.qualityAnswer(w, err)
	}
	serve.WriteJSON(w, http.StatusAccepted, run)
	return run.ID, "started " + run.Rule + " " + run.Day
}

// handleQualityStop stops a running run; it ends marked stopped.
func (a *App) handleQualityStop(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		ID string `json:"id"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if a.noQuality(w) {
		return req.ID, "no quality rules"
	}
	if err := a.quality.Stop(req.ID); err != nil {
		return req.ID, a.qualityAnswer(w, err)
	}
	run, err := a.quality.Wait(r.Context(), req.ID)
	if err != nil {
		return req.ID, a.qualityAnswer(w, err)
	}
	serve.WriteJSON(w, http.StatusOK, run)
	return req.ID, "stopped"
}

// handleQualityRuns lists the last 100 runs, newest first.
func (a *App) handleQualityRuns(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	if a.noQuality(w) {
		return "", "no quality rules"
	}
	runs, err := a.qstore.Runs("", 100)
	if err != nil {
		return "", a.qualityAnswer(w, err)
	}
	if runs == nil {
		runs = []quality.Run{}
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"runs": runs})
	return "", "ok"
}

// handleQualityRun returns one run (a running one with its log so far), or
// its report as xlsx or PDF.
func (a *App) handleQualityGet(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	if a.noQuality(w) {
		return "", "no quality rules"
	}
	id, format := r.PathValue("id"), r.PathValue("format")
	run, err := a.quality.Get(id)
	if err != nil {
		return id, a.qualityAnswer(w, err)
	}
	switch format {
	case "":
		serve.WriteJSON(w, http.StatusOK, run)
		return id, "ok"
	case "report.xlsx", "report.pdf":
		return id, a.writeDocument(w, r.Context(), run.ID+"-"+format, run.Document())
	}
	serve.WriteError(w, http.StatusNotFound, "not_found", "healthcoded: want report.xlsx or report.pdf")
	return id, "refused: not found"
}

// writeDocument renders d as the file name asks (.xlsx or .pdf), as an
// attachment.
func (a *App) writeDocument(w http.ResponseWriter, ctx context.Context, name string, d report.Document) string {
	var buf bytesBuffer
	var err error
	ctype := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if filepath.Ext(name) == ".pdf" {
		ctype = "application/pdf"
		err = report.WritePDF(ctx, &buf, d, report.PDFOptions{})
	} else {
		err = report.WriteXLSX(&buf, d)
	}
	if err != nil {
		a.internal(w, "report", err)
		return "error"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.b)
	return "ok"
}

// bytesBuffer is an io.Writer into memory (a report is a few hundred KB).
type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }

// handleQualityRecords lists the records behind a check's figure, masked:
// the drill-down from a figure to its records.
func (a *App) handleQualityRecords(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		ID    string `json:"id"`
		Check string `json:"check"`
		Limit int    `json:"limit"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if req.Limit < 0 || req.Limit > 100_000 {
		badRequest(w, &fieldError{"limit", fmt.Errorf("%d: want 0 (all, at most 100000) to 100000", req.Limit)})
		return req.ID, "bad request"
	}
	if a.noQuality(w) {
		return req.ID, "no quality rules"
	}
	if req.Limit == 0 {
		req.Limit = 100_000
	}
	recs, err := a.quality.Records(r.Context(), req.ID, req.Check, req.Limit)
	if err != nil {
		return req.ID, a.qualityAnswer(w, err)
	}
	serve.WriteJSON(w, http.StatusOK, map[string]any{"records": nonNil(recs)})
	return req.ID, "ok"
}

// handleQualityStats sums the runs by rule and day over a period; with
// "format": "xlsx" or "pdf", as a document.
func (a *App) handleQualityStats(w http.ResponseWriter, r *http.Request, _ serve.Principal) (string, string) {
	var req struct {
		From   string `json:"from"`
		To     string `json:"to"`
		Format string `json:"format,omitempty"`
	}
	if err := serve.DecodeJSON(r.Body, maxBody, &req); err != nil {
		badRequest(w, err)
		return "", "bad request"
	}
	if a.noQuality(w) {
		return "", "no quality rules"
	}
	stats, err := a.qstore.Stats(req.From, req.To)
	if err != nil {
		badRequest(w, &fieldError{"from", err})
		return "", "bad request"
	}
	switch req.Format {
	case "":
		serve.WriteJSON(w, http.StatusOK, map[string]any{"stats": nonNil(stats)})
		return "", "ok"
	case "xlsx", "pdf":
		return "", a.writeDocument(w, r.Context(), "quality-"+req.From+"-"+req.To+"."+req.Format, quality.PeriodDocument(stats))
	}
	badRequest(w, &fieldError{"format", fmt.Errorf("%q: want xlsx, pdf or none (JSON)", req.Format)})
	return "", "bad request"
}
