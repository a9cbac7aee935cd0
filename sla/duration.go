package sla

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a span as a contract states it: a clock duration ("12m",
// "0.2h", "24h", "2d" = 48 h counted from the moment) or a number of
// working days ("2 working days", counted by the Civil Code rule: the day
// of the event is not counted and the period ends at 24:00 of the last
// working day, 民法典 第二百零一条、第二百零三条).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type Duration struct {
	D           time.Duration
	WorkingDays int
}

// ParseDuration parses the forms Duration documents.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(t, "working days"); ok {
		return parseWorkingDays(s, n)
	}
	if n, ok := strings.CutSuffix(t, "working day"); ok {
		return parseWorkingDays(s, n)
	}
	if n, ok := strings.CutSuffix(t, "d"); ok && !strings.ContainsAny(n, "hms") {
		v, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || v < 0 || v > 3660 {
			return Duration{}, fieldErr("duration", "%q is not a duration like 30m, 0.2h, 2d or 2 working days", s)
		}
		return Duration{D: time.Duration(v) * 24 * time.Hour}, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return Duration{}, fieldErr("duration", "%q is not a duration like 30m, 0.2h, 2d or 2 working days", s)
	}
	return Duration{D: d}, nil
}

func parseWorkingDays(s, n string) (Duration, error) {
	v, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || v <= 0 || v > 366 {
		return Duration{}, fieldErr("duration", "%q: working days must be a whole number 1..366", s)
	}
	return Duration{WorkingDays: v}, nil
}

// String prints the duration in the document's form.
func (d Duration) String() string {
	if d.WorkingDays > 0 {
		if d.WorkingDays == 1 {
			return "1 working day"
		}
		return strconv.Itoa(d.WorkingDays) + " working days"
	}
	return fmtDur(d.D)
}

// UnmarshalYAML parses the document form.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return scalarErr(n, "expected a duration")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return scalarErr(n, "expected a duration like 30m, 0.2h, 2d or 2 working days")
	}
	*d = v
	return nil
}

// MarshalJSON writes the document form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
