package console

import "testing"

// TestLabels checks that every word exists in both languages and that no
// two label sets define the same key (the later would silently win).
func TestLabels(t *testing.T) {
	seen := map[string]int{}
	for i, set := range []map[string]map[string]string{coreLabels, statsLabels, rulesLabels, finderLabels} {
		for k := range set["zh"] {
			if j, dup := seen[k]; dup {
				t.Errorf("label %q defined in set %d and set %d", k, j, i)
			}
			seen[k] = i
		}
	}
	for k := range labels["zh"] {
		if labels["en"][k] == "" {
			t.Errorf("label %q has no English", k)
		}
	}
	for k := range labels["en"] {
		if labels["zh"][k] == "" {
			t.Errorf("label %q has no Chinese", k)
		}
	}
}
