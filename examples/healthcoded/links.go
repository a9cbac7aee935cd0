package main

import (
	"context"
	"sync"

	"github.com/healthcode-sdk/healthcode/codes"
)

// linkCache is the codes.LinkStore the registry reads: the store's links
// with a read-through cache of PhonesOf in front. Display asks for a
// person's phones on every lookup, and a bbolt read transaction each time
// was about 5 % of the server's CPU under load. Every link write goes
// through it and drops the persons it touches, so the cache is never
// stale. At most max persons are cached; past that, reads go to the store.
// Safe for concurrent use.
type linkCache struct {
	store codeStore
	max   int

	mu       sync.RWMutex
	byPerson map[codes.Key][]codes.Link // read-only slices
	gen      uint64                     // bumped after every store write
}

var _ codes.LinkStore = (*linkCache)(nil)

func newLinkCache(s codeStore, max int) *linkCache {
	return &linkCache{store: s, max: max, byPerson: map[codes.Key][]codes.Link{}}
}

// PhonesOf returns the person's links; callers must not modify the slice.
func (c *linkCache) PhonesOf(ctx context.Context, person codes.Key) ([]codes.Link, error) {
	c.mu.RLock()
	ls, ok := c.byPerson[person]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return ls, nil
	}
	ls, err := c.store.PhonesOf(ctx, person)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// A write that finished while we read may have made ls stale: cache it
	// only if none did.
	if c.gen == gen && len(c.byPerson) < c.max {
		c.byPerson[person] = ls
	}
	c.mu.Unlock()
	return ls, nil
}

func (c *linkCache) PersonsOf(ctx context.Context, phone codes.Key) ([]codes.Link, error) {
	return c.store.PersonsOf(ctx, phone)
}

func (c *linkCache) forget(persons ...codes.Key) {
	c.mu.Lock()
	c.gen++
	for _, p := range persons {
		delete(c.byPerson, p)
	}
	c.mu.Unlock()
}

// Writes drop the persons they touch and bump the generation after the
// store write, so a reader that read the store before the write finished
// does not cache what it read.

func (c *linkCache) Link(ctx context.Context, l codes.Link) error {
	defer c.forget(l.Person)
	return c.store.Link(ctx, l)
}

func (c *linkCache) LinkAll(ctx context.Context, ls []codes.Link) error {
	persons := make([]codes.Key, len(ls))
	for i, l := range ls {
		persons[i] = l.Person
	}
	defer c.forget(persons...)
	return c.store.LinkAll(ctx, ls)
}

func (c *linkCache) Unlink(ctx context.Context, phone, person codes.Key) error {
	defer c.forget(person)
	return c.store.Unlink(ctx, phone, person)
}
