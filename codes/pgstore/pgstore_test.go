package pgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

const dsnVar = "HEALTHCODE_TEST_POSTGRES"

// testDSN returns the database to test against, or skips t.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(dsnVar)
	if dsn == "" {
		t.Skip("HEALTHCODE_TEST_POSTGRES not set: no PostgreSQL to test against")
	}
	return dsn
}

// freshSchema names a new schema, dropped when t ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "pgstore_t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openSchema opens a Store on schema, closed when t ends (before the
// schema is dropped).
func openSchema(t testing.TB, schema string, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	cfg.Schema = schema
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, testDSN(t), cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// openFresh opens a Store on a fresh schema.
func openFresh(t testing.TB, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	return openSchema(t, freshSchema(t), cfg)
}

// rawConn is a connection outside any Store, closed when t ends.
func rawConn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

var t0 = time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)

func key(i int) codes.Key {
	s := sha256.Sum256([]byte(strconv.Itoa(i)))
	return codes.Key(s[:16])
}

func rule(k codes.Key, c codes.Colour, at time.Time) codes.Change {
	return codes.Change{Key: k, State: codes.State{Colour: c, Reason: "close contact",
		Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "v7"}, Since: at}}
}

func manual(k codes.Key, c codes.Colour, at time.Time, rid string) codes.Change {
	return codes.Change{Key: k, RequestID: rid, State: codes.State{Colour: c, Reason: "hospital discharge",
		Cause: codes.Cause{Actor: "op-17", Authorisation: "form-2291"}, Since: at}}
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, storetest.Config{
		Open: func(t *testing.T) codes.Store { return openFresh(t, pgstore.Config{}) },
		Reopen: func(t *testing.T, s codes.Store) codes.Store {
			return openSchema(t, s.(*pgstore.Store).Schema(), pgstore.Config{})
		},
	})
}
