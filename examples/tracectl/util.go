package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

// fmtTime writes a unix time in RFC 3339 in the zone of the input files.
func fmtTime(unix int64) string { return time.Unix(unix, 0).In(tracesnap.CST).Format(time.RFC3339) }

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
