package pgstore

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

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
