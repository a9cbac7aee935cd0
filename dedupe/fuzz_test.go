package dedupe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzReader feeds arbitrary CSV to the reader with validation on: it
// must never panic, every row error must carry a line, and no error may
// quote a document number it read.
func FuzzReader(f *testing.F) {
	f.Add("id,name,doc_type,doc_number,birth,phone\n1,张三,身份证,11010519491231002X,1949-12-31,13800138000\n")
	f.Add("id,name,doc_number\n2,,110105491231002\nx,a,b\n")
	f.Add("编号,姓名\n\"1\",\"a\"\"b\"\n3,\"unclosed\n")
	f.Add("id,registered,updated\n1,2022-06-01T08:00:00+08:00,yesterday\n")
	f.Add("id,name,note\n1,\xff\xfe,x\n2,\"张\xff\",\xc3\n3,a,b\n")
	f.Add("\ufeffid,name\r\n1,张三\r\n2,\"a\r\nb\"\r\n")
	f.Add("id,name\n99999999999999999999,a\n-1,b\n1," + strings.Repeat("长", 1400) + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Count(in, "\n") + 1
		v := ValidateConfig{}
		rd, err := NewReader(strings.NewReader(in), CSVConfig{Validate: &v})
		if err != nil {
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("header error %v does not wrap ErrCSV", err)
			}
			return
		}
		for i := 0; i < 10000; i++ {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *RowError
			if !errors.As(err, &re) {
				if err != nil {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				for _, fd := range AllFields() {
					if !utf8.ValidString(rec.Get(fd)) {
						t.Fatalf("field %s is not UTF-8 and was accepted", fd)
					}
				}
				for _, x := range rec.Extra {
					if !utf8.ValidString(x.Value) {
						t.Fatalf("column %q is not UTF-8 and was accepted", x.Name)
					}
				}
				continue
			}
			if re.Line <= 0 {
				t.Fatalf("row error without a line: %v", re)
			}
			if l, c := re.Pos(); l < re.Line || l > lines || c < 0 {
				t.Fatalf("position %d:%d outside the input's %d lines: %v", l, c, lines, re)
			}
			if n := NormalizeDocNumber(rec.DocNumber); len(n) >= 8 && strings.Contains(re.Error(), n) {
				t.Fatalf("error %q quotes the document number", re.Error())
			}
		}
	})
}

// FuzzNormalize checks that every normaliser is idempotent and keeps
// valid UTF-8, and that NormalizeDate's output parses to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"张 三", "阿依古丽•买买提", "１１０１０５４９１２３１００２", "11010519491231002x", "1990年3月7日",
		"+86 138-0013-8000", "汉族", "John  Smith", " . ", "ǅ", "\u3000", "ﾟ", "1990/1/2 08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, fn := range map[string]func(string) string{
			"name": NormalizeName, "doc": NormalizeDocNumber, "text": NormalizeText, "phone": NormalizePhone,
			"sex": NormalizeSex, "ethnicity": NormalizeEthnicity, "doctype": NormalizeDocType, "address": NormalizeAddress,
		} {
			once := fn(s)
			if utf8.ValidString(s) && !utf8.ValidString(once) {
				t.Fatalf("%s(%q) = %q is not valid UTF-8", name, s, once)
			}
			if twice := fn(once); twice != once {
				t.Fatalf("%s not idempotent: %q -> %q -> %q", name, s, once, twice)
			}
		}
		if d, err := NormalizeDate(s); err == nil {
			if d2, err := NormalizeDate(d); err != nil || d2 != d {
				t.Fatalf("NormalizeDate(%q) = %q, which gives %q, %v", s, d, d2, err)
			}
		}
		_ = JaroWinkler(s, NormalizeName(s))
	})
}

// FuzzLoadPolicy: any input either loads a policy that validates or fails
// with ErrInvalidPolicy.
func FuzzLoadPolicy(f *testing.F) {
	f.Add("duplicate_key: [name, doc_number, birth, ethnicity]\nsuspicious_key: [doc_number]\nkeep: latest\ntie: lowest_id\n")
	f.Add(`{"identical": ["name"], "keep": "earliest"}`)
	f.Add("keep: [1, 2]\n")
	f.Add("&a [*a]")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := LoadPolicy(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not wrap ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("loaded policy does not validate: %v", err)
		}
		if _, err := NewResolver(p, Config{}); err != nil {
			t.Fatalf("loaded policy refused: %v", err)
		}
	})
}

// FuzzSpillDecode: a corrupt partition is an error, never a panic, and a
// record that decodes encodes back to something that decodes to it.
func FuzzSpillDecode(f *testing.F) {
	enc, _ := encodeRecord(nil, nil, &Record{ID: 7, Name: "张三", Registered: time.Date(2022, 6, 1, 8, 0, 0, 0, chinaTime),
		Extra: []ExtraField{{Name: "a", Value: "b"}}})
	f.Add(append([]byte{1, 2, 3, 4, 5, 6, 7, 8}, enc...))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x05, 1, 2, 3, 4, 5})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		fr := newFileReader(bytes.NewReader(in))
		zones := zoneCache{}
		for i := 0; i < 1000; i++ {
			_, enc, err := fr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, errCorruptSpill) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			body, n, err := splitEncoded(enc)
			if err != nil || n != len(enc) {
				t.Fatalf("reader returned a bad record: %v", err)
			}
			var r Record
			if err := decodeBody(body, &r, zones); err != nil {
				if !errors.Is(err, errCorruptSpill) {
					t.Fatalf("unexpected error %v", err)
				}
				continue
			}
			again, _ := encodeRecord(nil, nil, &r)
			body2, _, err := splitEncoded(again)
			var r2 Record
			if err != nil || decodeBody(body2, &r2, zones) != nil {
				t.Fatalf("re-encoded record does not decode")
			}
			if r2.ID != r.ID || r2.Name != r.Name || !r2.Registered.Equal(r.Registered) || len(r2.Extra) != len(r.Extra) {
				t.Fatalf("round trip changed the record: %+v -> %+v", r, r2)
			}
		}
	})
}

// A resolve over fuzzed CSV must agree with the oracle.
func FuzzResolveCSV(f *testing.F) {
	f.Add("id,name,doc_number,birth,ethnicity,registered\n1,张三,110105491231002,19491231,汉,2022-06-01\n2,张 三,11010519491231002x,1949-12-31,汉族,2022-06-02\n3,李四,11010519491231002X,1949-12-31,汉,\n")
	f.Fuzz(func(t *testing.T, in string) {
		rd, err := NewReader(strings.NewReader(in), CSVConfig{})
		if err != nil {
			return
		}
		var recs []Record
		seen := map[int64]bool{}
		for i := 0; i < 200; i++ {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || seen[rec.ID] {
				continue
			}
			seen[rec.ID] = true
			recs = append(recs, rec)
		}
		want := render(oracleResolve(recs, Policy{}))
		got, err := Resolve(context.Background(), recs, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		if render(got) != want {
			t.Fatalf("resolver and oracle disagree:\n%s\nvs\n%s", render(got), want)
		}
	})
}
