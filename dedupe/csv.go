package dedupe

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Columns names the CSV column of each part of a Record. An empty name
// means the default from DefaultColumns. Columns and CSVConfig are plain
// values, safe to share read-only.
type Columns struct {
	ID, Name, DocType, DocNumber, Birth, Sex, Ethnicity, Address, Phone, Source, Registered, Updated string
}

// DefaultColumns returns the English column names: id, name, doc_type,
// doc_number, birth, sex, ethnicity, address, phone, source, registered,
// updated.
func DefaultColumns() Columns {
	return Columns{ID: "id", Name: "name", DocType: "doc_type", DocNumber: "doc_number", Birth: "birth",
		Sex: "sex", Ethnicity: "ethnicity", Address: "address", Phone: "phone", Source: "source",
		Registered: "registered", Updated: "updated"}
}

// ChineseColumns returns the column names of a Chinese registry export:
// 编号, 姓名, 证件类型, 证件号码, 出生日期, 性别, 民族, 住址, 手机号码, 来源,
// 登记时间, 更新时间.
func ChineseColumns() Columns {
	return Columns{ID: "编号", Name: "姓名", DocType: "证件类型", DocNumber: "证件号码", Birth: "出生日期",
		Sex: "性别", Ethnicity: "民族", Address: "住址", Phone: "手机号码", Source: "来源",
		Registered: "登记时间", Updated: "更新时间"}
}

func (c Columns) withDefaults() Columns {
	d := DefaultColumns()
	for _, p := range []struct{ v, d *string }{
		{&c.ID, &d.ID}, {&c.Name, &d.Name}, {&c.DocType, &d.DocType}, {&c.DocNumber, &d.DocNumber},
		{&c.Birth, &d.Birth}, {&c.Sex, &d.Sex}, {&c.Ethnicity, &d.Ethnicity}, {&c.Address, &d.Address},
		{&c.Phone, &d.Phone}, {&c.Source, &d.Source}, {&c.Registered, &d.Registered}, {&c.Updated, &d.Updated},
	} {
		if *p.v == "" {
			*p.v = *p.d
		}
	}
	return c
}

// fieldColumn returns the column name of f.
func (c Columns) fieldColumn(f Field) string {
	switch f {
	case FieldName:
		return c.Name
	case FieldDocType:
		return c.DocType
	case FieldDocNumber:
		return c.DocNumber
	case FieldBirth:
		return c.Birth
	case FieldSex:
		return c.Sex
	case FieldEthnicity:
		return c.Ethnicity
	case FieldAddress:
		return c.Address
	case FieldPhone:
		return c.Phone
	case FieldSource:
		return c.Source
	}
	return ""
}

// CSVConfig configures Reader and Writer. The zero value reads and writes
// comma-separated files with DefaultColumns, times as RFC 3339, and does
// not validate.
type CSVConfig struct {
	Columns Columns
	// Comma is the field separator; default ','.
	Comma rune
	// Location is the zone of times written without an offset; default
	// UTC+8 (China Standard Time).
	Location *time.Location
	// Validate, if set, runs Validate on every row read, with this
	// configuration; problems come back in the row's *RowError.
	Validate *ValidateConfig
	// MaxFieldBytes: Reader refuses a value longer than this in the id,
	// time and registry field columns (ErrFormat); extra columns are
	// carried, never compared, and have no limit. Default
	// DefaultMaxFieldBytes; negative turns the check off.
	MaxFieldBytes int
}

var chinaTime = time.FixedZone("CST", 8*3600)

func (c CSVConfig) withDefaults() CSVConfig {
	c.Columns = c.Columns.withDefaults()
	if c.Comma == 0 {
		c.Comma = ','
	}
	if c.Location == nil {
		c.Location = chinaTime
	}
	if c.MaxFieldBytes == 0 {
		c.MaxFieldBytes = DefaultMaxFieldBytes
	}
	return c
}

// Reader reads Records from CSV with a header row. Columns are found by
// name in the header (in any order); columns it does not know are kept in
// Record.Extra in file order. Every value must be valid UTF-8
// (ErrEncoding) and no longer than CSVConfig.MaxFieldBytes. A Reader is
// not safe for concurrent use.
type Reader struct {
	cfg     CSVConfig
	r       *csv.Reader
	header  []string
	idx     [numFields]int // column of each field, -1 if absent
	fieldOf []Field        // the field of each column, 0 for id, times and extras
	id      int
	reg     int
	upd     int
	extra   []int
}

// NewReader reads the header of r and returns a Reader. The header must
// name the ID column; a field without a column reads as empty.
func NewReader(r io.Reader, cfg CSVConfig) (*Reader, error) {
	cfg = cfg.withDefaults()
	cr := csv.NewReader(r)
	cr.Comma = cfg.Comma
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: line 1: no header", ErrCSV)
		}
		return nil, fmt.Errorf("%w: line 1: header: %v", ErrCSV, err)
	}
	// Rows are copied into Records field by field, so the row slice can
	// be reused (the field strings themselves are fresh for every row).
	cr.ReuseRecord = true
	rd := &Reader{cfg: cfg, r: cr, header: slices.Clone(head), id: -1, reg: -1, upd: -1}
	for i := range rd.idx {
		rd.idx[i] = -1
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%w: line 1: column %q appears twice", ErrCSV, h)
		}
		col[h] = i
	}
	known := map[int]bool{}
	find := func(name string) int {
		if i, ok := col[name]; ok {
			known[i] = true
			return i
		}
		return -1
	}
	rd.id = find(cfg.Columns.ID)
	if rd.id < 0 {
		return nil, fmt.Errorf("%w: line 1: no %q column", ErrCSV, cfg.Columns.ID)
	}
	for _, f := range AllFields() {
		rd.idx[f] = find(cfg.Columns.fieldColumn(f))
	}
	rd.reg = find(cfg.Columns.Registered)
	rd.upd = find(cfg.Columns.Updated)
	rd.fieldOf = make([]Field, len(head))
	for _, f := range AllFields() {
		if i := rd.idx[f]; i >= 0 {
			rd.fieldOf[i] = f
		}
	}
	for i := range head {
		if !known[i] {
			rd.extra = append(rd.extra, i)
		}
	}
	return rd, nil
}

// Header returns the header row as read.
func (rd *Reader) Header() []string { return rd.header }

// Read returns the next record, or io.EOF after the last. A row with
// problems returns the record as far as it could be read together with a
// *RowError (line, and each field's problem); the caller may keep calling
// Read, as the next row is unaffected. Other errors (from the underlying
// reader) are final.
func (rd *Reader) Read() (Record, error) {
	row, err := rd.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if pe.Line != pe.StartLine {
				// A quoted field ran on: say where the reader stopped.
				return Record{}, &RowError{Line: pe.StartLine, Err: fmt.Errorf("%w: %v (at line %d, column %d)", ErrCSV, pe.Err, pe.Line, pe.Column)}
			}
			return Record{}, &RowError{Line: pe.StartLine, Col: pe.Column, Err: fmt.Errorf("%w: %v", ErrCSV, pe.Err)}
		}
		return Record{}, fmt.Errorf("dedupe: read CSV: %w", err)
	}
	line, _ := rd.r.FieldPos(0)
	if len(row) != len(rd.header) {
		return Record{}, &RowError{Line: line, Err: fmt.Errorf("%w: %d columns, header has %d", ErrCSV, len(row), len(rd.header))}
	}
	// fields collects the row's problems; a RowError is built only for a
	// bad row, so good rows allocate nothing for it. bad marks the
	// columns that are not text (not UTF-8, too long), checked no further.
	var fields []*FieldError
	var bad []bool
	problem := func(i int, fe *FieldError) {
		fe.Column = rd.header[i]
		fe.Line, fe.Col = rd.r.FieldPos(i)
		fields = append(fields, fe)
	}
	for i, v := range row {
		limit := rd.cfg.MaxFieldBytes
		if rd.fieldOf[i] == 0 && i != rd.id && i != rd.reg && i != rd.upd {
			limit = -1
		}
		if fe, _ := checkText(v, limit); fe != nil {
			fe.Field = rd.fieldOf[i]
			problem(i, fe)
			if bad == nil {
				bad = make([]bool, len(row))
			}
			bad[i] = true
		}
	}
	isBad := func(i int) bool { return bad != nil && bad[i] }
	var rec Record
	var id int64
	if !isBad(rd.id) {
		var err error
		id, err = strconv.ParseInt(strings.TrimSpace(row[rd.id]), 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			id = 0
			problem(rd.id, &FieldError{Err: ErrFormat, Reason: "id is out of range (a 64-bit integer)"})
		case err != nil:
			id = 0
			problem(rd.id, &FieldError{Err: ErrFormat, Reason: "id is not an integer"})
		}
	}
	rec.ID = id
	for _, f := range AllFields() {
		if i := rd.idx[f]; i >= 0 {
			rec.Set(f, row[i])
		}
	}
	parseTime := func(i int, dst *time.Time) {
		if i < 0 || isBad(i) {
			return
		}
		s := strings.TrimSpace(row[i])
		if s == "" {
			return
		}
		t, err := parseTimestamp(s, rd.cfg.Location)
		if err != nil {
			problem(i, &FieldError{Err: ErrDate, Reason: "want a time like 2006-01-02T15:04:05+08:00 or 2006-01-02 15:04:05"})
			return
		}
		*dst = t
	}
	parseTime(rd.reg, &rec.Registered)
	parseTime(rd.upd, &rec.Updated)
	if len(rd.extra) > 0 {
		rec.Extra = make([]ExtraField, len(rd.extra))
		for k, i := range rd.extra {
			rec.Extra[k] = ExtraField{Name: rd.header[i], Value: row[i]}
		}
	}
	if rd.cfg.Validate != nil {
		for _, fe := range Validate(&rec, *rd.cfg.Validate) {
			if errors.Is(fe.Err, ErrEncoding) {
				continue // reported above, for every column, with its position
			}
			if i := rd.idx[fe.Field]; fe.Field != 0 && i >= 0 {
				if isBad(i) {
					continue
				}
				problem(i, fe)
				continue
			}
			fields = append(fields, fe)
		}
	}
	if len(fields) > 0 {
		return rec, &RowError{Line: line, ID: id, Fields: fields}
	}
	return rec, nil
}

// timeLayouts are tried in order by parseTimestamp.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006/01/02 15:04:05", "2006-01-02"}

// parseTimestamp parses a registration time; times without an offset are
// in loc.
func parseTimestamp(s string, loc *time.Location) (time.Time, error) {
	s = fold(s)
	var err error
	for _, l := range timeLayouts {
		var t time.Time
		if t, err = time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// GoodRows wraps a RecordReader so that rows rejected with a *RowError are
// skipped (and handed to bad, if not nil) while good rows continue. Other
// errors pass through.
func GoodRows(r RecordReader, bad func(*RowError)) RecordReader {
	return goodRows{r: r, bad: bad}
}

type goodRows struct {
	r   RecordReader
	bad func(*RowError)
}

func (g goodRows) Read() (Record, error) {
	for {
		rec, err := g.r.Read()
		var re *RowError
		if errors.As(err, &re) {
			if g.bad != nil {
				g.bad(re)
			}
			continue
		}
		return rec, err
	}
}

// Writer writes Records as CSV with a header row: the columns of
// CSVConfig.Columns, then the extra columns named at NewWriter (taken from
// each Record.Extra by name, empty when absent). Times are written as RFC
// 3339. A Writer is not safe for concurrent use.
type Writer struct {
	cfg    CSVConfig
	w      *csv.Writer
	extra  []string
	row    []string
	header bool
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer, cfg CSVConfig, extra []string) *Writer {
	cfg = cfg.withDefaults()
	cw := csv.NewWriter(w)
	cw.Comma = cfg.Comma
	return &Writer{cfg: cfg, w: cw, extra: extra}
}

// Write writes one record (and the header before the first).
func (wr *Writer) Write(r Record) error {
	c := wr.cfg.Columns
	if !wr.header {
		wr.header = true
		head := []string{c.ID}
		for _, f := range AllFields() {
			head = append(head, c.fieldColumn(f))
		}
		head = append(head, c.Registered, c.Updated)
		head = append(head, wr.extra...)
		if err := wr.w.Write(head); err != nil {
			return fmt.Errorf("dedupe: write CSV: %w", err)
		}
	}
	row := append(wr.row[:0], strconv.FormatInt(r.ID, 10))
	for _, f := range AllFields() {
		row = append(row, r.Get(f))
	}
	row = append(row, formatTime(r.Registered), formatTime(r.Updated))
	for _, name := range wr.extra {
		v := ""
		for _, e := range r.Extra {
			if e.Name == name {
				v = e.Value
				break
			}
		}
		row = append(row, v)
	}
	wr.row = row
	if err := wr.w.Write(row); err != nil {
		return fmt.Errorf("dedupe: write CSV: %w", err)
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// Flush writes buffered rows and reports any write error.
func (wr *Writer) Flush() error {
	wr.w.Flush()
	if err := wr.w.Error(); err != nil {
		return fmt.Errorf("dedupe: write CSV: %w", err)
	}
	return nil
}
