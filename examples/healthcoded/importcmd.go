package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/codes"
)

// importHeader is the header an import file starts with.
var importHeader = []string{"id", "colour", "since", "reason"}

// importRule is the rule a loaded code is recorded under; its version is
// the -source flag.
const importRule = "import"

// runImport is `healthcoded import`: the first load of a province's codes
// from the platform before this one, into the embedded store, through its
// bulk path (codes.Loader, boltstore's Load: the file is read and checked
// whole before anything is written, then written in key order). Each row
// becomes a rule decision of rule "import" at version -source, so running
// the same file again after an interruption completes it and appends
// nothing twice (one row a person). Green rows of people without a code
// append nothing: green is every person's code by default. One audit
// record names the file, the source, the actor and the counts.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("healthcoded import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the embedded store (stop the server first: the file is locked while it runs)")
	fs.StringVar(&cfg.KeysDir, "keys", "", "directory of the keying secret (default: -data); the server must key with the same")
	source := fs.String("source", "", "the platform and date the file was exported from, recorded as the rule version (required)")
	actor := fs.String("actor", "", "who runs the import, for the audit trail (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: healthcoded import -source NAME -actor ID [-data DIR] [-keys DIR] FILE.csv")
		fmt.Fprintln(stderr, "FILE.csv: a header id,colour,since,reason, then a row a person: a document number or phone, green|yellow|red, an RFC 3339 time, the reason shown")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return errors.New("import: want one file")
	case strings.TrimSpace(*source) == "":
		return errors.New("import: -source is required (the platform and date of the export)")
	case strings.TrimSpace(*actor) == "":
		return errors.New("import: -actor is required (who runs the import)")
	case len(*source) > 1024 || !utf8.ValidString(*source):
		return errors.New("import: -source: longer than 1024 bytes or not UTF-8")
	}
	if cfg.KeysDir == "" {
		cfg.KeysDir = cfg.DataDir
	}
	if err := os.MkdirAll(cfg.KeysDir, 0o700); err != nil {
		return fmt.Errorf("import: -keys: %w", err)
	}
	keyer, err := openKeyer(cfg.KeysDir)
	if err != nil {
		return fmt.Errorf("import: keying secret: %w", err)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("import: -data: %w", err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer st.Close()
	// No Registry: no server has the embedded file open (bbolt locks it),
	// so there is no filter or cache to keep, and opening one would scan
	// every stored head first.
	loader, ok := st.(codes.Loader)
	if !ok {
		return fmt.Errorf("import: %w: use the embedded store (-data)", codes.ErrNoLoader)
	}

	rows := &importRows{r: f, keyer: keyer, source: *source}
	start := time.Now()
	last := start
	applied, err := loader.Load(ctx, rows.all, func(p codes.LoadProgress) {
		if now := time.Now(); p.Committed == rows.n || now.Sub(last) >= 5*time.Second {
			last = now
			fmt.Fprintf(stderr, "import: %d of %d rows committed (%v)\n", p.Committed, rows.n, now.Sub(start).Round(time.Second))
		}
	})
	rec := codes.AuditRecord{At: time.Now().UTC(), Node: "healthcoded import", Actor: *actor, Role: "transcoder", Action: "import",
		Target: filepath.Base(path), Reason: "first load from " + *source, Outcome: "ok", Changed: applied.Changed,
		Detail: fmt.Sprintf("%d rows: %d changed, %d unchanged", rows.n, applied.Changed, applied.Unchanged)}
	if err != nil {
		rec.Outcome, rec.Detail = "error", fmt.Sprintf("%d rows read; %d changed before: %v", rows.n, applied.Changed, err)
	}
	if _, aerr := st.AppendAudit(ctx, []codes.AuditRecord{rec}); aerr != nil && err == nil {
		err = fmt.Errorf("audit: %w", aerr)
	}
	if err != nil {
		return fmt.Errorf("import: %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "imported %s: %d rows, %d codes changed, %d unchanged, in %v\n",
		path, rows.n, applied.Changed, applied.Unchanged, time.Since(start).Round(time.Millisecond))
	return nil
}

// importRows reads an import file as a stream of changes.
type importRows struct {
	r      io.Reader
	keyer  *codes.Keyer
	source string
	n      int // rows read
}

// all yields a change a row, or one error naming the line and column of
// the first bad row (the load then writes nothing). No error carries an
// identity beyond its masked form.
func (ir *importRows) all(yield func(codes.Change, error) bool) {
	cr := csv.NewReader(ir.r)
	cr.FieldsPerRecord = len(importHeader)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		yield(codes.Change{}, fmt.Errorf("line 1: header: %w", csvErr(err)))
		return
	}
	for i, name := range importHeader {
		if strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff")) != name {
			yield(codes.Change{}, fmt.Errorf("line 1, column %d: header %q, want %s", i+1, head[i], strings.Join(importHeader, ",")))
			return
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(codes.Change{}, csvErr(err))
			return
		}
		ch, field, err := parseImportRow(ir.keyer, ir.source, rec)
		if err != nil {
			line, col := cr.FieldPos(field)
			yield(codes.Change{}, fmt.Errorf("line %d, column %d (%s): %w", line, col, importHeader[field], err))
			return
		}
		ir.n++
		if !yield(ch, nil) {
			return
		}
	}
}

// csvErr drops the record's text from a CSV error (it may hold an
// identity), keeping where and what.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
	}
	return err
}

// parseImportRow turns a row into a rule decision, or names the field that
// is wrong (an index into importHeader).
func parseImportRow(keyer *codes.Keyer, source string, rec []string) (codes.Change, int, error) {
	id := strings.TrimSpace(rec[0])
	key, err := personKeyOf(keyer, id)
	if err != nil {
		why := "unreadable"
		var ide *codes.IDError
		if errors.As(err, &ide) {
			why = strings.TrimPrefix(ide.Err.Error(), "codes: ") // the sentinel: Got may hold a birth date
		}
		return codes.Change{}, 0, fmt.Errorf("%s is neither a document number (%s) nor a phone", codes.Mask(id), why)
	}
	colour, ok := parseColour(strings.TrimSpace(rec[1]))
	if !ok {
		return codes.Change{}, 1, fmt.Errorf("colour %q: want green, yellow or red", rec[1])
	}
	since, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[2]))
	if err != nil {
		return codes.Change{}, 2, fmt.Errorf("time %q: want RFC 3339, as 2022-06-13T09:00:00+08:00", rec[2])
	}
	reason := strings.TrimSpace(rec[3])
	if reason == "" {
		return codes.Change{}, 3, errors.New("empty: every code shows a reason")
	}
	ch := codes.Change{Key: key, State: codes.State{Colour: colour, Reason: reason,
		Cause: codes.Cause{RuleID: importRule, RuleVersion: source}, Since: since}}
	if err := ch.Validate(0); err != nil {
		var ce *codes.ChangeError
		if errors.As(err, &ce) && ce.Field == "State.Since" {
			return codes.Change{}, 2, fmt.Errorf("time %q: out of range", rec[2])
		}
		return codes.Change{}, 3, fmt.Errorf("longer than 1024 bytes or not UTF-8: %w", err)
	}
	return ch, 0, nil
}
