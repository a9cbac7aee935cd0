package pgstore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestSortedOrder checks the radix sort against a stable comparison sort,
// the oracle, on batches with repeated keys and keys sharing their top
// bits.
func TestSortedOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 4095, 4096, 50_000} {
		changes := make([]codes.Change, n)
		for i := range changes {
			var k codes.Key
			for j := range k {
				k[j] = byte(r.Uint32())
			}
			switch r.IntN(4) {
			case 0:
				if i > 0 {
					k = changes[r.IntN(i)].Key // a repeat
				}
			case 1:
				k[2] = 0 // the same top 16 bits as others, differing later
				k[15] = byte(r.IntN(3))
			}
			changes[i].Key = k
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return bytes.Compare(changes[a].Key[:], changes[b].Key[:]) })
		require.Equal(t, want, sortedOrder(changes), "n=%d", n)
	}
}

// TestListenerIdlePing: an idle listener checks its connection and keeps
// it, and still relays notifications after.
func TestListenerIdlePing(t *testing.T) {
	dsn := testenv.Postgres(t)
	old := listenPing
	listenPing = 50 * time.Millisecond
	t.Cleanup(func() { listenPing = old })
	ctx := context.Background()
	s, err := Open(ctx, dsn, Config{Schema: "pgstore_ping_" + strconv.FormatUint(rand.Uint64(), 36)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = s.pool.Exec(context.Background(), "DROP SCHEMA "+quoteIdent(s.cfg.Schema)+" CASCADE")
		s.Close()
	})
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.WaitFeed(wctx, 0), context.DeadlineExceeded)
	_, up, gen, _ := s.lis.state()
	require.True(t, up)
	require.Equal(t, uint64(1), gen, "pings do not reconnect")
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = s.Publish(ctx, "rules", []byte("v2"))
	}()
	wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, s.WaitFeed(wctx, 0))
	_, _, gen, pos := s.lis.state()
	require.Equal(t, uint64(1), gen)
	require.Equal(t, uint64(1), pos, "woken by the notification")
}
