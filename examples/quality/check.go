package quality

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

// dataset is one open dataset file, read row by row.
type dataset struct {
	name     string // source, coded, issued
	path     string // relative to the base directory, as in reports
	f        *os.File
	rd       *dedupe.Reader
	ctx      context.Context
	rows     int // rows read, good and bad
	every    int
	progress func(ds string, n int)
}

// columnsNeeded returns the columns a dataset must have for the rule's
// checks: the id, the key and every field a check on it reads.
func columnsNeeded(rule Rule, ds string) []dedupe.Field {
	fs := slices.Clone(rule.Key)
	for _, c := range rule.Checks {
		if slices.Contains(c.Datasets, ds) {
			for _, f := range c.fields() {
				if !slices.Contains(fs, f) {
					fs = append(fs, f)
				}
			}
		}
	}
	return fs
}

func columnName(cols dedupe.Columns, f dedupe.Field) string {
	switch f {
	case dedupe.FieldName:
		return cols.Name
	case dedupe.FieldDocType:
		return cols.DocType
	case dedupe.FieldDocNumber:
		return cols.DocNumber
	case dedupe.FieldBirth:
		return cols.Birth
	case dedupe.FieldSex:
		return cols.Sex
	case dedupe.FieldEthnicity:
		return cols.Ethnicity
	case dedupe.FieldAddress:
		return cols.Address
	case dedupe.FieldPhone:
		return cols.Phone
	case dedupe.FieldSource:
		return cols.Source
	}
	return ""
}

// open opens dataset ds of rule for day and checks its header.
func (r *Runner) open(ctx context.Context, rule Rule, ds, day string, vc *dedupe.ValidateConfig, progress func(string, int)) (*dataset, error) {
	rel := rule.Path(ds, day)
	f, err := os.Open(filepath.Join(r.cfg.Base, filepath.FromSlash(rel)))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("dataset %s: %s: %w", ds, rel, err)
	}
	cols := rule.columns()
	rd, err := dedupe.NewReader(bufio.NewReaderSize(f, 1<<16), dedupe.CSVConfig{Columns: cols, Validate: vc})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset %s: %s: %s (columns: %s)", ds, rel, strings.TrimPrefix(err.Error(), "dedupe: "), rule.Columns)
	}
	have := map[string]bool{}
	for _, h := range rd.Header() {
		have[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = true
	}
	var missing []string
	for _, fl := range columnsNeeded(rule, ds) {
		if name := columnName(cols, fl); !have[name] {
			missing = append(missing, fmt.Sprintf("%q (%s)", name, fl))
		}
	}
	if len(missing) > 0 {
		f.Close()
		return nil, fmt.Errorf("dataset %s: %s: no column %s in the header (columns: %s)", ds, rel, strings.Join(missing, ", "), rule.Columns)
	}
	return &dataset{name: ds, path: rel, f: f, rd: rd, ctx: ctx, every: r.cfg.ProgressRows, progress: progress}, nil
}

func (d *dataset) Close() { d.f.Close() }

// Read returns the next row; it honours ctx every 256 rows, so that a
// Stop takes effect mid-file.
func (d *dataset) Read() (dedupe.Record, error) {
	if d.rows&255 == 0 {
		if err := d.ctx.Err(); err != nil {
			return dedupe.Record{}, err
		}
	}
	rec, err := d.rd.Read()
	var re *dedupe.RowError
	switch {
	case err == nil || errors.As(err, &re):
		d.rows++
		if d.progress != nil && d.every > 0 && d.rows%d.every == 0 {
			d.progress(d.name, d.rows)
		}
	case errors.Is(err, io.EOF):
	default:
		return rec, fmt.Errorf("dataset %s: %s: %w", d.name, d.path, err)
	}
	return rec, err
}

// line is the file line of the last row read when it had no RowError:
// exact unless a quoted value spans lines.
func (d *dataset) line() int { return d.rows + 1 }

// preflight opens every dataset the rule's checks read and checks its
// header, so that a missing file or a wrong column fails the run before
// any check runs.
func (r *Runner) preflight(rule Rule, day string) error {
	var used []string
	for _, c := range rule.Checks {
		for _, ds := range c.Datasets {
			if !slices.Contains(used, ds) {
				used = append(used, ds)
			}
		}
	}
	var errs []error
	for _, ds := range used {
		d, err := r.open(context.Background(), rule, ds, day, nil, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Close()
	}
	return errors.Join(errs...)
}

// result collects a check's figures and samples.
type result struct {
	CheckResult
	limit int
	key   []dedupe.Field
}

func (res *result) field(name string) {
	if res.ByField == nil {
		res.ByField = map[string]int{}
	}
	res.ByField[name]++
}

func (res *result) sample(s Sample) {
	if len(res.Samples) < res.limit {
		res.Samples = append(res.Samples, s)
	}
}

func maskedKey(rec *dedupe.Record, key []dedupe.Field) string {
	parts := make([]string, len(key))
	for i, f := range key {
		parts[i] = dedupe.Mask(rec.Get(f))
	}
	return strings.Join(parts, " / ")
}

// rowError counts a row the reader rejected: one invalid row, each field
// problem under its field.
func (res *result) rowError(d *dataset, rec *dedupe.Record, re *dedupe.RowError) {
	res.Figures.Invalid++
	key := maskedKey(rec, res.key)
	if re.Err != nil {
		res.field("row")
		res.sample(Sample{Dataset: d.name, Line: re.Line, ID: re.ID, Key: key, Field: "row", Problem: strings.TrimPrefix(re.Err.Error(), "dedupe: ")})
	}
	for _, fe := range re.Fields {
		name := fe.Column
		if fe.Field != 0 {
			name = fe.Field.String()
		}
		if name == "" {
			name = "row"
		}
		res.field(name)
		var v string
		if fe.Field != 0 {
			v = dedupe.Mask(rec.Get(fe.Field))
		}
		res.sample(Sample{Dataset: d.name, Line: re.Line, ID: re.ID, Key: key, Field: name, Problem: fe.Reason, Value: v})
	}
}

// runCheck runs one check over day's datasets, keeping up to limit
// samples, and returns its result and the rows it read per dataset.
func (r *Runner) runCheck(ctx context.Context, rule Rule, day string, c Check, limit int, progress func(string, int)) (CheckResult, map[string]int, error) {
	res := &result{CheckResult: CheckResult{Name: c.Name(), Dataset: strings.Join(c.Datasets, ",")}, limit: limit, key: rule.Key}
	rows := map[string]int{}
	if c.Kind == KindReconcile {
		err := r.reconcile(ctx, rule, day, c, res, rows, progress)
		return res.CheckResult, rows, err
	}
	var vc *dedupe.ValidateConfig
	if c.Kind == KindValidate {
		today, _ := time.Parse(time.DateOnly, day)
		vc = &dedupe.ValidateConfig{Required: c.Fields, Today: today}
	}
	d, err := r.open(ctx, rule, c.Datasets[0], day, vc, progress)
	if err != nil {
		return CheckResult{}, nil, err
	}
	defer d.Close()
	idTypes := dedupe.DefaultValidateConfig().IDDocTypes
	for {
		rec, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *dedupe.RowError
		if errors.As(err, &re) {
			res.rowError(d, &rec, re)
			continue
		}
		if err != nil {
			return CheckResult{}, nil, err
		}
		switch c.Kind {
		case KindNonEmpty:
			bad := false
			for _, f := range c.Fields {
				if dedupe.NormalizeText(rec.Get(f)) == "" {
					bad = true
					res.field(f.String())
					res.sample(Sample{Dataset: d.name, Line: d.line(), ID: rec.ID, Key: maskedKey(&rec, rule.Key), Field: f.String(), Problem: "empty"})
				}
			}
			if bad {
				res.Figures.Invalid++
			}
		case KindFormat:
			bad := false
			for _, ff := range c.Formats {
				v := rec.Get(ff.Field)
				if dedupe.NormalizeText(v) == "" {
					continue
				}
				if problem := checkFormat(ff.Format, v, rec.DocType); problem != "" {
					bad = true
					res.field(ff.Field.String())
					res.sample(Sample{Dataset: d.name, Line: d.line(), ID: rec.ID, Key: maskedKey(&rec, rule.Key), Field: ff.Field.String(), Problem: problem, Value: dedupe.Mask(v)})
				}
			}
			if bad {
				res.Figures.Invalid++
			}
		case KindBirthMatchesID:
			if birthDiffers(&rec, idTypes) {
				res.Figures.Mismatched++
				res.field(dedupe.FieldBirth.String())
				res.sample(Sample{Dataset: d.name, Line: d.line(), ID: rec.ID, Key: maskedKey(&rec, rule.Key), Field: dedupe.FieldBirth.String(),
					Problem: "birth date differs from positions 7-14 of the ID number", Value: dedupe.Mask(rec.Birth)})
			}
		}
	}
	res.Figures.Rows = d.rows
	rows[d.name] = d.rows
	return res.CheckResult, rows, nil
}

// checkFormat says what is wrong with v in the given format, "" if
// nothing.
func checkFormat(format, v, docType string) string {
	var scratch dedupe.Record
	var field dedupe.Field
	switch format {
	case FormatDate:
		if _, err := dedupe.ParseDate(v); err != nil {
			return "not a date"
		}
		return ""
	case FormatPhone:
		scratch.Phone, field = v, dedupe.FieldPhone
	case FormatDocNumber:
		scratch.DocType, scratch.DocNumber, field = docType, v, dedupe.FieldDocNumber
	}
	for _, fe := range dedupe.Validate(&scratch, dedupe.ValidateConfig{Required: []dedupe.Field{}}) {
		if fe.Field == field {
			return fe.Reason
		}
	}
	return ""
}

// birthDiffers reports whether rec is an ID document whose number holds a
// date and whose birth date parses, and the two differ. Records where
// either cannot be read are left to the validate and format checks.
func birthDiffers(rec *dedupe.Record, idTypes []string) bool {
	if !slices.Contains(idTypes, dedupe.NormalizeDocType(rec.DocType)) {
		return false
	}
	n := dedupe.NormalizeDocNumber(rec.DocNumber)
	if len(n) != 18 {
		return false
	}
	idDate, err := time.Parse("20060102", n[6:14])
	if err != nil {
		return false
	}
	birth, err := dedupe.NormalizeDate(rec.Birth)
	if err != nil {
		return false
	}
	return birth != idDate.Format(time.DateOnly)
}

// reconcile compares the check's two datasets by the rule's key, then
// reads them again to locate the samples.
func (r *Runner) reconcile(ctx context.Context, rule Rule, day string, c Check, res *result, rows map[string]int, progress func(string, int)) error {
	a, err := r.open(ctx, rule, c.Datasets[0], day, nil, progress)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := r.open(ctx, rule, c.Datasets[1], day, nil, progress)
	if err != nil {
		return err
	}
	defer b.Close()
	good := func(d *dataset) dedupe.RecordReader {
		return dedupe.GoodRows(d, func(re *dedupe.RowError) { res.rowError(d, &dedupe.Record{}, re) })
	}
	rec, err := dedupe.Reconcile(ctx, good(a), good(b), dedupe.ReconcileConfig{Key: rule.Key})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	rows[a.name], rows[b.name] = a.rows, b.rows
	res.Figures.Rows = a.rows + b.rows
	res.Figures.Missing = len(rec.Missing)
	res.Figures.Extra = len(rec.Extra)
	// Which records to locate: each id's samples, by dataset.
	want := map[string]map[int64][]Sample{a.name: {}, b.name: {}}
	room := res.limit - len(res.Samples)
	note := func(ds string, id int64, problem string) {
		if room > 0 {
			want[ds][id] = append(want[ds][id], Sample{Dataset: ds, ID: id, Problem: problem})
			room--
		}
	}
	for _, id := range rec.Missing {
		note(a.name, id, "missing from "+b.name)
	}
	for _, id := range rec.Extra {
		note(b.name, id, "not in "+a.name)
	}
	for _, side := range []struct {
		ds     string
		groups [][]int64
	}{{a.name, rec.DuplicatedSource}, {b.name, rec.DuplicatedIssued}} {
		for _, g := range side.groups {
			res.Figures.Duplicated += len(g) - 1
			for _, id := range g[1:] {
				note(side.ds, id, fmt.Sprintf("duplicated key (first record id %d)", g[0]))
			}
		}
	}
	// Locate them, in file order within each dataset.
	for _, ds := range []string{a.name, b.name} {
		if len(want[ds]) == 0 {
			continue
		}
		d, err := r.open(ctx, rule, ds, day, nil, nil)
		if err != nil {
			return err
		}
		for {
			x, err := d.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var re *dedupe.RowError
				if errors.As(err, &re) {
					continue
				}
				d.Close()
				return err
			}
			if ss, ok := want[ds][x.ID]; ok {
				for _, s := range ss {
					s.Line, s.Key = d.line(), maskedKey(&x, rule.Key)
					res.Samples = append(res.Samples, s)
				}
				delete(want[ds], x.ID)
			}
		}
		d.Close()
	}
	return nil
}

// Records lists the records behind a check's figures in run runID (up to
// limit; limit <= 0 means all), masked, by reading the run's datasets
// again with the rule as it is now. check is the check's name
// ("reconcile source→coded").
func (r *Runner) Records(ctx context.Context, runID, check string, limit int) ([]Sample, error) {
	run, err := r.Get(runID)
	if err != nil {
		return nil, err
	}
	rule, ok := r.Rules().Rule(run.Rule)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRule, run.Rule)
	}
	i := slices.IndexFunc(rule.Checks, func(c Check) bool { return c.Name() == check })
	if i < 0 {
		return nil, fmt.Errorf("%w: %q in rule %s", ErrUnknownCheck, check, rule.Name)
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	res, _, err := r.runCheck(ctx, rule, run.Day, rule.Checks[i], limit, nil)
	if err != nil {
		return nil, fmt.Errorf("quality: records of %s: %w", runID, err)
	}
	return res.Samples, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
