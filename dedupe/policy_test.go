package dedupe

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadPolicy(t *testing.T) {
	p, err := LoadPolicy(strings.NewReader("duplicate_key: [name, doc_number, birth]\nsuspicious_key: [doc_number]\nkeep: earliest\ntie: highest_id\n"))
	require.NoError(t, err)
	require.Equal(t, []Field{FieldName, FieldDocNumber, FieldBirth}, p.DuplicateKey)
	require.Equal(t, KeepEarliest, p.Keep)
	require.Equal(t, TieHighestID, p.Tie)
	require.Equal(t, DefaultPolicy().Identical, p.Identical, "missing keys take defaults")

	j, err := LoadPolicy(strings.NewReader(`{"duplicate_key": ["name", "doc-number", "birth", "ethnicity"], "keep": "latest"}`))
	require.NoError(t, err)
	require.Equal(t, DefaultPolicy(), j)

	empty, err := LoadPolicy(strings.NewReader(""))
	require.NoError(t, err)
	require.Equal(t, DefaultPolicy(), empty)
}

func TestLoadPolicyErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown key", "keep: latest\nmerge: yes\n", "line 2"},
		{"unknown field", "duplicate_key: [name, shoe_size]\n", "shoe_size"},
		{"bad keep", "keep: newest\n", "keep"},
		{"bad tie", "tie: random\n", "tie"},
		{"not a subset", "duplicate_key: [name, birth]\nsuspicious_key: [doc_number]\n", "suspicious_key"},
		{"equal keys", "duplicate_key: [doc_number]\nsuspicious_key: [doc_number]\n", "suspicious_key"},
		{"twice", "duplicate_key: [name, name, doc_number]\n", "listed twice"},
		{"syntax", "duplicate_key: [name\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPolicy(strings.NewReader(tt.in))
			require.ErrorIs(t, err, ErrInvalidPolicy)
			require.Contains(t, err.Error(), tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "dedupe: "), err.Error())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, Config{}.Validate())
	require.NoError(t, DefaultConfig().Validate())
	for name, c := range map[string]Config{
		"MemoryBudget": {MemoryBudget: -1},
		"Partitions":   {Partitions: 1},
		"Workers":      {Workers: -2},
	} {
		err := c.Validate()
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.Contains(t, err.Error(), name)
	}
	_, err := NewResolver(Policy{SuspiciousKey: []Field{FieldPhone}}, Config{})
	require.ErrorIs(t, err, ErrInvalidPolicy)
}

func TestFieldText(t *testing.T) {
	for _, f := range AllFields() {
		b, err := f.MarshalText()
		require.NoError(t, err)
		var g Field
		require.NoError(t, g.UnmarshalText(b))
		require.Equal(t, f, g)
	}
	_, err := ParseField("colour")
	require.ErrorIs(t, err, ErrUnknownField)
}
