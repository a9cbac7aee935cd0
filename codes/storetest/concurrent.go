package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// registryConfig keeps the Registries of the suite small: the defaults
// size a filter and a cache for a million keys.
var registryConfig = codes.Config{ExpectedNonGreen: 1 << 10, CacheEntries: 1 << 10}

func openRegistry(t *testing.T, s codes.Store) *codes.Registry {
	t.Helper()
	reg, err := codes.Open(context.Background(), s, registryConfig)
	require.NoError(t, err)
	t.Cleanup(reg.Close)
	return reg
}

// requireReasons requires the reasons of h after its first skip entries
// to be want, each exactly once, in any order.
func requireReasons(t *testing.T, h []codes.Entry, skip int, want []string) {
	t.Helper()
	require.Len(t, h, skip+len(want), "entries: one per acknowledged change")
	count := map[string]int{}
	for _, e := range h[skip:] {
		count[e.State.Reason]++
	}
	for _, r := range want {
		require.Equal(t, 1, count[r], "reason %q: acknowledged once, recorded %d times", r, count[r])
	}
}

// testConcurrent: writers racing on one key never fork its history nor
// lose an acknowledged change, through the store and through two
// Registries over it.
func (cfg Config) testConcurrent(t *testing.T) {
	const writers = 16
	t.Run("OneKey", func(t *testing.T) {
		s := cfg.open(t)
		k := randKey(newRand(20))
		apply(t, s, transcode(k, codes.Yellow, at(0), "initial"))
		errs := make([]error, writers)
		reasons := make([]string, writers)
		var wg sync.WaitGroup
		for g := range writers {
			reasons[g] = fmt.Sprintf("writer %02d", g)
			wg.Go(func() {
				a, err := s.Apply(context.Background(), []codes.Change{
					transcode(k, codes.Colour(g%3)*codes.Yellow, at(1+g), reasons[g]),
				})
				if err == nil && a != (codes.Applied{Changed: 1}) {
					err = fmt.Errorf("applied %+v, want one change", a)
				}
				errs[g] = err
			})
		}
		wg.Wait()
		for g, err := range errs {
			require.NoError(t, err, "writer %d", g)
		}
		requireReasons(t, history(t, s, k), 1, reasons)
	})
	t.Run("TwoRegistries", func(t *testing.T) {
		s := cfg.open(t)
		k := randKey(newRand(21))
		regs := []*codes.Registry{openRegistry(t, s), openRegistry(t, s)}
		errs := make([]error, writers)
		reasons := make([]string, writers)
		var wg sync.WaitGroup
		for g := range writers {
			reasons[g] = fmt.Sprintf("writer %02d", g)
			wg.Go(func() {
				_, errs[g] = regs[g%2].Transcode(context.Background(), k, codes.Transcode{
					Colour: codes.Colour(g%3) * codes.Yellow, Actor: "op-17", Authorisation: "HZ-2024-0301-001",
					Reason: reasons[g], At: at(g),
				})
			})
		}
		wg.Wait()
		for g, err := range errs {
			require.NoError(t, err, "writer %d", g)
		}
		for _, reg := range regs {
			h, err := reg.History(context.Background(), k) // verifies the chain
			require.NoError(t, err)
			requireReasons(t, h, 0, reasons)
		}
		requireReasons(t, history(t, s, k), 0, reasons)
	})
}

// testTwoHandles: two handles on the same data, as two processes have.
func (cfg Config) testTwoHandles(t *testing.T) {
	t.Run("Visibility", func(t *testing.T) {
		s1 := cfg.open(t)
		s2 := cfg.reopen(t, s1)
		keys := randKeys(newRand(30), 3)
		m := newModel()
		steps := []struct {
			via   codes.Store
			batch []codes.Change
		}{
			{s1, []codes.Change{decision(keys[0], codes.Red, at(0)), transcode(keys[1], codes.Yellow, at(0), "contact")}},
			{s2, []codes.Change{decision(keys[0], codes.Green, at(1)), decision(keys[2], codes.Yellow, at(1))}},
			{s1, []codes.Change{withRequest(transcode(keys[2], codes.Red, at(2), "positive PCR"), "form-1")}},
			{s2, []codes.Change{withRequest(transcode(keys[2], codes.Red, at(2), "positive PCR"), "form-1")}}, // a duplicate through the other handle
		}
		for i, st := range steps {
			require.Equal(t, m.apply(st.batch...), apply(t, st.via, st.batch...), "step %d", i)
			m.check(t, s1, keys)
			m.check(t, s2, keys)
		}
	})
	t.Run("ConcurrentRegistries", func(t *testing.T) {
		// 8 writers, half through each handle's Registry, each transcoding
		// the same 100 persons in its own order.
		const writers, persons = 8, 100
		s1 := cfg.open(t)
		s2 := cfg.reopen(t, s1)
		regs := []*codes.Registry{openRegistry(t, s1), openRegistry(t, s2)}
		r := newRand(31)
		keys := randKeys(r, persons)
		orders := make([][]int, writers)
		for g := range orders {
			orders[g] = r.Perm(persons)
		}
		reason := func(g, p int) string { return fmt.Sprintf("writer %d person %d", g, p) }
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for _, p := range orders[g] {
					_, err := regs[g%2].Transcode(context.Background(), keys[p], codes.Transcode{
						Colour: codes.Colour((g+p)%3) * codes.Yellow, Actor: "op-17", Authorisation: "HZ-2024-0301-001",
						Reason: reason(g, p), At: at(g),
					})
					if err != nil {
						errs[g] = fmt.Errorf("person %d: %w", p, err)
						return
					}
				}
			})
		}
		wg.Wait()
		for g, err := range errs {
			require.NoError(t, err, "writer %d", g)
		}
		want := map[codes.Key]codes.Colour{}
		for p, k := range keys {
			var reasons []string
			for g := range writers {
				reasons = append(reasons, reason(g, p))
			}
			h1 := history(t, s1, k)
			requireReasons(t, h1, 0, reasons)
			require.Equal(t, h1, history(t, s2, k), "person %d: the handles disagree", p)
			want[k] = h1[len(h1)-1].State.Colour
		}
		require.Equal(t, want, scan(t, s1))
		require.Equal(t, want, scan(t, s2))
	})
}

// testCancelledContext: Apply with a cancelled context fails with
// context.Canceled and changes nothing; Get and History either fail so or
// answer in full; Scan over more than 5000 keys fails so before it has
// called fn for every key.
func (cfg Config) testCancelledContext(t *testing.T) {
	s := cfg.open(t)
	r := newRand(40)
	const n = 6000
	keys := randKeys(r, n)
	batch := make([]codes.Change, 0, n+2)
	for i, k := range keys {
		batch = append(batch, decision(k, codes.Colour(1+i%2)*codes.Yellow, at(0)))
	}
	batch = append(batch, transcode(keys[0], codes.Green, at(1), "negative PCR"), decision(keys[0], codes.Red, at(2)))
	apply(t, s, batch...)
	before := takeSnapshot(t, s, keys[:3])

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Apply(ctx, []codes.Change{decision(keys[0], codes.Yellow, at(3)), decision(randKey(r), codes.Red, at(3))})
	require.ErrorIs(t, err, context.Canceled, "Apply")
	require.Equal(t, before, takeSnapshot(t, s, keys[:3]), "Apply with a cancelled context changed something")

	head, ok, err := s.Get(ctx, keys[0])
	if err != nil {
		require.ErrorIs(t, err, context.Canceled, "Get")
	} else {
		require.True(t, ok, "Get")
		require.Equal(t, before.Heads[keys[0]], head, "Get")
	}
	h, err := s.History(ctx, keys[0])
	if err != nil {
		require.ErrorIs(t, err, context.Canceled, "History")
	} else {
		require.Equal(t, before.History[keys[0]], h, "History")
	}

	calls := 0
	err = s.Scan(ctx, func(codes.Key, codes.Colour) error { calls++; return nil })
	require.ErrorIs(t, err, context.Canceled, "Scan")
	require.Less(t, calls, n, "Scan with a cancelled context visited every key")
	require.Len(t, scan(t, s), n, "Scan with a live context")
}
