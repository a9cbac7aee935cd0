package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

var cst = time.FixedZone("CST", 8*3600)

func runApply(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dedupe apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	review := fs.String("review", "", "review queue JSON written by resolve (required)")
	decisions := fs.String("decisions", "", "reviewers' decisions CSV: group,action,records,survivor,set,reviewer,reason,at (required)")
	out := fs.String("out", "", "output: change set CSV (required)")
	open := fs.String("open", "", "output: the review groups still open after the decisions, as JSON (optional)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("apply: unexpected argument %q", fs.Arg(0))
	}
	for _, req := range []struct{ name, v string }{{"review", *review}, {"decisions", *decisions}, {"out", *out}} {
		if req.v == "" {
			return fmt.Errorf("apply: -%s is required", req.name)
		}
	}
	rf, err := os.Open(*review)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	groups, err := readReviews(*review, rf)
	rf.Close()
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	df, err := os.Open(*decisions)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	verdicts, lines, err := readVerdicts(*decisions, df)
	df.Close()
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	q := dedupe.NewQueue(groups)
	changes, err := q.Apply(verdicts)
	if err != nil {
		var de *dedupe.DecisionError
		if errors.As(err, &de) && de.Index >= 0 && de.Index < len(lines) {
			return fmt.Errorf("apply: %s:%d: group %s: %s (nothing applied)", *decisions, lines[de.Index], de.Group, de.Reason)
		}
		return fmt.Errorf("apply: %w", err)
	}
	o, err := cli.CreateOut(*out)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer o.Abort()
	if err := writeChanges(o, changes); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if err := o.Commit(); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	left := q.Open()
	if *open != "" {
		of, err := cli.CreateOut(*open)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		defer of.Abort()
		s := newFileSink(io.Discard, of)
		for _, g := range left {
			if err := s.Review(g); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
		}
		if err := s.close(); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if err := of.Commit(); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	counts := map[dedupe.ChangeOp]int{}
	for _, c := range changes {
		counts[c.Op]++
	}
	fmt.Fprintf(stdout, "apply: %d decisions; changes: %d delete, %d update, %d confirm; %d of %d review groups still open\n",
		len(verdicts), counts[dedupe.ChangeDelete], counts[dedupe.ChangeUpdate], counts[dedupe.ChangeConfirm], len(left), len(groups))
	return nil
}

// readVerdicts reads reviewers' decisions, one row per group, and returns
// the line of each.
func readVerdicts(name string, r io.Reader) ([]dedupe.Verdict, []int, error) {
	t, err := cli.OpenTable(name, r, []string{"group", "action", "reviewer", "reason", "at"}, []string{"records", "survivor", "set"})
	if err != nil {
		return nil, nil, err
	}
	var vs []dedupe.Verdict
	var lines []int
	for {
		ok, err := t.Next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return vs, lines, nil
		}
		v := dedupe.Verdict{Group: t.Get("group"), Reviewer: t.Get("reviewer"), Reason: t.Get("reason")}
		if err := v.Action.UnmarshalText([]byte(t.Get("action"))); err != nil {
			return nil, nil, t.Errf("action", fmt.Errorf("%q: want keep, drop or merge", t.Get("action")))
		}
		if s := t.Get("records"); s != "" {
			for id := range strings.SplitSeq(s, ";") {
				n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
				if err != nil {
					return nil, nil, t.Errf("records", fmt.Errorf("%q: want record ids separated by ;", id))
				}
				v.Records = append(v.Records, n)
			}
		}
		if s := t.Get("survivor"); s != "" {
			if v.Survivor, err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, nil, t.Errf("survivor", fmt.Errorf("%q: want a record id", s))
			}
		}
		if s := t.Get("set"); s != "" {
			v.Set = map[dedupe.Field]string{}
			for kv := range strings.SplitSeq(s, ";") {
				k, val, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, nil, t.Errf("set", errors.New("want field=value pairs separated by ;"))
				}
				f, err := dedupe.ParseField(strings.TrimSpace(k))
				if err != nil {
					return nil, nil, t.Errf("set", err)
				}
				v.Set[f] = strings.TrimSpace(val)
			}
		}
		if s := t.Get("at"); s != "" {
			if v.At, err = parseTime(s); err != nil {
				return nil, nil, t.Errf("at", err)
			}
		}
		vs = append(vs, v)
		lines = append(lines, t.Line())
	}
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(l, s, cst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or \"2006-01-02 15:04\" (UTC+8)", s)
}

var changeHeader = []string{"op", "record", "merged_into", "group", "reviewer", "reason", "at", "field", "old", "new"}

// writeChanges writes a change set: one row per delete or confirm, one row
// per changed field of an update.
func writeChanges(w io.Writer, cs []dedupe.Change) error {
	cw := csv.NewWriter(w)
	cw.Write(changeHeader)
	for _, c := range cs {
		merged := ""
		if c.MergedInto != 0 {
			merged = strconv.FormatInt(c.MergedInto, 10)
		}
		at := ""
		if !c.At.IsZero() {
			at = c.At.Format(time.RFC3339)
		}
		base := []string{c.Op.String(), strconv.FormatInt(c.Record, 10), merged, c.Group, c.Reviewer, c.Reason, at}
		if len(c.Fields) == 0 {
			cw.Write(append(base, "", "", ""))
			continue
		}
		for _, f := range c.Fields {
			cw.Write(append(append([]string(nil), base...), f.Field.String(), f.Old, f.New))
		}
	}
	cw.Flush()
	return cw.Error()
}
