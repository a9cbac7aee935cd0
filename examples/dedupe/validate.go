package main

import (
	"bufio"
	"context"
	"encoding/csv"
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

func runValidate(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("dedupe validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "registry CSV (required)")
	errs := fs.String("errors", "", "output: per-row error report CSV (required)")
	columns := fs.String("columns", "en", "header names: en or zh")
	required := fs.String("required", "", "required fields (default name,doc_type,doc_number,birth)")
	every := fs.Duration("progress", time.Second, "progress line interval on stderr; 0 disables")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("validate: unexpected argument %q", fs.Arg(0))
	}
	if *in == "" || *errs == "" {
		return errors.New("validate: -in and -errors are required")
	}
	cols, err := columnsFor(*columns)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	req, err := parseKeys(*required)
	if err != nil {
		return fmt.Errorf("validate: -required: %w", err)
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	defer f.Close()
	cr := &cli.CountingReader{R: bufio.NewReaderSize(f, 1<<20)}
	rd, err := dedupe.NewReader(cr, dedupe.CSVConfig{Columns: cols, Validate: &dedupe.ValidateConfig{Required: req, Today: time.Now()}})
	if err != nil {
		return fmt.Errorf("validate: %s: %w", *in, err)
	}
	o, err := cli.CreateOut(*errs)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	defer o.Abort()
	cw := csv.NewWriter(bufio.NewWriter(o))
	cw.Write([]string{"line", "id", "field", "column", "problem", "reason"})
	prog := cli.NewProgress(stderr, "validate", *every, f, cr)
	var rows, bad, problems int64
	for {
		if rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		_, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rows++
		prog.Row()
		var re *dedupe.RowError
		if err != nil && !errors.As(err, &re) {
			return fmt.Errorf("validate: %s: %w", *in, err)
		}
		if re == nil {
			continue
		}
		bad++
		prog.Bad = bad
		id := ""
		if re.ID != 0 {
			id = strconv.FormatInt(re.ID, 10)
		}
		line := strconv.Itoa(re.Line)
		if re.Err != nil {
			problems++
			cw.Write([]string{line, id, "", "", problemName(re.Err), strings.TrimPrefix(re.Err.Error(), dedupe.ErrCSV.Error()+": ")})
		}
		for _, fe := range re.Fields {
			problems++
			field := ""
			if fe.Field != 0 {
				field = fe.Field.String()
			}
			cw.Write([]string{line, id, field, fe.Column, problemName(fe.Err), fe.Reason})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	if err := o.Commit(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	fmt.Fprintf(stderr, "validate: %d rows, %d rejected with %d problems (report: %s)\n", rows, bad, problems, *errs)
	if bad > 0 {
		return &dataError{fmt.Sprintf("validate: %s: %d of %d rows rejected", *in, bad, rows)}
	}
	return nil
}

// problemName is the sentinel of a validation problem, as a short word.
func problemName(err error) string {
	for _, p := range []struct {
		err  error
		name string
	}{
		{dedupe.ErrRequired, "required"}, {dedupe.ErrChecksum, "checksum"}, {dedupe.ErrDate, "date"},
		{dedupe.ErrFormat, "format"}, {dedupe.ErrCSV, "csv"}, {dedupe.ErrEncoding, "encoding"},
	} {
		if errors.Is(err, p.err) {
			return p.name
		}
	}
	return "other"
}
