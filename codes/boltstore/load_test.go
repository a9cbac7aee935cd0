package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
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
)

// loadStream returns n changes over keys keys: rule decisions (some
// expiring), manual transcodes, RequestIDs repeated within the stream and
// across streams, and a hot key with more changes than a transaction.
func loadStream(seed uint64, n, keys, round int) []codes.Change {
	rng := seed
	next := func(m int) int { rng = rng*6364136223846793005 + 1442695040888963407; return int(rng>>33) % m }
	colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red}
	out := make([]codes.Change, n)
	for i := range out {
		at := t0.Add(time.Duration(round*n+i) * time.Second)
		st := rule(colours[next(3)], at)
		k := next(keys)
		if i%25 == 0 {
			k = 0 // the hot key
		}
		ch := codes.Change{Key: key(k), State: st}
		switch next(8) {
		case 0:
			ch.State.Expires = at.Add(time.Duration(1+next(3)) * time.Minute)
		case 1:
			ch.State = codes.State{Colour: colours[next(3)], Reason: "checked", Cause: codes.Cause{Actor: "op", Authorisation: "A-1"}, Since: at}
			ch.RequestID = "req-" + strconv.Itoa(next(40)) // repeats, in this stream and the next
		}
		out[i] = ch
	}
	return out
}

// resumable returns n changes over keys keys, each with a RequestID of its
// own: a stream that can be loaded again after a load cut short (a repeated
// rule decision is safe alone; decisions that alternate a key's colour are
// not, unless their RequestIDs say they were applied).
func resumable(seed uint64, n, keys int) []codes.Change {
	out := loadStream(seed, n, keys, 0)
	for i := range out {
		out[i].RequestID = "r" + strconv.Itoa(i)
	}
	return out
}

func seqOf(changes []codes.Change) iter.Seq2[codes.Change, error] {
	return func(yield func(codes.Change, error) bool) {
		for _, ch := range changes {
			if !yield(ch, nil) {
				return
			}
		}
	}
}

// sameStores requires every key's history in a to be b's, byte for byte.
func sameStores(t *testing.T, a, b *Store, keys int) {
	t.Helper()
	ctx := context.Background()
	for i := range keys {
		h1, err := a.History(ctx, key(i))
		require.NoError(t, err)
		h2, err := b.History(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, len(h2), len(h1), "key %d", i)
		for j := range h1 {
			require.Equal(t, h2[j], h1[j], "key %d entry %d", i, j)
		}
		if len(h1) > 0 {
			require.NoError(t, codes.VerifyHistory(key(i), h1, nil))
		}
	}
}

// noRunsLeft requires dir to hold no load directory.
func noRunsLeft(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, ".boltstore-load-*"))
	require.NoError(t, err)
	require.Empty(t, left, "spilled runs left behind")
}

// TestLoadMatchesApply loads streams through spilled runs and through one
// in-memory run, into an empty store and into one that holds the keys, and
// requires every history, every count and every duplicate to be what one
// Apply of the same stream gives.
func TestLoadMatchesApply(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		run     int
		batch   int
		keys, n int
	}{
		{"spilled", 997, 300, 2000, 12_000},
		{"one run", 100_000, 300, 2000, 12_000},
		{"one key a transaction", 50, 1, 30, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			loaded := openTemp(t, Config{BatchSize: tc.batch, LoadRun: tc.run, LoadDir: dir})
			applied := openTemp(t, Config{BatchSize: tc.batch})
			for round := range 2 { // the second round loads into a store holding every key
				stream := loadStream(uint64(7+round), tc.n, tc.keys, round)
				var last codes.LoadProgress
				calls := 0
				a1, err := loaded.Load(ctx, seqOf(stream), func(p codes.LoadProgress) {
					require.GreaterOrEqual(t, p.Read, last.Read)
					require.GreaterOrEqual(t, p.Committed, last.Committed)
					last = p
					calls++
				})
				require.NoError(t, err)
				a2, err := applied.Apply(ctx, stream)
				require.NoError(t, err)
				require.Equal(t, a2, a1)
				require.NotZero(t, a1.Duplicate, "the stream should repeat RequestIDs")
				require.Equal(t, codes.LoadProgress{Read: tc.n, Committed: tc.n, Applied: a1}, last)
				// A transaction holds batch changes or more (whole keys; the
				// hot key has n/25), each reported.
				require.GreaterOrEqual(t, calls, tc.n/(tc.batch+tc.n/25+1), "progress after each transaction")
				noRunsLeft(t, dir)
			}
			sameStores(t, loaded, applied, tc.keys)
		})
	}
}

// TestLoadRefusesAndChangesNothing: an invalid change, or an error from the
// stream, anywhere in it refuses the whole load, names the change, and
// leaves the store as it was.
func TestLoadRefusesAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTemp(t, Config{BatchSize: 100, LoadRun: 500, LoadDir: dir})
	base := loadStream(3, 3000, 400, 0)
	_, err := s.Apply(ctx, base)
	require.NoError(t, err)
	before := snapshot(t, s, 400)

	bad := slices.Clone(loadStream(4, 3000, 400, 1))
	bad[2345].State.Cause = codes.Cause{} // neither rule nor actor
	_, err = s.Load(ctx, seqOf(bad), nil)
	var ce *codes.ChangeError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, err, codes.ErrMissingCause)
	require.Equal(t, 2345, ce.Index)
	require.Equal(t, before, snapshot(t, s, 400))
	noRunsLeft(t, dir)

	broken := errors.New("registry file: line 2001: bad row")
	good := loadStream(4, 3000, 400, 1)
	_, err = s.Load(ctx, func(yield func(codes.Change, error) bool) {
		for i, ch := range good {
			if i == 2000 {
				yield(codes.Change{}, broken)
				return
			}
			if !yield(ch, nil) {
				return
			}
		}
	}, nil)
	require.ErrorIs(t, err, broken)
	require.ErrorContains(t, err, "change 2000")
	require.Equal(t, before, snapshot(t, s, 400))
	noRunsLeft(t, dir)
}

// snapshot returns every key's history hashes.
func snapshot(t *testing.T, s *Store, keys int) map[int][]string {
	t.Helper()
	out := map[int][]string{}
	for i := range keys {
		h, err := s.History(context.Background(), key(i))
		require.NoError(t, err)
		for _, e := range h {
			out[i] = append(out[i], fmt.Sprintf("%x", e.Hash))
		}
	}
	return out
}

// TestLoadCancelledThenResumed: a load cancelled after its first commit
// keeps what it committed; loading the same stream again completes it, and
// the store ends as one Apply of the stream leaves it.
func TestLoadCancelledThenResumed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTemp(t, Config{BatchSize: 200, LoadRun: 1000, LoadDir: dir})
	want := openTemp(t, Config{})
	stream := resumable(5, 6000, 1500)
	cctx, cancel := context.WithCancel(ctx)
	var committed int
	_, err := s.Load(cctx, seqOf(stream), func(p codes.LoadProgress) {
		if p.Committed > 0 {
			committed = p.Committed
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Positive(t, committed)
	require.Less(t, committed, len(stream))
	noRunsLeft(t, dir)
	// What the first transaction committed is there.
	n := 0
	require.NoError(t, s.Scan(ctx, func(codes.Key, codes.Colour) error { n++; return nil }))
	require.Positive(t, n)

	_, err = s.Load(ctx, seqOf(stream), nil)
	require.NoError(t, err)
	_, err = want.Apply(ctx, stream)
	require.NoError(t, err)
	sameStores(t, s, want, 1500)
}

// TestRegistryLoad: a Registry serving the store sees what a Load wrote,
// through its filter and past its cache.
func TestRegistryLoad(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Config{BatchSize: 50, LoadRun: 300})
	_, err := s.Apply(ctx, []codes.Change{{Key: key(1), State: rule(codes.Red, t0)}})
	require.NoError(t, err)
	reg, err := codes.Open(ctx, s, codes.Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	require.NoError(t, err)
	defer reg.Close()
	st, err := reg.Lookup(ctx, key(1)) // now cached red
	require.NoError(t, err)
	require.Equal(t, codes.Red, st.Colour)

	stream := []codes.Change{{Key: key(1), State: rule(codes.Green, t0.Add(time.Hour))}}
	for i := 2; i < 1000; i++ {
		stream = append(stream, codes.Change{Key: key(i), State: rule(codes.Yellow, t0.Add(time.Hour))})
	}
	a, err := reg.Load(ctx, seqOf(stream), nil)
	require.NoError(t, err)
	require.Equal(t, codes.Applied{Changed: 999}, a)
	st, err = reg.Lookup(ctx, key(1))
	require.NoError(t, err)
	require.Equal(t, codes.Green, st.Colour, "a cached state from before the load was served")
	for i := 2; i < 1000; i++ {
		st, err := reg.Lookup(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, codes.Yellow, st.Colour, "key %d", i)
	}

	memReg, err := codes.Open(ctx, codes.NewMemStore(), codes.Config{})
	require.NoError(t, err)
	defer memReg.Close()
	_, err = memReg.Load(ctx, seqOf(stream), nil)
	require.ErrorIs(t, err, codes.ErrNoLoader)
}

func TestSpilledRoundTrip(t *testing.T) {
	chs := []codes.Change{
		{Key: key(1), State: rule(codes.Red, t0)},
		{Key: key(2), State: codes.State{Colour: codes.Yellow, Reason: "核酸阳性 密接", Cause: codes.Cause{Actor: "op-7", Authorisation: "川卫-2022-118"}, Since: t0, Expires: t0.Add(time.Hour)}, RequestID: "form-1"},
	}
	var buf []byte
	for i := range chs {
		buf = appendSpilled(buf, &chs[i])
	}
	r := bufio.NewReader(bytes.NewReader(buf))
	var scratch []byte
	for _, want := range chs {
		var got codes.Change
		var err error
		scratch, err = readSpilled(r, &got, scratch)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := readSpilled(r, new(codes.Change), scratch)
	require.ErrorIs(t, err, io.EOF)
}

// FuzzReadSpilled: any bytes decode to changes or to errSpill, never a
// panic; a decoded change encodes back to the bytes it came from.
func FuzzReadSpilled(f *testing.F) {
	ch := codes.Change{Key: key(3), State: codes.State{Colour: codes.Red, Reason: "r", Cause: codes.Cause{RuleID: "x", RuleVersion: "v1"}, Since: t0}, RequestID: "q"}
	f.Add(appendSpilled(nil, &ch))
	f.Add([]byte{0x21})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		var scratch []byte
		for {
			var got codes.Change
			var err error
			scratch, err = readSpilled(r, &got, scratch)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, errSpill) {
					t.Fatalf("error %v", err)
				}
				return
			}
			again := appendSpilled(nil, &got)
			var back codes.Change
			if _, err := readSpilled(bufio.NewReader(bytes.NewReader(again)), &back, nil); err != nil || back != got {
				t.Fatalf("round trip: %+v -> %+v, %v", got, back, err)
			}
		}
	})
}

const loadChildEnv = "BOLTSTORE_LOAD_CHILD_DB"

// TestLoadKillChild is the child half of TestLoadKillNine: it loads a
// stream through spilled runs and prints "committed N" after each commit.
func TestLoadKillChild(t *testing.T) {
	path := os.Getenv(loadChildEnv)
	if path == "" {
		t.Skip("child process of TestLoadKillNine")
	}
	s, err := Open(path, Config{BatchSize: 500, LoadRun: 5000})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	_, err = s.Load(context.Background(), seqOf(resumable(11, 60_000, 20_000)), func(p codes.LoadProgress) {
		fmt.Fprintf(w, "committed %d\n", p.Committed)
		_ = w.Flush()
	})
	fmt.Fprintln(w, "done", err)
	_ = w.Flush()
	os.Exit(0)
}

// TestLoadKillNine kills a loading process after its first acknowledged
// commits, reopens the file, requires every history to verify and every key
// of the acknowledged transactions to be there, then loads the stream again
// and requires the store one Apply of it leaves.
func TestLoadKillNine(t *testing.T) {
	if os.Getenv(loadChildEnv) != "" {
		t.Skip("in child")
	}
	ctx := context.Background()
	stream := resumable(11, 60_000, 20_000)
	// The committed transactions hold the smallest keys: the keys of the
	// first N changes in key order.
	sorted := slices.Clone(stream)
	slices.SortStableFunc(sorted, func(a, b codes.Change) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	path := filepath.Join(t.TempDir(), "load.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), loadChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	acked := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "committed" {
			n, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			if n > 0 && acked == 0 {
				acked = n
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the child finished before it was killed")
	require.Equal(t, "killed", strings.TrimPrefix(ee.ProcessState.String(), "signal: "))
	require.Positive(t, acked)

	want := openTemp(t, Config{})
	_, err = want.Apply(ctx, stream)
	require.NoError(t, err)
	ackedKeys := map[codes.Key]bool{}
	for _, ch := range sorted[:acked] {
		ackedKeys[ch.Key] = true
	}
	s, err := Open(path, Config{LoadRun: 5000})
	require.NoError(t, err)
	defer s.Close()
	// A key of an acknowledged transaction has all its history; any other
	// has all of it (a later transaction committed before the kill) or none.
	for i := range 20_000 {
		h, err := s.History(ctx, key(i))
		require.NoError(t, err)
		w, err := want.History(ctx, key(i))
		require.NoError(t, err)
		if len(h) == 0 && !ackedKeys[key(i)] {
			continue
		}
		require.Equal(t, w, h, "key %d (acknowledged: %v)", i, ackedKeys[key(i)])
	}
	_, err = s.Load(ctx, seqOf(stream), nil)
	require.NoError(t, err)
	sameStores(t, s, want, 20_000)
}
