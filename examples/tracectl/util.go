package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// cst is China Standard Time, the zone of times written without an offset.
var cst = time.FixedZone("CST", 8*3600)

// Times outside [minTime, maxTime) are refused: year 0, the epoch or a
// unix time in milliseconds is a bug in the export, not a scan.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, cst)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, cst)
)

// parseTime reads unix seconds, RFC 3339, or "2006-01-02 15:04[:05]" and
// "2006-01-02" in UTC+8, from 2000 to 2099.
func parseTime(s string) (time.Time, error) {
	t, err := parseAnyTime(s)
	if err != nil {
		return t, err
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Errorf("%s is out of range: want a time from 2000-01-01 to 2099-12-31", clip(s))
	}
	return t, nil
}

func parseAnyTime(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.Unix(n, 0).In(cst), nil
		}
		if len(s) <= 20 {
			return time.Time{}, fmt.Errorf("%s is out of range: want unix seconds from 2000 to 2099", s)
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
	return time.Time{}, fmt.Errorf("time %q: want unix seconds, RFC 3339 or \"2006-01-02 15:04:05\" (UTC+8)", clip(s))
}

func fmtTime(unix int64) string { return time.Unix(unix, 0).In(cst).Format(time.RFC3339) }

// clip shortens a value quoted in an error to its first 40 characters: a
// 10 MB field must not become a 10 MB message.
func clip(s string) string {
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

// onceFlags makes every flag of fs refuse a second value: "-person A
// -person B" would otherwise trace B alone without a word. Call it after
// the flags are defined, before Parse.
func onceFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		f.Value = &onceValue{Value: f.Value, name: f.Name}
	})
}

type onceValue struct {
	flag.Value
	name string
	set  bool
}

func (o *onceValue) Set(s string) error {
	if o.set {
		return fmt.Errorf("-%s given twice (give it once; lists are comma-separated)", o.name)
	}
	o.set = true
	return o.Value.Set(s)
}

func (o *onceValue) IsBoolFlag() bool {
	b, ok := o.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// samePath reports whether a and b name the same file: the same cleaned
// absolute path, or the same existing file through a link.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// splitList splits a comma-separated flag value, refusing empty and
// repeated elements; noun names an element and show is how one appears in
// errors.
func splitList(flagName, noun, v string, show func(string) string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for p := range strings.SplitSeq(v, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return nil, fmt.Errorf("-%s: empty %s in the list (a stray comma?)", flagName, noun)
		case seen[p]:
			return nil, fmt.Errorf("-%s: %s given twice", flagName, show(p))
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

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
