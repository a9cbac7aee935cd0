package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/sla"
)

// reportConfig is what the report flags say.
type reportConfig struct {
	Contract    string
	Incidents   string
	Outages     string
	Events      string
	Period      string
	AsOf        string
	Total       string
	Year        int
	Surveys     string
	PriorScores string
	Late        []string
	Breaches    []string
	Format      string
	Out         string // -o: a file, "-" for stdout, "" for stdout in a text format
	Chromium    string
	Holidays    string
}

func (c *reportConfig) validate() error {
	switch {
	case c.Contract == "":
		return errors.New("report: -contract is required (a preset name or a YAML file)")
	case c.Period == "":
		return errors.New("report: -period is required (YYYY-MM-DD..YYYY-MM-DD)")
	case !slices.Contains([]string{"markdown", "json", "pdf", "xlsx"}, c.Format):
		return fmt.Errorf("report: -format %q: want markdown, json, pdf or xlsx", clip(c.Format))
	case binaryFormat(c.Format) && c.Out == "":
		return fmt.Errorf("report: -format %s writes a binary file: give -o FILE (or -o - to write it to stdout)", c.Format)
	case c.Year < 1 || c.Year > maxYearFlag:
		return fmt.Errorf("report: -year %d: want 1..%d", c.Year, maxYearFlag)
	}
	return nil
}

func runReport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseReportFlags(args, stderr)
	if err != nil {
		return err
	}
	c, in, rep, err := assess(ctx, cfg, stdin)
	if err != nil {
		return err
	}
	return writeReport(ctx, cfg, c, in, rep, stdout)
}

// parseReportFlags reads the report command line; its errors are
// usageErrors (or flag.ErrHelp).
func parseReportFlags(args []string, stderr io.Writer) (reportConfig, error) {
	var cfg reportConfig
	fs := flag.NewFlagSet("slacalc report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Contract, "contract", "", "contract: a preset (chengdu, shaanxi, sichuan) or a YAML file")
	fs.StringVar(&cfg.Incidents, "incidents", "", "incident events CSV: id,level,event,at[,major] (- for stdin)")
	fs.StringVar(&cfg.Outages, "outages", "", "outages CSV: id,kind,start,end")
	fs.StringVar(&cfg.Events, "events", "", "scorecard events CSV: item,event[,quantity,major,note]")
	fs.StringVar(&cfg.Period, "period", "", "assessment period, inclusive dates: 2024-01-01..2024-12-31")
	fs.StringVar(&cfg.AsOf, "asof", "", `measure running clocks at this time ("2006-01-02 15:04"); default the end of the period`)
	fs.StringVar(&cfg.Total, "total", "", "contract total or annual amount G in yuan; default the contract's own")
	fs.IntVar(&cfg.Year, "year", 1, "contract year for the payment schedule (1-based)")
	fs.StringVar(&cfg.Surveys, "surveys", "", "satisfaction survey results held in the period, comma-separated (86,91)")
	fs.StringVar(&cfg.PriorScores, "prior-scores", "", "earlier assessment scores of the same year, comma-separated")
	fs.Func("late", "a delay to price, CLAUSE:DAYS[:PORTION_YUAN[:EVENT]] (CLAUSE may name an obligation); repeatable", func(s string) error {
		cfg.Late = append(cfg.Late, s)
		return nil
	})
	fs.Func("breach", "a fixed-percent clause triggered, CLAUSE[:EVENT]; repeatable", func(s string) error {
		cfg.Breaches = append(cfg.Breaches, s)
		return nil
	})
	fs.StringVar(&cfg.Format, "format", "markdown", "output: markdown, json, pdf or xlsx (pdf and xlsx need -o)")
	fs.StringVar(&cfg.Out, "o", "", "write the report to this file, renamed into place when complete; - is stdout (required for pdf and xlsx)")
	fs.StringVar(&cfg.Chromium, "chromium", "", "the Chromium binary for -format pdf; default $CHROMIUM, else chromium on PATH")
	fs.StringVar(&cfg.Holidays, "holidays", "", "holiday years to merge over the shipped ones (YAML, the format of sla/data/holidays_cn.yaml); a year in both is the file's")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Errorf("report: unexpected argument %q", fs.Arg(0))}
	}
	if err := cfg.validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// assess loads the contract and the input files and computes the report.
func assess(ctx context.Context, cfg reportConfig, stdin io.Reader) (*sla.Contract, sla.Input, *sla.Report, error) {
	holidays, err := loadHolidays(cfg.Holidays)
	if err != nil {
		return nil, sla.Input{}, nil, err
	}
	c, err := loadContract(cfg.Contract, holidays)
	if err != nil {
		return nil, sla.Input{}, nil, err
	}
	in, err := buildInput(c, cfg, &cli.Opener{Stdin: stdin})
	if err != nil {
		return nil, sla.Input{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, sla.Input{}, nil, err
	}
	rep, err := c.Assess(in)
	if err != nil {
		return nil, sla.Input{}, nil, calErr("report", err)
	}
	return c, in, rep, nil
}

// zone is the contract's time zone: that of its first calendar.
func zone(c *sla.Contract) *time.Location {
	for _, cs := range c.Calendars {
		if cal, ok := c.Calendar(cs.Name); ok {
			return cal.Location()
		}
	}
	return sla.ChinaStandardTime()
}

var timeLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseTime reads a local time in loc, or an RFC 3339 time with its offset.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if err := checkYear(t); err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return t, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if err := checkYear(t); err != nil {
				return time.Time{}, fmt.Errorf("time %q: %w", s, err)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want \"2006-01-02 15:04\" or RFC 3339", clip(s))
}

// parsePeriod reads "2024-01-01..2024-12-31" as [first day 00:00, the day
// after the last 00:00).
func parsePeriod(s string, loc *time.Location) (from, to time.Time, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return from, to, fmt.Errorf("-period %q: want YYYY-MM-DD..YYYY-MM-DD", clip(s))
	}
	from, err = time.ParseInLocation(time.DateOnly, a, loc)
	if err != nil {
		return from, to, fmt.Errorf("-period %q: first day: %w", s, err)
	}
	last, err := time.ParseInLocation(time.DateOnly, b, loc)
	if err != nil {
		return from, to, fmt.Errorf("-period %q: last day: %w", s, err)
	}
	if last.Before(from) {
		return from, to, fmt.Errorf("-period %q: last day before first", s)
	}
	for _, t := range []time.Time{from, last} {
		if err := checkYear(t); err != nil {
			return from, to, fmt.Errorf("-period %q: %w", s, err)
		}
	}
	return from, last.AddDate(0, 0, 1), nil
}

// parseNums reads a comma-separated list of numbers within lo..hi.
func parseNums(flagName, s string, lo, hi int64) ([]sla.Num, error) {
	if s == "" {
		return nil, nil
	}
	var out []sla.Num
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		n, err := sla.ParseNum(f)
		if err != nil {
			return nil, fmt.Errorf("-%s %q: %w", flagName, clip(f), err)
		}
		if n.Cmp(sla.Int(lo)) < 0 || n.Cmp(sla.Int(hi)) > 0 {
			return nil, fmt.Errorf("-%s %q: want %d..%d", flagName, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "n":
		return false, nil
	case "1", "true", "yes", "y", "major":
		return true, nil
	}
	return false, fmt.Errorf("%q: want true or false", clip(s))
}

// buildInput turns the flags and files into an sla.Input.
func buildInput(c *sla.Contract, cfg reportConfig, op *cli.Opener) (sla.Input, error) {
	loc := zone(c)
	var in sla.Input
	var err error
	in.From, in.To, err = parsePeriod(cfg.Period, loc)
	if err != nil {
		return in, err
	}
	in.AsOf = in.To
	asof := "-asof " + in.AsOf.Format("2006-01-02 15:04") + " (the end of -period)"
	if cfg.AsOf != "" {
		if in.AsOf, err = parseTime(cfg.AsOf, loc); err != nil {
			return in, fmt.Errorf("-asof: %w", err)
		}
		if in.AsOf.Before(in.From) {
			return in, fmt.Errorf("-asof %q: before the period starts (%s)", cfg.AsOf, in.From.Format(time.DateOnly))
		}
		asof = "-asof " + in.AsOf.Format("2006-01-02 15:04")
	}
	if cfg.Total != "" {
		if in.Total, err = sla.ParseYuan(cfg.Total); err != nil {
			return in, fmt.Errorf("-total: %w", err)
		}
		if in.Total <= 0 {
			return in, fmt.Errorf("-total %q: want an amount above 0 (yuan)", cfg.Total)
		}
	}
	in.Year = cfg.Year
	if in.Surveys, err = parseNums("surveys", cfg.Surveys, 0, 100); err != nil {
		return in, err
	}
	if in.PriorScores, err = parseNums("prior-scores", cfg.PriorScores, 0, 100); err != nil {
		return in, err
	}
	for _, s := range cfg.Late {
		li, err := parseLate(s)
		if err != nil {
			return in, err
		}
		in.Late = append(in.Late, li)
	}
	for _, s := range cfg.Breaches {
		clause, event, _ := strings.Cut(s, ":")
		if clause == "" {
			return in, fmt.Errorf("-breach %q: want CLAUSE[:EVENT]", s)
		}
		in.Breaches = append(in.Breaches, sla.BreachInput{Clause: clause, Event: event})
	}
	files := []struct {
		name string
		read func(*cli.Table) error
	}{
		{cfg.Incidents, func(t *cli.Table) error { return readIncidents(t, c, loc, asof, &in) }},
		{cfg.Outages, func(t *cli.Table) error { return readOutages(t, loc, &in) }},
		{cfg.Events, func(t *cli.Table) error { return readEvents(t, c, &in) }},
	}
	cols := [][2][]string{
		{{"id", "level", "event", "at"}, {"major"}},
		{{"id", "kind", "start", "end"}, nil},
		{{"item", "event"}, {"quantity", "major", "note"}},
	}
	flags := []string{"incidents", "outages", "events"}
	for i, f := range files {
		if f.name == "" {
			continue
		}
		if err := readFile(op, flags[i], f.name, cols[i][0], cols[i][1], f.read); err != nil {
			return in, err
		}
	}
	if in.Total == 0 && c.Total == 0 && (c.Payment != nil || len(c.Penalties) > 0 || len(c.Fixed) > 0 || c.Deduction != nil) {
		return in, fmt.Errorf("report: contract %s states no total: give -total (yuan, above 0) for its payments and penalties", c.Name)
	}
	return in, nil
}

func readFile(op *cli.Opener, flagName, name string, required, optional []string, read func(*cli.Table) error) error {
	rc, err := op.Open(name)
	if err != nil {
		return fmt.Errorf("-%s: %w", flagName, err)
	}
	defer rc.Close()
	t, err := cli.OpenTable(name, rc, required, optional)
	if err != nil {
		return err
	}
	return read(t)
}

func parseLate(s string) (sla.LateInput, error) {
	f := strings.SplitN(s, ":", 4)
	bad := func(err error) (sla.LateInput, error) {
		return sla.LateInput{}, fmt.Errorf("-late %q (CLAUSE:DAYS[:PORTION_YUAN[:EVENT]]): %w", s, err)
	}
	if len(f) < 2 || f[0] == "" {
		return bad(errors.New("want at least CLAUSE:DAYS"))
	}
	li := sla.LateInput{Clause: f[0]}
	days, err := strconv.Atoi(f[1])
	if err != nil || days < 0 || days > maxLateDays {
		return bad(fmt.Errorf("days %q: want a whole number 0..%d", clip(f[1]), maxLateDays))
	}
	li.Days = days
	if len(f) > 2 && f[2] != "" {
		if li.LatePortion, err = sla.ParseYuan(f[2]); err != nil {
			return bad(err)
		}
		if li.LatePortion <= 0 {
			return bad(fmt.Errorf("portion %q: want an amount above 0 (yuan)", f[2]))
		}
	}
	if len(f) > 3 {
		li.Event = f[3]
	}
	return li, nil
}

var eventKinds = []sla.EventKind{sla.Opened, sla.Responded, sla.Paused, sla.Resumed, sla.Resolved, sla.Reopened, sla.OnSite, sla.Solution, sla.ReportSent}

// readIncidents reads one row per incident event. Rows of an incident may
// be anywhere in the file; incidents keep the order of their first row.
// Events after the assessment time (asof names it, for messages) are
// refused: they have not happened yet.
func readIncidents(t *cli.Table, c *sla.Contract, loc *time.Location, asof string, in *sla.Input) error {
	idx := map[string]int{}
	firstLine := map[string]int{}
	for {
		ok, err := t.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := checkFields(t, "id", "level", "event", "at", "major"); err != nil {
			return err
		}
		id, level := t.Get("id"), t.Get("level")
		if id == "" {
			return t.Errf("id", errors.New("empty"))
		}
		if _, ok := c.Policy().Level(level); !ok {
			return t.Errf("level", fmt.Errorf("unknown level %q (contract %s has %s)", clip(level), c.Name, strings.Join(c.Policy().Levels(), ", ")))
		}
		kind := sla.EventKind(t.Get("event"))
		if !slices.Contains(eventKinds, kind) {
			return t.Errf("event", fmt.Errorf("unknown event %q (want one of %v)", clip(string(kind)), eventKinds))
		}
		at, err := parseTime(t.Get("at"), loc)
		if err != nil {
			return t.Errf("at", err)
		}
		if at.After(in.AsOf) {
			return t.Errf("at", fmt.Errorf("%s is after %s", t.Get("at"), asof))
		}
		major, err := parseBool(t.Get("major"))
		if err != nil {
			return t.Errf("major", err)
		}
		i, seen := idx[id]
		if !seen {
			i = len(in.Incidents)
			idx[id], firstLine[id] = i, t.Line()
			in.Incidents = append(in.Incidents, sla.AssessedIncident{Incident: sla.Incident{ID: id, Level: level}})
		}
		ai := &in.Incidents[i]
		if ai.Level != level {
			return t.Errf("level", fmt.Errorf("incident %s is level %s on line %d, %s here", id, ai.Level, firstLine[id], level))
		}
		ai.MajorEvent = ai.MajorEvent || major
		ai.Events = append(ai.Events, sla.Event{Kind: kind, At: at})
	}
}

func readOutages(t *cli.Table, loc *time.Location, in *sla.Input) error {
	for {
		ok, err := t.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := checkFields(t, "id", "kind", "start", "end"); err != nil {
			return err
		}
		o := sla.Outage{ID: t.Get("id"), Kind: sla.OutageKind(t.Get("kind"))}
		switch o.Kind {
		case sla.Vendor, sla.NonVendor, sla.Planned:
		default:
			return t.Errf("kind", fmt.Errorf("unknown kind %q (want vendor, non_vendor or planned)", clip(string(o.Kind))))
		}
		if o.Start, err = parseTime(t.Get("start"), loc); err != nil {
			return t.Errf("start", err)
		}
		if o.End, err = parseTime(t.Get("end"), loc); err != nil {
			return t.Errf("end", err)
		}
		if !o.End.After(o.Start) {
			return t.Errf("end", fmt.Errorf("end %s is not after start", t.Get("end")))
		}
		in.Outages = append(in.Outages, o)
	}
}

func readEvents(t *cli.Table, c *sla.Contract, in *sla.Input) error {
	for {
		ok, err := t.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := checkFields(t, "item", "event", "quantity", "major", "note"); err != nil {
			return err
		}
		o := sla.Occurrence{Item: t.Get("item"), Event: t.Get("event"), Note: t.Get("note")}
		if !hasItem(c, o.Item) {
			return t.Errf("item", fmt.Errorf("unknown scorecard item %q in contract %s (see slacalc presets -show %s)", clip(o.Item), c.Name, c.Name))
		}
		if q := t.Get("quantity"); q != "" {
			if o.Quantity, err = sla.ParseNum(q); err != nil {
				return t.Errf("quantity", err)
			}
			if o.Quantity.Sign() <= 0 {
				return t.Errf("quantity", fmt.Errorf("%s: want more than 0", q))
			}
			if o.Quantity.Cmp(sla.Int(maxQuantity)) > 0 {
				return t.Errf("quantity", fmt.Errorf("%s: want at most %d", q, maxQuantity))
			}
		}
		if o.MajorEvent, err = parseBool(t.Get("major")); err != nil {
			return t.Errf("major", err)
		}
		in.Occurrences = append(in.Occurrences, o)
	}
}

func hasItem(c *sla.Contract, id string) bool {
	if c.Scorecard == nil {
		return false
	}
	for _, it := range c.Scorecard.Items {
		if it.ID == id {
			return true
		}
	}
	return false
}
