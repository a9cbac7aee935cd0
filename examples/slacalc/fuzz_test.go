package main

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/sla"
)

// FuzzReadFiles feeds arbitrary bytes to the three CSV readers: they never
// panic, and every refusal names the file and a line inside it.
func FuzzReadFiles(f *testing.F) {
	for _, name := range []string{"testdata/incidents.csv", "testdata/outages.csv", "testdata/events.csv", "testdata/bad-incidents.csv", "testdata/shaanxi-incidents.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("id,level,event,at\n\"A,L1,opened,2024-01-01 00:00\n"))
	f.Add([]byte("item,event,quantity\nkey_staff_missing,x,1e9\n"))
	c, err := sla.Preset("chengdu")
	if err != nil {
		f.Fatal(err)
	}
	loc := zone(c)
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		readers := []struct {
			req, opt []string
			read     func(*cli.Table, *sla.Input) error
		}{
			{[]string{"id", "level", "event", "at"}, []string{"major"}, func(tb *cli.Table, in *sla.Input) error {
				in.AsOf = time.Date(2200, 12, 31, 0, 0, 0, 0, loc)
				return readIncidents(tb, c, loc, "-asof", in)
			}},
			{[]string{"id", "kind", "start", "end"}, nil, func(tb *cli.Table, in *sla.Input) error { return readOutages(tb, loc, in) }},
			{[]string{"item", "event"}, []string{"quantity", "major", "note"}, func(tb *cli.Table, in *sla.Input) error { return readEvents(tb, c, in) }},
		}
		for _, r := range readers {
			var in sla.Input
			tb, err := cli.OpenTable("f.csv", bytes.NewReader(data), r.req, r.opt)
			if err == nil {
				err = r.read(tb, &in)
			}
			if err == nil {
				continue
			}
			var re *cli.RowError
			if !errors.As(err, &re) {
				t.Fatalf("error without a position: %v", err)
			}
			if re.File != "f.csv" || re.Line < 1 || re.Line > lines {
				t.Fatalf("position %s:%d outside the input's %d lines: %v", re.File, re.Line, lines, err)
			}
		}
	})
}
