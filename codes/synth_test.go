package codes

import (
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// TestSynthPeople parses every document and phone of a synthetic population
// (an independent generator of valid numbers) and checks the accessors
// against the generator's own fields.
func TestSynthPeople(t *testing.T) {
	kinds := map[synth.DocType][]Kind{
		synth.DocResident:      {KindResidentID},
		synth.DocResident15:    {KindResidentID},
		synth.DocHKMacaoPermit: {KindHKPermit, KindMacaoPermit},
		synth.DocTaiwanPermit:  {KindTaiwanPermit},
		synth.DocForeignPR:     {KindForeignPR},
		synth.DocPassport:      {KindPassport},
	}
	seen := map[Kind]int{}
	for _, p := range synth.New(11).People(8000) {
		id, err := Parse(p.DocNumber)
		require.NoError(t, err, "person %d (%v)", p.Seq, p.DocType)
		require.Contains(t, kinds[p.DocType], id.Kind(), "person %d", p.Seq)
		seen[id.Kind()]++
		wantSex := SexMale
		if p.Sex == synth.Female {
			wantSex = SexFemale
		}
		switch v := id.(type) {
		case ResidentID:
			require.Equal(t, p.ResidentID, v.Number())
			require.Equal(t, p.DocType == synth.DocResident15, v.Legacy())
			require.Equal(t, p.Region, v.Region())
			require.True(t, p.Birth.Equal(v.BirthDate()))
			require.Equal(t, wantSex, v.Sex())
		case ForeignPR:
			require.True(t, p.Birth.Equal(v.BirthDate()))
			require.Equal(t, wantSex, v.Sex())
		}
		if p.Phone != "" {
			ph, err := ParsePhone(p.Phone)
			require.NoError(t, err, "person %d", p.Seq)
			require.Equal(t, "+86"+p.Phone, ph.E164())
		}
	}
	for _, k := range []Kind{KindResidentID, KindForeignPR, KindPassport} {
		require.Positive(t, seen[k], k.String())
	}
}

// TestSynthRegistryNoise parses registry rows carrying the formatting noise
// of real exports (full-width digits, lower-case x, spaces, legacy IDs).
func TestSynthRegistryNoise(t *testing.T) {
	byType := map[string]Kind{
		"身份证": KindResidentID, "港澳居民居住证": KindHKPermit, "台湾居民居住证": KindTaiwanPermit,
		"外国人永久居留身份证": KindForeignPR, "护照": KindPassport,
	}
	recs, _ := synth.New(12).Registry(synth.RegistryConfig{Records: 5000, NoiseRate: 1})
	for _, r := range recs {
		kind, ok := byType[r.DocType]
		require.True(t, ok, "unknown doc type %q", r.DocType)
		id, err := Parse(r.DocNumber)
		require.NoError(t, err, "record %d", r.ID)
		if kind == KindHKPermit {
			require.Contains(t, []Kind{KindHKPermit, KindMacaoPermit}, id.Kind())
		} else {
			require.Equal(t, kind, id.Kind(), "record %d", r.ID)
		}
		if r.Phone != "" {
			_, err := ParsePhone(r.Phone)
			require.NoError(t, err, "record %d", r.ID)
		}
	}
}
