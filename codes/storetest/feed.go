package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// prompt bounds how long a WaitFeed may take to notice a write.
const prompt = 5 * time.Second

func asFeed(t *testing.T, s codes.Store) codes.Feed {
	t.Helper()
	f, ok := s.(codes.Feed)
	require.True(t, ok, "%T: one store is a codes.Feed, another is not", s)
	return f
}

func feedPos(t *testing.T, f codes.Feed) uint64 {
	t.Helper()
	pos, err := f.FeedPos(context.Background())
	require.NoError(t, err)
	return pos
}

// readAll reads every record after after in pages of page records,
// requiring positions to follow on from after without a gap.
func readAll(t *testing.T, f codes.Feed, after uint64, page int) []codes.FeedRecord {
	t.Helper()
	var out []codes.FeedRecord
	for {
		recs, err := f.ReadFeed(context.Background(), after, page)
		require.NoError(t, err)
		require.LessOrEqual(t, len(recs), page, "ReadFeed(%d, %d) ignores max", after, page)
		for _, r := range recs {
			require.Equal(t, after+1, r.Pos, "feed positions must follow on without gaps")
			after = r.Pos
		}
		out = append(out, recs...)
		if len(recs) < page {
			return out
		}
	}
}

// changesOf returns a record's changes by key, requiring each key once.
func changesOf(t *testing.T, r codes.FeedRecord) map[codes.Key]codes.Colour {
	t.Helper()
	out := map[codes.Key]codes.Colour{}
	for _, c := range r.Changes {
		_, dup := out[c.Key]
		require.False(t, dup, "record %d names key %s twice", r.Pos, short(c.Key))
		out[c.Key] = c.Colour
	}
	return out
}

// waitFor calls WaitFeed(ctx, after) until a record after after is
// readable (WaitFeed may return early) or WaitFeed fails.
func waitFor(ctx context.Context, f codes.Feed, after uint64) error {
	for {
		if err := f.WaitFeed(ctx, after); err != nil {
			return err
		}
		recs, err := f.ReadFeed(ctx, after, 1)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			return nil
		}
	}
}

// testFeed checks codes.Feed.
func (cfg Config) testFeed(t *testing.T) {
	ctx := context.Background()
	t.Run("EmptyStartsAtZero", func(t *testing.T) {
		f := asFeed(t, cfg.open(t))
		require.Zero(t, feedPos(t, f))
		recs, err := f.ReadFeed(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, recs)
		notes, err := f.Notes(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, notes)
	})
	t.Run("OneRecordPerApply", func(t *testing.T) {
		s := cfg.open(t)
		f := asFeed(t, s)
		keys := randKeys(newRand(70), 4)
		a := apply(t, s,
			decision(keys[0], codes.Yellow, at(0)),
			transcode(keys[1], codes.Red, at(0), "positive PCR"),
			decision(keys[0], codes.Red, at(1)),
			decision(keys[2], codes.Green, at(0)), // unchanged: not in the record
			withRequest(transcode(keys[3], codes.Yellow, at(0), "contact"), "form-1"),
		)
		require.Equal(t, codes.Applied{Changed: 4, Unchanged: 1}, a)
		require.Equal(t, uint64(1), feedPos(t, f))

		// Writes that change nothing are no record.
		require.Equal(t, codes.Applied{Unchanged: 2}, apply(t, s, decision(keys[0], codes.Red, at(2)), decision(keys[2], codes.Green, at(2))))
		require.Equal(t, codes.Applied{Duplicate: 1}, apply(t, s, withRequest(transcode(keys[3], codes.Yellow, at(0), "contact"), "form-1")))
		require.Equal(t, uint64(1), feedPos(t, f), "an Apply that changed nothing added a record")

		apply(t, s, decision(keys[1], codes.Green, at(3)), decision(keys[2], codes.Yellow, at(3)))
		require.Equal(t, uint64(2), feedPos(t, f))

		recs := readAll(t, f, 0, 10)
		require.Len(t, recs, 2)
		require.Equal(t, map[codes.Key]codes.Colour{keys[0]: codes.Red, keys[1]: codes.Red, keys[3]: codes.Yellow}, changesOf(t, recs[0]),
			"each changed key once, with its colour after the write")
		require.Equal(t, map[codes.Key]codes.Colour{keys[1]: codes.Green, keys[2]: codes.Yellow}, changesOf(t, recs[1]))
		for _, r := range recs {
			require.False(t, r.IsNote(), "record %d", r.Pos)
			require.Empty(t, r.Links, "record %d", r.Pos)
		}
	})
	t.Run("LinkRecords", func(t *testing.T) {
		s := cfg.open(t)
		f := asFeed(t, s)
		ls, ok := s.(codes.LinkStore)
		if !ok {
			t.Skipf("%T is not a codes.LinkStore", s)
		}
		keys := randKeys(newRand(71), 3)
		phone, a, b := keys[0], keys[1], keys[2]
		require.NoError(t, ls.Link(ctx, link(phone, a, codes.RoleOwner, 0)))
		require.ErrorIs(t, ls.Link(ctx, link(phone, b, codes.RoleOwner, 0)), codes.ErrPhoneOwned)
		require.Equal(t, uint64(1), feedPos(t, f), "a refused link is no record")
		require.NoError(t, ls.Unlink(ctx, phone, a))
		recs := readAll(t, f, 0, 10)
		require.Len(t, recs, 2)
		for _, r := range recs {
			require.Contains(t, r.Links, a, "record %d names the person whose link changed", r.Pos)
			require.Empty(t, r.Changes, "record %d", r.Pos)
			require.False(t, r.IsNote(), "record %d", r.Pos)
		}
	})
	t.Run("Notes", func(t *testing.T) {
		s := cfg.open(t)
		f := asFeed(t, s)
		k := randKey(newRand(72))
		p1, err := f.Publish(ctx, "ruleset", []byte(`{"version":"v7"}`))
		require.NoError(t, err)
		apply(t, s, decision(k, codes.Red, at(0)))
		big := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1<<12)
		p3, err := f.Publish(ctx, "risk-areas", big)
		require.NoError(t, err)
		require.Equal(t, uint64(1), p1)
		require.Equal(t, uint64(3), p3, "notes and code records share the positions")
		require.Equal(t, p3, feedPos(t, f))

		notes, err := f.Notes(ctx, 0, p3)
		require.NoError(t, err)
		require.Len(t, notes, 2)
		require.Equal(t, []uint64{p1, p3}, []uint64{notes[0].Pos, notes[1].Pos})
		require.Equal(t, "ruleset", notes[0].Topic)
		require.Equal(t, []byte(`{"version":"v7"}`), notes[0].Body)
		require.Equal(t, "risk-areas", notes[1].Topic)
		require.Equal(t, big, notes[1].Body)
		for _, r := range []struct {
			after, upto uint64
			want        []uint64
		}{{0, p1, []uint64{p1}}, {p1, p3, []uint64{p3}}, {p1, 2, nil}, {p3, p3, nil}, {0, 100, []uint64{p1, p3}}} {
			got, err := f.Notes(ctx, r.after, r.upto)
			require.NoError(t, err)
			var pos []uint64
			for _, n := range got {
				require.True(t, n.IsNote())
				pos = append(pos, n.Pos)
			}
			require.Equal(t, r.want, pos, "Notes(%d, %d)", r.after, r.upto)
		}
		recs := readAll(t, f, 0, 10)
		require.Len(t, recs, 3)
		require.True(t, recs[0].IsNote())
		require.False(t, recs[1].IsNote())
		require.Equal(t, big, recs[2].Body)

		for name, topic := range map[string]string{"EmptyTopic": "", "LongTopic": strings.Repeat("t", codes.MaxNoteTopic+1)} {
			_, err := f.Publish(ctx, topic, []byte("x"))
			require.ErrorIs(t, err, codes.ErrBadNote, name)
		}
		require.Equal(t, p3, feedPos(t, f), "a refused note is no record")
	})
	t.Run("ReadFeedHonoursMax", func(t *testing.T) {
		s := cfg.open(t)
		f := asFeed(t, s)
		keys := randKeys(newRand(73), 10)
		for i, k := range keys {
			apply(t, s, decision(k, codes.Red, at(i)))
		}
		recs, err := f.ReadFeed(ctx, 0, 3)
		require.NoError(t, err)
		require.Len(t, recs, 3)
		require.Equal(t, uint64(1), recs[0].Pos)
		recs, err = f.ReadFeed(ctx, 3, 100)
		require.NoError(t, err)
		require.Len(t, recs, 7)
		for i, r := range recs {
			require.Equal(t, uint64(4+i), r.Pos)
			require.Equal(t, map[codes.Key]codes.Colour{keys[3+i]: codes.Red}, changesOf(t, r), "records in commit order")
		}
		recs, err = f.ReadFeed(ctx, 10, 5)
		require.NoError(t, err)
		require.Empty(t, recs)
		require.Len(t, readAll(t, f, 0, 1), 10)
	})
	t.Run("WaitFeed", func(t *testing.T) {
		s := cfg.open(t)
		cfg.testWaitFeed(t, s, s)
	})
	t.Run("WaitFeedOtherHandle", func(t *testing.T) {
		if cfg.Reopen == nil {
			t.Skip("Config.Reopen is nil")
		}
		s1 := cfg.open(t)
		cfg.testWaitFeed(t, s1, cfg.reopen(t, s1))
	})
	t.Run("ConcurrentApplies", cfg.testFeedConcurrent)
}

// testWaitFeed: WaitFeed on waiter wakes promptly for a write through
// writer, and returns ctx.Err() when nothing is written.
func (cfg Config) testWaitFeed(t *testing.T, waiter, writer codes.Store) {
	fw := asFeed(t, waiter)
	k := randKey(newRand(74))
	apply(t, writer, decision(k, codes.Yellow, at(0)))
	pos := feedPos(t, asFeed(t, writer))
	require.Eventually(t, func() bool { return feedPos(t, fw) == pos }, prompt, 10*time.Millisecond,
		"a record of one handle reaches the other")

	// Nothing written: WaitFeed ends with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	start := time.Now()
	err := waitFor(ctx, fw, pos)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), prompt, "WaitFeed outlived its context")
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, waitFor(ctx, fw, pos), context.Canceled)

	// A write wakes it.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	woke := make(chan error, 1)
	go func() { woke <- waitFor(ctx, fw, pos) }()
	time.Sleep(50 * time.Millisecond) // let it block: waking an idle waiter is the point
	apply(t, writer, decision(k, codes.Red, at(1)))
	select {
	case err := <-woke:
		require.NoError(t, err)
	case <-time.After(prompt):
		t.Fatalf("WaitFeed did not notice a write within %v", prompt)
	}
}

// testFeedConcurrent: 8 goroutines applying at once leave gapless
// positions, one record per Apply, that together name every change, each
// key's last record with its final colour.
func (cfg Config) testFeedConcurrent(t *testing.T) {
	const writers, applies = 8, 10
	s := cfg.open(t)
	f := asFeed(t, s)
	r := newRand(75)
	shared := randKey(r)
	own := make([][]codes.Key, writers)
	for g := range own {
		own[g] = randKeys(r, 3)
	}
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range applies {
				batch := []codes.Change{transcode(shared, codes.Red, at(i), fmt.Sprintf("writer %d apply %d", g, i))}
				for _, k := range own[g] {
					batch = append(batch, decision(k, codes.Colour(1+i%2)*codes.Yellow, at(i)))
				}
				a, err := s.Apply(context.Background(), batch)
				if err == nil && a.Changed != len(batch) {
					err = fmt.Errorf("apply %d: %+v, want %d changes", i, a, len(batch))
				}
				if err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	recs := readAll(t, f, 0, 7)
	require.Len(t, recs, writers*applies, "one record per Apply")
	require.Equal(t, uint64(writers*applies), feedPos(t, f))
	last := map[codes.Key]codes.Colour{}
	for _, rec := range recs {
		ch := changesOf(t, rec)
		require.Len(t, ch, 4, "record %d", rec.Pos)
		for k, c := range ch {
			last[k] = c
		}
	}
	want := scan(t, s)
	require.Len(t, want, 1+3*writers)
	require.Equal(t, want, last, "the last record of each key has its final colour")
	require.Len(t, history(t, s, shared), writers*applies)
	for _, ks := range own {
		for _, k := range ks {
			require.Len(t, history(t, s, k), applies)
		}
	}
}
