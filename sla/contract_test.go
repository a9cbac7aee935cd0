package sla

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPresetsParse(t *testing.T) {
	require.Equal(t, []string{"chengdu", "shaanxi", "sichuan"}, PresetNames())
	for _, name := range PresetNames() {
		c, err := Preset(name)
		require.NoError(t, err, name)
		require.Equal(t, name, c.Name)
	}
}
