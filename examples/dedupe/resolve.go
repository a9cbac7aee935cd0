package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// resolveConfig is what the resolve flags say.
type resolveConfig struct {
	In, Decisions, Review, Policy, Tmp, Mem, Columns string
	Workers                                          int
	Progress                                         time.Duration
	Strict                                           bool
}

func runResolve(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg resolveConfig
	fs := flag.NewFlagSet("dedupe resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.In, "in", "", "registry CSV (required)")
	fs.StringVar(&cfg.Decisions, "decisions", "", "output: automatic decisions CSV (required)")
	fs.StringVar(&cfg.Review, "review", "", "output: review queue JSON (required)")
	fs.StringVar(&cfg.Policy, "policy", "", "duplicate policy YAML or JSON (default: name, doc_number, birth, ethnicity; keep latest)")
	fs.StringVar(&cfg.Tmp, "tmp", "", "directory for spill partitions (default the OS temp dir)")
	fs.StringVar(&cfg.Mem, "mem", "1GiB", "memory budget before spilling to -tmp (512MiB, 2GiB)")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines (default GOMAXPROCS)")
	fs.StringVar(&cfg.Columns, "columns", "en", "header names: en (id,name,doc_type,...) or zh (编号,姓名,证件类型,...)")
	fs.DurationVar(&cfg.Progress, "progress", time.Second, "progress line interval on stderr; 0 disables")
	fs.BoolVar(&cfg.Strict, "strict", false, "stop at the first bad row (exit 1, nothing written) instead of skipping it (exit 3)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("resolve: unexpected argument %q", fs.Arg(0))
	}
	for _, req := range []struct{ name, v string }{{"in", cfg.In}, {"decisions", cfg.Decisions}, {"review", cfg.Review}} {
		if req.v == "" {
			return fmt.Errorf("resolve: -%s is required", req.name)
		}
	}
	mem, err := parseBytes(cfg.Mem)
	if err != nil {
		return fmt.Errorf("resolve: -mem: %w", err)
	}
	cols, err := columnsFor(cfg.Columns)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	pol := dedupe.DefaultPolicy()
	if cfg.Policy != "" {
		f, err := os.Open(cfg.Policy)
		if err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		pol, err = dedupe.LoadPolicy(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("resolve: %s: %w", cfg.Policy, err)
		}
	}
	rcfg := dedupe.Config{MemoryBudget: mem, Workers: cfg.Workers}
	if cfg.Tmp != "" {
		if fi, err := os.Stat(cfg.Tmp); err != nil || !fi.IsDir() {
			return fmt.Errorf("resolve: -tmp %s: not a directory", cfg.Tmp)
		}
		rcfg.Spill = dedupe.DirSpill(cfg.Tmp)
	}
	res, err := dedupe.NewResolver(pol, rcfg)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}

	in, err := os.Open(cfg.In)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	defer in.Close()
	cr := &cli.CountingReader{R: bufio.NewReaderSize(in, 1<<20)}
	rd, err := dedupe.NewReader(cr, dedupe.CSVConfig{Columns: cols})
	if err != nil {
		return fmt.Errorf("resolve: %s: %w", cfg.In, err)
	}
	prog := cli.NewProgress(stderr, "resolve", cfg.Progress, in, cr)
	var firstBad []string
	var src dedupe.RecordReader = countingRecords{src: rd, p: prog}
	if cfg.Strict {
		src = strictRows{file: cfg.In, src: src}
	} else {
		src = dedupe.GoodRows(src, func(e *dedupe.RowError) {
			prog.Bad++
			if len(firstBad) < 5 {
				firstBad = append(firstBad, rowProblem(cfg.In, e))
			}
		})
	}

	decOut, err := cli.CreateOut(cfg.Decisions)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	defer decOut.Abort()
	revOut, err := cli.CreateOut(cfg.Review)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	defer revOut.Abort()
	sink := newFileSink(decOut, revOut)
	stats, err := res.Stream(ctx, src, sink)
	var stopped *strictStop
	if errors.As(err, &stopped) {
		return fmt.Errorf("resolve: %w", err)
	}
	if err != nil {
		return fmt.Errorf("resolve: %s: %w", cfg.In, err)
	}
	if err := sink.close(); err != nil {
		return fmt.Errorf("resolve: write: %w", err)
	}
	if err := decOut.Commit(); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	if err := revOut.Commit(); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	for _, m := range firstBad {
		pos, problem, _ := strings.Cut(m, ": ")
		fmt.Fprintf(stderr, "resolve: %s: skipped: %s\n", pos, problem)
	}
	fmt.Fprintf(stderr, "resolve: %d records, %d bad rows skipped; %d duplicate groups, %d records dropped; review: %d suspicious, %d conflict groups; %d spill partitions\n",
		stats.Records, prog.Bad, stats.DuplicateGroups, stats.Dropped, stats.Suspicious, stats.Conflicts, stats.Partitions)
	if prog.Bad > 0 {
		return &dataError{fmt.Sprintf("resolve: %s: %d of %d rows skipped (outputs written; -strict stops at the first)", cfg.In, prog.Bad, stats.Records+prog.Bad)}
	}
	return nil
}

// strictRows stops at the first bad row (resolve -strict).
type strictRows struct {
	file string
	src  dedupe.RecordReader
}

// strictStop is the error strictRows stops with.
type strictStop struct{ msg string }

func (e *strictStop) Error() string { return e.msg }

func (s strictRows) Read() (dedupe.Record, error) {
	r, err := s.src.Read()
	var re *dedupe.RowError
	if errors.As(err, &re) {
		return r, &strictStop{rowProblem(s.file, re) + " (-strict: stopped at the first bad row)"}
	}
	return r, err
}

// fileSink writes decisions as CSV and review groups as a JSON array as
// Stream hands them over, so neither is held in memory.
type fileSink struct {
	dec     *csv.Writer
	rev     *bufio.Writer
	reviews int
}

var decisionHeader = []string{"record", "action", "survivor", "group", "reason"}

func newFileSink(dec, rev io.Writer) *fileSink {
	s := &fileSink{dec: csv.NewWriter(dec), rev: bufio.NewWriter(rev)}
	s.dec.Write(decisionHeader)
	s.rev.WriteString("[")
	return s
}

func (s *fileSink) Duplicate(g dedupe.DuplicateGroup) error {
	for _, d := range g.Decisions {
		if err := s.dec.Write([]string{strconv.FormatInt(d.Record, 10), d.Action.String(), strconv.FormatInt(d.Survivor, 10), d.Group, d.Reason}); err != nil {
			return err
		}
	}
	return s.dec.Error()
}

func (s *fileSink) Review(g dedupe.ReviewGroup) error {
	b, err := json.Marshal(toReviewJSON(g))
	if err != nil {
		return err
	}
	if s.reviews > 0 {
		s.rev.WriteString(",")
	}
	s.reviews++
	s.rev.WriteString("\n")
	_, err = s.rev.Write(b)
	return err
}

func (s *fileSink) close() error {
	s.dec.Flush()
	s.rev.WriteString("\n]\n")
	return errors.Join(s.dec.Error(), s.rev.Flush())
}
