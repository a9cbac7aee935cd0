// Command dedupe resolves duplicate records of a population registry CSV,
// applies reviewers' decisions, reconciles a source file against the file
// issued from it, and validates rows on ingest, using the dedupe package.
// See README.md for the command lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "dedupe:", err)
	}
	os.Exit(exitCode(err))
}

// The exit statuses; README.md has the table.
const (
	exitOK      = 0 // done, and every row was good
	exitFailed  = 1 // stopped on an error: no output written
	exitUsage   = 2 // -h, or flags that do not parse
	exitBadRows = 3 // done, outputs written, but rows were bad or the files do not reconcile
)

// exitCode is the exit status for what run returned.
func exitCode(err error) int {
	var de *dataError
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp), errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &de):
		return exitBadRows
	}
	return exitFailed
}

// dataError ends a run that completed and wrote its outputs but found
// problems in the data: rows skipped or rejected, or files that do not
// reconcile. It exits 3, so a script can tell it from a failed run.
type dataError struct{ msg string }

func (e *dataError) Error() string { return e.msg }

// usageError is a flag that does not parse (flag has printed the usage).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// parseFlags parses args, marking a parse error as a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return &usageError{err}
	}
	return err
}

// rowProblem is a row error as file:line:column: problems.
func rowProblem(file string, re *dedupe.RowError) string {
	var b strings.Builder
	line, col := re.Pos()
	fmt.Fprintf(&b, "%s:%d", file, line)
	if col > 0 {
		fmt.Fprintf(&b, ":%d", col)
	}
	b.WriteString(": ")
	var parts []string
	if re.Err != nil {
		parts = append(parts, strings.TrimPrefix(re.Err.Error(), "dedupe: "))
	}
	for _, f := range re.Fields {
		parts = append(parts, strings.TrimPrefix(f.Error(), "dedupe: "))
	}
	b.WriteString(strings.Join(parts, "; "))
	return b.String()
}

const usage = `usage: dedupe <command> [flags]

commands:
  resolve    registry CSV -> automatic decisions CSV + review queue JSON
  apply      review queue JSON + reviewers' decisions CSV -> change set CSV
  reconcile  compare a source CSV with the CSV issued from it: missing, extra, duplicated
  validate   check every row of a registry CSV -> per-row error report CSV

Run "dedupe <command> -h" for the flags of a command.
`

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "resolve":
		return runResolve(ctx, args[1:], stderr)
	case "apply":
		return runApply(args[1:], stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, args[1:], stdout, stderr)
	case "validate":
		return runValidate(ctx, args[1:], stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
