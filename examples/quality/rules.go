package quality

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/internal/yamlcheck"

	"github.com/healthcode-sdk/healthcode/dedupe"
	"go.yaml.in/yaml/v3"
)

// Limits on what a rules file may say.
const (
	// MaxRulesFile is the largest rules file ParseRules reads.
	MaxRulesFile = 1 << 20
	// DefaultSampleLimit is how many samples a check keeps unless the
	// rule's sample_limit says otherwise.
	DefaultSampleLimit = 20
	// MaxSampleLimit bounds sample_limit.
	MaxSampleLimit = 10000
)

// The datasets a rule may name.
const (
	Source = "source" // the records as the source system holds them
	Coded  = "coded"  // the records that were given a code
	Issued = "issued" // the codes issued to the citizens
)

var datasetNames = []string{Source, Coded, Issued}

// CheckKind is what a check does.
type CheckKind string

// The kinds of check; README.md describes each.
const (
	// KindReconcile compares two datasets by the rule's key
	// (dedupe.Reconcile): missing, extra and duplicated records.
	KindReconcile CheckKind = "reconcile"
	// KindValidate runs dedupe.Validate on every row of a dataset.
	KindValidate CheckKind = "validate"
	// KindNonEmpty counts rows whose listed fields are empty.
	KindNonEmpty CheckKind = "non_empty"
	// KindFormat checks the shape of the listed fields (phone,
	// doc_number, date).
	KindFormat CheckKind = "format"
	// KindBirthMatchesID compares the birth date with positions 7-14 of
	// an ID number.
	KindBirthMatchesID CheckKind = "birth_matches_id"
)

var checkKinds = []string{string(KindReconcile), string(KindValidate), string(KindNonEmpty), string(KindFormat), string(KindBirthMatchesID)}

// The formats a format check knows.
const (
	FormatPhone     = "phone"      // an 11-digit mobile number or a landline with area code
	FormatDocNumber = "doc_number" // as dedupe.Validate checks a document number for its type
	FormatDate      = "date"       // a date dedupe.ParseDate reads
)

// Rules is a parsed rules file. Build it with ParseRules; it is not
// modified afterwards, so it is safe for concurrent reads.
type Rules struct {
	File  string // the name given to ParseRules
	Rules []Rule
}

// Rule returns the rule called name.
func (r *Rules) Rule(name string) (Rule, bool) {
	if r == nil {
		return Rule{}, false
	}
	for _, x := range r.Rules {
		if x.Name == name {
			return x, true
		}
	}
	return Rule{}, false
}

// Rule is one quality-check rule, with its defaults filled in. A plain
// value.
type Rule struct {
	Name   string
	Covers string // the coding rule it covers, e.g. "健康码赋码规则 v3"
	// From and To are the first and last day (YYYY-MM-DD) the rule
	// applies to; To "" means open-ended.
	From, To string
	// Daily is true when the rule runs every day at At (an offset from
	// midnight, China Standard Time) for the day before.
	Daily bool
	At    time.Duration
	// Columns is "en" (dedupe.DefaultColumns) or "zh"
	// (dedupe.ChineseColumns).
	Columns string
	// Datasets maps source, coded and issued to a path template relative
	// to the runner's base directory; {date} stands for the day
	// (YYYY-MM-DD).
	Datasets     map[string]string
	Key          []dedupe.Field // default doc_type, doc_number, name, phone
	Checks       []Check
	SampleLimit  int // samples kept per check; default DefaultSampleLimit
	Line, Column int // where the entry starts
}

// Valid reports whether day (YYYY-MM-DD) lies in the rule's validity
// period.
func (r Rule) Valid(day string) bool {
	return day >= r.From && (r.To == "" || day <= r.To)
}

// Path returns the file of dataset ds for day, relative to the base
// directory ("" if the rule has no such dataset).
func (r Rule) Path(ds, day string) string {
	t, ok := r.Datasets[ds]
	if !ok {
		return ""
	}
	return strings.ReplaceAll(t, "{date}", day)
}

func (r Rule) columns() dedupe.Columns {
	if r.Columns == "zh" {
		return dedupe.ChineseColumns()
	}
	return dedupe.DefaultColumns()
}

// Check is one check of a rule. A plain value.
type Check struct {
	Kind CheckKind
	// Datasets: two for reconcile (the side expected to be complete
	// first), one for the others.
	Datasets []string
	// Fields: the required fields (validate; nil means dedupe's
	// default) or the fields that must not be empty (non_empty).
	Fields []dedupe.Field
	// Formats (format): each field and the format it must have, in file
	// order.
	Formats []FieldFormat
}

// FieldFormat is one entry of a format check.
type FieldFormat struct {
	Field  dedupe.Field
	Format string // FormatPhone, FormatDocNumber or FormatDate
}

// Name is the check's name in runs and reports: "reconcile source→coded",
// "validate coded", "non_empty source", "format coded",
// "birth_matches_id coded".
func (c Check) Name() string {
	if c.Kind == KindReconcile && len(c.Datasets) == 2 {
		return "reconcile " + c.Datasets[0] + "→" + c.Datasets[1]
	}
	return string(c.Kind) + " " + strings.Join(c.Datasets, ",")
}

// fields returns the fields the check reads (beyond the key).
func (c Check) fields() []dedupe.Field {
	switch c.Kind {
	case KindValidate:
		fs := []dedupe.Field{dedupe.FieldDocType, dedupe.FieldDocNumber}
		if c.Fields == nil {
			return append(fs, dedupe.FieldName, dedupe.FieldBirth)
		}
		return append(fs, c.Fields...)
	case KindNonEmpty:
		return c.Fields
	case KindFormat:
		var fs []dedupe.Field
		for _, f := range c.Formats {
			fs = append(fs, f.Field)
			if f.Format == FormatDocNumber {
				fs = append(fs, dedupe.FieldDocType)
			}
		}
		return fs
	case KindBirthMatchesID:
		return []dedupe.Field{dedupe.FieldDocType, dedupe.FieldDocNumber, dedupe.FieldBirth}
	}
	return nil
}

// Problem is one thing wrong with a rules file: its 1-based line and
// column, the field ("rules[2].window", "document") and what is wrong.
type Problem = yamlcheck.Problem

// RulesError lists every problem found in a rules file; ParseRules does
// not stop at the first. Safe for concurrent reads.
type RulesError = yamlcheck.Error

// ParseRules reads a rules file (README.md describes the format). It is
// strict: unknown keys, wrong types, repeated keys and names, unknown
// fields, datasets, checks and formats, bad dates and schedules are
// errors. It reports every problem it finds, as a *RulesError, each with
// its line and column.
func ParseRules(file string, data []byte) (*Rules, error) {
	p := &parser{}
	r := p.parse(data)
	if len(p.Problems) > 0 {
		return nil, &RulesError{File: file, Problems: p.Sorted()}
	}
	r.File = file
	return r, nil
}

type parser struct {
	yamlcheck.Checker
}

func (p *parser) parse(data []byte) *Rules {
	root := p.Document(data, MaxRulesFile)
	if root == nil {
		return nil
	}
	r := &Rules{}
	seen := false
	p.Fields(root, "document", []string{"rules"}, func(key string, k, v *yaml.Node) {
		seen = true
		names := map[string]bool{}
		p.List(v, "rules", func(i int, n *yaml.Node) {
			path := fmt.Sprintf("rules[%d]", i)
			rule := p.rule(n, path)
			if rule.Name != "" {
				if names[rule.Name] {
					p.Problems = append(p.Problems, Problem{Line: rule.Line, Column: rule.Column, Field: path + ".name", Msg: fmt.Sprintf("rule %q defined twice", rule.Name)})
				}
				names[rule.Name] = true
			}
			r.Rules = append(r.Rules, rule)
		})
	})
	if root.Kind == yaml.MappingNode && !seen {
		p.Add(root, "rules", "required")
	}
	return r
}

// validDay reports whether s is a real date written YYYY-MM-DD.
func validDay(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

func (p *parser) day(n *yaml.Node, path string) string {
	s, ok := p.Str(n, path)
	if !ok {
		return ""
	}
	if !validDay(s) {
		p.Add(n, path, "%q is not a date like 2022-06-14", s)
		return ""
	}
	return s
}

func (p *parser) field(n *yaml.Node, path string) (dedupe.Field, bool) {
	s, ok := p.Str(n, path)
	if !ok {
		return 0, false
	}
	f, err := dedupe.ParseField(s)
	if err != nil {
		p.Add(n, path, "%q is not a field (%s)", s, fieldList())
		return 0, false
	}
	return f, true
}

func fieldList() string {
	var names []string
	for _, f := range dedupe.AllFields() {
		names = append(names, f.String())
	}
	return strings.Join(names, ", ")
}

// fieldsList reads a list of distinct fields.
func (p *parser) fieldsList(n *yaml.Node, path string) []dedupe.Field {
	out := []dedupe.Field{}
	p.List(n, path, func(i int, c *yaml.Node) {
		fp := fmt.Sprintf("%s[%d]", path, i)
		f, ok := p.field(c, fp)
		switch {
		case !ok:
		case slices.Contains(out, f):
			p.Add(c, fp, "%q listed twice", f)
		default:
			out = append(out, f)
		}
	})
	return out
}

// dataset reads a dataset name the rule declares.
func (p *parser) dataset(n *yaml.Node, path string, declared map[string]string) (string, bool) {
	s, ok := p.Str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(datasetNames, s) {
		p.Add(n, path, "%q: the datasets are source, coded and issued", s)
		return "", false
	}
	if _, ok := declared[s]; !ok {
		p.Add(n, path, "dataset %q is not in the rule's datasets", s)
		return "", false
	}
	return s, true
}

func (p *parser) rule(n *yaml.Node, path string) Rule {
	r := Rule{Line: n.Line, Column: n.Column, Columns: "en", SampleLimit: DefaultSampleLimit}
	if n.Kind != yaml.MappingNode {
		p.Add(n, path, "expected a mapping, got %s", yamlcheck.KindName(n))
		return r
	}
	seen := map[string]bool{}
	declared := map[string]string{} // datasets named, even with a bad path: checks may refer to them
	var checksNode *yaml.Node
	p.Fields(n, path, []string{"name", "covers", "valid", "schedule", "columns", "datasets", "key", "checks", "sample_limit"}, func(key string, k, v *yaml.Node) {
		field := path + "." + key
		seen[key] = true
		switch key {
		case "name":
			if s, ok := p.Str(v, field); ok {
				if !yamlcheck.ValidName(s) {
					p.Add(v, field, "%q: names are 1 to 64 of a-z, 0-9, '-', '_', '.', starting with a letter or digit", s)
				} else {
					r.Name = s
				}
			}
		case "covers":
			r.Covers, _ = p.Str(v, field)
		case "valid":
			var fromNode *yaml.Node
			p.Fields(v, field, []string{"from", "to"}, func(key string, k, v *yaml.Node) {
				if key == "from" {
					r.From, fromNode = p.day(v, field+".from"), v
				} else {
					r.To = p.day(v, field+".to")
				}
			})
			if v.Kind == yaml.MappingNode && fromNode == nil {
				p.Add(v, field+".from", "required")
			}
			if r.From != "" && r.To != "" && r.To < r.From {
				p.Add(v, field, "to %s is before from %s", r.To, r.From)
			}
		case "schedule":
			s, ok := p.Str(v, field)
			if !ok || s == "none" {
				return
			}
			clock, ok := strings.CutPrefix(s, "daily ")
			t, err := time.Parse("15:04", strings.TrimSpace(clock))
			if !ok || err != nil {
				p.Add(v, field, "%q: want \"daily HH:MM\" (China Standard Time) or none", s)
				return
			}
			r.Daily, r.At = true, time.Duration(t.Hour())*time.Hour+time.Duration(t.Minute())*time.Minute
		case "columns":
			if s, ok := p.Str(v, field); ok {
				if s != "en" && s != "zh" {
					p.Add(v, field, "%q: want en (id, name, ...) or zh (编号, 姓名, ...)", s)
				} else {
					r.Columns = s
				}
			}
		case "datasets":
			r.Datasets = map[string]string{}
			p.Fields(v, field, datasetNames, func(key string, k, v *yaml.Node) {
				declared[key] = ""
				s, ok := p.Str(v, field+"."+key)
				if !ok {
					return
				}
				if msg := checkTemplate(s); msg != "" {
					p.Add(v, field+"."+key, "%q: %s", s, msg)
					return
				}
				r.Datasets[key] = s
			})
			if v.Kind == yaml.MappingNode && len(v.Content) == 0 {
				p.Add(v, field, "name at least one of source, coded, issued")
			}
		case "key":
			r.Key = p.fieldsList(v, field)
			if len(r.Key) == 0 && v.Kind == yaml.SequenceNode {
				p.Add(v, field, "name at least one field")
			}
		case "checks":
			checksNode = v
		case "sample_limit":
			r.SampleLimit, _ = p.Integer(v, field, 0, MaxSampleLimit)
		}
	})
	for _, req := range []string{"name", "covers", "valid", "datasets", "checks"} {
		if !seen[req] {
			p.Add(n, path+"."+req, "required")
		}
	}
	if len(r.Key) == 0 {
		r.Key = []dedupe.Field{dedupe.FieldDocType, dedupe.FieldDocNumber, dedupe.FieldName, dedupe.FieldPhone}
	}
	if checksNode != nil {
		names := map[string]bool{}
		p.List(checksNode, path+".checks", func(i int, c *yaml.Node) {
			cp := fmt.Sprintf("%s.checks[%d]", path, i)
			chk, ok := p.check(c, cp, declared)
			if !ok {
				return
			}
			if names[chk.Name()] {
				p.Add(c, cp, "check %q listed twice", chk.Name())
				return
			}
			names[chk.Name()] = true
			r.Checks = append(r.Checks, chk)
		})
		if checksNode.Kind == yaml.SequenceNode && len(checksNode.Content) == 0 {
			p.Add(checksNode, path+".checks", "name at least one check")
		}
	}
	return r
}

// checkTemplate says what is wrong with a dataset path template.
func checkTemplate(s string) string {
	switch {
	case s == "":
		return "empty path"
	case strings.HasPrefix(s, "/") || strings.Contains(s, "\\") || strings.ContainsRune(s, 0):
		return "want a path relative to the base directory, with forward slashes"
	}
	clean := strings.ReplaceAll(s, "{date}", "2006-01-02")
	if strings.ContainsAny(clean, "{}") {
		return "the only placeholder is {date}"
	}
	if c := path.Clean(clean); c == ".." || strings.HasPrefix(c, "../") || c == "." {
		return "the path leaves the base directory"
	}
	return ""
}

// check reads one entry of checks: a mapping whose first key is the kind.
func (p *parser) check(n *yaml.Node, path string, declared map[string]string) (Check, bool) {
	var c Check
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.Add(n, path, "expected a mapping such as {reconcile: [source, coded]}, got %s", yamlcheck.KindName(n))
		return c, false
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; slices.Contains(checkKinds, k.Value) {
			if c.Kind != "" {
				p.Add(k, path, "one check per entry: %s and %s", c.Kind, k.Value)
				return c, false
			}
			c.Kind = CheckKind(k.Value)
		}
	}
	if c.Kind == "" {
		p.Add(n, path, "no check: want one of %s", strings.Join(checkKinds, ", "))
		return c, false
	}
	known := []string{string(c.Kind)}
	switch c.Kind {
	case KindValidate:
		known = append(known, "required")
	case KindNonEmpty, KindFormat:
		known = append(known, "dataset")
	}
	before := len(p.Problems)
	var datasetNode *yaml.Node
	p.Fields(n, path, known, func(key string, k, v *yaml.Node) {
		field := path + "." + key
		switch key {
		case string(KindReconcile):
			p.List(v, field, func(i int, e *yaml.Node) {
				if ds, ok := p.dataset(e, fmt.Sprintf("%s[%d]", field, i), declared); ok {
					c.Datasets = append(c.Datasets, ds)
				}
			})
			if v.Kind == yaml.SequenceNode && len(v.Content) != 2 {
				p.Add(v, field, "want two datasets, e.g. [source, coded]")
			} else if len(c.Datasets) == 2 && c.Datasets[0] == c.Datasets[1] {
				p.Add(v, field, "a dataset reconciled with itself")
			}
		case string(KindValidate), string(KindBirthMatchesID):
			if ds, ok := p.dataset(v, field, declared); ok {
				c.Datasets = []string{ds}
			}
		case string(KindNonEmpty):
			c.Fields = p.fieldsList(v, field)
			if len(c.Fields) == 0 && v.Kind == yaml.SequenceNode {
				p.Add(v, field, "name at least one field")
			}
		case string(KindFormat):
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				p.Add(v, field, "expected a mapping of field to format, e.g. {phone: phone}, got %s", yamlcheck.KindName(v))
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				fk, fv := v.Content[i], v.Content[i+1]
				fp := field + "." + fk.Value
				f, ok := p.field(fk, fp)
				if !ok {
					continue
				}
				if slices.ContainsFunc(c.Formats, func(x FieldFormat) bool { return x.Field == f }) {
					p.Add(fk, fp, "repeated key")
					continue
				}
				s, ok := p.Str(fv, fp)
				if !ok {
					continue
				}
				if s != FormatPhone && s != FormatDocNumber && s != FormatDate {
					p.Add(fv, fp, "%q: the formats are phone, doc_number and date", s)
					continue
				}
				c.Formats = append(c.Formats, FieldFormat{Field: f, Format: s})
			}
		case "required":
			c.Fields = p.fieldsList(v, field)
		case "dataset":
			datasetNode = v
			if ds, ok := p.dataset(v, field, declared); ok {
				c.Datasets = []string{ds}
			}
		}
	})
	if (c.Kind == KindNonEmpty || c.Kind == KindFormat) && datasetNode == nil {
		p.Add(n, path+".dataset", "required")
	}
	return c, len(p.Problems) == before
}
