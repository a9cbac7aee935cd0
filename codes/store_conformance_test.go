package codes_test

import (
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
)

// TestMemStoreConformance runs the store conformance suite on MemStore.
// Reopen hands back the same MemStore: a second handle on in-process data
// is the store itself, which is how two Registries of one process share it.
// Tamper changes a byte in the middle of the record's stored bytes (its
// text fields).
func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, storetest.Config{
		Open:   func(*testing.T) codes.Store { return codes.NewMemStore() },
		Reopen: func(_ *testing.T, s codes.Store) codes.Store { return s },
		Tamper: func(_ *testing.T, s codes.Store, seq uint64) { s.(*codes.MemStore).TamperAudit(seq, 60) },
	})
}
