package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)

func key(i int) codes.Key {
	s := sha256.Sum256([]byte(strconv.Itoa(i)))
	var k codes.Key
	copy(k[:], s[:])
	return k
}

func rule(c codes.Colour, at time.Time) codes.State {
	return codes.State{Colour: c, Reason: "close contact", Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "v7"}, Since: at}
}

func openTemp(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "codes.db"), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestApplyGetHistory(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{BatchSize: 3}) // several transactions per batch
	k1, k2 := key(1), key(2)
	a, err := s.Apply(ctx, []codes.Change{
		{Key: k1, State: rule(codes.Red, t0)},
		{Key: k2, State: rule(codes.Green, t0)},
		{Key: k1, State: rule(codes.Red, t0.Add(time.Minute))},
		{Key: k1, State: rule(codes.Yellow, t0.Add(time.Hour))},
		{Key: k2, State: rule(codes.Yellow, t0.Add(time.Hour))},
		{Key: k1, State: rule(codes.Green, t0.Add(2*time.Hour))},
	})
	require.NoError(t, err)
	require.Equal(t, codes.Applied{Changed: 4, Unchanged: 2}, a)
	tests := []struct {
		key     codes.Key
		colours []codes.Colour
	}{
		{k1, []codes.Colour{codes.Red, codes.Yellow, codes.Green}},
		{k2, []codes.Colour{codes.Yellow}},
		{key(3), nil},
	}
	for _, tt := range tests {
		h, err := s.History(ctx, tt.key)
		require.NoError(t, err)
		var got []codes.Colour
		for _, e := range h {
			got = append(got, e.State.Colour)
		}
		require.Equal(t, tt.colours, got)
		head, ok, err := s.Get(ctx, tt.key)
		require.NoError(t, err)
		require.Equal(t, len(h) > 0, ok)
		if ok {
			require.NoError(t, codes.VerifyHistory(tt.key, h, &head))
			require.Equal(t, "contact-close", head.State.Cause.RuleID)
			require.True(t, head.State.Since.Equal(h[len(h)-1].State.Since))
		}
	}

	_, err = s.Apply(ctx, []codes.Change{{Key: k1, State: rule(codes.Red, t0)}, {Key: k2, State: codes.State{Colour: codes.Red, Since: t0}}})
	require.ErrorIs(t, err, codes.ErrMissingCause)
	h, err := s.History(ctx, k1)
	require.NoError(t, err)
	require.Len(t, h, 3, "refused batch wrote")

	n := 0
	require.NoError(t, s.Scan(ctx, func(codes.Key, codes.Colour) error { n++; return nil }))
	require.Equal(t, 2, n)
}

func TestMatchesMemStore(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{BatchSize: 17})
	mem := codes.NewMemStore()
	rng := uint64(42)
	next := func(n int) int { rng = rng*6364136223846793005 + 1442695040888963407; return int(rng>>33) % n }
	colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red}
	for round := 0; round < 20; round++ {
		var batch []codes.Change
		for i := 0; i < 50; i++ {
			at := t0.Add(time.Duration(round*100+i) * time.Minute)
			st := rule(colours[next(3)], at)
			switch next(6) {
			case 0: // expiring states, sometimes already expired by later decisions
				st.Expires = at.Add(time.Duration(1+next(3)) * 30 * time.Minute)
			case 1:
				st = codes.State{Colour: colours[next(3)], Reason: "checked", Cause: codes.Cause{Actor: "op", Authorisation: "A-1"}, Since: at}
			}
			batch = append(batch, codes.Change{Key: key(next(40)), State: st})
		}
		a1, err := s.Apply(ctx, batch)
		require.NoError(t, err)
		a2, err := mem.Apply(ctx, batch)
		require.NoError(t, err)
		require.Equal(t, a2, a1)
	}
	for i := 0; i < 40; i++ {
		h1, err := s.History(ctx, key(i))
		require.NoError(t, err)
		h2, err := mem.History(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, len(h2), len(h1))
		for j := range h1 {
			require.Equal(t, h2[j].Hash, h1[j].Hash, "key %d entry %d", i, j)
		}
	}
}

func TestLinks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{})
	phone, child, parent, other := key(20), key(21), key(22), key(23)
	require.NoError(t, s.Link(ctx, codes.Link{Phone: phone, Person: child, Role: codes.RoleOwner, Since: t0}))
	require.NoError(t, s.Link(ctx, codes.Link{Phone: phone, Person: parent, Role: codes.RoleProxy, Since: t0}))
	require.NoError(t, s.Link(ctx, codes.Link{Phone: phone, Person: child, Role: codes.RoleOwner, Since: t0}), "relinking the owner")
	require.ErrorIs(t, s.Link(ctx, codes.Link{Phone: phone, Person: other, Role: codes.RoleOwner, Since: t0}), codes.ErrPhoneOwned)
	ps, err := s.PersonsOf(ctx, phone)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	ls, err := s.PhonesOf(ctx, parent)
	require.NoError(t, err)
	require.Equal(t, []codes.Link{{Phone: phone, Person: parent, Role: codes.RoleProxy, Since: t0}}, ls)
	require.NoError(t, s.Unlink(ctx, phone, child))
	ls, err = s.PhonesOf(ctx, child)
	require.NoError(t, err)
	require.Empty(t, ls)
}

func TestLinkAllIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{})
	p1, p2, a, b, c := key(30), key(31), key(32), key(33), key(34)
	require.NoError(t, s.LinkAll(ctx, []codes.Link{
		{Phone: p1, Person: a, Role: codes.RoleOwner, Since: t0},
		{Phone: p1, Person: b, Role: codes.RoleProxy, Since: t0},
		{Phone: p2, Person: b, Role: codes.RoleOwner, Since: t0},
	}))
	ps, err := s.PersonsOf(ctx, p1)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	ls, err := s.PhonesOf(ctx, b)
	require.NoError(t, err)
	require.Len(t, ls, 2)

	// A second owner of p2, even after good links in the same batch,
	// refuses the batch: c gets no phone at all.
	err = s.LinkAll(ctx, []codes.Link{
		{Phone: key(35), Person: c, Role: codes.RoleOwner, Since: t0},
		{Phone: p2, Person: c, Role: codes.RoleOwner, Since: t0},
	})
	require.ErrorIs(t, err, codes.ErrPhoneOwned)
	require.ErrorContains(t, err, "link 1")
	ls, err = s.PhonesOf(ctx, c)
	require.NoError(t, err)
	require.Empty(t, ls)

	// Two owners of one phone inside one batch are refused too.
	err = s.LinkAll(ctx, []codes.Link{
		{Phone: key(36), Person: a, Role: codes.RoleOwner, Since: t0},
		{Phone: key(36), Person: c, Role: codes.RoleOwner, Since: t0},
	})
	require.ErrorIs(t, err, codes.ErrPhoneOwned)
	// An invalid link is refused before anything is written.
	require.Error(t, s.LinkAll(ctx, []codes.Link{{Phone: key(37), Person: a, Role: codes.Role(9), Since: t0}}))
	ps, err = s.PersonsOf(ctx, key(37))
	require.NoError(t, err)
	require.Empty(t, ps)
}

// TestTamperedHistoryDetected edits a stored entry behind the store's back
// and checks that verification names it.
func TestTamperedHistoryDetected(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "codes.db")
	s, err := Open(path, Config{})
	require.NoError(t, err)
	k := key(5)
	for i, c := range []codes.Colour{codes.Red, codes.Yellow, codes.Red, codes.Green} {
		_, err := s.Apply(ctx, []codes.Change{{Key: k, State: rule(c, t0.Add(time.Duration(i)*time.Hour))}})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		hk := posKey(2) // the key's second entry is the second log record
		v := append([]byte(nil), b.Get(hk)...)
		v[4+16+8] = byte(codes.Green) // yellow -> green, hash left alone
		return b.Put(hk, v)
	}))
	require.NoError(t, db.Close())

	s, err = Open(path, Config{})
	require.NoError(t, err)
	defer s.Close()
	reg, err := codes.Open(ctx, s, codes.Config{ExpectedNonGreen: 100, CacheEntries: 100})
	require.NoError(t, err)
	defer reg.Close()
	_, err = reg.History(ctx, k)
	require.ErrorIs(t, err, codes.ErrTampered)
	var ce *codes.ChainError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 1, ce.Index)
}

const childEnv = "BOLTSTORE_KILL_CHILD_DB"

// TestKillChild is the child half of TestKillNine: it runs only when
// re-executed with childEnv set, and writes until it is killed, printing
// "ack <key> <seq>" after each Apply returns.
func TestKillChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("child process of TestKillNine")
	}
	s, err := Open(path, Config{BatchSize: 8})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	ctx := context.Background()
	colours := []codes.Colour{codes.Red, codes.Yellow}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		// Batches of 1 to 20 changes over 50 keys, each key changing colour.
		n := 1 + i%20
		batch := make([]codes.Change, 0, n)
		for j := 0; j < n; j++ {
			batch = append(batch, codes.Change{Key: key((i*7 + j) % 50), State: rule(colours[(i+j)%2], t0.Add(time.Duration(i*20+j)*time.Second))})
		}
		if _, err := s.Apply(ctx, batch); err != nil {
			fmt.Fprintln(w, "error", err)
			_ = w.Flush()
			os.Exit(2)
		}
		for _, ch := range batch {
			e, _, err := s.Get(ctx, ch.Key)
			if err != nil {
				os.Exit(2)
			}
			fmt.Fprintf(w, "ack %s %d %s %d\n", ch.Key, e.Seq, hex.EncodeToString(e.Hash[:]), e.State.Colour)
		}
		_ = w.Flush()
	}
}

// TestKillNine re-executes the test binary as a child that writes to a
// store, kills it with SIGKILL in the middle of its writes, reopens the file
// and checks that every change the child acknowledged is there and every
// history verifies.
func TestKillNine(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in child")
	}
	ctx := context.Background()
	for round, killAfter := range []int{60, 400} {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("kill%d.db", round))
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())

		type ack struct {
			seq    uint64
			hash   string
			colour codes.Colour
		}
		acked := map[string]ack{}
		sc := bufio.NewScanner(out)
		lines := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			require.Len(t, f, 5, "child said %q", sc.Text())
			require.Equal(t, "ack", f[0])
			seq, err := strconv.ParseUint(f[2], 10, 64)
			require.NoError(t, err)
			col, err := strconv.Atoi(f[4])
			require.NoError(t, err)
			if a, ok := acked[f[1]]; !ok || seq >= a.seq {
				acked[f[1]] = ack{seq, f[3], codes.Colour(col)}
			}
			if lines++; lines == killAfter {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, "killed", strings.TrimPrefix(ee.ProcessState.String(), "signal: "))

		s, err := Open(path, Config{})
		require.NoError(t, err)
		// A registry opened on the recovered file rebuilds its filter from it
		// and answers every acknowledged non-green state (the child's later,
		// unacknowledged writes may have landed too, so only keys whose last
		// acknowledged entry is also the file's last entry are compared).
		reg, err := codes.Open(ctx, s, codes.Config{ExpectedNonGreen: 100, CacheEntries: 1000})
		require.NoError(t, err)
		for hexKey, a := range acked {
			var k codes.Key
			b, err := hex.DecodeString(hexKey)
			require.NoError(t, err)
			copy(k[:], b)
			h, err := s.History(ctx, k)
			require.NoError(t, err)
			require.Greater(t, len(h), int(a.seq), "acknowledged entry %d of %s lost", a.seq, hexKey)
			require.Equal(t, a.hash, hex.EncodeToString(h[a.seq].Hash[:]), "acknowledged entry changed")
			head, _, err := s.Get(ctx, k)
			require.NoError(t, err)
			require.NoError(t, codes.VerifyHistory(k, h, &head))
			if head.Seq == a.seq {
				st, err := reg.Lookup(ctx, k)
				require.NoError(t, err)
				require.Equal(t, a.colour, st.Colour)
			}
		}
		require.NotEmpty(t, acked)
		reg.Close()
		require.NoError(t, s.Close())
	}
}

// TestConcurrentApply has several goroutines apply overlapping batches; every
// history must verify and the log positions must not collide.
func TestConcurrentApply(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{BatchSize: 5})
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 30; i++ {
				var batch []codes.Change
				for j := 0; j < 7; j++ {
					c := []codes.Colour{codes.Red, codes.Yellow}[(g+i+j)%2]
					batch = append(batch, codes.Change{Key: key((g*3 + i + j) % 12), State: rule(c, t0.Add(time.Duration(g*1000+i*10+j)*time.Second))})
				}
				if _, err := s.Apply(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	total := 0
	for i := 0; i < 12; i++ {
		h, err := s.History(ctx, key(i))
		require.NoError(t, err)
		head, ok, err := s.Get(ctx, key(i))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, codes.VerifyHistory(key(i), h, &head))
		total += len(h)
	}
	var records int
	require.NoError(t, s.db.View(func(tx *bolt.Tx) error { records = tx.Bucket(bucketLog).Stats().KeyN; return nil }))
	require.Equal(t, total, records, "every log record belongs to exactly one history")
}

// TestSortedOrder checks the parallel sort against a stable sort by key
// bytes, with many repeated keys and sizes around the parallel cut.
func TestSortedOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1 << 16, 1<<16 + 1, 200_003} {
		rng := uint64(n) + 7
		changes := make([]codes.Change, n)
		for i := range changes {
			rng = rng*6364136223846793005 + 1442695040888963407
			changes[i].Key = key(int(rng>>33) % (n/3 + 1))
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return bytes.Compare(changes[a].Key[:], changes[b].Key[:]) })
		require.Equal(t, want, sortedOrder(changes), "n=%d", n)
	}
}

// TestLargeBatchMatchesMemStore applies batches larger than a transaction
// and than the parallel sort's cut, with one key holding more changes than
// a transaction, and compares every history with MemStore's.
func TestLargeBatchMatchesMemStore(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{BatchSize: 1000})
	mem := codes.NewMemStore()
	colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red}
	rng := uint64(9)
	const keys = 3000
	for round := range 2 {
		batch := make([]codes.Change, 70_000)
		for i := range batch {
			rng = rng*6364136223846793005 + 1442695040888963407
			k := int(rng>>33) % keys
			if i%20 == 0 {
				k = 0 // the hot key: 3500 changes a batch
			}
			batch[i] = codes.Change{Key: key(k), State: rule(colours[(rng>>20)%3], t0.Add(time.Duration(round*len(batch)+i)*time.Second))}
		}
		a1, err := s.Apply(ctx, batch)
		require.NoError(t, err)
		a2, err := mem.Apply(ctx, batch)
		require.NoError(t, err)
		require.Equal(t, a2, a1)
	}
	for i := range keys {
		h1, err := s.History(ctx, key(i))
		require.NoError(t, err)
		h2, err := mem.History(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, len(h2), len(h1), "key %d", i)
		if len(h1) > 0 {
			require.Equal(t, h2[len(h2)-1].Hash, h1[len(h1)-1].Hash, "key %d", i)
			require.NoError(t, codes.VerifyHistory(key(i), h1, nil))
		}
	}
}

// TestApplyCancelled: a cancelled context refuses the batch before any
// transaction, and the store is unchanged.
func TestApplyCancelled(t *testing.T) {
	s := openTemp(t, Config{BatchSize: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, err := s.Apply(ctx, []codes.Change{{Key: key(1), State: rule(codes.Red, t0)}, {Key: key(2), State: rule(codes.Red, t0)}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, codes.Applied{}, a)
	for _, k := range []codes.Key{key(1), key(2)} {
		_, ok, err := s.Get(context.Background(), k)
		require.NoError(t, err)
		require.False(t, ok)
	}
}
