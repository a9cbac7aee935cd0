package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// testRequestID checks idempotency by Change.RequestID.
func (cfg Config) testRequestID(t *testing.T) {
	t.Run("RetriedBatch", func(t *testing.T) {
		// A batch retried after a lost acknowledgement appends nothing: its
		// changes with a RequestID are duplicates, its rule decisions
		// without one are unchanged.
		s := cfg.open(t)
		keys := randKeys(newRand(10), 6)
		batch := []codes.Change{
			withRequest(transcode(keys[0], codes.Red, at(0), "positive PCR"), "form-1"),
			withRequest(transcode(keys[1], codes.Yellow, at(0), "contact"), "form-2"),
			withRequest(transcode(keys[1], codes.Red, at(1), "positive PCR"), "form-3"),
			decision(keys[2], codes.Yellow, at(0)),
			withRequest(decision(keys[3], codes.Red, at(0)), "decision-4"),
			withRequest(transcode(keys[4], codes.Red, at(0), "positive PCR"), "form-5"),
			decision(keys[4], codes.Yellow, at(1)),
			decision(keys[5], codes.Green, at(0)), // unchanged both times
			withRequest(decision(keys[5], codes.Green, at(0)), "decision-6"),
		}
		withID := 0
		for _, ch := range batch {
			if ch.RequestID != "" {
				withID++
			}
		}
		m := newModel()
		first := m.apply(batch...)
		require.Equal(t, first, apply(t, s, batch...))
		require.Equal(t, codes.Applied{Changed: 7, Unchanged: 2}, first)
		before := takeSnapshot(t, s, keys)

		require.Equal(t, codes.Applied{Unchanged: len(batch) - withID, Duplicate: withID}, apply(t, s, batch...),
			"the retried batch")
		require.Equal(t, before, takeSnapshot(t, s, keys), "the retried batch changed something")
		// Each of its changes retried alone is a duplicate too.
		for i, ch := range batch {
			if ch.RequestID != "" {
				require.Equal(t, codes.Applied{Duplicate: 1}, apply(t, s, ch), "change %d retried alone", i)
			}
		}
		require.Equal(t, before, takeSnapshot(t, s, keys))
	})
	t.Run("WithoutRequestIDAppendsTwice", func(t *testing.T) {
		// Documented: a manual transcode without a RequestID is not
		// repeat-safe, each Apply is a new act.
		s := cfg.open(t)
		k := randKey(newRand(11))
		ch := transcode(k, codes.Red, at(0), "positive PCR")
		require.Equal(t, codes.Applied{Changed: 1}, apply(t, s, ch))
		require.Equal(t, codes.Applied{Changed: 1}, apply(t, s, ch))
		require.Len(t, history(t, s, k), 2)
	})
	t.Run("OtherKeyIsNotDuplicate", func(t *testing.T) {
		// A RequestID is idempotent per key: the same ID on another key,
		// in another batch or the same one, is a new request.
		s := cfg.open(t)
		keys := randKeys(newRand(12), 3)
		require.Equal(t, codes.Applied{Changed: 1},
			apply(t, s, withRequest(transcode(keys[0], codes.Red, at(0), "a"), "form-1")))
		require.Equal(t, codes.Applied{Changed: 1},
			apply(t, s, withRequest(transcode(keys[1], codes.Red, at(0), "b"), "form-1")))
		require.Equal(t, codes.Applied{Changed: 1, Duplicate: 1}, apply(t, s,
			withRequest(transcode(keys[2], codes.Red, at(0), "c"), "form-1"),
			withRequest(transcode(keys[0], codes.Red, at(0), "a"), "form-1"),
		))
		for _, k := range keys {
			require.Len(t, history(t, s, k), 1, "key %s", short(k))
		}
		// And another ID on the same key is new.
		require.Equal(t, codes.Applied{Changed: 1},
			apply(t, s, withRequest(transcode(keys[0], codes.Red, at(0), "a"), "form-2")))
		require.Len(t, history(t, s, keys[0]), 2)
	})
	t.Run("RepeatedInBatch", func(t *testing.T) {
		// A RequestID repeated for one key within one batch appends once:
		// the first change stands.
		s := cfg.open(t)
		keys := randKeys(newRand(13), 2)
		k := keys[0]
		a := apply(t, s,
			withRequest(transcode(k, codes.Red, at(0), "first"), "form-1"),
			decision(keys[1], codes.Red, at(0)),
			withRequest(transcode(k, codes.Yellow, at(1), "second"), "form-1"),
			withRequest(transcode(k, codes.Green, at(2), "third"), "form-2"),
			withRequest(transcode(k, codes.Red, at(3), "fourth"), "form-1"),
		)
		require.Equal(t, codes.Applied{Changed: 3, Duplicate: 2}, a)
		var reasons []string
		for _, e := range history(t, s, k) {
			reasons = append(reasons, e.State.Reason)
		}
		require.Equal(t, []string{"first", "third"}, reasons)
	})
	t.Run("TooLong", func(t *testing.T) {
		// RequestID is bounded at 128 bytes, at the boundary of the store.
		s := cfg.open(t)
		k := randKey(newRand(14))
		ok := withRequest(transcode(k, codes.Red, at(0), "positive PCR"), strings.Repeat("é", 64)) // 128 bytes
		require.Equal(t, codes.Applied{Changed: 1}, apply(t, s, ok))
		require.Equal(t, codes.Applied{Duplicate: 1}, apply(t, s, ok))

		long := withRequest(transcode(k, codes.Green, at(1), "negative PCR"), strings.Repeat("r", 129))
		_, err := s.Apply(context.Background(), []codes.Change{long})
		var ce *codes.ChangeError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "RequestID", ce.Field)
		require.Equal(t, 0, ce.Index)
		require.ErrorIs(t, err, codes.ErrBadChange)
		require.Len(t, history(t, s, k), 1)
	})
}
