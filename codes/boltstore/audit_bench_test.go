package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/healthcode-sdk/healthcode/codes/storetest"
)

// BenchmarkAdminWrite: what the audit record adds to an admin transcode
// (storetest.BenchAdminWrite), each call one synced commit more.
func BenchmarkAdminWrite(b *testing.B) {
	storetest.BenchAdminWrite(b, func(b *testing.B) storetest.AuditedStore {
		s, err := Open(filepath.Join(b.TempDir(), "bench.db"), DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
