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

// errNotReconciled is returned by reconcile -check when something is
// missing, extra or duplicated: the run completed (exit 3).
var errNotReconciled = &dataError{"reconcile: the files do not reconcile"}

func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dedupe reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "source CSV (required)")
	issued := fs.String("issued", "", "issued CSV (required)")
	keys := fs.String("keys", "", "fields two records must agree on (default doc_type,doc_number,name,phone)")
	columns := fs.String("columns", "en", "header names: en or zh")
	format := fs.String("format", "text", "output: text or json")
	details := fs.String("details", "", "output: CSV of every missing, extra and duplicated record id (optional)")
	check := fs.Bool("check", false, "exit with an error unless nothing is missing, extra or duplicated")
	every := fs.Duration("progress", time.Second, "progress line interval on stderr; 0 disables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reconcile: unexpected argument %q", fs.Arg(0))
	}
	if *source == "" || *issued == "" {
		return errors.New("reconcile: -source and -issued are required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("reconcile: -format %q: want text or json", *format)
	}
	key, err := parseKeys(*keys)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	rcfg := dedupe.ReconcileConfig{Key: key}
	if err := rcfg.Validate(); err != nil {
		return fmt.Errorf("reconcile: -keys: %w", err)
	}
	cols, err := columnsFor(*columns)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	open := func(name string) (dedupe.RecordReader, func(), error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		cr := &cli.CountingReader{R: bufio.NewReaderSize(f, 1<<20)}
		rd, err := dedupe.NewReader(cr, dedupe.CSVConfig{Columns: cols})
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		p := cli.NewProgress(stderr, "reconcile "+name, *every, f, cr)
		return namedReader{name: name, src: countingRecords{src: rd, p: p}}, func() { f.Close() }, nil
	}
	src, closeSrc, err := open(*source)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	defer closeSrc()
	iss, closeIss, err := open(*issued)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	defer closeIss()
	rep, err := dedupe.Reconcile(ctx, src, iss, rcfg)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if *details != "" {
		if err := writeDetails(*details, rep); err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
	}
	if *format == "json" {
		b, err := json.MarshalIndent(reconcileJSON{
			Key: rep.Key, Source: rep.Source, Issued: rep.Issued, Matched: rep.Matched, OK: rep.OK(),
			Missing: nonNil(rep.Missing), Extra: nonNil(rep.Extra),
			DuplicatedSource: nonNil(rep.DuplicatedSource), DuplicatedIssued: nonNil(rep.DuplicatedIssued),
		}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		writeReconcileText(stdout, rep)
	}
	if *check && !rep.OK() {
		return errNotReconciled
	}
	return nil
}

// namedReader puts the file name on the reader's errors: a bad row as
// file:line:column.
type namedReader struct {
	name string
	src  dedupe.RecordReader
}

func (n namedReader) Read() (dedupe.Record, error) {
	r, err := n.src.Read()
	var re *dedupe.RowError
	switch {
	case errors.As(err, &re):
		return r, fmt.Errorf("%s (a reconciliation cannot skip rows)", rowProblem(n.name, re))
	case err != nil && !errors.Is(err, io.EOF):
		return r, fmt.Errorf("%s: %w", n.name, err)
	}
	return r, err
}

type reconcileJSON struct {
	Key              []dedupe.Field `json:"key"`
	Source           int64          `json:"source"`
	Issued           int64          `json:"issued"`
	Matched          int64          `json:"matched"`
	OK               bool           `json:"ok"`
	Missing          []int64        `json:"missing"`
	Extra            []int64        `json:"extra"`
	DuplicatedSource [][]int64      `json:"duplicated_source"`
	DuplicatedIssued [][]int64      `json:"duplicated_issued"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func ids(s []int64, max int) string {
	var b strings.Builder
	for i, id := range s {
		if i == max {
			fmt.Fprintf(&b, " ... (%d more)", len(s)-max)
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

func groups(gs [][]int64, max int) string {
	var parts []string
	for i, g := range gs {
		if i == max {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(gs)-max))
			break
		}
		parts = append(parts, "["+ids(g, 10)+"]")
	}
	return strings.Join(parts, " ")
}

func writeReconcileText(w io.Writer, r *dedupe.Reconciliation) {
	keys := make([]string, len(r.Key))
	for i, k := range r.Key {
		keys[i] = k.String()
	}
	fmt.Fprintf(w, "key: %s\n", strings.Join(keys, ","))
	fmt.Fprintf(w, "source: %d records = %d matched + %d missing\n", r.Source, r.Matched, len(r.Missing))
	fmt.Fprintf(w, "issued: %d records = %d matched + %d extra\n", r.Issued, r.Matched, len(r.Extra))
	fmt.Fprintf(w, "duplicated: %d groups in source, %d in issued\n", len(r.DuplicatedSource), len(r.DuplicatedIssued))
	if len(r.Missing) > 0 {
		fmt.Fprintf(w, "missing (source ids): %s\n", ids(r.Missing, 20))
	}
	if len(r.Extra) > 0 {
		fmt.Fprintf(w, "extra (issued ids): %s\n", ids(r.Extra, 20))
	}
	if len(r.DuplicatedSource) > 0 {
		fmt.Fprintf(w, "duplicated in source: %s\n", groups(r.DuplicatedSource, 10))
	}
	if len(r.DuplicatedIssued) > 0 {
		fmt.Fprintf(w, "duplicated in issued: %s\n", groups(r.DuplicatedIssued, 10))
	}
	if r.OK() {
		fmt.Fprintln(w, "OK: nothing duplicated, nothing missed")
	} else {
		fmt.Fprintln(w, "NOT OK")
	}
}

func writeDetails(name string, r *dedupe.Reconciliation) error {
	o, err := cli.CreateOut(name)
	if err != nil {
		return err
	}
	defer o.Abort()
	cw := csv.NewWriter(o)
	cw.Write([]string{"kind", "side", "record", "group"})
	for _, id := range r.Missing {
		cw.Write([]string{"missing", "source", strconv.FormatInt(id, 10), ""})
	}
	for _, id := range r.Extra {
		cw.Write([]string{"extra", "issued", strconv.FormatInt(id, 10), ""})
	}
	for _, s := range []struct {
		side string
		gs   [][]int64
	}{{"source", r.DuplicatedSource}, {"issued", r.DuplicatedIssued}} {
		for _, g := range s.gs {
			for _, id := range g {
				cw.Write([]string{"duplicated", s.side, strconv.FormatInt(id, 10), strconv.FormatInt(g[0], 10)})
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return o.Commit()
}
