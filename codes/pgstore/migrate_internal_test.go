package pgstore

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestMigrateFromVersion1: a schema the code before the audit trail made
// and wrote (version 1) is migrated by Open, keeps its data, and gets an
// empty audit trail.
func TestMigrateFromVersion1(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	schema := "pgstore_v1_" + strconv.FormatUint(rand.Uint64(), 36)
	open := func() *Store {
		t.Helper()
		s, err := Open(ctx, dsn, Config{Schema: schema})
		require.NoError(t, err)
		return s
	}
	all := migrations
	migrations = all[:1] // the code of version 1
	s, err := Open(ctx, dsn, Config{Schema: schema})
	migrations = all
	require.NoError(t, err)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA "+quoteIdent(schema)+" CASCADE")
		require.NoError(t, err)
	})
	k := codes.Key{1, 2, 3}
	at := time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)
	_, err = s.Apply(ctx, []codes.Change{{Key: k, State: codes.State{Colour: codes.Red, Reason: "close contact",
		Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "v7"}, Since: at}}})
	require.NoError(t, err)
	_, err = s.AppendAudit(ctx, []codes.AuditRecord{{At: at, Action: "transcode"}})
	require.Error(t, err, "version 1 has no audit table")
	s.Close()

	s = open()
	defer s.Close()
	var v int
	require.NoError(t, s.pool.QueryRow(ctx, s.q.version).Scan(&v))
	require.Equal(t, len(migrations), v)
	e, ok, err := s.Get(ctx, k)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, codes.Red, e.State.Colour)
	pos, err := s.FeedPos(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), pos)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Zero(t, n)
	got, err := s.AppendAudit(ctx, []codes.AuditRecord{{At: at, Action: "transcode"}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), got[0].Seq)
	require.Equal(t, [32]byte{}, got[0].Prev)
}
