package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// testAdvanceMatchesOracle applies seeded random batches (rule decisions
// with and without expiry, manual transcodes, repeated RequestIDs, several
// changes to a key in one batch) and compares every Applied, every history
// and Scan with the model after each batch.
func (cfg Config) testAdvanceMatchesOracle(t *testing.T) {
	s := cfg.open(t)
	r := newRand(1)
	keys := randKeys(r, 5)
	m := newModel()
	colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red}
	minute, n := 0, 0
	for batch := range 40 {
		changes := make([]codes.Change, 1+r.IntN(12))
		for i := range changes {
			minute += r.IntN(40) // sometimes 0: two changes at the same time
			k, c := keys[r.IntN(len(keys))], colours[r.IntN(len(colours))]
			var ch codes.Change
			if r.IntN(10) < 6 {
				ch = decision(k, c, at(minute))
				if r.IntN(2) == 0 {
					ch.State.Cause.RuleID = "travel-high" // another rule, same colour: still unchanged
				}
			} else {
				ch = transcode(k, c, at(minute), fmt.Sprintf("transcode %d", n))
			}
			if c != codes.Green && r.IntN(3) == 0 {
				ch.State.Expires = at(minute + 1 + r.IntN(90))
			}
			if r.IntN(5) == 0 {
				ch.RequestID = fmt.Sprintf("req-%d", r.IntN(8)) // repeats, on the same key or not
			}
			changes[i] = ch
			n++
		}
		want := m.apply(changes...)
		require.Equal(t, want, apply(t, s, changes...), "batch %d", batch)
		m.check(t, s, keys)
	}
	total := 0
	for _, h := range m.hist {
		total += len(h)
	}
	require.Greater(t, total, 50, "the random batches should append plenty")
}

// testUnchangedAppendsNothing: a rule decision that leaves the colour in
// force and the expiry as they are appends nothing, including the first
// green decision of a key and a green one after an expiry.
func (cfg Config) testUnchangedAppendsNothing(t *testing.T) {
	s := cfg.open(t)
	k := randKey(newRand(2))
	ctx := context.Background()

	require.Equal(t, codes.Applied{Unchanged: 1}, apply(t, s, decision(k, codes.Green, at(0))))
	_, ok, err := s.Get(ctx, k)
	require.NoError(t, err)
	require.False(t, ok, "a green decision on a new key appends nothing")
	require.Empty(t, history(t, s, k))
	require.Empty(t, scan(t, s), "a key without history is not scanned")

	m := newModel()
	yellow := decision(k, codes.Yellow, at(10))
	again := decision(k, codes.Yellow, at(20))
	again.State.Reason, again.State.Cause.RuleID = "another reason", "travel-high"
	expiring := decision(k, codes.Yellow, at(30))
	expiring.State.Expires = at(90)
	afterExpiry := decision(k, codes.Green, at(120))
	steps := []struct {
		ch   codes.Change
		want codes.Applied
	}{
		{yellow, codes.Applied{Changed: 1}},
		{again, codes.Applied{Unchanged: 1}},                           // same colour, other rule and reason
		{expiring, codes.Applied{Changed: 1}},                          // same colour, new expiry
		{decision(k, codes.Yellow, at(60)), codes.Applied{Changed: 1}}, // drops the expiry
		{expiring, codes.Applied{Changed: 1}},
		{afterExpiry, codes.Applied{Unchanged: 1}}, // expired: already plain green
	}
	for i, st := range steps {
		require.Equal(t, st.want, m.apply(st.ch), "model, step %d", i)
		require.Equal(t, st.want, apply(t, s, st.ch), "step %d", i)
		m.check(t, s, []codes.Key{k})
	}
	require.Len(t, history(t, s, k), 4)
}

// testManualAlwaysAppends: a manual transcode appends even when it repeats
// the state exactly, because the act is on record.
func (cfg Config) testManualAlwaysAppends(t *testing.T) {
	s := cfg.open(t)
	k := randKey(newRand(3))
	m := newModel()
	for i, ch := range []codes.Change{
		transcode(k, codes.Green, at(0), "negative PCR"),
		transcode(k, codes.Green, at(0), "negative PCR"),
		decision(k, codes.Green, at(1)),
		transcode(k, codes.Red, at(2), "positive PCR"),
		transcode(k, codes.Red, at(2), "positive PCR"),
	} {
		require.Equal(t, m.apply(ch), apply(t, s, ch), "change %d", i)
	}
	m.check(t, s, []codes.Key{k})
	h := history(t, s, k)
	require.Len(t, h, 4)
	for _, e := range h {
		require.True(t, e.State.Cause.Manual(), "entry %d", e.Seq)
	}
}

// testBatchOrder: several changes to one key in a batch apply in batch
// order, not by time nor by any other field, however the batch interleaves
// keys.
func (cfg Config) testBatchOrder(t *testing.T) {
	s := cfg.open(t)
	keys := randKeys(newRand(4), 3)
	a, b, c := keys[0], keys[1], keys[2]
	batch := []codes.Change{
		decision(a, codes.Yellow, at(30)),
		transcode(b, codes.Red, at(5), "first"),
		decision(c, codes.Red, at(1)),
		decision(a, codes.Red, at(10)),
		transcode(b, codes.Red, at(4), "second"),
		decision(a, codes.Green, at(20)),
		transcode(b, codes.Red, at(3), "third"),
		decision(a, codes.Yellow, at(0)),
		transcode(c, codes.Green, at(2), "released"),
	}
	m := newModel()
	require.Equal(t, m.apply(batch...), apply(t, s, batch...))
	m.check(t, s, keys)

	var colours []codes.Colour
	for _, e := range history(t, s, a) {
		colours = append(colours, e.State.Colour)
	}
	require.Equal(t, []codes.Colour{codes.Yellow, codes.Red, codes.Green, codes.Yellow}, colours, "key a")
	var reasons []string
	for _, e := range history(t, s, b) {
		reasons = append(reasons, e.State.Reason)
	}
	require.Equal(t, []string{"first", "second", "third"}, reasons, "key b")
}

// testInvalidBatchChangesNothing: a batch whose k-th change is invalid is
// refused whole with a *codes.ChangeError naming k, its key, its field and
// its sentinel, and leaves Get, History and Scan as they were, for the keys
// before k too; the RequestIDs of the refused batch are not held.
func (cfg Config) testInvalidBatchChangesNothing(t *testing.T) {
	noCause := decision(randKey(newRand(50)), codes.Red, at(100))
	noCause.State.Cause = codes.Cause{}
	both := transcode(noCause.Key, codes.Red, at(100), "both")
	both.State.Cause.RuleID, both.State.Cause.RuleVersion = "contact-close", "v1"
	noReason := transcode(noCause.Key, codes.Red, at(100), "")
	noAuth := transcode(noCause.Key, codes.Red, at(100), "positive PCR")
	noAuth.State.Cause.Authorisation = ""
	zeroKey := decision(codes.Key{}, codes.Red, at(100))
	noSince := decision(noCause.Key, codes.Red, time.Time{})
	badExpiry := decision(noCause.Key, codes.Red, at(100))
	badExpiry.State.Expires = at(99)
	longID := withRequest(decision(noCause.Key, codes.Red, at(100)), strings.Repeat("r", 129))
	badUTF8 := withRequest(decision(noCause.Key, codes.Red, at(100)), "req-\xff")
	longReason := transcode(noCause.Key, codes.Red, at(100), strings.Repeat("x", 1025))

	cases := []struct {
		name    string
		bad     codes.Change
		field   string
		wantErr error
	}{
		{"NoCause", noCause, "Cause", codes.ErrMissingCause},
		{"RuleAndActor", both, "Cause", codes.ErrAmbiguous},
		{"ManualWithoutReason", noReason, "State.Reason", codes.ErrMissingReason},
		{"ManualWithoutAuthorisation", noAuth, "Cause.Authorisation", codes.ErrUnauthorised},
		{"ZeroKey", zeroKey, "Key", codes.ErrBadChange},
		{"ZeroSince", noSince, "State.Since", codes.ErrBadChange},
		{"ExpiresBeforeSince", badExpiry, "State.Expires", codes.ErrBadChange},
		{"RequestIDTooLong", longID, "RequestID", codes.ErrBadChange},
		{"RequestIDNotUTF8", badUTF8, "RequestID", codes.ErrBadChange},
		{"ReasonTooLong", longReason, "State.Reason", codes.ErrBadChange},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := cfg.open(t)
			keys := randKeys(newRand(uint64(500+ci)), 4)
			a, b, c, d := keys[0], keys[1], keys[2], keys[3]
			apply(t, s, decision(a, codes.Yellow, at(0)), transcode(b, codes.Red, at(0), "positive PCR"))
			before := takeSnapshot(t, s, keys)

			valid := []codes.Change{
				decision(a, codes.Red, at(10)),                                 // would change a
				withRequest(transcode(c, codes.Red, at(10), "new key"), "r-c"), // would create c
				withRequest(transcode(b, codes.Green, at(10), "released"), "r-b"),
				decision(d, codes.Yellow, at(10)),
				decision(a, codes.Green, at(20)),
			}
			for _, k := range []int{0, 2, len(valid)} {
				batch := append(append(append([]codes.Change{}, valid[:k]...), tc.bad), valid[k:]...)
				batch = append(batch, noCause) // a second invalid change: the first is reported
				_, err := s.Apply(context.Background(), batch)
				var ce *codes.ChangeError
				require.ErrorAs(t, err, &ce, "invalid change at %d", k)
				require.Equal(t, k, ce.Index, "ChangeError.Index")
				require.Equal(t, tc.bad.Key, ce.Key, "ChangeError.Key")
				require.Equal(t, tc.field, ce.Field, "ChangeError.Field")
				require.ErrorIs(t, err, tc.wantErr)
				require.Equal(t, before, takeSnapshot(t, s, keys), "the refused batch changed something (invalid change at %d)", k)
			}
			// Nothing of the refused batches is held: the valid part applies
			// in full, its RequestIDs included.
			m := newModel()
			m.apply(decision(a, codes.Yellow, at(0)), transcode(b, codes.Red, at(0), "positive PCR"))
			want := m.apply(valid...)
			require.Equal(t, codes.Applied{Changed: 5}, want)
			require.Equal(t, want, apply(t, s, valid...))
			m.check(t, s, keys)
		})
	}
}

// testLongHistoriesVerify: histories of 50 entries, written one change per
// Apply, all in one Apply, and interleaved with other keys, verify and
// match the model.
func (cfg Config) testLongHistoriesVerify(t *testing.T) {
	s := cfg.open(t)
	r := newRand(6)
	keys := randKeys(r, 3)
	m := newModel()
	const n = 50
	change := func(k codes.Key, i int) codes.Change {
		if i%3 == 0 {
			return transcode(k, codes.Colour(i%2)*codes.Red, at(i), fmt.Sprintf("transcode %d", i))
		}
		return decision(k, []codes.Colour{codes.Green, codes.Yellow, codes.Red}[i%3], at(i))
	}
	for i := range n { // one Apply a change
		ch := change(keys[0], i)
		require.Equal(t, m.apply(ch), apply(t, s, ch))
	}
	var one []codes.Change // one Apply for all
	for i := range n {
		one = append(one, change(keys[1], i))
	}
	require.Equal(t, m.apply(one...), apply(t, s, one...))
	for i := 0; i < n; i += 10 { // interleaved with two other keys
		var batch []codes.Change
		for j := i; j < i+10; j++ {
			batch = append(batch, change(keys[2], j), decision(randKey(r), codes.Red, at(j)))
		}
		require.Equal(t, m.apply(batch...), apply(t, s, batch...))
	}
	for _, k := range keys {
		require.Len(t, m.hist[k], n, "the model appends every change")
		h := history(t, s, k)
		require.Len(t, h, n, "key %s", short(k))
		require.Equal(t, uint64(n-1), h[n-1].Seq)
	}
	m.check(t, s, keys)
}

// testScan: Scan reports every key with a history exactly once with the
// colour of its last entry, none without, and stops at fn's first error.
func (cfg Config) testScan(t *testing.T) {
	t.Run("EveryKeyOnce", func(t *testing.T) {
		s := cfg.open(t)
		r := newRand(7)
		keys := randKeys(r, 300)
		m := newModel()
		colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red, 150}
		for round := range 3 {
			var batch []codes.Change
			for i, k := range keys {
				switch {
				case i%10 == 0: // green decisions only: never has a history
					batch = append(batch, decision(k, codes.Green, at(round)))
				case r.IntN(3) > 0:
					batch = append(batch, decision(k, colours[r.IntN(len(colours))], at(round)))
				}
			}
			require.Equal(t, m.apply(batch...), apply(t, s, batch...), "round %d", round)
		}
		want := m.colours()
		require.Less(t, len(want), len(keys), "some keys never got a history")
		require.Contains(t, want, keys[1])
		require.Equal(t, want, scan(t, s))
	})
	t.Run("StopsAtFirstError", func(t *testing.T) {
		s := cfg.open(t)
		var batch []codes.Change
		for _, k := range randKeys(newRand(8), 50) {
			batch = append(batch, decision(k, codes.Red, at(0)))
		}
		apply(t, s, batch...)
		errStop := errors.New("stop here")
		calls := 0
		err := s.Scan(context.Background(), func(codes.Key, codes.Colour) error {
			calls++
			if calls == 3 {
				return errStop
			}
			return nil
		})
		require.ErrorIs(t, err, errStop)
		require.Equal(t, 3, calls, "Scan called fn after it returned an error")
	})
}
