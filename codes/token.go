package codes

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
)

// Suite is an offline-token signature suite.
type Suite uint8

// Token suites.
const (
	// Ed25519 signs with Ed25519 (RFC 8032): 64-byte signatures, fast
	// verification.
	Ed25519 Suite = 1
	// SM2SM3 signs with SM2 over SM3 (GB/T 32918.2, GB/T 32905) with the
	// standard default user ID 1234567812345678, for deployments under the
	// national commercial-cryptography assessment. Signatures are ASN.1 DER,
	// about 71 bytes.
	SM2SM3 Suite = 2
)

func (s Suite) String() string {
	switch s {
	case Ed25519:
		return "Ed25519"
	case SM2SM3:
		return "SM2-SM3"
	}
	return fmt.Sprintf("Suite(%d)", uint8(s))
}

// Errors of tokens.
var (
	ErrExpired      = errors.New("codes: token expired")
	ErrNotYetValid  = errors.New("codes: token issued in the future")
	ErrBadSignature = errors.New("codes: token signature does not verify")
	ErrUnknownKey   = errors.New("codes: token signed by an unknown key id")
	ErrMalformed    = errors.New("codes: malformed token")
	ErrBadClaims    = errors.New("codes: invalid token claims")
)

// TokenError reports a malformed token with the byte offset (in the decoded
// binary form) where decoding failed.
type TokenError struct {
	Offset int
	Reason string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("codes: malformed token at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *TokenError) Unwrap() error { return ErrMalformed }

// Claims is what an offline token asserts. A plain value.
type Claims struct {
	Colour  Colour
	Name    string    // masked name (MaskName), at most 64 bytes
	Subject [8]byte   // pseudonymous subject (TokenSubject), links tokens of one key for audit only
	Issued  time.Time // whole seconds
	Expires time.Time // whole seconds, after Issued
	KeyID   string    // set by Sign and Verify from the signer's key id
}

// TokenSubject derives the pseudonymous subject of a key: it does not reveal
// the key, and the store key cannot be recovered from it.
func TokenSubject(k Key) [8]byte {
	h := sha256.Sum256(append([]byte("codes/token-subject/v1"), k[:]...))
	var s [8]byte
	copy(s[:], h[:])
	return s
}

// MaskName hides a personal name for display on a token: one character
// becomes "*", two keep the first ("张*"), longer names keep the first and
// last ("欧**娜").
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	out := []rune{r[0]}
	for range r[2:] {
		out = append(out, '*')
	}
	return string(append(out, r[len(r)-1]))
}

const (
	tokenMagic   = 'H'
	tokenVersion = 1
	maxKeyID     = 32
	maxName      = 64
)

// Signer signs offline tokens with one key. It is safe for concurrent use.
type Signer struct {
	suite Suite
	kid   string
	ed    ed25519.PrivateKey
	sm    *sm2.PrivateKey
	rand  io.Reader
}

func checkKeyID(kid string) error {
	if kid == "" || len(kid) > maxKeyID || !utf8.ValidString(kid) {
		return fmt.Errorf("codes: key id must be 1-%d bytes of UTF-8", maxKeyID)
	}
	return nil
}

// NewEd25519Signer returns a Signer for an Ed25519 private key.
func NewEd25519Signer(kid string, priv ed25519.PrivateKey) (*Signer, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("codes: Ed25519 private key has the wrong size")
	}
	return &Signer{suite: Ed25519, kid: kid, ed: priv}, nil
}

// NewSM2Signer returns a Signer for an SM2 private key. rand is the source
// of signing nonces; nil means crypto/rand.
func NewSM2Signer(kid string, priv *sm2.PrivateKey, random io.Reader) (*Signer, error) {
	if err := checkKeyID(kid); err != nil {
		return nil, err
	}
	if priv == nil {
		return nil, errors.New("codes: nil SM2 private key")
	}
	if random == nil {
		random = rand.Reader
	}
	return &Signer{suite: SM2SM3, kid: kid, sm: priv, rand: random}, nil
}

// Suite returns the signer's suite.
func (s *Signer) Suite() Suite { return s.suite }

// KeyID returns the signer's key id.
func (s *Signer) KeyID() string { return s.kid }

// Public returns the verification key to distribute to scanners.
func (s *Signer) Public() PublicKey {
	if s.suite == Ed25519 {
		return PublicKey{ID: s.kid, Suite: Ed25519, Key: s.ed.Public()}
	}
	return PublicKey{ID: s.kid, Suite: SM2SM3, Key: &s.sm.PublicKey}
}

// Sign returns the token for c in its text form (unpadded base64url, for a
// QR code). Issued and Expires are truncated to whole seconds.
func (s *Signer) Sign(c Claims) (string, error) {
	b, err := s.SignBinary(c)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SignBinary returns the token in its binary form.
func (s *Signer) SignBinary(c Claims) ([]byte, error) {
	iss, exp := c.Issued.Unix(), c.Expires.Unix()
	if c.Issued.IsZero() || iss < 0 || exp <= iss || len(c.Name) > maxName || !utf8.ValidString(c.Name) {
		return nil, ErrBadClaims
	}
	b := make([]byte, 0, 4+len(s.kid)+1+10+5+8+1+len(c.Name)+72)
	b = append(b, tokenMagic, tokenVersion, byte(s.suite), byte(len(s.kid)))
	b = append(b, s.kid...)
	b = append(b, byte(c.Colour))
	b = binary.AppendUvarint(b, uint64(iss))
	b = binary.AppendUvarint(b, uint64(exp-iss))
	b = append(b, c.Subject[:]...)
	b = append(b, byte(len(c.Name)))
	b = append(b, c.Name...)
	switch s.suite {
	case Ed25519:
		return append(b, ed25519.Sign(s.ed, b)...), nil
	default:
		sig, err := sm2.SignASN1(s.rand, s.sm, b, sm2.NewSM2SignerOption(true, nil))
		if err != nil {
			return nil, fmt.Errorf("codes: SM2 sign: %w", err)
		}
		return append(b, sig...), nil
	}
}

// PublicKey is a verification key with its id.
type PublicKey struct {
	ID    string
	Suite Suite
	Key   crypto.PublicKey // ed25519.PublicKey for Ed25519, *ecdsa.PublicKey on the SM2 curve for SM2SM3
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Skew is the clock difference tolerated between issuer and scanner
	// for the Issued time. Default 2 minutes. Expiry is never extended.
	Skew time.Duration
}

// Verifier verifies offline tokens against a set of keys selected by key id,
// so keys can be rotated: publish the new key, sign with it, drop the old one
// once its tokens have expired. A Verifier is immutable and safe for
// concurrent use.
type Verifier struct {
	keys map[string]PublicKey
	skew time.Duration
}

// NewVerifier returns a Verifier for keys. Key ids must be unique.
func NewVerifier(cfg VerifierConfig, keys ...PublicKey) (*Verifier, error) {
	if cfg.Skew < 0 {
		return nil, errors.New("codes: VerifierConfig.Skew is negative")
	}
	if cfg.Skew == 0 {
		cfg.Skew = 2 * time.Minute
	}
	v := &Verifier{keys: make(map[string]PublicKey, len(keys)), skew: cfg.Skew}
	for i, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("codes: key %d: %w", i, err)
		}
		if _, dup := v.keys[k.ID]; dup {
			return nil, fmt.Errorf("codes: key %d: duplicate key id %q", i, k.ID)
		}
		switch k.Suite {
		case Ed25519:
			if pk, ok := k.Key.(ed25519.PublicKey); !ok || len(pk) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("codes: key %q: not an Ed25519 public key", k.ID)
			}
		case SM2SM3:
			if pk, ok := k.Key.(*ecdsa.PublicKey); !ok || !sm2.IsSM2PublicKey(pk) {
				return nil, fmt.Errorf("codes: key %q: not an SM2 public key", k.ID)
			}
		default:
			return nil, fmt.Errorf("codes: key %q: unknown suite %v", k.ID, k.Suite)
		}
		v.keys[k.ID] = k
	}
	return v, nil
}

// Verify decodes a token's text form and checks its key, signature and
// lifetime at now. Errors wrap ErrMalformed (a *TokenError), ErrUnknownKey,
// ErrBadSignature, ErrExpired or ErrNotYetValid.
func (v *Verifier) Verify(text string, now time.Time) (Claims, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil {
		return Claims{}, &TokenError{Offset: 0, Reason: "not canonical unpadded base64url"}
	}
	return v.VerifyBinary(b, now)
}

// VerifyBinary is Verify for the binary form.
func (v *Verifier) VerifyBinary(b []byte, now time.Time) (Claims, error) {
	c, suite, signed, sig, err := decodeToken(b)
	if err != nil {
		return Claims{}, err
	}
	k, ok := v.keys[c.KeyID]
	if !ok {
		return Claims{}, fmt.Errorf("%w: %q", ErrUnknownKey, c.KeyID)
	}
	if k.Suite != suite {
		return Claims{}, fmt.Errorf("%w: key %q is %v, token says %v", ErrBadSignature, k.ID, k.Suite, suite)
	}
	switch suite {
	case Ed25519:
		ok = len(sig) == ed25519.SignatureSize && ed25519.Verify(k.Key.(ed25519.PublicKey), signed, sig)
	case SM2SM3:
		ok = sm2.VerifyASN1WithSM2(k.Key.(*ecdsa.PublicKey), nil, signed, sig)
	}
	if !ok {
		return Claims{}, ErrBadSignature
	}
	if !now.Before(c.Expires) {
		return Claims{}, ErrExpired
	}
	if c.Issued.After(now.Add(v.skew)) {
		return Claims{}, ErrNotYetValid
	}
	return c, nil
}

// decodeToken splits a binary token into claims, the signed prefix and the
// signature.
func decodeToken(b []byte) (c Claims, suite Suite, signed, sig []byte, err error) {
	fail := func(off int, why string) (Claims, Suite, []byte, []byte, error) {
		return Claims{}, 0, nil, nil, &TokenError{Offset: off, Reason: why}
	}
	if len(b) < 4 {
		return fail(len(b), "too short")
	}
	if b[0] != tokenMagic || b[1] != tokenVersion {
		return fail(0, "bad magic or version")
	}
	suite = Suite(b[2])
	if suite != Ed25519 && suite != SM2SM3 {
		return fail(2, "unknown suite")
	}
	p := 4
	kl := int(b[3])
	if kl == 0 || kl > maxKeyID || len(b) < p+kl+1 {
		return fail(3, "bad key id length")
	}
	c.KeyID = string(b[p : p+kl])
	if !utf8.ValidString(c.KeyID) {
		return fail(p, "key id is not UTF-8")
	}
	p += kl
	c.Colour = Colour(b[p])
	p++
	iss, w := binary.Uvarint(b[p:])
	if w <= 0 || iss > 1<<40 {
		return fail(p, "bad issue time")
	}
	p += w
	ttl, w := binary.Uvarint(b[p:])
	if w <= 0 || ttl == 0 || ttl > 1<<32 {
		return fail(p, "bad lifetime")
	}
	p += w
	c.Issued = time.Unix(int64(iss), 0).UTC()
	c.Expires = time.Unix(int64(iss+ttl), 0).UTC()
	if len(b) < p+8+1 {
		return fail(len(b), "truncated subject")
	}
	copy(c.Subject[:], b[p:p+8])
	p += 8
	nl := int(b[p])
	p++
	if nl > maxName || len(b) < p+nl {
		return fail(p-1, "bad name length")
	}
	c.Name = string(b[p : p+nl])
	if !utf8.ValidString(c.Name) {
		return fail(p, "name is not UTF-8")
	}
	p += nl
	if len(b) == p {
		return fail(p, "missing signature")
	}
	return c, suite, b[:p], b[p:], nil
}

// TokenCacheConfig configures a TokenCache. Zero fields mean defaults.
type TokenCacheConfig struct {
	// TTL is the lifetime of a token. Default 5 minutes.
	TTL time.Duration
	// Refresh is how long before expiry a cached token is replaced at
	// the latest, so a displayed token is never about to expire. Default
	// TTL/5. Each key is replaced earlier by a share of Refresh fixed by
	// the key (up to Refresh, and never more than TTL-Refresh), so tokens
	// issued together, as after a restart, are re-signed over a window
	// instead of all at once on every later display.
	Refresh time.Duration
	// MaxEntries bounds the cache. Default 1 << 20.
	MaxEntries int
}

// Validate reports the first invalid field.
func (c TokenCacheConfig) Validate() error {
	switch {
	case c.TTL < 0:
		return errors.New("codes: TokenCacheConfig.TTL is negative")
	case c.Refresh < 0:
		return errors.New("codes: TokenCacheConfig.Refresh is negative")
	case c.TTL > 0 && c.Refresh >= c.TTL:
		return errors.New("codes: TokenCacheConfig.Refresh must be shorter than TTL")
	case c.MaxEntries < 0:
		return errors.New("codes: TokenCacheConfig.MaxEntries is negative")
	}
	return nil
}

// TokenCache reuses a key's token while it is valid and the colour and name
// have not changed, so signing is not on every display. It is safe for
// concurrent use.
type TokenCache struct {
	signer *Signer
	cfg    TokenCacheConfig
	shards [16]tokenShard
}

type tokenShard struct {
	mu sync.Mutex
	m  map[Key]cachedToken
}

type cachedToken struct {
	colour  Colour
	name    string
	issued  time.Time
	expires time.Time
	text    string
}

// NewTokenCache returns a cache that signs with signer.
func NewTokenCache(signer *Signer, cfg TokenCacheConfig) (*TokenCache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = cfg.TTL / 5
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 1 << 20
	}
	c := &TokenCache{signer: signer, cfg: cfg}
	for i := range c.shards {
		c.shards[i].m = map[Key]cachedToken{}
	}
	return c, nil
}

// Token returns a token for key showing colour and the masked name, valid
// at now: the cached one if it still has more than Refresh to run, was
// issued no later than now and shows the same colour and name; else a newly
// signed one. reused says which.
func (c *TokenCache) Token(key Key, colour Colour, maskedName string, now time.Time) (text string, reused bool, err error) {
	sh := &c.shards[key[0]%16]
	sh.mu.Lock()
	t, ok := sh.m[key]
	sh.mu.Unlock()
	if ok && t.colour == colour && t.name == maskedName && !now.Before(t.issued) && now.Add(c.refresh(key)).Before(t.expires) {
		return t.text, true, nil
	}
	iss := now.Truncate(time.Second)
	claims := Claims{Colour: colour, Name: maskedName, Subject: TokenSubject(key), Issued: iss, Expires: iss.Add(c.cfg.TTL)}
	text, err = c.signer.Sign(claims)
	if err != nil {
		return "", false, err
	}
	sh.mu.Lock()
	if len(sh.m) >= c.cfg.MaxEntries/len(c.shards)+1 {
		sh.evict(now)
	}
	sh.m[key] = cachedToken{colour: colour, name: maskedName, issued: iss, expires: claims.Expires, text: text}
	sh.mu.Unlock()
	return text, false, nil
}

// refresh is how long before expiry key's token is replaced: Refresh plus
// the key's share of the spread.
func (c *TokenCache) refresh(key Key) time.Duration {
	spread := min(c.cfg.Refresh, c.cfg.TTL-c.cfg.Refresh)
	if spread <= 0 {
		return c.cfg.Refresh
	}
	share := binary.LittleEndian.Uint64(key[8:16]) % uint64(spread)
	return c.cfg.Refresh + time.Duration(share)
}

// evict drops expired tokens, then, if none had expired, a quarter of the
// shard (map iteration order is arbitrary, which makes the choice random).
func (sh *tokenShard) evict(now time.Time) {
	n := len(sh.m)
	for k, t := range sh.m {
		if !now.Before(t.expires) {
			delete(sh.m, k)
		}
	}
	if len(sh.m) < n {
		return
	}
	drop := n/4 + 1
	for k := range sh.m {
		if drop == 0 {
			break
		}
		delete(sh.m, k)
		drop--
	}
}
