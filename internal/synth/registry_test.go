package synth

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

// naiveDoc normalises a document number the obvious way: drop all
// whitespace, fold full-width ASCII, upper-case, upgrade 15-digit IDs.
func naiveDoc(docType, s string) string {
	var b strings.Builder
	for _, c := range s {
		if unicode.IsSpace(c) {
			continue
		}
		if c >= 0xFF01 && c <= 0xFF5E {
			c -= 0xFEE0
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	out := b.String()
	if docType == "身份证" && len(out) == 15 {
		out = Upgrade15(out)
	}
	return out
}

// naiveDate accepts 1990-01-02, 19900102 and 1990/1/2.
func naiveDate(t *testing.T, s string) string {
	for _, layout := range []string{"2006-01-02", "20060102", "2006/1/2"} {
		if d, err := time.Parse(layout, s); err == nil {
			return d.Format("2006-01-02")
		}
	}
	t.Fatalf("unparseable birth date %q", s)
	return ""
}

// naiveTruth recomputes duplicate and suspicious groups with maps over
// normalised fields.
func naiveTruth(t *testing.T, recs []Record) RegistryTruth {
	byDoc := map[string][]int64{}
	byAll := map[string][]int64{}
	fullOf := map[int64]string{}
	var docs, alls []string
	for _, r := range recs {
		doc := naiveDoc(r.DocType, r.DocNumber)
		full := strings.Join([]string{strings.TrimSpace(r.Name), doc, naiveDate(t, r.Birth), r.Ethnicity}, "|")
		if byDoc[doc] == nil {
			docs = append(docs, doc)
		}
		if byAll[full] == nil {
			alls = append(alls, full)
		}
		byDoc[doc] = append(byDoc[doc], r.ID)
		byAll[full] = append(byAll[full], r.ID)
		fullOf[r.ID] = full
	}
	var tr RegistryTruth
	for _, k := range alls {
		if len(byAll[k]) > 1 {
			tr.Duplicates = append(tr.Duplicates, byAll[k])
		}
	}
	for _, k := range docs {
		ids := byDoc[k]
		for _, id := range ids[1:] {
			if fullOf[id] != fullOf[ids[0]] {
				tr.Suspicious = append(tr.Suspicious, ids)
				break
			}
		}
	}
	sortGroups(tr.Duplicates)
	sortGroups(tr.Suspicious)
	return tr
}

func TestRegistryTruthMatchesRecords(t *testing.T) {
	for _, cfg := range []RegistryConfig{
		{Records: 20000, DupRate: 0.05, SuspiciousRate: 0.02},
		{Records: 20000, DupRate: 0.10, SuspiciousRate: 0.05, NoiseRate: 0.3},
		{Records: 5000, DupRate: 0.3, SuspiciousRate: 0.3, NoiseRate: 1},
		{Records: 3000},
		{Records: 50, DupRate: 0.5, SuspiciousRate: 0.4, NoiseRate: 0.5}, // little room: exact count still holds
	} {
		seed := uint64(21 + cfg.Records)
		t.Run(fmt.Sprintf("n=%d,dup=%v,sus=%v,noise=%v", cfg.Records, cfg.DupRate, cfg.SuspiciousRate, cfg.NoiseRate), func(t *testing.T) {
			recs, truth := New(seed).Registry(cfg)
			require.Len(t, recs, cfg.Records)
			for i, r := range recs {
				require.Equal(t, int64(i+1), r.ID)
				require.False(t, r.Updated.Before(r.Registered))
				require.Contains(t, []string{"男", "女"}, r.Sex)
				doc := naiveDoc(r.DocType, r.DocNumber)
				switch r.DocType {
				case "身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证":
					require.True(t, ValidID(doc), "normalised %q -> %q", r.DocNumber, doc)
				case "护照":
					require.Regexp(t, rePassport, doc)
				default:
					t.Fatalf("doc type %q", r.DocType)
				}
			}
			want := naiveTruth(t, recs)
			require.Equal(t, want, truth)

			dupRecords := 0
			for _, g := range truth.Duplicates {
				dupRecords += len(g) - 1
			}
			if cfg.DupRate > 0 && cfg.Records >= 1000 {
				require.InDelta(t, cfg.DupRate, float64(dupRecords)/float64(cfg.Records), cfg.DupRate/3+0.01)
			}
			if cfg.DupRate == 0 && cfg.SuspiciousRate == 0 {
				require.Empty(t, truth.Duplicates)
				require.Empty(t, truth.Suspicious)
			}
			if cfg.SuspiciousRate > 0 && cfg.Records >= 1000 {
				require.NotEmpty(t, truth.Suspicious)
			}
		})
	}
}

func TestRegistryNoiseAndTimes(t *testing.T) {
	recs, truth := New(5).Registry(RegistryConfig{Records: 30000, DupRate: 0.1, SuspiciousRate: 0.03, NoiseRate: 0.4})
	var fullWidth, lowerX, short15, spaced, compact, slashed int
	for _, r := range recs {
		if strings.ContainsFunc(r.DocNumber, func(c rune) bool { return c >= 0xFF01 && c <= 0xFF5E }) {
			fullWidth++
		}
		if strings.HasSuffix(strings.TrimSpace(r.DocNumber), "x") {
			lowerX++
		}
		if r.DocType == "身份证" && len(strings.TrimSpace(r.DocNumber)) == 15 {
			short15++
		}
		if r.Name != strings.TrimSpace(r.Name) || r.DocNumber != strings.TrimSpace(r.DocNumber) {
			spaced++
		}
		if len(r.Birth) == 8 {
			compact++
		}
		if strings.Contains(r.Birth, "/") {
			slashed++
		}
	}
	for name, n := range map[string]int{"full-width": fullWidth, "lower x": lowerX, "15-digit": short15, "spaces": spaced, "19900102": compact, "1990/1/2": slashed} {
		require.Greater(t, n, 20, name)
	}
	// Timestamps: every duplicate group has a latest record; some groups
	// tie on Updated so callers need a tie-break.
	byID := func(id int64) Record { return recs[id-1] }
	ties := 0
	for _, g := range truth.Duplicates {
		seen := map[time.Time]bool{}
		for _, id := range g {
			u := byID(id).Updated
			if seen[u] {
				ties++
				break
			}
			seen[u] = true
		}
	}
	require.Greater(t, ties, 10)
	require.Less(t, ties, len(truth.Duplicates)/2)
	// Registered grows with position, apart from tied copies.
	increasing := 0
	for i := 1; i < len(recs); i++ {
		if recs[i].Registered.After(recs[i-1].Registered) {
			increasing++
		}
	}
	require.Greater(t, increasing, len(recs)*9/10)
}

func TestRegistrySuspiciousDiffersInOneField(t *testing.T) {
	recs, truth := New(6).Registry(RegistryConfig{Records: 20000, SuspiciousRate: 0.05})
	fields := map[string]int{}
	for _, g := range truth.Suspicious {
		first := recs[g[0]-1]
		for _, id := range g[1:] {
			r := recs[id-1]
			var diff []string
			if r.Name != first.Name {
				diff = append(diff, "name")
			}
			if r.Birth != first.Birth {
				diff = append(diff, "birth")
			}
			if r.Ethnicity != first.Ethnicity {
				diff = append(diff, "ethnicity")
			}
			require.LessOrEqual(t, len(diff), 1, "ids %d and %d differ in %v", first.ID, id, diff)
			for _, d := range diff {
				fields[d]++
			}
		}
	}
	for _, f := range []string{"name", "birth", "ethnicity"} {
		require.Greater(t, fields[f], 10, f)
	}
}

func TestRegistrySeqStreams(t *testing.T) {
	cfg := RegistryConfig{Records: 5000, DupRate: 0.1, SuspiciousRate: 0.05, NoiseRate: 0.2}
	want, _ := New(9).Registry(cfg)
	var got []Record
	clusters := map[int64]bool{}
	for r, tr := range New(9).RegistrySeq(cfg) {
		got = append(got, r)
		if tr.Cluster == r.ID {
			require.Zero(t, tr.Variant)
			clusters[r.ID] = true
		} else {
			require.Less(t, tr.Cluster, r.ID, "copies come after their original")
			require.True(t, clusters[tr.Cluster])
		}
	}
	require.Equal(t, want, got)
}

func TestRegistryConfigValidate(t *testing.T) {
	require.NoError(t, RegistryConfig{}.Validate())
	for _, c := range []RegistryConfig{{DupRate: -0.1}, {NoiseRate: 1.5}, {DupRate: 0.5, SuspiciousRate: 0.5}} {
		err := c.Validate()
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), "synth: "), err.Error())
	}
	require.Panics(t, func() { New(1).Registry(RegistryConfig{DupRate: 2}) })
}

func TestFullWidth(t *testing.T) {
	require.Equal(t, "１１０１０５ＡＸｘ", fullWidth("110105AXx"))
	require.Equal(t, "张三", fullWidth("张三"))
	require.Equal(t, "11010519491231002X", naiveDoc("身份证", " １１０１０５４９１２３１００２ "))
}
