package dedupe

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReaderRowErrorsAndGoodRowsContinue(t *testing.T) {
	in := strings.Join([]string{
		"编号,姓名,证件类型,证件号码,出生日期,备注,登记时间",
		"1,张三,身份证,11010519491231002X,1949-12-31,ok,2022-06-01 08:00:00",
		"2,,身份证,11010519491231002Y,1949-13-31,bad,2022-06-01",
		"x,李四,护照,E12,1990-01-01,bad id,",
		`3,张"三,身份证,1,1,1,1`,
		"4,王五,身份证,110105491231002,19491231,legacy,2022-06-01T08:00:00Z",
		"5,only,three",
		"6,赵六,身份证,11010519491231002X,1949-12-31,,yesterday",
		`7,"unclosed,身份证,1,1,1,1`,
	}, "\n")
	cfg := CSVConfig{Columns: ChineseColumns(), Validate: &ValidateConfig{}}
	rd, err := NewReader(strings.NewReader(in), cfg)
	require.NoError(t, err)
	var good []Record
	var bad []*RowError
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		require.NoError(t, err)
		good = append(good, rec)
	}
	require.Len(t, good, 2)
	require.Equal(t, int64(1), good[0].ID)
	require.Equal(t, []ExtraField{{Name: "备注", Value: "ok"}}, good[0].Extra)
	require.True(t, good[0].Registered.Equal(time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC)), "08:00 CST is 00:00 UTC")
	require.Equal(t, int64(4), good[1].ID)

	lines := []int{}
	for _, b := range bad {
		lines = append(lines, b.Line)
	}
	require.Equal(t, []int{3, 4, 5, 7, 8, 9}, lines)
	// Line 3: three problems, none quoting the ID.
	require.ErrorIs(t, bad[0], ErrRequired)
	require.ErrorIs(t, bad[0], ErrFormat)
	require.ErrorIs(t, bad[0], ErrDate)
	require.NotContains(t, bad[0].Error(), "11010519491231002Y")
	require.Contains(t, bad[0].Error(), "line 3")
	require.Contains(t, bad[0].Error(), "证件号码")
	// Line 4: the id column, and a passport number that is too short.
	require.Contains(t, bad[1].Error(), "column 编号")
	require.Contains(t, bad[1].Error(), "5 to 20")
	require.ErrorIs(t, bad[2], ErrCSV)
	require.ErrorIs(t, bad[3], ErrCSV)
	require.ErrorIs(t, bad[4], ErrDate)
	require.Contains(t, bad[4].Error(), "登记时间")
	require.ErrorIs(t, bad[5], ErrCSV, "an unclosed quote swallows the rest of the file")
}

func TestReaderHeaderErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"no id":     "name,doc_number\n",
		"duplicate": "id,name,name\n",
	} {
		_, err := NewReader(strings.NewReader(in), CSVConfig{})
		require.ErrorIs(t, err, ErrCSV, name)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	recs := []Record{
		{ID: 1, Name: "张三", DocType: "身份证", DocNumber: "11010519491231002X", Birth: "1949-12-31", Sex: "男",
			Ethnicity: "汉", Address: "北京市, \"东城区\"", Phone: "13800138000", Source: "社区登记",
			Registered: time.Date(2022, 6, 1, 8, 0, 0, 0, chinaTime), Extra: []ExtraField{{Name: "note", Value: "a"}}},
		{ID: 2, Name: "李四", Updated: time.Date(2022, 6, 2, 8, 0, 0, 5, time.UTC)},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, CSVConfig{Comma: ';'}, []string{"note"})
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	rd, err := NewReader(&buf, CSVConfig{Comma: ';'})
	require.NoError(t, err)
	for _, want := range recs {
		got, err := rd.Read()
		require.NoError(t, err)
		require.True(t, want.Registered.Equal(got.Registered))
		require.True(t, want.Updated.Equal(got.Updated))
		want.Registered, want.Updated, got.Registered, got.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if want.Extra == nil {
			want.Extra = []ExtraField{{Name: "note"}}
		}
		require.Equal(t, want, got)
	}
	_, err = rd.Read()
	require.ErrorIs(t, err, io.EOF)
}

func TestGoodRows(t *testing.T) {
	in := "id,name\n1,a\nx,b\n3,c\n"
	rd, err := NewReader(strings.NewReader(in), CSVConfig{})
	require.NoError(t, err)
	var bad []int
	g := GoodRows(rd, func(e *RowError) { bad = append(bad, e.Line) })
	var ids []int64
	for {
		r, err := g.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	require.Equal(t, []int64{1, 3}, ids)
	require.Equal(t, []int{3}, bad)
}

func TestValidate(t *testing.T) {
	ok := Record{Name: "张三", DocType: "身份证", DocNumber: "11010519491231002X", Birth: "1949-12-31", Sex: "男", Phone: "13800138000"}
	tests := []struct {
		name  string
		edit  func(r *Record)
		field Field
		err   error
	}{
		{"valid", func(r *Record) {}, 0, nil},
		{"legacy 15", func(r *Record) { r.DocNumber = "110105491231002" }, 0, nil},
		{"HK permit checksum", func(r *Record) { r.DocType = "港澳居民居住证"; r.DocNumber = "810000199003070016" }, FieldDocNumber, ErrChecksum},
		{"passport", func(r *Record) { r.DocType = "护照"; r.DocNumber = "E12345678" }, 0, nil},
		{"passport short", func(r *Record) { r.DocType = "护照"; r.DocNumber = "E1" }, FieldDocNumber, ErrFormat},
		{"checksum", func(r *Record) { r.DocNumber = "110105194912310021" }, FieldDocNumber, ErrChecksum},
		{"length", func(r *Record) { r.DocNumber = "1101051949123100" }, FieldDocNumber, ErrFormat},
		{"letters", func(r *Record) { r.DocNumber = "11010519491231A02X" }, FieldDocNumber, ErrFormat},
		{"id date", func(r *Record) { r.DocNumber = "110105194913310021" }, FieldDocNumber, ErrDate},
		{"name missing", func(r *Record) { r.Name = " \u3000" }, FieldName, ErrRequired},
		{"birth", func(r *Record) { r.Birth = "1949-02-30" }, FieldBirth, ErrDate},
		{"phone", func(r *Record) { r.Phone = "12345" }, FieldPhone, ErrFormat},
		{"landline", func(r *Record) { r.Phone = "029-88886666" }, 0, nil},
		{"sex", func(r *Record) { r.Sex = "unknown" }, FieldSex, ErrFormat},
		{"name not UTF-8", func(r *Record) { r.Name = "\xff\xfe" }, FieldName, ErrEncoding},
		{"address not UTF-8", func(r *Record) { r.Address = "北京\xe5" }, FieldAddress, ErrEncoding},
		{"extra not UTF-8", func(r *Record) { r.Extra = []ExtraField{{Name: "note", Value: "\xc3"}} }, 0, ErrEncoding},
		{"birth before 1900", func(r *Record) { r.Birth = "1899-12-31" }, FieldBirth, ErrDate},
		{"birth 1900", func(r *Record) { r.Birth = "1900-01-01" }, 0, nil},
		{"name too long", func(r *Record) { r.Name = strings.Repeat("张", 2000) }, FieldName, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			errs := Validate(&r, ValidateConfig{})
			if tt.err == nil {
				require.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1)
			require.Equal(t, tt.field, errs[0].Field)
			require.ErrorIs(t, errs[0], tt.err)
			require.NotContains(t, errs[0].Error(), r.DocNumber)
		})
	}
}

// Every field is read as UTF-8: a byte sequence that is not (a name
// exported as GBK, "\xff\xfe") is a row error naming the column and where
// the field starts, in any column, the extra ones included.
func TestReaderRefusesInvalidUTF8(t *testing.T) {
	in := "id,name,doc_type,doc_number,birth,note\n" +
		"1,\xff\xfe,身份证,11010519491231002X,1949-12-31,\n" +
		"2,张三,身份证,11010519491231002X,1949-12-31,ok\xc3\n" +
		"3,\"张\xff\",身份证,11010519491231002X,1949-12-31,\n" +
		"4,张三,身份证,11010519491231002X,1949-12-31,ok\n"
	for _, validate := range []*ValidateConfig{nil, {}} {
		rd, err := NewReader(strings.NewReader(in), CSVConfig{Validate: validate})
		require.NoError(t, err)
		type pos struct{ line, col int }
		var bad []pos
		var good []int64
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *RowError
			if errors.As(err, &re) {
				require.ErrorIs(t, err, ErrEncoding)
				require.Len(t, re.Fields, 1, "one problem, reported once: %v", err)
				l, c := re.Pos()
				bad = append(bad, pos{l, c})
				continue
			}
			require.NoError(t, err)
			good = append(good, rec.ID)
		}
		require.Equal(t, []int64{4}, good)
		// Where the field starts, in bytes as encoding/csv counts them
		// ("张" is three): its opening quote if it has one.
		require.Equal(t, []pos{{2, 3}, {3, 50}, {4, 3}}, bad)
	}
}

// A registry field longer than CSVConfig.MaxFieldBytes is refused as it is
// read: it is no name or address, and comparing two of them would take
// quadratic time.
func TestReaderRefusesOverlongFields(t *testing.T) {
	long := strings.Repeat("a", 5000)
	in := "id,name,note\n1," + long + ",x\n2,b," + long + "\n3,c,x\n"
	rd, err := NewReader(strings.NewReader(in), CSVConfig{})
	require.NoError(t, err)
	_, err = rd.Read()
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, "line 2, column 3: name: longer than 4096 bytes")
	rec, err := rd.Read()
	require.NoError(t, err, "extra columns are carried, not compared: no limit")
	require.Equal(t, long, rec.Extra[0].Value)

	rd, err = NewReader(strings.NewReader(in), CSVConfig{MaxFieldBytes: -1})
	require.NoError(t, err)
	rec, err = rd.Read()
	require.NoError(t, err, "a negative limit turns the check off")
	require.Equal(t, long, rec.Name)
}

// An id that does not fit int64 is reported as such, with no made-up id.
func TestReaderIDOutOfRange(t *testing.T) {
	rd, err := NewReader(strings.NewReader("id,name\n99999999999999999999,a\n"), CSVConfig{})
	require.NoError(t, err)
	_, err = rd.Read()
	var re *RowError
	require.ErrorAs(t, err, &re)
	require.Zero(t, re.ID)
	require.ErrorContains(t, err, "line 2, column 1: column id: id is out of range")
}

// The position of a row error is that of its first problem.
func TestRowErrorPosition(t *testing.T) {
	in := "id,name,birth,registered\n" +
		"1,a,1949-12-31,yesterday\n" +
		"2,a,\"x\"y,\n" +
		"3,\"a\n\",1949-12-31,x\n"
	rd, err := NewReader(strings.NewReader(in), CSVConfig{})
	require.NoError(t, err)
	var msgs []string
	for {
		_, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.Error(t, err)
		msgs = append(msgs, err.Error())
	}
	require.Equal(t, []string{
		"dedupe: line 2, column 16: column registered: want a time like 2006-01-02T15:04:05+08:00 or 2006-01-02 15:04:05",
		`dedupe: line 3, column 7: bad CSV row: extraneous or missing " in quoted-field`,
		"dedupe: line 5, column 14: column registered: want a time like 2006-01-02T15:04:05+08:00 or 2006-01-02 15:04:05",
	}, msgs)
}

// Birth dates are checked against ValidateConfig.Today when it is set
// (Validate never reads the clock), in the birth column and in an ID
// number's positions 7-14.
func TestValidateBirthNotInTheFuture(t *testing.T) {
	today := time.Date(2024, 3, 1, 15, 0, 0, 0, chinaTime)
	r := Record{Name: "张三", DocType: "护照", DocNumber: "E12345678", Birth: "2024-03-01"}
	require.Empty(t, Validate(&r, ValidateConfig{Today: today}), "born today")
	r.Birth = "2024-03-02"
	require.Empty(t, Validate(&r, ValidateConfig{}), "no Today, no check")
	errs := Validate(&r, ValidateConfig{Today: today})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ErrDate)
	require.Equal(t, "dedupe: birth: after today", errs[0].Error())

	// 110105 2025-01-01 001 and its check character.
	id := "11010520250101001"
	id += string(idCheckDigit(id))
	r = Record{Name: "张三", DocType: "身份证", DocNumber: id, Birth: "2025-01-01"}
	errs = Validate(&r, ValidateConfig{Today: today})
	require.Len(t, errs, 2)
	require.Equal(t, FieldDocNumber, errs[0].Field)
	require.ErrorIs(t, errs[0], ErrDate)
	require.Equal(t, FieldBirth, errs[1].Field)
}
