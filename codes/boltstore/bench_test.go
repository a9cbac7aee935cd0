package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// BenchmarkApply measures bulk rule decisions into a fresh file: every
// change is real (new keys), so each writes a head and a history entry.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{50_000, 200_000} {
		b.Run("batch="+itoa(batch), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Config{BatchSize: batch})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			changes := make([]codes.Change, b.N)
			for i := range changes {
				changes[i] = codes.Change{Key: key(i), State: rule(codes.Red, t0.Add(time.Duration(i)*time.Millisecond))}
			}
			b.ReportAllocs()
			b.ResetTimer()
			a, err := s.Apply(context.Background(), changes)
			if err != nil || a.Changed != b.N {
				b.Fatal(a, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
