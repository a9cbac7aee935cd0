package codes

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/stretchr/testify/require"
)

type testSigners struct {
	ed, ed2, sm *Signer
}

func newTestSigners(t testing.TB) testSigners {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	ed, err := NewEd25519Signer("ed-2022-06", ed25519.NewKeyFromSeed(seed))
	require.NoError(t, err)
	seed[0] = 99
	ed2, err := NewEd25519Signer("ed-2022-07", ed25519.NewKeyFromSeed(seed))
	require.NoError(t, err)
	rng := newTestRand(3)
	priv, err := sm2.GenerateKey(randReader{rng.Uint64})
	require.NoError(t, err)
	sm, err := NewSM2Signer("sm2-2022-06", priv, nil)
	require.NoError(t, err)
	return testSigners{ed, ed2, sm}
}

// randReader adapts a seeded generator to io.Reader for key generation in
// tests.
type randReader struct{ next func() uint64 }

func (r randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.next())
	}
	return len(p), nil
}

func TestTokenRoundTrip(t *testing.T) {
	s := newTestSigners(t)
	v, err := NewVerifier(VerifierConfig{}, s.ed.Public(), s.sm.Public())
	require.NoError(t, err)
	claims := Claims{Colour: Yellow, Name: MaskName("张三丰"), Subject: TokenSubject(randKey(1)), Issued: t0, Expires: t0.Add(5 * time.Minute)}
	for _, signer := range []*Signer{s.ed, s.sm} {
		t.Run(signer.Suite().String(), func(t *testing.T) {
			text, err := signer.Sign(claims)
			require.NoError(t, err)
			got, err := v.Verify(text, t0.Add(time.Minute))
			require.NoError(t, err)
			want := claims
			want.KeyID = signer.KeyID()
			require.Equal(t, want, got)

			tests := []struct {
				name string
				text string
				now  time.Time
				err  error
			}{
				{"at expiry", text, t0.Add(5 * time.Minute), ErrExpired},
				{"issued in the future", text, t0.Add(-3 * time.Minute), ErrNotYetValid},
				{"within skew", text, t0.Add(-time.Minute), nil},
				{"flipped colour", flip(t, text, 4+len(signer.KeyID())), t0, ErrBadSignature},
				{"flipped signature", flip(t, text, -1), t0, ErrBadSignature},
				{"truncated", text[:20], t0, ErrMalformed},
				{"not base64", text + "!", t0, ErrMalformed},
			}
			for _, tt := range tests {
				_, err := v.Verify(tt.text, tt.now)
				if tt.err == nil {
					require.NoError(t, err, tt.name)
				} else {
					require.ErrorIs(t, err, tt.err, tt.name)
				}
			}
		})
	}
	text, err := s.ed2.Sign(claims)
	require.NoError(t, err)
	_, err = v.Verify(text, t0)
	require.ErrorIs(t, err, ErrUnknownKey)

	// Rotation: a verifier holding both keys accepts both.
	v2, err := NewVerifier(VerifierConfig{}, s.ed.Public(), s.ed2.Public())
	require.NoError(t, err)
	c, err := v2.Verify(text, t0)
	require.NoError(t, err)
	require.Equal(t, "ed-2022-07", c.KeyID)

	// A key registered under another suite does not verify.
	pub := s.sm.Public()
	pub.ID = s.ed.KeyID()
	v3, err := NewVerifier(VerifierConfig{}, pub)
	require.NoError(t, err)
	edText, err := s.ed.Sign(claims)
	require.NoError(t, err)
	_, err = v3.Verify(edText, t0)
	require.ErrorIs(t, err, ErrBadSignature)
}

// flip changes one byte of the binary token (negative i counts from the end).
func flip(t *testing.T, text string, i int) string {
	b, err := base64.RawURLEncoding.DecodeString(text)
	require.NoError(t, err)
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0x01
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestSignRefusesBadClaims(t *testing.T) {
	s := newTestSigners(t)
	for _, c := range []Claims{
		{Issued: t0, Expires: t0},
		{Expires: t0},
		{Issued: t0, Expires: t0.Add(time.Minute), Name: string(make([]byte, 65))},
		{Issued: t0, Expires: t0.Add(time.Minute), Name: "\xff"},
	} {
		_, err := s.ed.Sign(c)
		require.ErrorIs(t, err, ErrBadClaims)
	}
}

func TestNewVerifierErrors(t *testing.T) {
	s := newTestSigners(t)
	_, err := NewVerifier(VerifierConfig{}, s.ed.Public(), s.ed.Public())
	require.ErrorContains(t, err, "duplicate")
	_, err = NewVerifier(VerifierConfig{}, PublicKey{ID: "x", Suite: Ed25519, Key: []byte{1}})
	require.ErrorContains(t, err, "not an Ed25519")
	_, err = NewVerifier(VerifierConfig{}, PublicKey{ID: "x", Suite: SM2SM3, Key: s.ed.Public().Key})
	require.ErrorContains(t, err, "not an SM2")
	_, err = NewVerifier(VerifierConfig{Skew: -1})
	require.Error(t, err)
	_, err = NewEd25519Signer("", nil)
	require.Error(t, err)
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"张", "*"}, {"张三", "张*"}, {"张三丰", "张*丰"}, {"欧阳娜娜", "欧**娜"}, {"Li", "L*"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MaskName(tt.in))
	}
}

func TestTokenCache(t *testing.T) {
	s := newTestSigners(t)
	v, err := NewVerifier(VerifierConfig{}, s.ed.Public())
	require.NoError(t, err)
	c, err := NewTokenCache(s.ed, TokenCacheConfig{TTL: 5 * time.Minute, Refresh: time.Minute, MaxEntries: 32})
	require.NoError(t, err)
	k := randKey(9)
	first, reused, err := c.Token(k, Green, "张*", t0)
	require.NoError(t, err)
	require.False(t, reused)

	tests := []struct {
		name   string
		colour Colour
		at     time.Time
		reused bool
	}{
		{"same colour within lifetime", Green, t0.Add(2 * time.Minute), true},
		{"inside refresh window", Green, t0.Add(4*time.Minute + time.Second), false},
		{"colour changed", Red, t0.Add(4*time.Minute + 2*time.Second), false},
		{"clock went back before issue", Red, t0, false},
	}
	for _, tt := range tests {
		text, reused, err := c.Token(k, tt.colour, "张*", tt.at)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.reused, reused, tt.name)
		if tt.reused {
			require.Equal(t, first, text)
		}
		claims, err := v.Verify(text, tt.at)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.colour, claims.Colour, tt.name)
	}
	// The cache stays bounded.
	for i := 0; i < 500; i++ {
		_, _, err := c.Token(randKey(100+i), Green, "", t0)
		require.NoError(t, err)
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	require.LessOrEqual(t, n, 32+len(c.shards)*2)
	_, err = NewTokenCache(s.ed, TokenCacheConfig{TTL: time.Minute, Refresh: time.Minute})
	require.Error(t, err)
}

func FuzzDecodeToken(f *testing.F) {
	s := newTestSigners(f)
	v, err := NewVerifier(VerifierConfig{}, s.ed.Public(), s.sm.Public())
	if err != nil {
		f.Fatal(err)
	}
	claims := Claims{Colour: Red, Name: "王*", Issued: t0, Expires: t0.Add(time.Minute)}
	for _, signer := range []*Signer{s.ed, s.sm} {
		text, err := signer.Sign(claims)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	f.Add("")
	f.Add("SAEB")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := v.Verify(text, t0)
		if err != nil {
			return
		}
		// Anything that verifies must be one of the seeds' claims (the fuzzer
		// cannot forge a signature), and re-encoding the binary form must
		// give back the same text.
		if c.Colour != Red || c.Name != "王*" || !c.Issued.Equal(t0) {
			t.Fatalf("forged claims verified: %+v", c)
		}
		b, _ := base64.RawURLEncoding.DecodeString(text)
		if base64.RawURLEncoding.EncodeToString(b) != text {
			t.Fatalf("non-canonical text form verified")
		}
	})
}

// TestTokenCacheSpreadsRefresh: tokens issued in the same second are
// re-signed over the window between TTL-2*Refresh and TTL-Refresh after
// issue, not all at the same display.
func TestTokenCacheSpreadsRefresh(t *testing.T) {
	s := newTestSigners(t)
	c, err := NewTokenCache(s.ed, TokenCacheConfig{TTL: 5 * time.Minute, Refresh: time.Minute})
	require.NoError(t, err)
	keys := make([]Key, 400)
	for i := range keys {
		keys[i] = randKey(1000 + i)
		_, _, err := c.Token(keys[i], Green, "", t0)
		require.NoError(t, err)
	}
	resigned := func(at time.Duration) int {
		n := 0
		for _, k := range keys {
			c2 := c.refresh(k)
			require.GreaterOrEqual(t, c2, time.Minute)
			require.Less(t, c2, 2*time.Minute)
			if !t0.Add(at).Add(c2).Before(t0.Add(5 * time.Minute)) {
				n++
			}
		}
		return n
	}
	require.Zero(t, resigned(3*time.Minute-time.Second))
	require.Equal(t, len(keys), resigned(4*time.Minute))
	half := resigned(3*time.Minute + 30*time.Second)
	require.Greater(t, half, len(keys)/4)
	require.Less(t, half, 3*len(keys)/4)
	// And the cache acts on it: at 3m30s some keys get a new token, some the old.
	fresh := 0
	for _, k := range keys {
		_, reused, err := c.Token(k, Green, "", t0.Add(3*time.Minute+30*time.Second))
		require.NoError(t, err)
		if !reused {
			fresh++
		}
	}
	require.Equal(t, half, fresh)
}
