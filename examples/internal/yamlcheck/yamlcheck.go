// Package yamlcheck is what the example programs' strict YAML files share
// (alarm rules in examples/alarms, quality-check rules in
// examples/quality): a Checker that walks go.yaml.in/yaml/v3 nodes and
// collects every problem with its line and column, rather than stopping at
// the first, so an operator fixes a file in one pass.
package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a file. Line and Column are 1-based.
type Problem struct {
	Line, Column int
	Field        string // "rules[2].window", "notifiers[0].url", "document"
	Msg          string
}

// Error lists every problem found in a file, each at its position.
type Error struct {
	File     string
	Problems []Problem
}

// Error prints one problem a line as file:line:col: field: msg.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s", e.File, p.Line, p.Column, p.Field, p.Msg)
	}
	return b.String()
}

// Checker collects the problems of one file. The zero value is ready.
type Checker struct {
	Problems []Problem
}

// Add records a problem at node n (nil: the start of the file).
func (c *Checker) Add(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, max(n.Column, 1)
	}
	c.AddAt(line, col, field, fmt.Sprintf(format, args...))
}

// AddAt records a problem at a position found otherwise.
func (c *Checker) AddAt(line, col int, field, msg string) {
	c.Problems = append(c.Problems, Problem{Line: line, Column: col, Field: field, Msg: msg})
}

// Sorted returns the problems in file order (a stable sort: problems at
// one position keep the order they were found in).
func (c *Checker) Sorted() []Problem {
	slices.SortStableFunc(c.Problems, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return c.Problems
}

// Document parses data as one YAML document of at most max bytes and
// returns its root node, or nil after recording why there is none (too
// large, empty, a syntax error at its line). A second document is a
// problem too. The parser's panics become problems: a file must never
// bring a server down.
func (c *Checker) Document(data []byte, max int) *yaml.Node {
	if len(data) > max {
		c.Add(nil, "document", "larger than %d bytes", max)
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.Add(nil, "document", "empty document")
			return nil
		}
		msg, line := syntaxError(err)
		c.AddAt(line, 1, "document", msg)
		return nil
	}
	var extra yaml.Node
	if err := decode(dec, &extra); err == nil {
		c.Add(&extra, "document", "more than one document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	return root
}

// decode runs the YAML parser, turning a panic inside it into an error.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", v)
		}
	}()
	return dec.Decode(n)
}

// syntaxError splits a parser error ("yaml: line 3: ...") into its
// message and line (1 if it names none).
func syntaxError(err error) (string, int) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, e := strconv.Atoi(rest[:i]); e == nil && n > 0 {
				return "syntax: " + strings.TrimSpace(rest[i+1:]), n
			}
		}
	}
	return "syntax: " + msg, 1
}

// KindName says what a node is, for "expected ..., got ..." messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// Join is the field path of key under path ("document" is the root).
func Join(path, key string) string {
	if path == "" || path == "document" {
		return key
	}
	return path + "." + key
}

// Fields walks a mapping, recording unknown and repeated keys, aliases
// and anchors, and calls fn for each known key.
func (c *Checker) Fields(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		c.Add(n, path, "expected a mapping, got %s", KindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := Join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			c.Add(k, path, "keys must be plain names")
		case !slices.Contains(known, k.Value):
			c.Add(k, field, "unknown key (known: %s)", strings.Join(known, ", "))
		case seen[k.Value]:
			c.Add(k, field, "repeated key")
		case v.Kind == yaml.AliasNode || v.Anchor != "":
			c.Add(v, field, "anchors and aliases are not allowed")
		default:
			fn(k.Value, k, v)
		}
		seen[k.Value] = true
	}
}

// List walks a sequence, calling fn for each item that is not an alias
// or anchor.
func (c *Checker) List(n *yaml.Node, path string, fn func(i int, n *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		c.Add(n, path, "expected a list, got %s", KindName(n))
		return
	}
	for i, item := range n.Content {
		if item.Kind == yaml.AliasNode || item.Anchor != "" {
			c.Add(item, fmt.Sprintf("%s[%d]", path, i), "anchors and aliases are not allowed")
			continue
		}
		fn(i, item)
	}
}

// Str is a scalar's text.
func (c *Checker) Str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		c.Add(n, path, "expected a string, got %s", KindName(n))
		return "", false
	}
	return n.Value, true
}

// Strs is a list of strings; never nil.
func (c *Checker) Strs(n *yaml.Node, path string) []string {
	out := []string{}
	c.List(n, path, func(i int, item *yaml.Node) {
		if s, ok := c.Str(item, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	})
	return out
}

// Integer is a whole number within lo..hi.
func (c *Checker) Integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!str") {
		c.Add(n, path, "expected a whole number, got %s", KindName(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		c.Add(n, path, "expected a whole number, got %q", n.Value)
		return 0, false
	}
	if v < lo || v > hi {
		c.Add(n, path, "%d is out of range %d..%d", v, lo, hi)
		return 0, false
	}
	return v, true
}

// ValidName reports whether s is a plain name for a rule or notifier: 1
// to 64 characters of a-z and 0-9, and '-', '_' or '.' after the first.
// Such names go into alarm causes, run IDs, logs and metric labels.
func ValidName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}
