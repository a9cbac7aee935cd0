package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// RuleSet is a versioned, ordered list of rules, as written in YAML or JSON:
//
//	id: healthcode-default
//	version: "2022.12"
//	effective_from: 2022-12-01T00:00:00+08:00
//	default: green
//	rules:
//	  - id: positive-14d
//	    when: positive_within(14 * 24, "pcr")
//	    colour: red
//	    reason: 核酸检测阳性（14 天内）
//	    priority: 100
//	    legal_basis: 《中华人民共和国传染病防治法》第三十九条
//
// Rule fields: id, when (a CEL expression), colour, reason, priority
// (integer, higher wins ties between equally severe colours), valid_from and
// valid_until (RFC 3339; the rule applies when valid_from <= now <
// valid_until), legal_basis and description. Times are RFC 3339. Unknown
// fields are errors.
//
// A RuleSet is a plain value; build one in Go or parse one with
// ParseRuleSet, then compile it with Env.Compile. Compile only reads it, so
// concurrent compilations of one RuleSet are safe; do not modify it
// meanwhile.
type RuleSet struct {
	ID            string
	Version       string
	EffectiveFrom time.Time // zero: effective as soon as it is swapped in
	Default       Colour    // the colour when no rule matches; "" means green
	Description   string
	Rules         []Rule

	src *source // positions, when parsed
}

// Rule is one assignment rule of a RuleSet. A plain value.
type Rule struct {
	ID          string
	When        string // CEL, must be boolean
	Colour      Colour
	Reason      string
	Priority    int
	ValidFrom   time.Time // zero: no lower bound
	ValidUntil  time.Time // zero: no upper bound
	LegalBasis  string
	Description string

	pos *rulePos
}

// source keeps what positions a parsed set needs for its error messages.
type source struct {
	file   string
	lines  [][]rune
	fields map[string]position // set-level fields by name
	bad    map[string]bool     // set-level fields with parse problems
}

type position struct{ line, column int }

type rulePos struct {
	at     position            // the rule's mapping
	fields map[string]position // by field name
	bad    map[string]bool     // fields with parse problems
	when   *yaml.Node
}

var setFields = []string{"id", "version", "effective_from", "default", "description", "rules"}
var ruleFields = []string{"id", "when", "colour", "reason", "priority", "valid_from", "valid_until", "legal_basis", "description"}

// ParseRuleSet parses a rule set written in YAML or JSON (JSON is read as
// YAML). file names the document in error positions. Structural problems
// (syntax, unknown or repeated fields, values of the wrong shape, times that
// are not RFC 3339) are all reported in one *CompileError; semantic checks
// (colours, duplicate rule ids, expressions) happen in Env.Compile.
func ParseRuleSet(file string, data []byte) (*RuleSet, error) {
	rs, problems := parseRuleSet(file, data)
	if len(problems) > 0 {
		return nil, &CompileError{Problems: problems}
	}
	return rs, nil
}

// parseRuleSet returns what it could read (nil if the document is not YAML
// at all) and the problems found; fields with problems are marked bad so
// that Compile does not report them twice.
func parseRuleSet(file string, data []byte) (*RuleSet, []Problem) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line := 0
		msg := err.Error()
		if errors.Is(err, io.EOF) {
			msg = "empty document"
		} else {
			line = yamlErrorLine(msg)
		}
		return nil, []Problem{{File: file, Line: line, Msg: strings.TrimPrefix(msg, "yaml: "), Err: ErrSyntax}}
	}
	p := &setParser{file: file}
	rs := &RuleSet{src: &source{file: file, lines: splitLines(data), fields: map[string]position{}, bad: map[string]bool{}}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(extra.Line, extra.Column, "", "", "more than one document", ErrSyntax)
	}
	p.parseSet(root, rs)
	return rs, p.problems
}

// yamlErrorLine extracts "line N" from a yaml.v3 error message.
func yamlErrorLine(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	j := i + len("line ")
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	n, err := strconv.Atoi(msg[j:k])
	if err != nil {
		return 0
	}
	return n
}

func splitLines(data []byte) [][]rune {
	parts := strings.Split(string(data), "\n")
	lines := make([][]rune, len(parts))
	for i, l := range parts {
		lines[i] = []rune(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

type setParser struct {
	file     string
	problems []Problem
}

func (p *setParser) add(line, col int, ruleID, field, msg string, err error) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Column: col, RuleID: ruleID, Field: field, Msg: msg, Err: err})
}

// fields walks a mapping node, reporting unknown, repeated and non-string
// keys, and calls fn for each known field.
func (p *setParser) fields(n *yaml.Node, what, ruleID string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, n.Column, ruleID, what, fmt.Sprintf("want a mapping, got %s", kindName(n)), ErrSyntax)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k.Line, k.Column, ruleID, what, "field names must be strings", ErrSyntax)
			continue
		}
		if !contains(known, k.Value) {
			p.add(k.Line, k.Column, ruleID, k.Value, fmt.Sprintf("unknown field %q in %s (known: %s)", k.Value, what, strings.Join(known, ", ")), ErrUnknownField)
			continue
		}
		if seen[k.Value] {
			p.add(k.Line, k.Column, ruleID, k.Value, fmt.Sprintf("field %q repeated", k.Value), ErrDuplicate)
			continue
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			p.add(v.Line, v.Column, ruleID, k.Value, "aliases are not supported", ErrSyntax)
			continue
		}
		fn(k.Value, k, v)
	}
}

func (p *setParser) parseSet(n *yaml.Node, rs *RuleSet) {
	p.fields(n, "rule set", "", setFields, func(key string, k, v *yaml.Node) {
		rs.src.fields[key] = position{v.Line, v.Column}
		before := len(p.problems)
		defer func() {
			if len(p.problems) > before {
				rs.src.bad[key] = true
			}
		}()
		switch key {
		case "id":
			rs.ID, _ = p.str(v, "", key)
		case "version":
			rs.Version, _ = p.str(v, "", key)
		case "description":
			rs.Description, _ = p.str(v, "", key)
		case "default":
			s, _ := p.str(v, "", key)
			rs.Default = Colour(s)
		case "effective_from":
			rs.EffectiveFrom = p.time(v, "", key)
		case "rules":
			if v.Kind != yaml.SequenceNode {
				p.add(v.Line, v.Column, "", key, fmt.Sprintf("want a list of rules, got %s", kindName(v)), ErrSyntax)
				return
			}
			rs.Rules = make([]Rule, 0, len(v.Content))
			for i, rn := range v.Content {
				rs.Rules = append(rs.Rules, p.parseRule(rn, i))
			}
		}
	})
}

func (p *setParser) parseRule(n *yaml.Node, index int) Rule {
	r := Rule{pos: &rulePos{at: position{n.Line, n.Column}, fields: map[string]position{}, bad: map[string]bool{}}}
	if n.Kind == yaml.MappingNode {
		// Find the id first so that every problem of the rule can name it.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode {
				r.ID = v.Value
			}
		}
	}
	what := fmt.Sprintf("rules[%d]", index)
	before := len(p.problems)
	p.fields(n, what, r.ID, ruleFields, func(key string, k, v *yaml.Node) {
		r.pos.fields[key] = position{v.Line, v.Column}
		before := len(p.problems)
		defer func() {
			if len(p.problems) > before {
				r.pos.bad[key] = true
			}
		}()
		switch key {
		case "id":
			r.ID, _ = p.str(v, r.ID, key)
		case "when":
			r.When, _ = p.str(v, r.ID, key)
			r.pos.when = v
		case "colour":
			s, _ := p.str(v, r.ID, key)
			r.Colour = Colour(s)
		case "reason":
			r.Reason, _ = p.str(v, r.ID, key)
		case "legal_basis":
			r.LegalBasis, _ = p.str(v, r.ID, key)
		case "description":
			r.Description, _ = p.str(v, r.ID, key)
		case "priority":
			s, ok := p.str(v, r.ID, key)
			if !ok {
				return
			}
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil || (v.Tag != "!!int" && v.Tag != "!!str") {
				p.add(v.Line, v.Column, r.ID, key, fmt.Sprintf("priority %q is not a 32-bit integer", s), ErrBadValue)
				return
			}
			r.Priority = int(n)
		case "valid_from":
			r.ValidFrom = p.time(v, r.ID, key)
		case "valid_until":
			r.ValidUntil = p.time(v, r.ID, key)
		}
	})
	if n.Kind != yaml.MappingNode && len(p.problems) > before {
		r.pos.bad["*"] = true
	}
	return r
}

func (p *setParser) str(v *yaml.Node, ruleID, field string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, v.Column, ruleID, field, fmt.Sprintf("want a string, got %s", kindName(v)), ErrSyntax)
		return "", false
	}
	if v.Tag == "!!null" {
		return "", true
	}
	return v.Value, true
}

func (p *setParser) time(v *yaml.Node, ruleID, field string) time.Time {
	s, ok := p.str(v, ruleID, field)
	if !ok || s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.add(v.Line, v.Column, ruleID, field, fmt.Sprintf("%q is not an RFC 3339 time (2022-12-01T00:00:00+08:00)", s), ErrBadTime)
		return time.Time{}
	}
	return t
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "a scalar"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// badField reports whether parsing already reported a problem with field.
func (r *Rule) badField(field string) bool {
	return r.pos != nil && (r.pos.bad[field] || r.pos.bad["*"])
}

func (rs *RuleSet) badField(field string) bool {
	return rs.src != nil && rs.src.bad[field]
}

// fieldPos returns the file position of a rule field, or of the rule, or
// nothing for a set built in Go.
func (r *Rule) fieldPos(field string) position {
	if r.pos == nil {
		return position{}
	}
	if p, ok := r.pos.fields[field]; ok {
		return p
	}
	return r.pos.at
}

// exprPos maps a 1-based line:column inside the rule's `when` expression to
// the file. It succeeds when the expression text can be found verbatim at
// the mapped place: single-line plain and quoted scalars without escapes,
// and literal blocks (|). Otherwise it returns the position of the field.
func (rs *RuleSet) exprPos(r *Rule, line, col int) (position, bool) {
	if r.pos == nil || r.pos.when == nil || rs.src == nil {
		return position{}, false
	}
	n := r.pos.when
	exprLines := strings.Split(r.When, "\n")
	if line < 1 || line > len(exprLines) {
		return position{n.Line, n.Column}, false
	}
	want := []rune(exprLines[line-1])
	var fileLine, startCol int // startCol: 1-based column where the expression line begins
	switch n.Style {
	case 0, yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if len(exprLines) != 1 {
			return position{n.Line, n.Column}, false
		}
		fileLine, startCol = n.Line, n.Column
		if n.Style != 0 {
			startCol++
		}
	case yaml.LiteralStyle:
		fileLine = n.Line + line
		indent := -1
		for l := n.Line + 1; l <= len(rs.src.lines); l++ {
			text := rs.src.lines[l-1]
			if strings.TrimSpace(string(text)) == "" {
				continue
			}
			indent = len(text) - len([]rune(strings.TrimLeft(string(text), " ")))
			break
		}
		if indent < 0 {
			return position{n.Line, n.Column}, false
		}
		startCol = indent + 1
	default:
		return position{n.Line, n.Column}, false
	}
	if fileLine < 1 || fileLine > len(rs.src.lines) {
		return position{n.Line, n.Column}, false
	}
	text := rs.src.lines[fileLine-1]
	if startCol-1+len(want) > len(text) || string(text[startCol-1:startCol-1+len(want)]) != string(want) {
		return position{n.Line, n.Column}, false
	}
	return position{fileLine, startCol + col - 1}, true
}
