package tracesnap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CST is China Standard Time (UTC+8), the zone of times written without
// an offset. Do not modify.
var CST = time.FixedZone("CST", 8*3600)

// Times outside [minTime, maxTime) are refused: year 0, the epoch or a
// unix time in milliseconds is a bug in the export, not a scan.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, CST)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, CST)
)

// ParseTime reads unix seconds, RFC 3339, or "2006-01-02 15:04[:05]" and
// "2006-01-02" in UTC+8, from 2000 to 2099: the times of the scans and
// trips files.
func ParseTime(s string) (time.Time, error) {
	t, err := parseAnyTime(s)
	if err != nil {
		return t, err
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Errorf("%s is out of range: want a time from 2000-01-01 to 2099-12-31", Clip(s))
	}
	return t, nil
}

func parseAnyTime(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.Unix(n, 0).In(CST), nil
		}
		if len(s) <= 20 {
			return time.Time{}, fmt.Errorf("%s is out of range: want unix seconds from 2000 to 2099", s)
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, CST); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want unix seconds, RFC 3339 or \"2006-01-02 15:04:05\" (UTC+8)", Clip(s))
}

// Clip shortens a value quoted in an error to its first 40 bytes (on a
// rune boundary): a 10 MB field must not become a 10 MB message.
func Clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:i], len(s))
}

// Limits on the identifiers and names of the input files, in bytes.
const (
	maxID   = 256
	maxName = 1024
)

// checkText refuses a value that is not UTF-8 (a GBK export) or longer
// than max bytes.
func checkText(v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%d bytes: want at most %d", len(v), max)
	}
	if !utf8.ValidString(v) {
		return errors.New("not valid UTF-8 (save the file as UTF-8, not GBK)")
	}
	return nil
}
