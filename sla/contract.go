package sla

import (
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Contract is an SLA contract as data: calendars, levels with their
// targets, availability, penalty and fixed clauses, a scorecard, and how
// scores become money. Parse one with ParseContract or take a preset with
// Preset. Treat a parsed Contract as read-only: it is then safe for
// concurrent use (its calendars and policy are immutable).
type Contract struct {
	Name      string `yaml:"name" json:"name"`
	Title     string `yaml:"title" json:"title"`
	Source    string `yaml:"source" json:"source"`
	Zone      string `yaml:"zone" json:"zone"`
	Total     Fen    `yaml:"total" json:"total_fen,omitempty"`
	TotalNote string `yaml:"total_note" json:"total_note,omitempty"`
	// Holidays names a holiday file (the format of ParseHolidays) merged
	// over the base set of every working_hours calendar: the way to add a
	// year published after this release, or to correct one. It is read
	// through ContractOptions.ReadFile.
	Holidays     string              `yaml:"holidays" json:"holidays,omitempty"`
	Calendars    []CalendarSpec      `yaml:"calendars" json:"calendars"`
	Levels       []LevelSpec         `yaml:"levels" json:"levels"`
	Availability *AvailabilityPolicy `yaml:"availability" json:"availability,omitempty"`
	Penalties    []PenaltyClause     `yaml:"penalties" json:"penalties,omitempty"`
	Fixed        []FixedClause       `yaml:"fixed" json:"fixed,omitempty"`
	Scorecard    *Scorecard          `yaml:"scorecard" json:"scorecard,omitempty"`
	Payment      *PaymentPlan        `yaml:"payment" json:"payment,omitempty"`
	Deduction    *ScoreDeduction     `yaml:"deduction" json:"deduction,omitempty"`

	policy    *Policy
	calendars map[string]*Calendar
}

// CalendarSpec declares a calendar: kind "7x24" or "working_hours" (with
// windows, weekdays, and the mainland holidays: the shipped ones, or the
// caller's ContractOptions.Holidays, with the contract's holidays: file
// merged over them).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type CalendarSpec struct {
	Name     string   `yaml:"name" json:"name"`
	Kind     string   `yaml:"kind" json:"kind"`
	Windows  []string `yaml:"windows" json:"windows,omitempty"`
	Weekdays []string `yaml:"weekdays" json:"weekdays,omitempty"`
	Holidays string   `yaml:"holidays" json:"holidays,omitempty"` // "cn-mainland" (default)
}

// LevelSpec declares a level and its targets. Occurrence names the
// scorecard item every incident of the level deducts (chengdu 考核表 19:
// 一级故障出现一次扣 2 分).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type LevelSpec struct {
	Name        string       `yaml:"name" json:"name"`
	Description string       `yaml:"description" json:"description"`
	Clause      string       `yaml:"clause" json:"clause"`
	Occurrence  string       `yaml:"occurrence" json:"occurrence,omitempty"`
	Targets     []TargetSpec `yaml:"targets" json:"targets"`
}

// BreachRule turns a missed target into a scorecard occurrence of Item.
// Per zero: one occurrence. Per set: the quantity is the overrun in whole
// Per units ("每超过 5 分钟": per 5m), or in started units with Started
// ("逾期天数": per 24h, started).
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type BreachRule struct {
	Item    string   `yaml:"item" json:"item"`
	Per     Duration `yaml:"per" json:"per,omitempty"`
	Started bool     `yaml:"started" json:"started,omitempty"`
}

// TargetSpec declares a target.
//
// It is a plain value: safe for concurrent use as long as no one mutates it.
type TargetSpec struct {
	Kind         TargetKind  `yaml:"kind" json:"kind"`
	Within       Duration    `yaml:"within" json:"within"`
	Calendar     string      `yaml:"calendar" json:"calendar"`
	IgnorePauses bool        `yaml:"ignore_pauses" json:"ignore_pauses,omitempty"`
	Clause       string      `yaml:"clause" json:"clause"`
	Breach       *BreachRule `yaml:"breach" json:"breach,omitempty"`
}

// maxContractBytes bounds documents; real contracts are a few kilobytes.
const maxContractBytes = 1 << 20

// ParseContract parses and validates a contract document (YAML). Errors are
// *FieldError with the line and column of the offending value, and unwrap
// to ErrInvalid. Unknown fields are errors. A document that names a
// holidays: file is refused: use ParseContractWith to read it.
func ParseContract(data []byte) (*Contract, error) {
	return ParseContractWith(data, ContractOptions{})
}

// ContractOptions says how ParseContractWith builds a contract's
// calendars. The zero value is ParseContract's behaviour.
//
// A plain value, read by ParseContractWith; not retained. ReadFile is
// called during the parse only.
type ContractOptions struct {
	// Holidays is the base holiday set of working_hours calendars. Nil
	// means ChinaMainland(). Pass ChinaMainland().Merge(yours) to give
	// every contract, presets included, a year the release lacks.
	Holidays *HolidaySet
	// ReadFile returns the contents of a file the document names: the
	// holidays: key. The package does no I/O; the caller decides what a
	// name means (slacalc reads it relative to the contract's directory).
	// Nil means a document naming a file is an error.
	ReadFile func(name string) ([]byte, error)
}

// maxHolidayFileBytes bounds a holidays: file; a year is about 1 KB.
const maxHolidayFileBytes = 1 << 20

// ParseContractWith is ParseContract with options. A holidays: file is
// merged over opts.Holidays (a year in both is the file's); errors in it
// are *FieldError with File set to the name the document gives.
func ParseContractWith(data []byte, opts ContractOptions) (*Contract, error) {
	if len(data) > maxContractBytes {
		return nil, &FieldError{Field: "document", Msg: fmt.Sprintf("larger than %d bytes", maxContractBytes)}
	}
	var c Contract
	pos, err := decodeStrictPos(data, &c)
	if err != nil {
		return nil, err
	}
	if err := c.build(opts); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line == 0 && fe.File == "" {
			if p, ok := pos.lookup(fe.Field); ok {
				fe.Line, fe.Column = p[0], p[1]
			}
		}
		return nil, err
	}
	return &c, nil
}

// holidaySet is the set the contract's working_hours calendars use.
func (c *Contract) holidaySet(opts ContractOptions) (*HolidaySet, error) {
	base := opts.Holidays
	if base == nil {
		base = ChinaMainland()
	}
	if c.Holidays == "" {
		return base, nil
	}
	if opts.ReadFile == nil {
		return nil, fieldErr("holidays", "%q: this caller reads no files (ContractOptions.ReadFile is nil)", c.Holidays)
	}
	b, err := opts.ReadFile(c.Holidays)
	if err != nil {
		return nil, &FieldError{Field: "holidays", Msg: fmt.Sprintf("%q: %v", c.Holidays, err), Err: err}
	}
	if len(b) > maxHolidayFileBytes {
		return nil, fieldErr("holidays", "%q: larger than %d bytes", c.Holidays, maxHolidayFileBytes)
	}
	user, err := parseHolidays(b, c.Holidays)
	if err != nil {
		return nil, err
	}
	h, err := base.Merge(user)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) && fe.File == "" {
			fe.File = c.Holidays
		}
		return nil, err
	}
	return h, nil
}

func (c *Contract) build(opts ContractOptions) error {
	if c.Name == "" {
		return fieldErr("name", "missing")
	}
	loc := chinaStandardTime
	if c.Zone != "" && c.Zone != "Asia/Shanghai" && c.Zone != "+08:00" {
		l, err := time.LoadLocation(c.Zone)
		if err != nil {
			return &FieldError{Field: "zone", Msg: fmt.Sprintf("unknown zone %q", c.Zone), Err: err}
		}
		loc = l
	}
	if c.Total < 0 {
		return fieldErr("total", "must not be negative")
	}
	c.calendars = map[string]*Calendar{}
	holidays, err := c.holidaySet(opts)
	if err != nil {
		return err
	}
	for i, cs := range c.Calendars {
		f := fmt.Sprintf("calendars[%d]", i)
		if cs.Name == "" {
			return fieldErr(f+".name", "missing")
		}
		if c.calendars[cs.Name] != nil {
			return fieldErr(f+".name", "duplicate calendar %q", cs.Name)
		}
		switch cs.Kind {
		case "7x24":
			if len(cs.Windows)+len(cs.Weekdays) > 0 || cs.Holidays != "" {
				return fieldErr(f+".kind", "a 7x24 calendar takes no windows, weekdays or holidays")
			}
			cal := Always(cs.Name)
			cal.loc = loc
			c.calendars[cs.Name] = cal
		case "working_hours":
			if cs.Holidays != "" && cs.Holidays != "cn-mainland" {
				return fieldErr(f+".holidays", "%q: only cn-mainland is shipped", cs.Holidays)
			}
			cfg := WorkingConfig{Name: cs.Name, Location: loc, Holidays: holidays}
			for j, w := range cs.Windows {
				win, err := ParseWindow(w)
				if err != nil {
					return fieldErr(fmt.Sprintf("%s.windows[%d]", f, j), "%q is not HH:MM-HH:MM", w)
				}
				cfg.Windows = append(cfg.Windows, win)
			}
			for j, d := range cs.Weekdays {
				wd, ok := weekdayNames[strings.ToLower(d)]
				if !ok {
					return fieldErr(fmt.Sprintf("%s.weekdays[%d]", f, j), "%q is not a weekday (mon..sun)", d)
				}
				cfg.Weekdays = append(cfg.Weekdays, wd)
			}
			if err := cfg.Validate(); err != nil {
				var fe *FieldError
				if errors.As(err, &fe) {
					fe.Field = f + ".windows"
				}
				return err
			}
			cal, err := NewWorkingCalendar(cfg)
			if err != nil {
				return err
			}
			c.calendars[cs.Name] = cal
		default:
			return fieldErr(f+".kind", "%q is not 7x24 or working_hours", cs.Kind)
		}
	}
	var levels []Level
	for i, ls := range c.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		l := Level{Name: ls.Name, Description: ls.Description, Clause: ls.Clause}
		for j, ts := range ls.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			cal := c.calendars[ts.Calendar]
			if cal == nil {
				return fieldErr(tf+".calendar", "unknown calendar %q", ts.Calendar)
			}
			if ts.Within.D <= 0 && ts.Within.WorkingDays <= 0 {
				return fieldErr(tf+".within", "missing or zero")
			}
			if ts.Within.WorkingDays > 0 && cal.Is24x7() {
				return fieldErr(tf+".calendar", "working days need a working_hours calendar, not %q", ts.Calendar)
			}
			l.Targets = append(l.Targets, Target{Kind: ts.Kind, Within: ts.Within, Calendar: cal, IgnorePauses: ts.IgnorePauses, Clause: ts.Clause})
		}
		levels = append(levels, l)
	}
	p, err := NewPolicy(levels)
	if err != nil {
		return err
	}
	c.policy = p
	if c.Availability != nil {
		if err := c.Availability.Validate(); err != nil {
			return prefixField(err, "availability.")
		}
	}
	for i, pc := range c.Penalties {
		if err := pc.Validate(); err != nil {
			return prefixField(err, fmt.Sprintf("penalties[%d].", i))
		}
	}
	for i, fc := range c.Fixed {
		if fc.ID == "" {
			return fieldErr(fmt.Sprintf("fixed[%d].id", i), "missing")
		}
		if fc.Rate.Sign() <= 0 || fc.Rate.Cmp(Int(1)) > 0 {
			return fieldErr(fmt.Sprintf("fixed[%d].rate", i), "must be in (0, 100%%]")
		}
	}
	if c.Scorecard != nil {
		if err := c.Scorecard.Validate(); err != nil {
			return prefixField(err, "scorecard.")
		}
	}
	items := map[string]bool{}
	if c.Scorecard != nil {
		for _, it := range c.Scorecard.Items {
			items[it.ID] = true
		}
	}
	for i, ls := range c.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if ls.Occurrence != "" && !items[ls.Occurrence] {
			return fieldErr(f+".occurrence", "no scorecard item %q", ls.Occurrence)
		}
		for j, ts := range ls.Targets {
			if b := ts.Breach; b != nil {
				bf := fmt.Sprintf("%s.targets[%d].breach", f, j)
				if !items[b.Item] {
					return fieldErr(bf+".item", "no scorecard item %q", b.Item)
				}
				if b.Per.WorkingDays > 0 || b.Per.D < 0 {
					return fieldErr(bf+".per", "must be a clock duration")
				}
			}
		}
	}
	if c.Payment != nil {
		if err := c.Payment.Validate(); err != nil {
			return prefixField(err, "payment.")
		}
	}
	if c.Deduction != nil {
		if err := c.Deduction.Validate(); err != nil {
			return prefixField(err, "deduction.")
		}
	}
	return nil
}

func prefixField(err error, prefix string) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.Field = prefix + fe.Field
	}
	return err
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Policy returns the contract's incident policy.
func (c *Contract) Policy() *Policy { return c.policy }

// Calendar returns a declared calendar by name.
func (c *Contract) Calendar(name string) (*Calendar, bool) {
	cal, ok := c.calendars[name]
	return cal, ok
}

// Penalty returns a penalty clause by id.
func (c *Contract) Penalty(id string) (PenaltyClause, bool) {
	for _, p := range c.Penalties {
		if p.ID == id {
			return p, true
		}
	}
	return PenaltyClause{}, false
}

// FixedClause returns a fixed-percent clause by id.
func (c *Contract) FixedClause(id string) (FixedClause, bool) {
	for _, f := range c.Fixed {
		if f.ID == id {
			return f, true
		}
	}
	return FixedClause{}, false
}

//go:embed presets/*.yaml
var presetFS embed.FS

// PresetNames lists the shipped contracts: chengdu, shaanxi, sichuan.
func PresetNames() []string {
	ents, _ := presetFS.ReadDir("presets")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// PresetYAML returns a shipped contract document, to read or adapt.
func PresetYAML(name string) ([]byte, error) {
	b, err := presetFS.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: no preset %q (have %s)", ErrInvalid, name, strings.Join(PresetNames(), ", "))
	}
	return b, nil
}

// Preset parses a shipped contract.
func Preset(name string) (*Contract, error) {
	b, err := PresetYAML(name)
	if err != nil {
		return nil, err
	}
	c, err := ParseContract(b)
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w", name, err)
	}
	return c, nil
}
