package main

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// FuzzReadVerdicts feeds arbitrary bytes to the reviewers' decisions
// reader: it never panics, every refusal names the file and a line inside
// it, and every verdict read carries the line it came from.
func FuzzReadVerdicts(f *testing.F) {
	b, err := os.ReadFile("testdata/reviewer-decisions.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("group,action,records,survivor,set,reviewer,reason,at\nrev-1,merge,1;2,3,name=张三;birth=1990-01-01,r,x,2022-03-10T10:00:00+08:00\n"))
	f.Add([]byte("group,action,reviewer,reason,at\nrev-1,keep,r,\"a\nb\",2022-03-10 10:00\n"))
	f.Add([]byte("group,action,reviewer,reason,at\nrev-1,keep,\xd5\xc5,ok,2022-03-10 10:00\n"))
	f.Add([]byte("\ufeffgroup,action,reviewer,reason,at\r\nrev-1,keep,r,\"o\"k,2022-03-10 10:00\r\n"))
	f.Add([]byte("group,action,records,survivor,reviewer,reason,at\nrev-1,merge,99999999999999999999,-1,r,x,2022-02-30 10:00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		vs, at, err := readVerdicts("d.csv", bytes.NewReader(data))
		if err != nil {
			var re *cli.RowError
			if !errors.As(err, &re) {
				t.Fatalf("error without a position: %v", err)
			}
			if re.File != "d.csv" || re.Line < 1 || re.Line > lines || re.Column < 0 {
				t.Fatalf("position %s:%d outside the input's %d lines: %v", re.File, re.Line, lines, err)
			}
			return
		}
		if len(vs) != len(at) {
			t.Fatalf("%d verdicts, %d lines", len(vs), len(at))
		}
		for _, l := range at {
			if l < 2 || l > lines {
				t.Fatalf("verdict line %d outside 2..%d", l, lines)
			}
		}
	})
}

// FuzzReadReviews: the review queue reader never panics on arbitrary
// input, and what it accepts survives a write and a second read unchanged.
func FuzzReadReviews(f *testing.F) {
	f.Add([]byte(`[{"id":"rev-1","kind":"suspicious","proposed":1,"records":[{"id":1,"name":"a","doc_type":"身份证","doc_number":"x","birth":"2000-01-01"}],"diffs":[{"field":"name","values":["a"],"similarity":[1],"min":1}]}]`))
	f.Add([]byte(`[{"id":"rev-1","kind":"conflict","proposed":2,"auto_dropped":[3],"records":[{"id":2,"registered":"2022-03-01T09:00:00+08:00"}],"diffs":[]}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		gs, err := readReviews("r.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		s := newFileSink(&bytes.Buffer{}, &buf)
		for _, g := range gs {
			if err := s.Review(g); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.close(); err != nil {
			t.Fatal(err)
		}
		again, err := readReviews("r.json", &buf)
		if err != nil {
			t.Fatalf("re-reading what was written: %v\n%s", err, buf.String())
		}
		if len(again) != len(gs) {
			t.Fatalf("%d groups, %d after a round trip", len(gs), len(again))
		}
		for i := range gs {
			if gs[i].ID != again[i].ID || gs[i].Kind != again[i].Kind || len(gs[i].Records) != len(again[i].Records) {
				t.Fatalf("group %d changed in a round trip", i)
			}
		}
	})
}
