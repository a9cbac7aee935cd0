package main

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcode-sdk/healthcode/dedupe"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

var gen = flag.Bool("gen", false, "regenerate testdata/registry.csv, source.csv and issued.csv from internal/synth")

// sample files: a small registry with known duplicates, suspicious records
// and formatting noise, and a source/issued pair with planted differences.
func sampleFiles(t *testing.T) map[string][]byte {
	t.Helper()
	start := time.Date(2022, 3, 1, 9, 0, 0, 0, cst)
	recs, _ := synth.New(8).Registry(synth.RegistryConfig{Records: 240, DupRate: 0.08, SuspiciousRate: 0.04, NoiseRate: 0.1, Start: start})
	conv := make([]dedupe.Record, len(recs))
	for i, x := range recs {
		conv[i] = dedupe.Record{ID: x.ID, Name: x.Name, DocType: x.DocType, DocNumber: x.DocNumber, Birth: x.Birth,
			Sex: x.Sex, Ethnicity: x.Ethnicity, Address: x.Address, Phone: x.Phone, Source: x.Source,
			Registered: x.Registered, Updated: x.Updated}
	}
	write := func(rs []dedupe.Record) []byte {
		var b bytes.Buffer
		w := dedupe.NewWriter(&b, dedupe.CSVConfig{}, nil)
		for _, r := range rs {
			require.NoError(t, w.Write(r))
		}
		require.NoError(t, w.Flush())
		return b.Bytes()
	}
	// Reconciliation: people 1-80 are the source (fresh, no duplicates);
	// the issued file renumbers them from 1001, leaves out source 7 and 23,
	// issues source 40 twice and adds person 200, who is not in the source.
	people, _ := synth.New(9).Registry(synth.RegistryConfig{Records: 200, Start: start})
	var src, iss []dedupe.Record
	for _, x := range people {
		r := dedupe.Record{ID: x.ID, Name: x.Name, DocType: x.DocType, DocNumber: x.DocNumber, Birth: x.Birth,
			Sex: x.Sex, Ethnicity: x.Ethnicity, Phone: x.Phone, Source: x.Source, Registered: x.Registered}
		if x.ID <= 80 {
			src = append(src, r)
		}
		c := r
		c.ID += 1000
		switch {
		case x.ID == 7 || x.ID == 23:
		case x.ID == 40:
			iss = append(iss, c)
			c.ID = 1999
			iss = append(iss, c)
		case x.ID <= 80 || x.ID == 200:
			iss = append(iss, c)
		}
	}
	return map[string][]byte{
		"testdata/registry.csv": write(conv),
		"testdata/source.csv":   write(src),
		"testdata/issued.csv":   write(iss),
	}
}

// The committed samples are what the generator gives; -gen rewrites them.
func TestSampleFiles(t *testing.T) {
	for name, want := range sampleFiles(t) {
		if *gen {
			require.NoError(t, os.WriteFile(name, want, 0o644))
			continue
		}
		got, err := os.ReadFile(name)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s differs from the generator: go test ./examples/dedupe -run TestSampleFiles -gen", name)
		require.Less(t, len(got), 100<<10, name)
	}
}
