package sla

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// positions maps a field path ("levels[0].targets[1].calendar") to the
// line and column of its value.
type positions map[string][2]int

// lookup finds the position of a path or of its nearest recorded parent.
func (p positions) lookup(path string) ([2]int, bool) {
	for path != "" {
		if v, ok := p[path]; ok {
			return v, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return [2]int{}, false
}

// decodeStrictPos decodes one YAML document into v and returns where each
// field's value was. It is strict: unknown or duplicate keys, aliases, a
// mapping where a list is expected, and numbers that do not parse are
// errors that carry the line and column of the offending node. Values with
// their own UnmarshalYAML check themselves.
func decodeStrictPos(data []byte, v any) (positions, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlSyntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &FieldError{Field: "document", Msg: "empty document"}
	}
	root := doc.Content[0]
	pos := positions{}
	if err := checkNode(root, reflect.TypeOf(v), "", 0, pos); err != nil {
		return nil, err
	}
	if err := root.Decode(v); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			// A value's own check knows its position, not its path.
			for path, p := range pos {
				if p[0] == fe.Line && p[1] == fe.Column && (strings.HasPrefix(fe.Field, "value ") || len(path) > len(fe.Field)) {
					fe.Field = path
				}
			}
			return nil, fe
		}
		return nil, &FieldError{Field: "document", Line: root.Line, Column: root.Column, Msg: err.Error()}
	}
	return pos, nil
}

// yamlSyntaxError turns a parser error ("yaml: line 3: ...") into a FieldError.
func yamlSyntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, e := strconv.Atoi(rest[:i]); e == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &FieldError{Field: "document", Line: line, Column: 1, Msg: "syntax: " + msg}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

const maxYAMLDepth = 32

func checkNode(n *yaml.Node, t reflect.Type, path string, depth int, pos positions) error {
	if path != "" {
		pos[path] = [2]int{n.Line, n.Column}
	}
	if depth > maxYAMLDepth {
		return &FieldError{Field: pathOr(path), Line: n.Line, Column: n.Column, Msg: "nested too deeply"}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &FieldError{Field: pathOr(path), Line: n.Line, Column: n.Column, Msg: "anchors and aliases are not allowed"}
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	bad := func(want string) error {
		return &FieldError{Field: pathOr(path), Line: n.Line, Column: n.Column, Msg: "expected " + want}
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return bad("a mapping")
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				return &FieldError{Field: p, Line: k.Line, Column: k.Column, Msg: "unknown field"}
			}
			if seen[k.Value] {
				return &FieldError{Field: p, Line: k.Line, Column: k.Column, Msg: "duplicate field"}
			}
			seen[k.Value] = true
			if err := checkNode(val, f.Type, p, depth+1, pos); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return bad("a list")
		}
		for i, c := range n.Content {
			if err := checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1, pos); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return bad("a mapping")
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := joinPath(path, k.Value)
			if seen[k.Value] {
				return &FieldError{Field: p, Line: k.Line, Column: k.Column, Msg: "duplicate key"}
			}
			seen[k.Value] = true
			if err := checkNode(n.Content[i+1], t.Elem(), p, depth+1, pos); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode {
			return bad("an integer")
		}
		if _, err := strconv.ParseInt(n.Value, 10, 32); err != nil {
			return bad("an integer")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
			return bad("true or false")
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return bad("a string")
		}
	default:
		return bad("a supported value")
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOr(p string) string {
	if p == "" {
		return "document"
	}
	return p
}

// scalarErr builds the positioned error a custom scalar returns.
func scalarErr(n *yaml.Node, format string, args ...any) error {
	return &FieldError{Field: "value " + strconv.Quote(n.Value), Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}
