package mysqlstore_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/mysqlstore"
)

// Example opens a Store, a Registry over it, and follows the writes other
// nodes make to the same database. It needs a database, so it has no
// Output to check: with HEALTHCODE_TEST_MYSQL set, `go test -run Example
// -v` runs it as part of TestExample, in a database of its own.
func Example() {
	dsn := os.Getenv("HEALTHCODE_TEST_MYSQL") // mysql://user@tcp(host:3306)/db
	if dsn == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := mysqlstore.Open(ctx, dsn, mysqlstore.DefaultConfig())
	if err != nil {
		fmt.Println(err) // mysqlstore: connect 127.0.0.1:3306: ...
		return
	}
	defer store.Close()
	reg, err := codes.Open(ctx, store, codes.Config{Links: store, CacheEntries: 10_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	go reg.Follow(ctx) // the other nodes' writes, in commit order

	keyer, _ := codes.NewKeyer(codes.HMACSHA256, []byte("example secret, keep it in a KMS"))
	id, _ := codes.Parse("11010519491231002X")
	key := keyer.Document(id)
	_, err = reg.Transcode(ctx, key, codes.Transcode{Colour: codes.Yellow, Actor: "op-17",
		Authorisation: "form-2291", Reason: "entry from a medium-risk area", At: time.Now(),
		RequestID: "form-2291"}) // safe to send again: appended once
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := reg.Lookup(ctx, key)
	fmt.Println(st.Colour, st.Cause)
}
