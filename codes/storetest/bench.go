package storetest

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// AuditedStore is a store that keeps an audit trail, as every store in
// this module does.
type AuditedStore interface {
	codes.Store
	codes.AuditTrail
}

// BenchAdminWrite measures what the audit trail adds to an admin
// transcode. Its baseline subjects write the transcode alone (one manual
// change); the others add its audit record, as healthcoded does for every
// admin call. Each runs serially and from 16 callers at once; calls/s is
// the figure to compare. open returns a fresh store per subject.
func BenchAdminWrite(b *testing.B, open func(b *testing.B) AuditedStore) {
	t0 := time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		audit   bool
		callers int
	}{
		{"transcode/serial", false, 1},
		{"transcode+audit/serial", true, 1},
		{"transcode/16-callers", false, 16},
		{"transcode+audit/16-callers", true, 16},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			var n atomic.Int64
			write := func() error {
				i := n.Add(1)
				var k codes.Key
				binary.BigEndian.PutUint64(k[:], uint64(i))
				at := t0.Add(time.Duration(i) * time.Millisecond)
				st := codes.State{Colour: codes.Red, Since: at, Reason: "close contact",
					Cause: codes.Cause{Actor: "zhang", Authorisation: "CDC-7"}}
				if _, err := s.Apply(ctx, []codes.Change{{Key: k, State: st}}); err != nil {
					return err
				}
				if !c.audit {
					return nil
				}
				_, err := s.AppendAudit(ctx, []codes.AuditRecord{{At: at, Node: "n1", Actor: "zhang", Role: "transcoder",
					Action: "transcode", Target: k.String(), Authorisation: "CDC-7", Reason: "close contact",
					Outcome: "transcoded to red", Client: "10.0.0.7"}})
				return err
			}
			b.ResetTimer()
			if c.callers == 1 {
				for b.Loop() {
					if err := write(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism((c.callers + 1) / 2) // goroutines per GOMAXPROCS; 16 on two cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := write(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
