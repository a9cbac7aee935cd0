package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// cst is China Standard Time, the zone of times written without an offset.
var cst = time.FixedZone("CST", 8*3600)

// parseTime reads unix seconds, RFC 3339, or "2006-01-02 15:04[:05]" and
// "2006-01-02" in UTC+8.
func parseTime(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.Unix(n, 0).In(cst), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, cst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want unix seconds, RFC 3339 or \"2006-01-02 15:04:05\" (UTC+8)", s)
}

func fmtTime(unix int64) string { return time.Unix(unix, 0).In(cst).Format(time.RFC3339) }

// mask hides all but the first three and last four characters of an
// identifier that may be personal (an ID number or phone used as a person
// id), for logs and errors: "110***********123X". Seven characters or fewer
// keep only the first.
func mask(s string) string {
	n := utf8.RuneCountInString(s)
	r := []rune(s)
	if n <= 7 {
		if n == 0 {
			return ""
		}
		return string(r[0]) + strings.Repeat("*", n-1)
	}
	return string(r[:3]) + strings.Repeat("*", n-7) + string(r[n-4:])
}
