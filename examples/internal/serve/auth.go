package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Principal is who made an admin call.
type Principal struct {
	Actor string   `json:"actor"`
	Roles []string `json:"roles"`
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// TokenFile is the admin token configuration: who may call, with which
// roles. A token is given either in clear (for demos) or as the hex SHA-256
// of the token (for real deployments, so the file holds no secret).
type TokenFile struct {
	Tokens []TokenEntry `json:"tokens"`
}

// TokenEntry is one caller of a TokenFile: exactly one of Token (in
// clear) and TokenSHA256 (HashToken of it) is set.
type TokenEntry struct {
	Actor       string   `json:"actor"`
	Roles       []string `json:"roles"`
	Token       string   `json:"token,omitempty"`
	TokenSHA256 string   `json:"token_sha256,omitempty"`
}

// HashToken returns what a TokenEntry's TokenSHA256 holds for token: the
// hex SHA-256 of it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Tokens authenticates bearer tokens. Safe for concurrent use (read-only).
type Tokens struct {
	byHash map[[32]byte]Principal
	clear  *ClearTokenError // the first entry given in clear; nil if none
}

// ErrClearToken is what HashedOnly's error wraps: a token file gives a
// token in clear where only hashed tokens are accepted.
var ErrClearToken = errors.New("serve: token given in clear")

// ClearTokenError names an entry of a token file that gives its token in
// clear: Index into TokenFile.Tokens, and its actor. It never holds the
// token.
type ClearTokenError struct {
	Index int
	Actor string
}

func (e *ClearTokenError) Error() string {
	return fmt.Sprintf("serve: token file: tokens[%d] (%s): token given in clear; give token_sha256, the hex SHA-256 of the token, instead", e.Index, e.Actor)
}

// Unwrap returns ErrClearToken.
func (e *ClearTokenError) Unwrap() error { return ErrClearToken }

// HashedOnly returns nil if every token was given as token_sha256, and
// otherwise a *ClearTokenError (wrapping ErrClearToken) naming the first
// entry given in clear. A server that can be reached from other machines
// calls it after LoadTokens: a file of clear tokens is a file of secrets.
func (t *Tokens) HashedOnly() error {
	if t.clear != nil {
		c := *t.clear
		return &c
	}
	return nil
}

// LoadTokens reads a TokenFile (JSON). Each entry needs an actor, at least
// one role and exactly one of token or token_sha256.
func LoadTokens(r io.Reader) (*Tokens, error) {
	var f TokenFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("serve: token file: %w", err)
	}
	t := &Tokens{byHash: map[[32]byte]Principal{}}
	for i, e := range f.Tokens {
		where := fmt.Sprintf("serve: token file: tokens[%d]", i)
		if e.Actor == "" {
			return nil, fmt.Errorf("%s: actor is empty", where)
		}
		if len(e.Roles) == 0 {
			return nil, fmt.Errorf("%s (%s): no roles", where, e.Actor)
		}
		var h [32]byte
		switch {
		case e.Token != "" && e.TokenSHA256 == "":
			h = sha256.Sum256([]byte(e.Token))
			if t.clear == nil {
				t.clear = &ClearTokenError{Index: i, Actor: e.Actor}
			}
		case e.Token == "" && e.TokenSHA256 != "":
			b, err := hex.DecodeString(e.TokenSHA256)
			if err != nil || len(b) != 32 {
				return nil, fmt.Errorf("%s (%s): token_sha256 is not 64 hex digits", where, e.Actor)
			}
			copy(h[:], b)
		default:
			return nil, fmt.Errorf("%s (%s): give exactly one of token and token_sha256", where, e.Actor)
		}
		if _, dup := t.byHash[h]; dup {
			return nil, fmt.Errorf("%s (%s): token already given to another actor", where, e.Actor)
		}
		t.byHash[h] = Principal{Actor: e.Actor, Roles: e.Roles}
	}
	return t, nil
}

// Errors of Authenticate.
var (
	ErrNoToken  = errors.New("serve: missing bearer token")
	ErrBadToken = errors.New("serve: unknown bearer token")
)

// Authenticate finds the principal of the request's bearer token.
func (t *Tokens) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, ErrNoToken
	}
	sum := sha256.Sum256([]byte(tok))
	// The lookup compares SHA-256 digests, not tokens, so its timing
	// tells an attacker nothing about how close a guess was.
	p, found := t.byHash[sum]
	if !found {
		return Principal{}, ErrBadToken
	}
	return p, nil
}

// Require answers 401 without a valid token and 403 without role, and
// otherwise calls h with the principal.
func (t *Tokens) Require(role string, h func(http.ResponseWriter, *http.Request, Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := t.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="healthcode-admin"`)
			WriteError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
			return
		}
		if !p.Has(role) {
			WriteError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("serve: %s lacks role %q", p.Actor, role))
			return
		}
		h(w, r, p)
	})
}
