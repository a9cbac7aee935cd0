// Command hcbench runs the healthcode workload benchmarks with their
// baselines and peers in one process and prints a markdown report with the
// ratio of every subject to each baseline and peer.
//
//	go run ./benchmarks/cmd/hcbench                      # every workload, small scale
//	go run ./benchmarks/cmd/hcbench -scale full -run codes/ -o benchmarks/REPORT.md
//
// Workloads over PostgreSQL (codes/*-pg, server/cluster, server/nodes) run
// against the server that -postgres or $HEALTHCODE_TEST_POSTGRES names;
// without one they are left out with a note.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks"
	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hcbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hcbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		runRe   = fs.String("run", "", "regexp selecting workloads by name (e.g. codes/ or rules/evaluate)")
		scale   = fs.String("scale", "small", "data size: small (seconds) or full (the issues' figures)")
		minTime = fs.Duration("time", time.Second, "minimum time each subject runs")
		once    = fs.Bool("once", false, "run each subject once with n=1 (smoke test)")
		out     = fs.String("o", "", "also write the markdown report to this file")
		asJSON  = fs.Bool("json", false, "print JSON instead of markdown")
		list    = fs.Bool("list", false, "list workloads and subjects, run nothing")
		cpuProf = fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
		pgDSN   = fs.String("postgres", os.Getenv("HEALTHCODE_TEST_POSTGRES"), "postgres:// URL of a database the PostgreSQL workloads may create schemas and databases from (default $HEALTHCODE_TEST_POSTGRES); empty leaves them out")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sc, err := bench.ParseScale(*scale)
	if err != nil {
		return err
	}
	opts := bench.Options{MinTime: *minTime, Once: *once, Progress: stderr}
	if *runRe != "" {
		re, err := regexp.Compile(*runRe)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		opts.Filter = re
	}
	ws := benchmarks.All(sc)
	pg := benchmarks.Postgres(sc, *pgDSN)
	var leftOut []string
	if *pgDSN != "" {
		ws = append(ws, pg...)
	} else {
		for _, w := range pg {
			if opts.Filter == nil || opts.Filter.MatchString(w.Name) {
				leftOut = append(leftOut, w.Name)
			}
		}
	}
	if len(leftOut) > 0 {
		fmt.Fprintf(stderr, "hcbench: no PostgreSQL (-postgres or $HEALTHCODE_TEST_POSTGRES): leaving out %s\n", strings.Join(leftOut, ", "))
	}
	if *list {
		listed := ws
		if *pgDSN == "" {
			listed = append(slices.Clone(ws), pg...) // listed, not run
		}
		for _, w := range listed {
			if opts.Filter != nil && !opts.Filter.MatchString(w.Name) {
				continue
			}
			fmt.Fprintf(stdout, "%s\t%s\n", w.Name, w.Doc)
			for _, s := range w.Subjects {
				fmt.Fprintf(stdout, "\t%s (%s)\n", s.Name, s.Role)
			}
		}
		return nil
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, ws, opts)
	if err != nil {
		return err
	}
	if len(rep.Results) == 0 {
		if len(leftOut) > 0 {
			return nil // the note said why
		}
		return errors.New("no workload matched -run")
	}
	if *asJSON {
		return rep.JSON(stdout)
	}
	if err := rep.Markdown(stdout); err != nil {
		return err
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := rep.Markdown(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
