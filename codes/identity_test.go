package codes

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Vectors: 11010519491231002X and 440524188001010014 are the worked examples
// of GB 11643-1999 (appendix); the others were computed by hand with the
// MOD 11-2 weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
func TestParseResidentID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		kind    Kind
		region  string
		birth   string
		sex     Sex
		legacy  bool
		wantErr error
	}{
		{name: "standard example", in: "11010519491231002X", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale},
		{name: "lower-case x", in: "11010519491231002x", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale},
		{name: "full-width", in: "１１０１０５１９４９１２３１００２ｘ", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale},
		{name: "spaces", in: " 110105 19491231 002X ", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale},
		{name: "ideographic space", in: "110105\u300019491231002X", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale},
		{name: "1880 example", in: "440524188001010014", want: "440524188001010014", kind: KindResidentID, region: "440524", birth: "1880-01-01", sex: SexMale},
		{name: "legacy 15", in: "110105491231002", want: "11010519491231002X", kind: KindResidentID, region: "110105", birth: "1949-12-31", sex: SexFemale, legacy: true},
		{name: "sichuan male", in: "510104199003071536", want: "510104199003071536", kind: KindResidentID, region: "510104", birth: "1990-03-07", sex: SexMale},
		{name: "HK permit", in: "810000199001010019", want: "810000199001010019", kind: KindHKPermit, region: "810000", birth: "1990-01-01", sex: SexMale},
		{name: "Taiwan permit leap day", in: "830000200102290012", kind: KindTaiwanPermit, wantErr: ErrDate},
		{name: "bad checksum", in: "110105194912310021", wantErr: ErrChecksum},
		{name: "short", in: "1101051949123100", wantErr: ErrLength},
		{name: "empty", in: "  ", wantErr: ErrEmpty},
		{name: "letter inside", in: "1101051949A231002X", wantErr: ErrChar},
		{name: "X inside", in: "11010519491231X02X", wantErr: ErrChar},
		{name: "bad last char", in: "11010519491231002Y", wantErr: ErrChar},
		{name: "month 13", in: "110105194913310021", wantErr: ErrDate},
		{name: "Feb 30", in: "110105194902300021", wantErr: ErrDate},
		{name: "year 1700", in: "110105170001010021", wantErr: ErrDate},
		{name: "unknown province 99", in: "990105194912310021", wantErr: ErrRegion},
		{name: "province 71 not issued", in: "710105194912310021", wantErr: ErrRegion},
		{name: "permit region must be x10000", in: "811234199001010019", wantErr: ErrRegion},
		{name: "legacy permit", in: "810000900101001", wantErr: ErrLength},
		{name: "legacy bad date", in: "110105491331002", wantErr: ErrDate},
		{name: "legacy with letter", in: "11010549123100X", wantErr: ErrChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseResidentID(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				var ie *IDError
				require.ErrorAs(t, err, &ie)
				require.True(t, strings.HasPrefix(err.Error(), "codes: "), err.Error())
				if n := normalize(tt.in); len(n) >= 15 {
					require.NotContains(t, err.Error(), n[3:14], "error leaks the number")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, id.Number())
			require.Equal(t, tt.kind, id.Kind())
			require.Equal(t, tt.region, id.Region())
			require.Equal(t, tt.birth, id.BirthDate().Format(time.DateOnly))
			require.Equal(t, tt.sex, id.Sex())
			require.Equal(t, tt.legacy, id.Legacy())
			require.Equal(t, tt.want[:3]+"***********"+tt.want[14:], id.Masked())
			require.Equal(t, id.Masked(), id.String())
		})
	}
}

func TestIDErrorDetails(t *testing.T) {
	_, err := ParseResidentID("110105194912310021")
	var ie *IDError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "X", ie.Want, "checksum error carries the expected check digit")
	require.Equal(t, "1", ie.Got)
	require.Equal(t, 18, ie.Pos)
	require.Equal(t, "110***********0021", ie.Input)
	require.Contains(t, err.Error(), "want X")

	_, err = ParseResidentID("1101051949A231002X")
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 11, ie.Pos)
	require.Equal(t, `'A'`, ie.Got)

	_, err = ParseResidentID("1101051949123100")
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "16 characters", ie.Got)
}

func TestParseForeignPR(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
		nat     string
		prov    string
		sex     Sex
	}{
		{in: "915840199001010011", nat: "840", prov: "15", sex: SexMale},
		{in: "９１５８４０１９９００１０１００１１", nat: "840", prov: "15", sex: SexMale},
		{in: "915840199001010010", wantErr: ErrChecksum},
		{in: "919944199001010016", wantErr: ErrRegion},
		{in: "915000199001010016", wantErr: ErrRegion},
		{in: "915644199002300016", wantErr: ErrDate},
		{in: "815644199001010016", wantErr: ErrFormat},
		{in: "91564419900101001", wantErr: ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseForeignPR(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.nat, id.Nationality())
			require.Equal(t, tt.prov, id.Province())
			require.Equal(t, tt.sex, id.Sex())
			require.Equal(t, "1990-01-01", id.BirthDate().Format(time.DateOnly))
		})
	}
}

func TestParseGuessesKind(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		number  string
		wantErr error
	}{
		{in: "11010519491231002X", kind: KindResidentID, number: "11010519491231002X"},
		{in: "110105491231002", kind: KindResidentID, number: "11010519491231002X"},
		{in: "820000199001010019", wantErr: ErrChecksum},
		{in: "810000199001010019", kind: KindHKPermit, number: "810000199001010019"},
		{in: "915840199001010011", kind: KindForeignPR, number: "915840199001010011"},
		{in: "e12345678", kind: KindPassport, number: "E12345678"},
		{in: "EA1234567", kind: KindPassport, number: "EA1234567"},
		{in: "C12345678", kind: KindHKMacaoTravelPermit, number: "C12345678"},
		{in: "CA1234567", kind: KindHKMacaoTravelPermit, number: "CA1234567"},
		{in: "L12345678", kind: KindTaiwanTravelPermit, number: "L12345678"},
		{in: "H1234567801", kind: KindHomeReturnPermit, number: "H1234567801"},
		{in: "M12345678", kind: KindHomeReturnPermit, number: "M12345678"},
		{in: "ｘ１２３４５６", kind: KindPassport, number: "X123456"},
		{in: "AB12", wantErr: ErrLength},
		{in: "AB-12345", wantErr: ErrChar},
		{in: "-12345", wantErr: ErrChar},
		{in: "", wantErr: ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := Parse(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, id)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, id.Kind())
			require.Equal(t, tt.number, id.Number())
			require.NotContains(t, id.String(), tt.number[2:len(tt.number)-2])
		})
	}
}

func TestParseDocumentKindMismatch(t *testing.T) {
	_, err := ParseDocument(KindMacaoPermit, "810000199001010019")
	require.ErrorIs(t, err, ErrRegion)
	id, err := ParseDocument(KindHKPermit, "810000199001010019")
	require.NoError(t, err)
	require.Equal(t, KindHKPermit, id.Kind())
	_, err = ParseDocument(Kind(200), "X")
	require.ErrorIs(t, err, ErrFormat)
	d, err := ParseDocument(KindPassport, " g 1234 5678 ")
	require.NoError(t, err)
	require.Equal(t, "G12345678", d.Number())
}

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{in: "13800138000", want: "+8613800138000"},
		{in: "+86 138 0013 8000", want: "+8613800138000"},
		{in: "0086-138-0013-8000", want: "+8613800138000"},
		{in: "(+86) 138.0013.8000", want: "+8613800138000"},
		{in: "１３８００１３８０００", want: "+8613800138000"},
		{in: "19912345678", want: "+8619912345678"},
		{in: "86 13800138000", want: "+8613800138000"},
		{in: "8602888888888", wantErr: ErrLength},
		{in: "1380013800", wantErr: ErrLength},
		{in: "138001380000", wantErr: ErrLength},
		{in: "02888888888", wantErr: ErrNotMobile},
		{in: "+85291234567", wantErr: ErrNotMobile},
		{in: "12012345678", wantErr: ErrNotMobile},
		{in: "138O0138000", wantErr: ErrChar},
		{in: "", wantErr: ErrEmpty},
		{in: "+", wantErr: ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePhone(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.True(t, p.IsZero())
				require.NotContains(t, err.Error(), "0013")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, p.E164())
			require.Equal(t, "+86 "+tt.want[3:6]+"****"+tt.want[10:], p.Masked())
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110***********002X"},
		{"13800138000", "138****8000"},
		{"E12345678", "E******78"},
		{"ABCD", "***D"},
		{"AB", "**"},
		{"", ""},
		{strings.Repeat("9", 30), "999*****************9999..."},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Mask(tt.in), tt.in)
	}
}

// TestCheckDigitOracle compares ParseResidentID with a dumb oracle (the
// definition of the MOD 11-2 check: sum of digit*2^(17-i) plus the check
// value is 1 mod 11) on random seeded numbers.
func TestCheckDigitOracle(t *testing.T) {
	rng := newTestRand(1)
	for i := 0; i < 5000; i++ {
		var b [18]byte
		copy(b[:], "510104")
		d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(45000))
		copy(b[6:14], d.Format("20060102"))
		for j := 14; j < 17; j++ {
			b[j] = byte('0' + rng.IntN(10))
		}
		c := "0123456789X"[rng.IntN(11)]
		b[17] = c
		valid := oracleValid(string(b[:]))
		_, err := ParseResidentID(string(b[:]))
		if valid {
			require.NoError(t, err, "%s", b)
		} else {
			require.True(t, errors.Is(err, ErrChecksum), "%s: %v", b, err)
		}
	}
}

func oracleValid(s string) bool {
	sum := 0
	for i := 0; i < 18; i++ {
		v := int(s[i] - '0')
		if s[i] == 'X' {
			v = 10
		}
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += v * w
	}
	return sum%11 == 1
}

// TestMobilePlanOracle checks the compiled number plan against
// libphonenumber itself on random numbers and every prefix 1xx.
func TestMobilePlanOracle(t *testing.T) {
	require.NotNil(t, cnPlan(), "CN metadata must load")
	rng := newTestRand(9)
	var mobiles int
	for i := 0; i < 3000; i++ {
		var b [11]byte
		b[0] = '1'
		for j := 1; j < 11; j++ {
			b[j] = byte('0' + rng.IntN(10))
		}
		if i < 100 { // every second and third digit at least once
			b[1], b[2] = byte('0'+i/10), byte('0'+i%10)
		}
		n := string(b[:])
		want := slowIsMainlandMobile(n)
		require.Equal(t, want, isMainlandMobile(n), n)
		if want {
			mobiles++
		}
	}
	require.Greater(t, mobiles, 1000)
}
