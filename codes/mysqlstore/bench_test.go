package mysqlstore

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
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

// floorScripts are the round trips that insert the history rows of
// batch into table floor as plain multi-row INSERTs, cut as Apply cuts
// its own, in one transaction.
func floorScripts(s *Store, batch []codes.Change) []string {
	var out []string
	var q, row script
	const prefix = "INSERT INTO floor (`key`, seq, entry, request_id) VALUES "
	q.str("START TRANSACTION;")
	stmt, rows := 0, 0
	var buf []byte
	for i := range batch {
		e, _ := codes.Advance(codes.Entry{}, false, batch[i])
		buf = codes.AppendEntry(buf[:0], &e)
		row.reset()
		row.str("(").hex(e.Key[:]).str(",").int(int64(e.Seq)).str(",").hex(buf).str(",NULL)")
		if rows > 0 && len(q.b)-stmt+len(row.b)+1 > s.maxStmt {
			q.str(";")
			rows = 0
		}
		if rows == 0 {
			if len(q.b)+len(prefix)+len(row.b) > s.maxPacket {
				out = append(out, q.String())
				q.reset()
			}
			stmt = len(q.b)
			q.str(prefix)
		} else {
			q.str(",")
		}
		q.b = append(q.b, row.b...)
		rows++
	}
	q.str(";COMMIT")
	return append(out, q.String())
}

// BenchmarkApply measures a bulk Apply of new keys (each change locks a
// head that is not there yet, writes a history entry and a head, and the
// batch one feed record) against the floor: plain multi-row INSERTs of
// the same history rows, as statements of the same size, into a table
// without indexes, in one transaction on the same database. The floor's
// statements are built before its clock starts; Apply's time includes
// sorting, chaining (SHA-256 per entry) and encoding. Each side starts
// once InnoDB has flushed the other's writes. It reports changes/s of
// both and their ratio (x-floor).
func BenchmarkApply(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			dsn := testDB(b)
			s := testOpen(b, dsn, Config{})
			ctx := context.Background()
			if _, err := s.db.ExecContext(ctx, "CREATE TABLE floor (`key` VARBINARY(16) NOT NULL, seq BIGINT NOT NULL, entry BLOB NOT NULL, request_id VARBINARY(128) NULL) ENGINE=InnoDB"); err != nil {
				b.Fatal(err)
			}
			var applyTime, floorTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				batch := newKeyBatch(i*n, n)
				scripts := floorScripts(s, batch)
				runtime.GC()
				settle(b, s)
				b.StartTimer()
				start := time.Now()
				conn, err := s.db.Conn(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, q := range scripts {
					if _, err := conn.ExecContext(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				_ = conn.Close()
				floorTime += time.Since(start)
				b.StopTimer()
				scripts = nil
				runtime.GC()
				settle(b, s)
				b.StartTimer()
				start = time.Now()
				a, err := s.Apply(ctx, batch)
				if err != nil || a.Changed != n {
					b.Fatal(a, err)
				}
				applyTime += time.Since(start)
			}
			total := float64(b.N * n)
			b.ReportMetric(total/applyTime.Seconds(), "changes/s")
			b.ReportMetric(total/floorTime.Seconds(), "floor-rows/s")
			b.ReportMetric(floorTime.Seconds()/applyTime.Seconds(), "x-floor")
		})
	}
}

// settle waits, up to 10 s, until InnoDB has written most of its dirty
// pages, so that neither side of a comparison pays for the other's
// writes. On an engine without the counter it returns at once.
func settle(b *testing.B, s *Store) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var name string
		var dirty, total int64
		err := s.db.QueryRow("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").Scan(&name, &dirty)
		if err == nil {
			err = s.db.QueryRow("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_total'").Scan(&name, &total)
		}
		if err != nil || dirty*10 < total {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Log("InnoDB still has many dirty pages after 10 s")
}

// BenchmarkGet measures Get of existing keys: one round trip each.
func BenchmarkGet(b *testing.B) {
	s := testOpen(b, testDB(b), Config{})
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
	s := testOpen(b, testDB(b), Config{})
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

// BenchmarkApplySmall measures one-change batches on distinct keys: the
// two round trips of a transcode.
func BenchmarkApplySmall(b *testing.B) {
	s := testOpen(b, testDB(b), Config{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Apply(ctx, []codes.Change{rule(key(i), codes.Red, t0)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdminWrite: what the audit record adds to an admin transcode
// (storetest.BenchAdminWrite): one transaction more, locking the trail's
// head row.
func BenchmarkAdminWrite(b *testing.B) {
	storetest.BenchAdminWrite(b, func(b *testing.B) storetest.AuditedStore { return testOpen(b, testDB(b), Config{}) })
}
