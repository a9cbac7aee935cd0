// Command tracectl ingests venue scans and trips from CSV into a snapshot
// of the contacttrace package's index, finds the contacts of an index case,
// and searches venues by partial name. See README.md for the command lines.
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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracectl:", err)
		os.Exit(1)
	}
}

const usage = `usage: tracectl <command> [flags]

commands:
  ingest    scans CSV (+ trips CSV, venue names CSV) -> snapshot and its id mappings
  contacts  contacts of an index case from a snapshot, as CSV or JSON
  venues    search venue names ("太古里 春熙路")

Run "tracectl <command> -h" for the flags of a command.
`

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "ingest":
		return runIngest(ctx, args[1:], stderr)
	case "contacts":
		return runContacts(ctx, args[1:], stdout, stderr)
	case "venues":
		return runVenues(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
