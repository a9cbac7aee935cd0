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
