// Package quality runs data-quality checks as tasks (tender 2.2.3,
// Sichuan's coding-data check, and the row checks of the automated import,
// 2.2.2): quality-check rules as data (ParseRules), runs of a rule over one
// day's source, coded and issued CSV files that can be started, stopped and
// re-run (Runner), each run kept whole with its log, figures and masked
// samples in a bbolt file (Store), statistics over rules and days
// (Store.Stats), and reports (Run.Document, PeriodDocument) that
// examples/internal/report renders to xlsx and PDF.
//
// dedupe computes the answers (Reconcile, Validate, Mask); this package
// streams the files through it, honours a Stop between rows, and keeps the
// history. It belongs to the reference servers (examples/): the dedupe CLI
// and healthcoded's admin API bind it; a run that is not OK becomes an
// alarm through RunnerConfig.OnFinish.
//
// # Usage
//
//	rules, err := quality.ParseRules("quality.yaml", data)
//	store, err := quality.OpenStore("quality.db")
//	r, err := quality.NewRunner(quality.RunnerConfig{Rules: rules, Store: store, Base: "/srv/exports"})
//	run, err := r.RunNow(ctx, "sichuan-coding-daily", "2022-06-14")
//	doc := run.Document() // render with examples/internal/report
//	go r.Schedule(ctx)    // daily runs, for the day before
//
// # Concurrency
//
// Runner and Store are safe for concurrent use; Rules, Run and the other
// values are plain values. One rule runs once per day at a time
// (ErrRunning); different rules and days run in parallel. A Store file is
// locked against a second process.
package quality
