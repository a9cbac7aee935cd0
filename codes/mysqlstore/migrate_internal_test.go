package mysqlstore

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// TestMigrateFromVersion1: tables the code before the audit trail made
// and wrote (version 1) are migrated by Open, keep their data, and get an
// empty audit trail.
func TestMigrateFromVersion1(t *testing.T) {
	dsn := testDB(t)
	ctx := context.Background()
	all := migrations
	migrations = all[:1] // the code of version 1
	s, err := Open(ctx, dsn, Config{})
	migrations = all
	require.NoError(t, err)
	_, err = s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	_, err = s.AppendAudit(ctx, []codes.AuditRecord{{At: t0, Action: "transcode"}})
	require.Error(t, err, "version 1 has no audit table")
	require.NoError(t, s.Close())

	s = testOpen(t, dsn, Config{})
	var v int
	require.NoError(t, s.db.QueryRowContext(ctx, s.t.fill(`SELECT value FROM {p}meta WHERE name = 'schema_version'`)).Scan(&v))
	require.Equal(t, len(migrations), v)
	e, ok, err := s.Get(ctx, key(1))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, codes.Red, e.State.Colour)
	pos, err := s.FeedPos(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), pos)
	n, err := codes.VerifyAudit(ctx, s)
	require.NoError(t, err)
	require.Zero(t, n)
	got, err := s.AppendAudit(ctx, []codes.AuditRecord{{At: t0, Action: "transcode"}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), got[0].Seq)
	require.Equal(t, [32]byte{}, got[0].Prev)
}
