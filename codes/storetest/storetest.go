// Package storetest is the conformance suite every codes.Store passes:
// codes.MemStore, codes/boltstore, codes/pgstore and codes/mysqlstore run
// it from their tests, and so can a store of your own.
//
// # Usage
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{
//			Open: func(t *testing.T) codes.Store { return openEmptyStore(t) },
//		})
//	}
//
// Each subtest opens a fresh, empty store. A store that is also a
// codes.LinkStore or a codes.Feed gets those parts of the suite too; one
// that can be opened twice over the same data (Config.Reopen) gets the
// tests of two processes sharing it.
package storetest

import (
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
)

// Config says how to open the stores under test.
type Config struct {
	// Open returns a new, empty store; the suite closes nothing, so Open
	// registers its own cleanup with t.Cleanup.
	Open func(t *testing.T) codes.Store
	// Reopen, if set, returns a second, independent handle (its own
	// connections, its own caches) on the data of s, as a second process
	// would open it. Stores that one process owns (a bbolt file) leave it
	// nil.
	Reopen func(t *testing.T, s codes.Store) codes.Store
}

// Run runs the suite.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Open == nil {
		t.Fatal("storetest: Config.Open is nil")
	}
	// Filled in by the suite's tests.
}
