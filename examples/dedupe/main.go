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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dedupe:", err)
		os.Exit(1)
	}
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
