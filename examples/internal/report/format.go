package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Validate reports the first thing in d that no renderer can write: a
// cell of an unknown Kind, a Number or Ratio that is NaN or infinite (an
// undefined ratio such as 0/0 is a Text cell, "—"), a row or total longer
// than its section's Columns, or a sheet name xlsx refuses (see Section.Sheet).
// WriteXLSX, WritePDF and HTML call it first.
func (d Document) Validate() error {
	check := func(where string, c Cell) error {
		switch c.Kind {
		case Text, Money:
			return nil
		case Number, Ratio:
			if math.IsNaN(c.Num) || math.IsInf(c.Num, 0) {
				return fmt.Errorf("report: %s: %v is not a figure (write an undefined value as Text)", where, c.Num)
			}
			return nil
		}
		return fmt.Errorf("report: %s: unknown cell kind %d", where, c.Kind)
	}
	for i, f := range d.Facts {
		if err := check(fmt.Sprintf("fact %d (%s)", i, f.Label), f.Value); err != nil {
			return err
		}
	}
	if _, err := sheetNames(d.Sections); err != nil {
		return err
	}
	for si, s := range d.Sections {
		rows := s.Rows
		if s.Total != nil {
			rows = append(rows[:len(rows):len(rows)], s.Total)
		}
		for ri, r := range rows {
			what := fmt.Sprintf("row %d", ri)
			if ri == len(s.Rows) {
				what = "total"
			}
			if len(r) > len(s.Columns) {
				return fmt.Errorf("report: section %d (%s) %s: %d cells for %d columns", si, s.Heading, what, len(r), len(s.Columns))
			}
			for ci, c := range r {
				if err := check(fmt.Sprintf("section %d (%s) %s column %d", si, s.Heading, what, ci), c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// String formats c as the PDF and HTML show it: money as ¥12,345.67
// (exact, from the fen), numbers with thousands separators, ratios as
// percentages with two decimals, text as it is.
func (c Cell) String() string {
	switch c.Kind {
	case Text:
		return c.Text
	case Number:
		return formatNumber(c.Num)
	case Money:
		return formatMoney(c.Fen)
	case Ratio:
		return formatRatio(c.Num)
	}
	return fmt.Sprintf("%%!Kind(%d)", c.Kind)
}

// yuan writes fen as a decimal with two places, exact: 1234567 is
// "12345.67", -5 is "-0.05". No float is involved.
func yuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u // two's complement: exact for math.MinInt64 too
	}
	s := fmt.Sprintf("%d.%02d", u/100, u%100)
	if neg {
		return "-" + s
	}
	return s
}

func formatMoney(fen int64) string {
	s := yuan(fen)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	dot := strings.IndexByte(s, '.')
	return sign + "¥" + group(s[:dot]) + s[dot:]
}

func formatNumber(n float64) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return strconv.FormatFloat(n, 'g', -1, 64)
	}
	s := strconv.FormatFloat(n, 'f', -1, 64)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		intPart, frac = s[:dot], s[dot:]
	}
	return sign + group(intPart) + frac
}

func formatRatio(frac float64) string {
	return strconv.FormatFloat(frac*100, 'f', 2, 64) + "%"
}

// group puts a comma between each three digits of an unsigned integer.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// sheetNames gives each section its xlsx sheet name: Section.Sheet as
// given (an error if xlsx refuses it or another section has it), else
// derived from the heading: characters xlsx forbids replaced, cut to 31
// UTF-16 units, and numbered " (2)", " (3)" ... to be unique. The summary
// sheet's name is taken.
func sheetNames(secs []Section) ([]string, error) {
	taken := map[string]bool{strings.ToLower(SummarySheet): true}
	names := make([]string, len(secs))
	for i, s := range secs { // given names first, so a derived one never takes one
		if s.Sheet == "" {
			continue
		}
		if err := checkSheet(s.Sheet); err != nil {
			return nil, fmt.Errorf("report: section %d (%s): sheet %q: %w", i, s.Heading, s.Sheet, err)
		}
		key := strings.ToLower(s.Sheet)
		if taken[key] {
			return nil, fmt.Errorf("report: section %d (%s): sheet %q: name already used", i, s.Heading, s.Sheet)
		}
		taken[key] = true
		names[i] = s.Sheet
	}
	for i, s := range secs {
		if s.Sheet != "" {
			continue
		}
		base := strings.Map(func(r rune) rune {
			if strings.ContainsRune(`:\/?*[]`, r) || r < ' ' {
				return '_'
			}
			return r
		}, strings.TrimSpace(s.Heading))
		base = strings.Trim(base, "'")
		if base == "" {
			base = fmt.Sprintf("Sheet%d", i+1)
		}
		name := cut16(base, maxSheet)
		for n := 2; taken[strings.ToLower(name)]; n++ {
			suffix := fmt.Sprintf(" (%d)", n)
			name = cut16(base, maxSheet-len(suffix)) + suffix
		}
		taken[strings.ToLower(name)] = true
		names[i] = name
	}
	return names, nil
}

const maxSheet = 31 // UTF-16 units, as Excel counts

func checkSheet(name string) error {
	switch {
	case len(utf16.Encode([]rune(name))) > maxSheet:
		return fmt.Errorf("longer than %d characters", maxSheet)
	case strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'"):
		return fmt.Errorf("begins or ends with '")
	case strings.ContainsAny(name, `:\/?*[]`):
		return fmt.Errorf(`contains one of :\/?*[]`)
	}
	return nil
}

// cut16 cuts s to at most n UTF-16 units, never inside a character.
func cut16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if units+w > n {
			return strings.TrimRight(s[:i], "'")
		}
		units += w
	}
	return s
}
