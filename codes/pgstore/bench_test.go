package pgstore_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
	"github.com/jackc/pgx/v5"
)

// benchSizes are the batch sizes of BenchmarkApply; HEALTHCODE_BENCH_FULL
// adds a batch of a million changes.
func benchSizes() []int {
	if os.Getenv("HEALTHCODE_BENCH_FULL") != "" {
		return []int{10_000, 1_000_000}
	}
	return []int{10_000}
}

// newKeyBatch is n rule decisions for new keys, numbered from first.
func newKeyBatch(first, n int) []codes.Change {
	out := make([]codes.Change, n)
	for i := range out {
		out[i] = rule(key(first+i), codes.Red, t0.Add(time.Duration(i)*time.Millisecond))
	}
	return out
}

// BenchmarkApply measures a bulk Apply of new keys (each change writes a
// head and a history entry, through COPY) against the floor: a plain COPY
// of the same history rows into a table without indexes, in the same
// database. It reports changes/s of both and their ratio.
func BenchmarkApply(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			s := openFresh(b, pgstore.Config{})
			ctx := context.Background()
			conn := rawConn(b)
			floor := pgx.Identifier{s.Schema(), "copy_floor"}
			if _, err := conn.Exec(ctx, "CREATE TABLE "+floor.Sanitize()+" (key bytea, seq bigint, entry bytea, request_id text)"); err != nil {
				b.Fatal(err)
			}
			var applyTime, copyTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				batch := newKeyBatch(i*n, n)
				rows := make([][]any, n)
				for j := range batch {
					e, _ := codes.Advance(codes.Entry{}, false, batch[j])
					rows[j] = []any{e.Key[:], int64(e.Seq), codes.AppendEntry(nil, &e), nil}
				}
				start := time.Now()
				a, err := s.Apply(ctx, batch)
				if err != nil || a.Changed != n {
					b.Fatal(a, err)
				}
				applyTime += time.Since(start)
				start = time.Now()
				if _, err := conn.CopyFrom(ctx, floor, []string{"key", "seq", "entry", "request_id"}, pgx.CopyFromRows(rows)); err != nil {
					b.Fatal(err)
				}
				copyTime += time.Since(start)
			}
			total := float64(b.N * n)
			b.ReportMetric(total/applyTime.Seconds(), "changes/s")
			b.ReportMetric(total/copyTime.Seconds(), "copy-rows/s")
			b.ReportMetric(copyTime.Seconds()/applyTime.Seconds(), "x-copy")
		})
	}
}

// BenchmarkGet measures Get of existing keys: one round trip each.
func BenchmarkGet(b *testing.B) {
	s := openFresh(b, pgstore.Config{})
	ctx := context.Background()
	const keys = 10_000
	if _, err := s.Apply(ctx, newKeyBatch(0, keys)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok, err := s.Get(ctx, key(i%keys)); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkGetParallel measures Get from many goroutines over the pool.
func BenchmarkGetParallel(b *testing.B) {
	s := openFresh(b, pgstore.Config{})
	ctx := context.Background()
	const keys = 10_000
	if _, err := s.Apply(ctx, newKeyBatch(0, keys)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, ok, err := s.Get(ctx, key(i%keys)); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}

// BenchmarkAdminWrite: what the audit record adds to an admin transcode
// (storetest.BenchAdminWrite): one transaction more, locking the trail's
// head row.
func BenchmarkAdminWrite(b *testing.B) {
	storetest.BenchAdminWrite(b, func(b *testing.B) storetest.AuditedStore { return openFresh(b, pgstore.Config{}) })
}
