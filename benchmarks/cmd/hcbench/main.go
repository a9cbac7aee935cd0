// Command hcbench runs the healthcode workload benchmarks with their
// baselines and peers in one process and prints a markdown report with the
// ratio of every subject to each baseline and peer.
//
//	go run ./benchmarks/cmd/hcbench                      # every workload, small scale
//	go run ./benchmarks/cmd/hcbench -scale full -run codes/ -o benchmarks/REPORT.md
//
// Workloads over PostgreSQL (codes/*-pg, server/cluster, server/nodes) run
// against the server that -postgres or $HEALTHCODE_TEST_POSTGRES names,
// those over a MySQL-wire server (codes/*-mysql, server/cluster-mysql)
// against the one -mysql or $HEALTHCODE_TEST_MYSQL names; without one they
// are left out with a note.
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
		myDSN   = fs.String("mysql", os.Getenv("HEALTHCODE_TEST_MYSQL"), "DSN (user@tcp(host:port)/db, with or without mysql://) of a MySQL or MariaDB server the MySQL workloads may create databases on (default $HEALTHCODE_TEST_MYSQL); empty leaves them out")
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
	notes := 0 // workloads left out, with a note
	// Workloads whose server is not named are listed, not run.
	var listOnly []bench.Workload
	for _, db := range []struct {
		dsn, what string
		ws        []bench.Workload
	}{
		{*pgDSN, "PostgreSQL (-postgres or $HEALTHCODE_TEST_POSTGRES)", benchmarks.Postgres(sc, *pgDSN)},
		{*myDSN, "MySQL (-mysql or $HEALTHCODE_TEST_MYSQL)", benchmarks.MySQL(sc, *myDSN)},
	} {
		if db.dsn != "" {
			ws = append(ws, db.ws...)
			continue
		}
		listOnly = append(listOnly, db.ws...)
		var leftOut []string
		for _, w := range db.ws {
			if opts.Filter == nil || opts.Filter.MatchString(w.Name) {
				leftOut = append(leftOut, w.Name)
			}
		}
		if len(leftOut) > 0 {
			fmt.Fprintf(stderr, "hcbench: no %s: leaving out %s\n", db.what, strings.Join(leftOut, ", "))
			notes++
		}
	}
	if *list {
		for _, w := range append(slices.Clone(ws), listOnly...) {
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
		if notes > 0 {
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
