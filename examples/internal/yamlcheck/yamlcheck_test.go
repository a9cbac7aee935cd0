package yamlcheck

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestCheckerCollectsEveryProblem: one pass over a file with several
// mistakes names each at its line and column, in file order.
func TestCheckerCollectsEveryProblem(t *testing.T) {
	var c Checker
	root := c.Document([]byte("name: x\nsize: big\nname: y\nextra: &a 1\nitems: [1, *a]\n"), 1<<10)
	require.NotNil(t, root)
	c.Fields(root, "document", []string{"name", "size", "items"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "size":
			c.Integer(v, key, 1, 10)
		case "items":
			c.List(v, key, func(i int, n *yaml.Node) { c.Integer(n, fmt.Sprintf("items[%d]", i), 1, 10) })
		}
	})
	var got []string
	for _, p := range c.Sorted() {
		got = append(got, fmt.Sprintf("%d:%d %s: %s", p.Line, p.Column, p.Field, p.Msg))
	}
	require.Equal(t, []string{
		`2:7 size: expected a whole number, got "big"`,
		`3:1 name: repeated key`,
		`4:1 extra: unknown key (known: name, size, items)`,
		`5:12 items[1]: anchors and aliases are not allowed`,
	}, got)
}

func TestDocumentRefusals(t *testing.T) {
	for _, c := range []struct {
		data string
		max  int
		want string
	}{
		{"", 64, "1:1 document: empty document"},
		{"a: [1\n", 64, "1:1 document: syntax: did not find expected ',' or ']'"},
		{"a: 1\n---\nb: 2\n", 64, "2:1 document: more than one document"},
		{"a: 123456789\n", 8, "1:1 document: larger than 8 bytes"},
	} {
		var ch Checker
		ch.Document([]byte(c.data), c.max)
		require.Len(t, ch.Problems, 1, "%q", c.data)
		p := ch.Problems[0]
		require.Equal(t, c.want, fmt.Sprintf("%d:%d %s: %s", p.Line, p.Column, p.Field, p.Msg), "%q", c.data)
	}
}
