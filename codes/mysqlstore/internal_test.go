package mysqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestParseDSN: the forms Open accepts, and what they mean to the driver.
func TestParseDSN(t *testing.T) {
	tests := []struct{ dsn, user, pw, addr, db string }{
		{"root@tcp(127.0.0.1:3306)/test", "root", "", "127.0.0.1:3306", "test"},
		{"mysql://root@tcp(127.0.0.1:3306)/test", "root", "", "127.0.0.1:3306", "test"},
		{"mysql://hc:p@ss/w:rd@tcp(db.internal:4000)/codes?tls=false", "hc", "p@ss/w:rd", "db.internal:4000", "codes"},
		{"mysql://hc:s%40cret@db.internal:4000/codes?parseTime=true", "hc", "s@cret", "db.internal:4000", "codes"},
		{"mysql://hc@db.internal/codes", "hc", "", "db.internal:3306", "codes"},
		{"hc:pw@unix(/run/mysqld/mysqld.sock)/codes", "hc", "pw", "/run/mysqld/mysqld.sock", "codes"},
	}
	for _, tt := range tests {
		mc, err := parseDSN(tt.dsn)
		require.NoError(t, err, tt.dsn)
		require.Equal(t, []string{tt.user, tt.pw, tt.addr, tt.db}, []string{mc.User, mc.Passwd, mc.Addr, mc.DBName}, tt.dsn)
	}
}

// testDB creates a database of its own for t, dropped when t ends, and
// returns a DSN naming it.
func testDB(t testing.TB) string {
	t.Helper()
	mc, err := mysql.ParseDSN(testenv.MySQL(t))
	require.NoError(t, err)
	admin, err := sql.Open("mysql", mc.FormatDSN())
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	name := "hc_t_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE DATABASE " + name)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	mc.DBName = name
	return mc.FormatDSN()
}

func testOpen(t testing.TB, dsn string, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
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

// records reads every record after after.
func records(t *testing.T, f codes.Feed, after uint64) []codes.FeedRecord {
	t.Helper()
	recs, err := f.ReadFeed(context.Background(), after, 1000)
	require.NoError(t, err)
	return recs
}

// TestCommitOrder shows why the feed misses nothing: a position is taken
// under the counter's row lock, held to COMMIT, so positions follow
// commit order, not start order. Writer 1 starts first and writes its
// history and heads, then stalls before its feed record; writer 2, on
// another node, starts later and commits first: it gets position 1, and
// writer 1, committing later, position 2. A reader polling all along
// sees a gapless prefix: nothing, then 1, then 1 and 2. With
// AUTO_INCREMENT ids (allocated when the row is inserted, not at commit)
// writer 1 would have taken id 1 and committed it after a reader had
// moved past 2.
func TestCommitOrder(t *testing.T) {
	ctx := context.Background()
	dsn := testDB(t)
	s1, s2 := testOpen(t, dsn, Config{}), testOpen(t, dsn, Config{})
	written, release := make(chan struct{}), make(chan struct{})
	s1.beforeFeed = func() {
		close(written)
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, err := s1.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
		done <- err
	}()
	<-written // writer 1's rows are in, uncommitted

	// A reader polling throughout, checking that each read is a gapless
	// prefix of the final feed.
	var seen [][]uint64
	stop := make(chan struct{})
	var rg sync.WaitGroup
	rg.Go(func() {
		for {
			recs, err := s2.ReadFeed(ctx, 0, 100)
			if err != nil {
				t.Error(err)
				return
			}
			var ps []uint64
			for _, r := range recs {
				ps = append(ps, r.Pos)
			}
			if len(seen) == 0 || !slices.Equal(seen[len(seen)-1], ps) {
				seen = append(seen, ps)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	time.Sleep(20 * time.Millisecond)
	require.Empty(t, records(t, s2, 0), "writer 1 has not committed")
	_, err := s2.Apply(ctx, []codes.Change{rule(key(2), codes.Yellow, t0)})
	require.NoError(t, err)
	recs := records(t, s2, 0)
	require.Len(t, recs, 1)
	require.Equal(t, uint64(1), recs[0].Pos, "writer 2 committed first: position 1")
	require.Equal(t, key(2), recs[0].Changes[0].Key)
	time.Sleep(20 * time.Millisecond)

	close(release)
	require.NoError(t, <-done)
	recs = records(t, s2, 0)
	require.Len(t, recs, 2)
	require.Equal(t, uint64(2), recs[1].Pos, "writer 1 committed second: position 2")
	require.Equal(t, key(1), recs[1].Changes[0].Key)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	rg.Wait()
	require.Equal(t, [][]uint64{nil, {1}, {1, 2}}, seen, "every read a gapless prefix")
}

// TestCounterOrdersCommits: while one transaction holds the feed's
// counter (it has taken position 1 and not committed), a write of the
// Store waits for it, and a reader sees nothing past what is committed;
// once it commits, the write takes position 2.
func TestCounterOrdersCommits(t *testing.T) {
	ctx := context.Background()
	dsn := testDB(t)
	s := testOpen(t, dsn, Config{})
	admin, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "START TRANSACTION")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "UPDATE hc_meta SET value = LAST_INSERT_ID(value + 1) WHERE name = 'feed_pos'")
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		_, err := s.Apply(ctx, []codes.Change{rule(key(1), codes.Red, t0)})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Apply did not wait for the counter: %v", err)
	default:
	}
	require.Empty(t, records(t, s, 0))
	pos, err := s.FeedPos(ctx)
	require.NoError(t, err)
	require.Zero(t, pos, "the counter's uncommitted increment is not visible")

	_, err = conn.ExecContext(ctx, "INSERT INTO hc_feed (pos, at, topic, body) VALUES (LAST_INSERT_ID(), 0, 'other', '')")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.NoError(t, <-done)
	recs := records(t, s, 0)
	require.Len(t, recs, 2)
	require.Equal(t, "other", recs[0].Topic)
	require.Equal(t, uint64(2), recs[1].Pos)
	require.Equal(t, key(1), recs[1].Changes[0].Key)
}

// TestSmallPackets runs large batches and a large LinkAll through a Store
// whose statements are cut at 16 KiB and round trips at 64 KiB, as a
// server with a small max_allowed_packet would have them: many
// statements, many round trips, feed records split in several. Everything
// matches codes.MemStore, and the records of one write are consecutive
// and together name each changed key once.
func TestSmallPackets(t *testing.T) {
	ctx := context.Background()
	s := testOpen(t, testDB(t), Config{})
	s.maxPacket, s.maxStmt = 64<<10, 16<<10
	mem := codes.NewMemStore()
	r := rand.New(rand.NewPCG(3, 4))
	const keys = 3000
	for round := range 3 {
		var batch []codes.Change
		for i := range 4000 {
			k := key(r.IntN(keys))
			ch := rule(k, codes.Colour(r.IntN(3))*codes.Yellow, t0.Add(time.Duration(round*10000+i)*time.Second))
			if r.IntN(5) == 0 {
				ch.RequestID = "req-" + strconv.Itoa(r.IntN(100))
			}
			batch = append(batch, ch)
		}
		before, err := s.FeedPos(ctx)
		require.NoError(t, err)
		lens := map[codes.Key]int{}
		for _, ch := range batch {
			h, _ := mem.History(ctx, ch.Key)
			lens[ch.Key] = len(h)
		}
		want, err := mem.Apply(ctx, batch)
		require.NoError(t, err)
		got, err := s.Apply(ctx, batch)
		require.NoError(t, err)
		require.Equal(t, want, got, "round %d", round)
		recs := records(t, s, before)
		require.Greater(t, len(recs), 1, "the record is split")
		named := map[codes.Key]bool{}
		for i, rec := range recs {
			require.Equal(t, before+1+uint64(i), rec.Pos)
			for _, c := range rec.Changes {
				require.False(t, named[c.Key], "key named twice")
				named[c.Key] = true
			}
		}
		changed := map[codes.Key]bool{}
		for k, n := range lens {
			if h, _ := mem.History(ctx, k); len(h) > n {
				changed[k] = true
			}
		}
		require.Equal(t, changed, named, "round %d: each changed key named once", round)
	}
	for i := range keys {
		want, err := mem.History(ctx, key(i))
		require.NoError(t, err)
		got, err := s.History(ctx, key(i))
		require.NoError(t, err)
		if len(want) == 0 {
			require.Empty(t, got)
		} else {
			require.Equal(t, want, got, "key %d", i)
		}
	}
	var links []codes.Link
	for i := range 3000 {
		links = append(links, codes.Link{Phone: key(100_000 + i/2), Person: key(200_000 + i), Role: codes.Role(1 + i%2), Since: t0})
	}
	require.NoError(t, s.LinkAll(ctx, links))
	for i := 0; i < len(links); i += 101 {
		got, err := s.PhonesOf(ctx, links[i].Person)
		require.NoError(t, err)
		require.Equal(t, []codes.Link{links[i]}, got)
	}
}
