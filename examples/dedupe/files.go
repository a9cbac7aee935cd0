package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

// parseBytes reads "512MiB", "2GiB", "1.5G", "800MB" or a plain number of
// bytes.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: want a positive size like 512MiB or 2GiB", s)
	}
	return int64(v * mult), nil
}

// columnsFor maps the -columns flag to column names.
func columnsFor(s string) (dedupe.Columns, error) {
	switch s {
	case "en", "":
		return dedupe.DefaultColumns(), nil
	case "zh":
		return dedupe.ChineseColumns(), nil
	}
	return dedupe.Columns{}, fmt.Errorf("-columns %q: want en or zh", s)
}

// parseKeys reads "doc_type,doc_number,name,phone".
func parseKeys(s string) ([]dedupe.Field, error) {
	if s == "" {
		return nil, nil
	}
	var out []dedupe.Field
	for k := range strings.SplitSeq(s, ",") {
		f, err := dedupe.ParseField(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("-keys %q: %w", k, err)
		}
		out = append(out, f)
	}
	return out, nil
}
