package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/stretchr/testify/require"
)

func TestLinkCacheNeverServesAStaleLink(t *testing.T) {
	ctx := context.Background()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "c.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer s.Close()
	c := newLinkCache(s, 1)
	var phone, p1, p2 codes.Key
	phone[0], p1[0], p2[0] = 1, 2, 3
	t0 := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)

	ls, err := c.PhonesOf(ctx, p1) // caches "no phones"
	require.NoError(t, err)
	require.Empty(t, ls)
	require.NoError(t, c.LinkAll(ctx, []codes.Link{{Phone: phone, Person: p1, Role: codes.RoleOwner, Since: t0}}))
	ls, err = c.PhonesOf(ctx, p1)
	require.NoError(t, err)
	require.Len(t, ls, 1, "a write drops the cached answer")
	require.NoError(t, c.Unlink(ctx, phone, p1))
	ls, err = c.PhonesOf(ctx, p1)
	require.NoError(t, err)
	require.Empty(t, ls)

	// Past max the cache stops growing but answers stay right.
	require.NoError(t, c.Link(ctx, codes.Link{Phone: phone, Person: p2, Role: codes.RoleProxy, Since: t0}))
	ls, err = c.PhonesOf(ctx, p2)
	require.NoError(t, err)
	require.Len(t, ls, 1)
	require.LessOrEqual(t, len(c.byPerson), 1)
}

// TestLinkCacheRacingReaderDoesNotCacheStale plays the interleaving where a
// reader reads the store, a write lands, and the reader then tries to cache.
func TestLinkCacheRacingReaderDoesNotCacheStale(t *testing.T) {
	ctx := context.Background()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "c.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer s.Close()
	c := newLinkCache(s, 10)
	var phone, p codes.Key
	phone[0], p[0] = 1, 2
	gen := c.gen // the reader's snapshot before reading the store
	stale, err := s.PhonesOf(ctx, p)
	require.NoError(t, err)
	require.NoError(t, c.Link(ctx, codes.Link{Phone: phone, Person: p, Role: codes.RoleOwner, Since: time.Unix(1e9, 0)}))
	c.mu.Lock()
	if c.gen == gen { // what PhonesOf checks before caching
		c.byPerson[p] = stale
	}
	c.mu.Unlock()
	ls, err := c.PhonesOf(ctx, p)
	require.NoError(t, err)
	require.Len(t, ls, 1)
}
