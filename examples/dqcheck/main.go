// Command dqcheck runs data-quality checks as tasks (tender 2.2.3): the
// rules of a quality-check file (examples/quality) over a day's source,
// coded and issued datasets, each run kept with its log, figures and
// masked samples in a store file, and its report filed as xlsx or PDF.
//
//	dqcheck run -rules quality.yaml -base DIR -store runs.db -rule NAME -day 2022-06-14 -o report.pdf
//	dqcheck runs -store runs.db
//	dqcheck report -store runs.db -run run-3 -o report.xlsx
//	dqcheck records -rules quality.yaml -base DIR -store runs.db -run run-3 -check "validate coded"
//	dqcheck stats -store runs.db -from 2022-06-01 -to 2022-06-30 -o june.xlsx
//
// Exit status: 0 the run is done and found nothing wrong (or the command
// did what it was asked); 3 the run is done and found problems; 1 the run
// failed or was stopped (Ctrl-C stops it and keeps it, marked stopped), or
// the command could not do its work; 2 a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/report"
	"github.com/healthcode-sdk/healthcode/examples/quality"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitProblems = 3
)

// errProblems is returned by run when a run is done and found problems.
var errProblems = errors.New("the run found problems")

// usageError is a bad command line.
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "dqcheck:", err)
		return exitUsage
	case errors.Is(err, errProblems):
		return exitProblems
	}
	fmt.Fprintln(stderr, "dqcheck:", err)
	return exitFailed
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("want a command: run, runs, report, records or stats")}
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("dqcheck "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		rulesFile = fs.String("rules", "", "quality-check rules (YAML; examples/quality/README.md)")
		base      = fs.String("base", "", "directory the rules' dataset paths are relative to (default: the rules file's)")
		storeFile = fs.String("store", "dqcheck-runs.db", "file the runs are kept in")
		ruleName  = fs.String("rule", "", "the rule to run")
		day       = fs.String("day", "", "the day to check, YYYY-MM-DD")
		runID     = fs.String("run", "", "a run's id (run-3)")
		check     = fs.String("check", "", `a check of the run, by name ("validate coded")`)
		out       = fs.String("o", "", "write the report here: .xlsx or .pdf")
		limit     = fs.Int("n", 20, "at most this many (0: all)")
		from      = fs.String("from", "", "first day of the period, YYYY-MM-DD")
		to        = fs.String("to", "", "last day of the period, YYYY-MM-DD")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0))}
	}
	need := func(names ...string) error {
		vals := map[string]string{"rules": *rulesFile, "rule": *ruleName, "day": *day, "run": *runID, "check": *check, "o": *out, "from": *from, "to": *to}
		for _, n := range names {
			if vals[n] == "" {
				return usageError{fmt.Errorf("%s: -%s is required", cmd, n)}
			}
		}
		return nil
	}
	if *out != "" {
		if _, err := formatOf(*out); err != nil {
			return usageError{fmt.Errorf("%s: -o: %w", cmd, err)}
		}
	}
	if *limit < 0 {
		return usageError{fmt.Errorf("%s: -n %d: want 0 (all) or more", cmd, *limit)}
	}
	switch cmd {
	case "run":
		if err := need("rules", "rule", "day"); err != nil {
			return err
		}
		return runTask(ctx, *rulesFile, *base, *storeFile, *ruleName, *day, *out, stdout)
	case "runs":
		return listRuns(*storeFile, *ruleName, *limit, stdout)
	case "report":
		if err := need("run", "o"); err != nil {
			return err
		}
		st, err := openStore(*storeFile)
		if err != nil {
			return err
		}
		defer st.Close()
		r, err := st.Get(*runID)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return writeReport(ctx, *out, r.Document())
	case "records":
		if err := need("rules", "run", "check"); err != nil {
			return err
		}
		return records(ctx, *rulesFile, *base, *storeFile, *runID, *check, *limit, stdout)
	case "stats":
		if err := need("from", "to"); err != nil {
			return err
		}
		st, err := openStore(*storeFile)
		if err != nil {
			return err
		}
		defer st.Close()
		stats, err := st.Stats(*from, *to)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if *out == "" {
			return printStats(stats, stdout)
		}
		return writeReport(ctx, *out, quality.PeriodDocument(stats))
	}
	return usageError{fmt.Errorf("unknown command %q: want run, runs, report, records or stats", cmd)}
}

// openStore opens the runs file; it must exist unless a run creates it.
func openStore(path string) (*quality.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("-store: %w", err)
	}
	return quality.OpenStore(path)
}

// newRunner loads the rules and opens (or creates) the store.
func newRunner(rulesFile, base, storeFile string) (*quality.Runner, *quality.Store, error) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		return nil, nil, fmt.Errorf("-rules: %w", err)
	}
	rules, err := quality.ParseRules(rulesFile, b)
	if err != nil {
		return nil, nil, err
	}
	if base == "" {
		base = filepath.Dir(rulesFile)
	}
	st, err := quality.OpenStore(storeFile)
	if err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	r, err := quality.NewRunner(quality.RunnerConfig{Rules: rules, Store: st, Base: base})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return r, st, nil
}

// runTask runs one rule over one day, in the foreground: Ctrl-C stops it.
func runTask(ctx context.Context, rulesFile, base, storeFile, rule, day, out string, stdout io.Writer) error {
	r, st, err := newRunner(rulesFile, base, storeFile)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := r.RunNow(ctx, rule, day)
	if err != nil && res.ID == "" {
		return fmt.Errorf("run: %w", err)
	}
	printRun(res, stdout)
	if out != "" && res.State != quality.Running {
		// A report is written for every run that ended, stopped and
		// failed ones too: what was found before the end is on record.
		if err := writeReport(context.WithoutCancel(ctx), out, res.Document()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s\n", out)
	}
	switch {
	case res.State == quality.Done && res.OK():
		return nil
	case res.State == quality.Done:
		return errProblems
	}
	return fmt.Errorf("run %s %s: %s", res.ID, res.State, res.Reason)
}

// printRun prints a run's figures, check by check.
func printRun(r quality.Run, w io.Writer) {
	fmt.Fprintf(w, "%s %s %s: %s", r.ID, r.Rule, r.Day, r.State)
	if r.Reason != "" {
		fmt.Fprintf(w, " (%s)", r.Reason)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "check\trows\tmissing\textra\tduplicated\tinvalid\tmismatched\t")
	for _, c := range r.Checks {
		f := c.Figures
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.Name, f.Rows, f.Missing, f.Extra, f.Duplicated, f.Invalid, f.Mismatched)
	}
	f := r.Total
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t\n", f.Rows, f.Missing, f.Extra, f.Duplicated, f.Invalid, f.Mismatched)
	tw.Flush()
}

// listRuns prints the runs, newest first.
func listRuns(storeFile, rule string, limit int, w io.Writer) error {
	st, err := openStore(storeFile)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(rule, limit)
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "run\trule\tday\tstate\tstarted\tproblems\treason")
	for _, r := range runs {
		t := r.Total
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Rule, r.Day, r.State, r.Started.Format(time.DateTime),
			t.Missing+t.Extra+t.Duplicated+t.Invalid+t.Mismatched, r.Reason)
	}
	return tw.Flush()
}

// records prints every record behind a check's figure (masked), the
// drill-down from a figure to its records.
func records(ctx context.Context, rulesFile, base, storeFile, runID, check string, limit int, w io.Writer) error {
	r, st, err := newRunner(rulesFile, base, storeFile)
	if err != nil {
		return err
	}
	defer st.Close()
	samples, err := r.Records(ctx, runID, check, limit)
	if err != nil {
		return fmt.Errorf("records: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "dataset\tline\tkey\tfield\tproblem\tvalue")
	for _, s := range samples {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.Dataset, s.Line, s.Key, s.Field, s.Problem, s.Value)
	}
	return tw.Flush()
}

func printStats(stats []quality.DayStat, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tday\truns\tdone\tstopped\tfailed\tmissing\textra\tduplicated\tinvalid\tmismatched")
	for _, s := range stats {
		f := s.Figures
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Rule, s.Day, s.Runs, s.Done, s.Stopped, s.Failed,
			f.Missing, f.Extra, f.Duplicated, f.Invalid, f.Mismatched)
	}
	return tw.Flush()
}

// formatOf is the report format a file name asks for.
func formatOf(name string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".xlsx", ".pdf":
		return ext[1:], nil
	}
	return "", fmt.Errorf("%q: want a name ending .xlsx or .pdf", name)
}

// writeReport renders d into the file out, which appears only complete.
func writeReport(ctx context.Context, out string, d report.Document) error {
	format, err := formatOf(out)
	if err != nil {
		return err
	}
	o, err := cli.CreateOut(out)
	if err != nil {
		return err
	}
	defer o.Abort()
	if format == "xlsx" {
		err = report.WriteXLSX(o, d)
	} else {
		err = report.WritePDF(ctx, o, d, report.PDFOptions{})
	}
	if err != nil {
		return fmt.Errorf("report %s: %w", out, err)
	}
	return o.Commit()
}
