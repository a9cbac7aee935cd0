package codes

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// Expected keys were computed with Python's hmac module (hashlib.sha256 and
// OpenSSL's sm3) over version byte 1, the domain byte and the number.
func TestKeyerVectors(t *testing.T) {
	id, err := ParseResidentID("110105491231002") // legacy form of 11010519491231002X
	require.NoError(t, err)
	ph, err := ParsePhone("138 0013 8000")
	require.NoError(t, err)
	tests := []struct {
		suite KeySuite
		key   func(k *Keyer) Key
		want  string
	}{
		{HMACSHA256, func(k *Keyer) Key { return k.Document(id) }, "07c7778212c82c59f3aa37cdcd4d57d6"},
		{HMACSHA256, func(k *Keyer) Key { return k.Phone(ph) }, "6d3ddedde710872667b923d880e043e8"},
		{HMACSM3, func(k *Keyer) Key { return k.Document(id) }, "aaaf5ea1a69b1a2ff8da455c2f433a9c"},
	}
	for _, tt := range tests {
		k, err := NewKeyer(tt.suite, testSecret)
		require.NoError(t, err)
		require.Equal(t, tt.want, tt.key(k).String(), tt.suite.String())
	}
}

func TestKeyerDomains(t *testing.T) {
	k, err := NewKeyer(HMACSHA256, testSecret)
	require.NoError(t, err)
	other, err := NewKeyer(HMACSHA256, []byte("another secret, 32 bytes long..."))
	require.NoError(t, err)
	sm3k, err := NewKeyer(HMACSM3, testSecret)
	require.NoError(t, err)

	id, _ := ParseResidentID("11010519491231002X")
	pass, err := ParseDocument(KindPassport, "E12345678")
	require.NoError(t, err)
	permit, err := ParseDocument(KindHKMacaoTravelPermit, "E12345678")
	require.NoError(t, err)
	ph, _ := ParsePhone("13800138000")

	keys := map[Key]string{}
	for name, key := range map[string]Key{
		"id": k.Document(id), "id other secret": other.Document(id), "id sm3": sm3k.Document(id),
		"passport": k.Document(pass), "same number as permit": k.Document(permit), "phone": k.Phone(ph),
	} {
		prev, dup := keys[key]
		require.False(t, dup, "%s collides with %s", name, prev)
		keys[key] = name
	}

	key, src, err := k.Record(id, ph)
	require.NoError(t, err)
	require.Equal(t, FromDocument, src)
	require.Equal(t, k.Document(id), key)
	key, src, err = k.Record(nil, ph)
	require.NoError(t, err)
	require.Equal(t, FromPhone, src)
	require.Equal(t, k.Phone(ph), key)
	_, _, err = k.Record(nil, Phone{})
	require.ErrorIs(t, err, ErrNoIdentity)
}

func TestNewKeyerErrors(t *testing.T) {
	_, err := NewKeyer(HMACSHA256, []byte("short"))
	require.ErrorIs(t, err, ErrWeakSecret)
	_, err = NewKeyer(KeySuite(9), testSecret)
	require.ErrorIs(t, err, ErrKeySuite)
}

func TestKeyerConcurrent(t *testing.T) {
	k, err := NewKeyer(HMACSM3, testSecret)
	require.NoError(t, err)
	id, _ := ParseResidentID("11010519491231002X")
	want := k.Document(id)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 500; i++ {
				if k.Document(id) != want {
					t.Error("key changed under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
}
