package dedupe

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// precisionRecall compares found groups with true groups as sets of
// record-id sets.
func precisionRecall(found, truth [][]int64) (precision, recall float64) {
	key := func(g []int64) string { s := slices.Clone(g); slices.Sort(s); return fmt.Sprint(s) }
	want := map[string]bool{}
	for _, g := range truth {
		want[key(g)] = true
	}
	hit := 0
	for _, g := range found {
		if want[key(g)] {
			hit++
		}
	}
	precision, recall = 1, 1
	if len(found) > 0 {
		precision = float64(hit) / float64(len(found))
	}
	if len(truth) > 0 {
		recall = float64(hit) / float64(len(truth))
	}
	return precision, recall
}

// groupsOf returns the duplicate groups and the suspicious review groups
// of a result as id sets.
func groupsOf(res *Result) (dups, sus [][]int64) {
	for _, g := range res.Duplicates {
		dups = append(dups, g.Records)
	}
	for _, g := range res.Reviews {
		if g.Kind != ReviewSuspicious {
			continue
		}
		var ids []int64
		for _, r := range g.Records {
			ids = append(ids, r.ID)
		}
		sus = append(sus, ids)
	}
	return dups, sus
}

func TestQualityAgainstSynthTruth(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	for seed := uint64(10); seed < 13; seed++ {
		g := synth.New(seed)
		raw, truth := g.Registry(synth.RegistryConfig{Records: n, DupRate: 0.02, SuspiciousRate: 0.01, NoiseRate: 0.2})
		require.NotEmpty(t, truth.Duplicates)
		require.NotEmpty(t, truth.Suspicious)
		res, err := Resolve(context.Background(), fromSynth(raw), Policy{})
		require.NoError(t, err)
		dups, sus := groupsOf(res)
		p, r := precisionRecall(dups, truth.Duplicates)
		require.Equal(t, 1.0, p, "duplicate precision, seed %d", seed)
		require.Equal(t, 1.0, r, "duplicate recall, seed %d", seed)
		p, r = precisionRecall(sus, truth.Suspicious)
		require.Equal(t, 1.0, p, "suspicious precision, seed %d", seed)
		require.Equal(t, 1.0, r, "suspicious recall, seed %d", seed)
		require.Equal(t, int64(len(truth.Duplicates)), res.Stats.DuplicateGroups)
	}
}

func TestPrecisionRecallCountsMisses(t *testing.T) {
	p, r := precisionRecall([][]int64{{1, 2}, {3, 4}}, [][]int64{{2, 1}, {5, 6}, {7, 8}})
	require.Equal(t, 0.5, p)
	require.InDelta(t, 1.0/3, r, 1e-12)
}
