package dedupe

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张三"},
		{" 张 三\t", "张三"},
		{"\u3000张三\u3000", "张三"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
		{"阿依古丽•买买提", "阿依古丽·买买提"},
		{"阿依古丽‧买买提", "阿依古丽·买买提"},
		{"阿依古丽・买买提", "阿依古丽·买买提"},
		{"阿依古丽･买买提", "阿依古丽·买买提"},
		{"阿依古丽.买买提", "阿依古丽·买买提"},
		{"阿依古丽 . 买买提", "阿依古丽·买买提"},
		{"阿依古丽．买买提", "阿依古丽·买买提"},
		{"阿依古丽 · 买买提", "阿依古丽·买买提"},
		{"John  Smith", "JOHN SMITH"},
		{"J. Smith", "J. SMITH"},
		{"Ｊｏｈｎ Ｓｍｉｔｈ", "JOHN SMITH"},
		{"张\u200b三", "张三"},
		{"", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, NormalizeName(tt.in), "%q", tt.in)
		require.Equal(t, tt.want, NormalizeName(tt.want), "idempotent on %q", tt.want)
	}
}

func TestNormalizeDocNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{"１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"},
		{" 110105 19491231 002X ", "11010519491231002X"},
		{"110105-19491231-002X", "11010519491231002X"},
		// GB 11643's worked example: 15-digit 110105491231002 -> 11010519491231002X.
		{"110105491231002", "11010519491231002X"},
		{"e12345678", "E12345678"},
		{"", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, NormalizeDocNumber(tt.in), "%q", tt.in)
	}
}

// The 15-to-18 upgrade agrees with synth's independent implementation.
func TestUpgrade15AgainstSynth(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		id15 := ""
		for len(id15) < 15 {
			id15 += strconv.Itoa(r.IntN(10))
		}
		require.Equal(t, synth.Upgrade15(id15), NormalizeDocNumber(id15))
		first17 := id15 + "01"
		require.Equal(t, synth.CheckDigit(first17), idCheckDigit(first17))
	}
}

func TestNormalizeDate(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1990-03-07", "1990-03-07", true},
		{"1990-3-7", "1990-03-07", true},
		{"19900307", "1990-03-07", true},
		{"1990/3/7", "1990-03-07", true},
		{"1990/03/07", "1990-03-07", true},
		{"1990.3.7", "1990-03-07", true},
		{"1990年3月7日", "1990-03-07", true},
		{"１９９０年３月７日", "1990-03-07", true},
		{"1990-03-07 00:00:00", "1990-03-07", true},
		{"1990-03-07T08:00:00+08:00", "1990-03-07", true},
		{"2000-02-29", "2000-02-29", true},
		{"1900-02-29", "", false},
		{"1990-13-01", "", false},
		{"1990-3", "", false},
		{"1990-03/07", "", false},
		{"90-03-07", "", false},
		{"1990-03-07-01", "", false},
		{"yesterday", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeDate(tt.in)
		if !tt.ok {
			require.ErrorIs(t, err, ErrDate, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestNormalizeOthers(t *testing.T) {
	require.Equal(t, "13800138000", NormalizePhone("+86 138-0013-8000"))
	require.Equal(t, "13800138000", NormalizePhone("0086 13800138000"))
	require.Equal(t, "13800138000", NormalizePhone("１３８００１３８０００"))
	require.Equal(t, "02988886666", NormalizePhone("(029) 8888-6666"))
	require.Equal(t, "男", NormalizeSex("M"))
	require.Equal(t, "女", NormalizeSex(" 女性 "))
	require.Equal(t, "x", NormalizeSex("x"))
	require.Equal(t, "汉", NormalizeEthnicity("汉族"))
	require.Equal(t, "维吾尔", NormalizeEthnicity("维吾尔 族"))
	require.Equal(t, "身份证", NormalizeDocType("居民身份证"))
	require.Equal(t, "北京市西城区某路5号", NormalizeAddress("北京市西城区  某路 5号"))
	require.Equal(t, "Room 5 Building 2", NormalizeAddress(" Room  5 Building 2 "))
	require.Equal(t, "a b", NormalizeText("a\t\n b"))
}

func TestNormalizeRecordIdempotent(t *testing.T) {
	g := synth.New(5)
	raw, _ := g.Registry(synth.RegistryConfig{Records: 2000, DupRate: 0.05, SuspiciousRate: 0.05, NoiseRate: 0.5})
	for _, r := range fromSynth(raw) {
		n := Normalize(r)
		require.Equal(t, n, Normalize(n))
		require.Len(t, n.DocNumber, len(NormalizeDocNumber(n.DocNumber)))
	}
}

func TestMask(t *testing.T) {
	require.Equal(t, "110***********002X", Mask("11010519491231002X"))
	require.Equal(t, "138****8000", Mask("13800138000"))
	require.Equal(t, "张*", Mask("张三"))
	require.Equal(t, "", Mask(""))
}

func TestJaroWinkler(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.961},
		{"DWAYNE", "DUANE", 0.840},
		{"DIXON", "DICKSONX", 0.813},
		{"JELLYFISH", "SMELLYFISH", 0.896},
		{"", "", 1},
		{"A", "", 0},
		{"ABC", "XYZ", 0},
		{"张三", "张三", 1},
		{"阿依古丽·买买提", "阿依古丽·买提", 0.975},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, JaroWinkler(tt.a, tt.b), 0.0005, "%s/%s", tt.a, tt.b)
		require.InDelta(t, JaroWinkler(tt.a, tt.b), JaroWinkler(tt.b, tt.a), 1e-12, "symmetric %s/%s", tt.a, tt.b)
	}
}
