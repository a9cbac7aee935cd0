package contacttrace

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

func synthVenueNames(seed uint64, n int) []VenueName {
	vs := synth.New(seed).Venues(n)
	out := make([]VenueName, len(vs))
	for i, v := range vs {
		out[i] = VenueName{ID: v.ID, Name: v.Name}
	}
	return out
}

// bruteSearch scores every name by the documented rule, one by one.
func bruteSearch(names []VenueName, query string, k int) []VenueMatch {
	var terms []string
	for _, f := range strings.Fields(query) {
		if r := nameRunes(nil, f); len(r) > 0 {
			terms = append(terms, string(r))
		}
	}
	if len(terms) == 0 {
		return nil
	}
	var out []VenueMatch
	for _, n := range names {
		name := string(nameRunes(nil, n.Name))
		seen := map[string]bool{}
		score, all := 0, true
		for _, t := range terms {
			rs := []rune(t)
			var grams []string
			if len(rs) == 1 {
				grams = []string{t}
			}
			for i := 0; i+1 < len(rs); i++ {
				grams = append(grams, string(rs[i:i+2]))
			}
			whole := true
			for _, g := range grams {
				has := strings.Contains(name, g)
				whole = whole && has
				if has && !seen[g] {
					score += gramPoints
				}
				seen[g] = true
			}
			if whole && strings.Contains(name, t) {
				score += termBonus
			} else {
				all = false
			}
		}
		if all {
			score += allTermsBonus
		}
		if score > 0 {
			out = append(out, VenueMatch{ID: n.ID, Name: n.Name, Score: score})
		}
	}
	slices.SortFunc(out, func(a, b VenueMatch) int {
		return cmp.Or(-cmp.Compare(a.Score, b.Score), cmp.Compare(len(a.Name), len(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(k, len(out))]
}

func TestVenueSearchMatchesBruteForce(t *testing.T) {
	names := synthVenueNames(5, 3000)
	vn, err := NewVenueNames(context.Background(), names, Config{Workers: 2})
	require.NoError(t, err)
	require.Equal(t, len(names), vn.Len())
	rng := rand.New(rand.NewPCG(5, 5))
	queries := []string{"太古里 春熙路", "春熙路", "咖啡", "星巴克 锦江", "店", "成都 火锅", "ＫＦＣ", "nothing-like-it", " "}
	for range 200 {
		// Random fragments of real names, out of order, some misspelt.
		name := []rune(names[rng.IntN(len(names))].Name)
		var terms []string
		for range 1 + rng.IntN(3) {
			a := rng.IntN(len(name))
			b := min(len(name), a+1+rng.IntN(4))
			terms = append(terms, string(name[a:b]))
		}
		if rng.IntN(4) == 0 {
			terms = append(terms, "茶")
		}
		queries = append(queries, strings.Join(terms, " "))
	}
	for _, q := range queries {
		k := 10
		require.Equal(t, bruteSearch(names, q, k), vn.Search(q, k), "query %q", q)
	}
}

func TestVenueSearchOutOfOrderPartial(t *testing.T) {
	names := []VenueName{
		{ID: 7, Name: "成都市锦江区春熙路太古里星巴克咖啡3号店"},
		{ID: 8, Name: "成都市锦江区春熙路伊藤洋华堂"},
		{ID: 9, Name: "成都市武侯区太古里附近火锅"},
		{ID: 10, Name: "绵阳市涪城区临园路麦当劳"},
	}
	vn, err := NewVenueNames(context.Background(), names, Config{})
	require.NoError(t, err)
	got := vn.Search("太古里 春熙路", 3)
	require.Len(t, got, 3)
	require.Equal(t, uint32(7), got[0].ID, "the only name with both terms comes first")
	require.Greater(t, got[0].Score, got[1].Score)
	require.Equal(t, uint32(7), vn.Search("　星巴克　", 1)[0].ID, "full-width spaces split terms after NFKC")
	require.Empty(t, vn.Search("北京", 5))
	require.Empty(t, vn.Search("太古里", 0))
	for _, m := range got {
		require.True(t, utf8.ValidString(m.Name))
	}
}

// With the common-gram shortcut forced on, hits may differ from the full
// ranking, but each hit's score must still be exact and the order right.
func TestVenueSearchCommonGramsScoreExactly(t *testing.T) {
	names := synthVenueNames(6, 2000)
	vn, err := NewVenueNames(context.Background(), names, Config{})
	require.NoError(t, err)
	vn.common = 20
	byID := map[uint32]VenueName{}
	for _, n := range names {
		byID[n.ID] = n
	}
	for _, q := range []string{"成都 咖啡", "春熙路 太古里 店", "市 区", "火锅 锦江区"} {
		got := vn.Search(q, 20)
		require.NotEmpty(t, got, q)
		for i, m := range got {
			want := bruteSearch([]VenueName{byID[m.ID]}, q, 1)
			require.Len(t, want, 1)
			require.Equal(t, want[0], m, "query %q", q)
			if i > 0 {
				require.GreaterOrEqual(t, got[i-1].Score, m.Score)
			}
		}
	}
}
