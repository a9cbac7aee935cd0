package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
	"github.com/healthcode-sdk/healthcode/codes/storetest"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// testDSN returns the database to test against, or skips t (fails it
// under CI=true).
func testDSN(t testing.TB) string {
	t.Helper()
	return testenv.Postgres(t)
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
		Tamper: func(t *testing.T, s codes.Store, seq uint64) { tamper(t, s.(*pgstore.Store), seq, 40) },
	})
}

var regConfig = codes.Config{ExpectedNonGreen: 1 << 12, CacheEntries: 1 << 12, FeedPoll: 100 * time.Millisecond}

func openRegistry(t testing.TB, s codes.Store) *codes.Registry {
	t.Helper()
	reg, err := codes.Open(context.Background(), s, regConfig)
	require.NoError(t, err)
	t.Cleanup(reg.Close)
	return reg
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg   pgstore.Config
		field string // "" when valid
	}{
		{pgstore.Config{}, ""},
		{pgstore.DefaultConfig(), ""},
		{pgstore.Config{Schema: "tenant_7", Retries: -1}, ""},
		{pgstore.Config{Schema: "Upper"}, "Config.Schema"},
		{pgstore.Config{Schema: "7days"}, "Config.Schema"},
		{pgstore.Config{Schema: `x"; DROP TABLE y; --`}, "Config.Schema"},
		{pgstore.Config{Schema: strings.Repeat("s", 59)}, "Config.Schema"},
		{pgstore.Config{MaxConns: -1}, "Config.MaxConns"},
		{pgstore.Config{QueryTimeout: -time.Second}, "Config.QueryTimeout"},
		{pgstore.Config{FeedRetention: -time.Hour}, "Config.FeedRetention"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.field == "" {
			require.NoError(t, err, "%+v", tt.cfg)
			continue
		}
		require.ErrorContains(t, err, tt.field)
		_, err = pgstore.Open(context.Background(), "postgres://127.0.0.1:1/x", tt.cfg)
		require.ErrorContains(t, err, tt.field, "Open validates first")
	}
}

// TestBadDSN needs no database: nothing listens on port 1.
func TestBadDSN(t *testing.T) {
	start := time.Now()
	s, err := pgstore.Open(context.Background(), "postgres://healthcode:secret-pw@127.0.0.1:1/test?connect_timeout=10", pgstore.Config{QueryTimeout: 2 * time.Second})
	require.Nil(t, s)
	require.ErrorContains(t, err, "pgstore: connect 127.0.0.1:1")
	require.NotContains(t, err.Error(), "secret-pw")
	require.Less(t, time.Since(start), 3*time.Second)

	_, err = pgstore.Open(context.Background(), "postgres://x:secret-pw@[bad", pgstore.Config{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-pw")
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	s := openSchema(t, schema, pgstore.Config{})
	_, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	s.Close()

	// Idempotent: reopening migrates nothing and keeps the data.
	s = openSchema(t, schema, pgstore.Config{})
	e, ok, err := s.Get(ctx, key(1))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, codes.Red, e.State.Colour)
	s.Close()

	conn := rawConn(t)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT value FROM "+schema+".meta WHERE name = 'schema_version'").Scan(&v))
	require.Equal(t, 2, v)

	// A schema from newer code is refused, naming both versions.
	_, err = conn.Exec(ctx, "UPDATE "+schema+".meta SET value = 99 WHERE name = 'schema_version'")
	require.NoError(t, err)
	_, err = pgstore.Open(ctx, testDSN(t), pgstore.Config{Schema: schema})
	require.ErrorIs(t, err, pgstore.ErrSchemaTooNew)
	require.ErrorContains(t, err, "version 99")
	require.ErrorContains(t, err, "up to 2")
}

// TestConcurrentOpen: nodes starting at once on a new schema take turns
// under the advisory lock instead of racing to create it.
func TestConcurrentOpen(t *testing.T) {
	schema := freshSchema(t)
	const nodes = 6
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			s, err := pgstore.Open(context.Background(), testDSN(t), pgstore.Config{Schema: schema})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// TestTwoNodesNoFork: two Stores with their own pools, a Registry on each,
// 8 goroutines per node transcoding the same 100 persons at once. Every
// history verifies and holds exactly the acknowledged transcodes.
func TestTwoNodesNoFork(t *testing.T) {
	schema := freshSchema(t)
	stores := []*pgstore.Store{openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})}
	const persons, perNode = 100, 8
	acked := make([][persons]int, len(stores)*perNode)
	errs := make([]error, len(acked))
	var wg sync.WaitGroup
	for n, s := range stores {
		reg := openRegistry(t, s)
		for g := range perNode {
			w := n*perNode + g
			wg.Go(func() {
				for p := range persons {
					_, err := reg.Transcode(context.Background(), key(p), codes.Transcode{
						Colour: codes.Colour(w%3) * codes.Yellow, Actor: "op-" + strconv.Itoa(w), Authorisation: "form-1",
						Reason: "writer " + strconv.Itoa(w), At: t0.Add(time.Duration(w) * time.Minute)})
					if err != nil {
						errs[w] = err
						return
					}
					acked[w][p]++
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	ctx := context.Background()
	for p := range persons {
		want := map[string]int{}
		total := 0
		for w := range acked {
			want["writer "+strconv.Itoa(w)] += acked[w][p]
			total += acked[w][p]
		}
		for _, s := range stores {
			h, err := s.History(ctx, key(p))
			require.NoError(t, err)
			head, ok, err := s.Get(ctx, key(p))
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, codes.VerifyHistory(key(p), h, &head))
			require.Len(t, h, total, "person %d: one entry per acknowledged transcode", p)
			got := map[string]int{}
			for _, e := range h {
				got[e.State.Reason]++
			}
			require.Equal(t, want, got)
		}
	}
}

// bulkBatch is n random changes over keys [0, keys): rule decisions of
// random colours and expiries, manual transcodes, some with RequestIDs
// drawn from a small set so that they repeat within and across batches.
func bulkBatch(r *mrand.Rand, n, keys int, at time.Time) []codes.Change {
	out := make([]codes.Change, n)
	for i := range out {
		k := key(r.IntN(keys))
		at := at.Add(time.Duration(i) * time.Second)
		switch r.IntN(10) {
		case 0:
			out[i] = manual(k, codes.Colour(r.IntN(3))*codes.Yellow, at, "")
		case 1:
			out[i] = manual(k, codes.Red, at, "req-"+strconv.Itoa(r.IntN(50)))
		case 2:
			out[i] = rule(k, codes.Yellow, at)
			out[i].RequestID = "rule-" + strconv.Itoa(r.IntN(50))
		default:
			out[i] = rule(k, codes.Colour(r.IntN(3))*codes.Yellow, at)
			if r.IntN(4) == 0 {
				out[i].State.Expires = at.Add(time.Duration(1+r.IntN(48)) * time.Hour)
			}
		}
	}
	return out
}

// TestBulkMatchesMemStore checks the COPY path against codes.MemStore, the
// oracle: the same batches (new and existing keys, several changes per
// key, duplicate RequestIDs within and across batches) give the same
// counts, histories and scan.
func TestBulkMatchesMemStore(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	mem := codes.NewMemStore()
	r := mrand.New(mrand.NewPCG(7, 11))
	const keys = 15_000
	batches := [][]codes.Change{
		bulkBatch(r, 20_000, keys/2, t0),                 // new keys, many repeated within the batch
		bulkBatch(r, 20_000, keys, t0.Add(48*time.Hour)), // half existing, half new
		bulkBatch(r, 300, keys, t0.Add(96*time.Hour)),    // the small path on the same data
		bulkBatch(r, 5_000, keys, t0.Add(120*time.Hour)),
	}
	var resent []codes.Change
	for i, b := range batches {
		// Send again some changes with RequestIDs of this batch and of the
		// last: repeats within and across batches.
		b = append(b, resent...)
		resent = resent[:0]
		for _, ch := range b {
			if ch.RequestID != "" && len(resent) < 100 {
				resent = append(resent, ch)
			}
		}
		b = append(b, resent...)
		want, err := mem.Apply(ctx, b)
		require.NoError(t, err)
		got, err := s.Apply(ctx, b)
		require.NoError(t, err)
		require.Equal(t, want, got, "batch %d", i)
		require.Positive(t, got.Duplicate, "batch %d has duplicates", i)
	}
	for i := range keys {
		want, err := mem.History(ctx, key(i))
		require.NoError(t, err)
		got, err := s.History(ctx, key(i))
		require.NoError(t, err)
		if len(want) == 0 {
			require.Empty(t, got)
			continue
		}
		require.Equal(t, want, got, "key %d", i)
		head, ok, err := s.Get(ctx, key(i))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want[len(want)-1], head)
	}
	scan := func(st codes.Store) map[codes.Key]codes.Colour {
		m := map[codes.Key]codes.Colour{}
		require.NoError(t, st.Scan(ctx, func(k codes.Key, c codes.Colour) error { m[k] = c; return nil }))
		return m
	}
	require.Equal(t, scan(mem), scan(s))
}

// TestFeedGapless: writers on two Stores append records while a reader
// follows; the reader never sees a gap and ends with every record.
func TestFeedGapless(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	a, b := openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})
	const writers, each = 8, 25
	var target atomic.Uint64 // the last position, once the writers are done
	var readErr error
	var read []codes.FeedRecord
	var rg sync.WaitGroup
	rg.Go(func() {
		var after uint64
		for t := target.Load(); t == 0 || after < t; t = target.Load() {
			recs, err := b.ReadFeed(ctx, after, 7)
			if err != nil {
				readErr = err
				return
			}
			for _, r := range recs {
				if r.Pos != after+1 {
					readErr = fmt.Errorf("read position %d after %d", r.Pos, after)
					return
				}
				after = r.Pos
			}
			read = append(read, recs...)
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		s := []*pgstore.Store{a, b}[w%2]
		wg.Go(func() {
			for i := range each {
				var err error
				switch i % 5 {
				case 0:
					_, err = s.Publish(ctx, "rules", []byte("v"+strconv.Itoa(i)))
				case 1:
					err = s.Link(ctx, codes.Link{Phone: key(1e6 + w*100 + i), Person: key(w*100 + i), Role: codes.RoleOwner, Since: t0})
				default:
					_, err = s.Apply(ctx, []codes.Change{rule(key(w*100+i), codes.Red, t0)})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	pos, err := a.FeedPos(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(writers*each), pos)
	target.Store(pos)
	rg.Wait()
	require.NoError(t, readErr)
	require.Equal(t, writers*each, len(read))
	var notes, links, changes int
	for _, r := range read {
		switch {
		case r.IsNote():
			notes++
		case len(r.Links) == 1:
			links++
		case len(r.Changes) == 1 && r.Changes[0].Colour == codes.Red:
			changes++
		default:
			t.Fatalf("unexpected record %+v", r)
		}
	}
	require.Equal(t, []int{writers * 5, writers * 5, writers * 15}, []int{notes, links, changes})
}

// TestWaitFeed: a write through one Store wakes a WaitFeed on another
// within a second, and a write to another schema does not.
func TestWaitFeed(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	a, b := openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})
	other := openFresh(t, pgstore.Config{})
	woke := make(chan time.Time, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := a.WaitFeed(wctx, 0); err != nil {
			t.Error(err)
		}
		woke <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond) // the listener connects
	_, err := other.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	select {
	case <-woke:
		t.Fatal("woken by a write to another schema")
	case <-time.After(300 * time.Millisecond):
	}
	wrote := time.Now()
	_, err = b.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	at := <-woke
	require.Less(t, at.Sub(wrote), time.Second)

	// Already past: at once.
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	require.NoError(t, a.WaitFeed(wctx, 0))
	// Nothing new: until ctx ends.
	wctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, a.WaitFeed(wctx, 1), context.DeadlineExceeded)
}

// TestListenerReconnects: the listener's connection is killed; WaitFeed
// still learns of writes once it is back, including one made while it
// was down.
func TestListenerReconnects(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	a, b := openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, a.WaitFeed(wctx, 0), context.DeadlineExceeded) // starts the listener
	conn := rawConn(t)
	var killed int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`,
		`LISTEN "`+schema+`_feed"`).Scan(&killed))
	require.Equal(t, 1, killed)
	_, err := b.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	wctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, a.WaitFeed(wctx, 0))
	start := time.Now()
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = b.Apply(ctx, []codes.Change{rule(key(2), codes.Red, t0)})
	}()
	require.NoError(t, a.WaitFeed(wctx, 1))
	require.Less(t, time.Since(start), time.Second)
}

// TestFollow: a Registry following store B serves a transcode made
// through a Registry on store A.
func TestFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := freshSchema(t)
	a, b := openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})
	regA, regB := openRegistry(t, a), openRegistry(t, b)
	k := key(42)
	st, err := regB.Lookup(ctx, k)
	require.NoError(t, err)
	require.Equal(t, codes.Green, st.Colour) // cached as green, if at all
	followed := make(chan error, 1)
	go func() { followed <- regB.Follow(ctx) }()
	_, err = regA.Transcode(ctx, k, codes.Transcode{Colour: codes.Red, Actor: "op-1", Authorisation: "form-9", Reason: "positive test", At: t0})
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := regB.Lookup(ctx, k)
		require.NoError(t, err)
		if st.Colour == codes.Red {
			break
		}
		require.True(t, time.Now().Before(deadline), "registry B still serves %v after 10 s", st.Colour)
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	require.ErrorIs(t, <-followed, context.Canceled)
}

// TestQueryTimeout: a call without a deadline whose row another
// transaction holds fails after about QueryTimeout instead of hanging,
// and the Store works again once the row is free.
func TestQueryTimeout(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{QueryTimeout: 500 * time.Millisecond, Retries: 2})
	_, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	conn := rawConn(t)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	k := key(1)
	_, err = tx.Exec(ctx, "SELECT 1 FROM "+s.Schema()+".heads WHERE key = $1 FOR UPDATE", k[:])
	require.NoError(t, err)
	start := time.Now()
	_, err = s.Apply(ctx, []codes.Change{rule(key(1), codes.Yellow, t0.Add(time.Hour))})
	took := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "QueryTimeout")
	require.Less(t, took, 2*time.Second)
	require.GreaterOrEqual(t, took, 400*time.Millisecond)
	require.NoError(t, tx.Rollback(ctx))
	a, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Yellow, t0.Add(time.Hour))})
	require.NoError(t, err)
	require.Equal(t, 1, a.Changed)
}

// TestPruneFeed: pruning drops code and link records up to a position,
// never notes; a reader behind it gets codes.ErrFeedGap, and Follow
// recovers by reloading.
func TestPruneFeed(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	_, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	note, err := s.Publish(ctx, "rules", []byte("v1"))
	require.NoError(t, err)
	require.NoError(t, s.Link(ctx, codes.Link{Phone: key(100), Person: key(1), Role: codes.RoleOwner, Since: t0}))
	n, err := s.PruneFeed(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "nothing is an hour old")
	n, err = s.PruneFeed(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	_, err = s.ReadFeed(ctx, 0, 10)
	require.ErrorIs(t, err, codes.ErrFeedGap)
	recs, err := s.ReadFeed(ctx, 3, 10)
	require.NoError(t, err)
	require.Empty(t, recs)
	notes, err := s.Notes(ctx, 0, 3)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	require.Equal(t, note, notes[0].Pos)
	require.Equal(t, []byte("v1"), notes[0].Body)

	// A Registry behind the cut reloads and carries on.
	reg, err := codes.Open(ctx, s, regConfig)
	require.NoError(t, err)
	defer reg.Close()
	_, err = s.Apply(ctx, []codes.Change{rule(key(2), codes.Red, t0)})
	require.NoError(t, err)
	_, err = s.PruneFeed(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = reg.Follow(fctx) }()
	require.NoError(t, reg.WaitFeed(ctx, 4))
	require.Equal(t, uint64(1), reg.FeedStats().Resyncs)
}

// TestFeedRetention: the background pruner cuts old records.
func TestFeedRetention(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{FeedRetention: time.Millisecond})
	_, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := s.ReadFeed(ctx, 0, 1)
		return errors.Is(err, codes.ErrFeedGap)
	}, 10*time.Second, 50*time.Millisecond)
}

func TestLinkAll(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, pgstore.Config{})
	phone, p1, p2, p3 := key(100), key(1), key(2), key(3)
	require.NoError(t, s.Link(ctx, codes.Link{Phone: phone, Person: p1, Role: codes.RoleOwner, Since: t0}))
	before, err := s.FeedPos(ctx)
	require.NoError(t, err)

	err = s.LinkAll(ctx, []codes.Link{
		{Phone: key(101), Person: p2, Role: codes.RoleOwner, Since: t0},
		{Phone: phone, Person: p3, Role: codes.RoleOwner, Since: t0},
	})
	require.ErrorIs(t, err, codes.ErrPhoneOwned)
	require.ErrorContains(t, err, "link 1")
	err = s.LinkAll(ctx, []codes.Link{{Phone: phone, Person: p2, Role: 9}})
	require.ErrorIs(t, err, codes.ErrBadLink)
	require.ErrorContains(t, err, "link 0")
	got, err := s.PhonesOf(ctx, p2)
	require.NoError(t, err)
	require.Empty(t, got, "a refused batch writes nothing")

	// In order: the owner turned proxy frees the phone for another.
	require.NoError(t, s.LinkAll(ctx, []codes.Link{
		{Phone: phone, Person: p1, Role: codes.RoleProxy, Since: t0},
		{Phone: phone, Person: p2, Role: codes.RoleOwner, Since: t0},
		{Phone: phone, Person: p3, Role: codes.RoleProxy},
		{Phone: phone, Person: p3, Role: codes.RoleProxy, Since: t0.Add(time.Hour)},
	}))
	got, err = s.PersonsOf(ctx, phone)
	require.NoError(t, err)
	want := []codes.Link{
		{Phone: phone, Person: p1, Role: codes.RoleProxy, Since: t0},
		{Phone: phone, Person: p2, Role: codes.RoleOwner, Since: t0},
		{Phone: phone, Person: p3, Role: codes.RoleProxy, Since: t0.Add(time.Hour)},
	}
	slices.SortFunc(want, func(a, b codes.Link) int { return bytes.Compare(a.Person[:], b.Person[:]) })
	require.Equal(t, want, got)
	recs, err := s.ReadFeed(ctx, before, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1, "one record for the batch")
	require.ElementsMatch(t, []codes.Key{p1, p2, p3}, recs[0].Links)
}

// TestOwnerRace: two nodes linking different owners to one phone at once:
// exactly one wins.
func TestOwnerRace(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	a, b := openSchema(t, schema, pgstore.Config{}), openSchema(t, schema, pgstore.Config{})
	for round := range 20 {
		phone := key(1000 + round)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, s := range []*pgstore.Store{a, b} {
			wg.Go(func() {
				errs[i] = s.Link(ctx, codes.Link{Phone: phone, Person: key(i), Role: codes.RoleOwner, Since: t0})
			})
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, codes.ErrPhoneOwned)
				failed++
			}
		}
		require.Equal(t, 1, failed, "round %d", round)
	}
}

// TestExample runs Example against the test database, in a schema of its
// own that it drops afterwards.
func TestExample(t *testing.T) {
	testDSN(t)
	conn := rawConn(t)
	drop := func() {
		_, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS healthcode_example CASCADE")
		require.NoError(t, err)
	}
	drop()
	t.Cleanup(drop)
	Example()
}

// TestBulkRace: bulk batches (the COPY path) from two Stores racing on the
// same keys, new at first: conflicts are retried, nothing forks, every
// acknowledged change is in its key's history once.
func TestBulkRace(t *testing.T) {
	ctx := context.Background()
	schema := freshSchema(t)
	var log bytes.Buffer
	var logMu sync.Mutex
	cfg := pgstore.Config{Logger: slog.New(slog.NewTextHandler(&lockedWriter{&logMu, &log}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	stores := []*pgstore.Store{openSchema(t, schema, cfg), openSchema(t, schema, cfg)}
	const keys, writers, rounds = 1000, 4, 3
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for r := range rounds {
				batch := make([]codes.Change, 0, 2*keys)
				for k := range keys {
					for c := range 2 {
						ch := manual(key(k), codes.Red, t0.Add(time.Duration(r)*time.Hour), "")
						ch.State.Reason = fmt.Sprintf("w%d r%d c%d", w, r, c)
						batch = append(batch, ch)
					}
				}
				a, err := s.Apply(ctx, batch)
				if err == nil && a.Changed != len(batch) {
					err = fmt.Errorf("applied %+v", a)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	logMu.Lock()
	t.Logf("%d transactions retried after a conflict", strings.Count(log.String(), "retrying"))
	logMu.Unlock()
	for k := range keys {
		h, err := stores[k%2].History(ctx, key(k))
		require.NoError(t, err)
		require.NoError(t, codes.VerifyHistory(key(k), h, nil))
		require.Len(t, h, writers*rounds*2)
		seen := map[string]bool{}
		for i, e := range h {
			require.False(t, seen[e.State.Reason], "key %d: %q twice", k, e.State.Reason)
			seen[e.State.Reason] = true
			if i%2 == 1 { // a batch's two changes of a key stay together, in order
				require.Equal(t, strings.Replace(h[i-1].State.Reason, "c0", "c1", 1), e.State.Reason)
			}
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
