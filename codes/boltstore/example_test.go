package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
)

func Example() {
	dir, _ := os.MkdirTemp("", "boltstore-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	now := time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)

	store, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	if err != nil {
		panic(err)
	}
	reg, err := codes.Open(ctx, store, codes.Config{Links: store, CacheEntries: 10_000})
	if err != nil {
		panic(err)
	}
	keyer, _ := codes.NewKeyer(codes.HMACSHA256, []byte("example secret, keep it in a KMS"))
	id, _ := codes.Parse("11010519491231002X")
	key := keyer.Document(id)

	_, err = reg.Apply(ctx, []codes.Change{{Key: key, State: codes.State{Colour: codes.Yellow, Reason: "entry from a medium-risk area",
		Cause: codes.Cause{RuleID: "travel-medium", RuleVersion: "v7"}, Since: now}}})
	if err != nil {
		panic(err)
	}
	reg.Close()
	_ = store.Close() // Apply returned: the change is on disk

	store, _ = boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	defer store.Close()
	reg, _ = codes.Open(ctx, store, codes.Config{CacheEntries: 10_000})
	defer reg.Close()
	st, _ := reg.Lookup(ctx, key)
	h, err := reg.History(ctx, key)
	fmt.Println(st.Colour, st.Cause, len(h), err)
	// Output: yellow rule:travel-medium@v7 1 <nil>
}

// A province's first load, or a re-evaluation that decides every key, goes
// through Load: the stream is sorted on disk first, so the store's pages are
// written in key order once rather than by every batch.
func ExampleStore_Load() {
	dir, _ := os.MkdirTemp("", "boltstore-load-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	now := time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)

	// Small runs to show the spill; the default is 4 M changes a run.
	store, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.Config{LoadRun: 1000})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	reg, err := codes.Open(ctx, store, codes.Config{CacheEntries: 10_000})
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	keyer, _ := codes.NewKeyer(codes.HMACSHA256, []byte("example secret, keep it in a KMS"))
	people := func(yield func(codes.Change, error) bool) {
		for i := range 5000 {
			phone, _ := codes.ParsePhone(fmt.Sprintf("+86138%08d", i))
			key := keyer.Phone(phone)
			colour := codes.Green
			if i%100 == 0 {
				colour = codes.Yellow
			}
			ch := codes.Change{Key: key, State: codes.State{Colour: colour, Reason: "daily re-evaluation",
				Cause: codes.Cause{RuleID: "travel-medium", RuleVersion: "v7"}, Since: now}}
			if !yield(ch, nil) {
				return
			}
		}
	}
	var last codes.LoadProgress
	a, err := reg.Load(ctx, people, func(p codes.LoadProgress) { last = p })
	fmt.Println(a.Changed, a.Unchanged, last.Read, last.Committed, err)
	phone, _ := codes.ParsePhone("+8613800000100")
	st, _ := reg.Lookup(ctx, keyer.Phone(phone))
	fmt.Println(st.Colour)
	// Output:
	// 50 4950 5000 5000 <nil>
	// yellow
}
