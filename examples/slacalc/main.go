// Command slacalc computes an SLA report from a contract (a shipped preset
// or a YAML document) and CSV files of incidents, outages and scorecard
// events, using the sla package. See README.md for the command lines.
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
		fmt.Fprintln(os.Stderr, "slacalc:", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `usage: slacalc <command> [flags]

commands:
  report    assess a period: contract + incidents/outages/events CSV -> markdown, JSON, PDF or xlsx
  presets   list the shipped contracts (-show NAME prints one as YAML)
  calendar  working-time arithmetic on a contract's calendar or the default office hours

Run "slacalc <command> -h" for the flags of a command.
`

// run is the whole program: main only wires the process to it. Exit
// statuses: 0 done, 1 refused input or a failed computation, 2 a command
// line that does not parse (usageError) or -h.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command")}
	}
	switch args[0] {
	case "report":
		return runReport(ctx, args[1:], stdin, stdout, stderr)
	case "presets":
		return runPresets(args[1:], stdout, stderr)
	case "calendar":
		return runCalendar(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", clip(args[0]))}
	}
}
