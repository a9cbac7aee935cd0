package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/sla"
)

// Ranges that no real input leaves; outside them a value is a typo.
const (
	minYear       = 1992  // the sla package's first possible holiday year
	maxYear       = 2200  // and its last
	maxField      = 4096  // bytes in one CSV field
	maxQuantity   = 10000 // of anything in one scorecard row
	maxLateDays   = 36600 // 100 years
	maxYearFlag   = 100   // contract years
	maxInputBytes = 1 << 20
)

// usageError is a command line that does not parse or lacks a required
// flag: main exits with status 2 for it, 1 for everything else.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// checkYear refuses instants outside the years any calendar can cover.
func checkYear(t time.Time) error {
	if y := t.Year(); y < minYear || y > maxYear {
		return fmt.Errorf("year %d outside %d..%d", y, minYear, maxYear)
	}
	return nil
}

// checkFields refuses a row with a field longer than maxField, before any
// message quotes it.
func checkFields(t *cli.Table, cols ...string) error {
	for _, c := range cols {
		if n := len(t.Get(c)); n > maxField {
			return t.Errf(c, fmt.Errorf("%d bytes: longer than %d", n, maxField))
		}
	}
	return nil
}

// slaErr formats an sla error about the document read from name as
// FILE:LINE:COLUMN: field "F": message. An error inside a file the
// document names (a contract's holidays: key) names that file, resolved
// against name's directory.
func slaErr(name string, err error) error {
	var fe *sla.FieldError
	if !errors.As(err, &fe) {
		return fmt.Errorf("%s: %w", name, err)
	}
	file := name
	if fe.File != "" {
		file = resolve(name, fe.File)
	}
	if fe.Line > 0 {
		return fmt.Errorf("%s:%d:%d: field %q: %s", file, fe.Line, fe.Column, fe.Field, fe.Msg)
	}
	return fmt.Errorf("%s: field %q: %s", file, fe.Field, fe.Msg)
}

// resolve reads a name a document gives relative to the document's
// directory.
func resolve(doc, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(doc), name)
}

// calErr adds to a missing-year error how to supply the year.
func calErr(prefix string, err error) error {
	if errors.Is(err, sla.ErrNoCalendarData) {
		return fmt.Errorf("%s: %w; slacalc takes them from -holidays FILE or a contract's holidays: key (README: Adding a year of holidays)", prefix, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// loadHolidays merges the years of a -holidays file over the shipped ones;
// nil when the flag is not given.
func loadHolidays(name string) (*sla.HolidaySet, error) {
	if name == "" {
		return nil, nil
	}
	b, err := readLimited(name)
	if err != nil {
		return nil, fmt.Errorf("-holidays: %w", err)
	}
	user, err := sla.ParseHolidays(b)
	if err != nil {
		return nil, slaErr(name, err)
	}
	h, err := sla.ChinaMainland().Merge(user)
	if err != nil {
		return nil, slaErr(name, err)
	}
	return h, nil
}

func readLimited(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if len(b) > maxInputBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxInputBytes)
	}
	return b, nil
}

// loadContract takes a shipped preset by name, or parses a YAML file whose
// holidays: key is read relative to it. holidays is the base set of
// working-hours calendars (nil: the shipped years).
func loadContract(name string, holidays *sla.HolidaySet) (*sla.Contract, error) {
	if slices.Contains(sla.PresetNames(), name) {
		b, err := sla.PresetYAML(name)
		if err != nil {
			return nil, err
		}
		c, err := sla.ParseContractWith(b, sla.ContractOptions{Holidays: holidays})
		if err != nil {
			return nil, fmt.Errorf("preset %s: %w", name, err)
		}
		return c, nil
	}
	b, err := readLimited(name)
	if err != nil {
		return nil, fmt.Errorf("contract: %w (presets: %s)", err, strings.Join(sla.PresetNames(), ", "))
	}
	c, err := sla.ParseContractWith(b, sla.ContractOptions{
		Holidays: holidays,
		ReadFile: func(f string) ([]byte, error) { return readLimited(resolve(name, f)) },
	})
	if err != nil {
		return nil, slaErr(name, err)
	}
	return c, nil
}
