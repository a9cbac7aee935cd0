package chain

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// TestSortedOrder checks the radix sort against a stable comparison sort,
// the oracle, on batches with repeated keys and keys sharing their top
// bits.
func TestSortedOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 4095, 4096, 50_000} {
		changes := make([]codes.Change, n)
		for i := range changes {
			var k codes.Key
			for j := range k {
				k[j] = byte(r.Uint32())
			}
			switch r.IntN(4) {
			case 0:
				if i > 0 {
					k = changes[r.IntN(i)].Key // a repeat
				}
			case 1:
				k[2] = 0 // the same top 16 bits as others, differing later
				k[15] = byte(r.IntN(3))
			}
			changes[i].Key = k
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return bytes.Compare(changes[a].Key[:], changes[b].Key[:]) })
		require.Equal(t, want, SortedOrder(changes), "n=%d", n)
	}
}

// TestWalkerMatchesMemStore: walking batches from the heads MemStore
// holds yields the entries MemStore appends, the same counts, and a feed
// record naming each changed key once with its last colour.
func TestWalkerMatchesMemStore(t *testing.T) {
	ctx := t.Context()
	r := rand.New(rand.NewPCG(3, 4))
	mem := codes.NewMemStore()
	keys := make([]codes.Key, 20)
	for i := range keys {
		keys[i][0], keys[i][15] = byte(r.Uint32()), byte(i+1)
	}
	base := time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)
	colours := []codes.Colour{codes.Green, codes.Yellow, codes.Red}
	dups := map[ReqKey]struct{}{} // every RequestID applied so far
	for round := range 30 {
		var batch []codes.Change
		for i := range 1 + r.IntN(40) {
			ch := codes.Change{Key: keys[r.IntN(len(keys))], State: codes.State{Colour: colours[r.IntN(3)],
				Since: base.Add(time.Duration(round*100+i) * time.Minute),
				Cause: codes.Cause{RuleID: "r", RuleVersion: "v1"}}}
			if r.IntN(4) == 0 {
				ch.State.Cause = codes.Cause{Actor: "op", Authorisation: "A"}
				ch.State.Reason = "manual"
				ch.RequestID = "req-" + string(rune('a'+r.IntN(5)))
			}
			batch = append(batch, ch)
		}
		b := NewBatch(batch)
		w := &Walker{B: b, Prefix: "test", Dups: dups}
		for _, k := range b.Keys {
			if e, ok, _ := mem.Get(ctx, k); ok {
				h := Head{Key: k, Seq: e.Seq, Colour: e.State.Colour, Hash: e.Hash}
				if !e.State.Expires.IsZero() {
					h.Expires = e.State.Expires.UnixNano()
				}
				w.Heads = append(w.Heads, h)
			}
		}
		rows := map[codes.Key][]codes.Entry{}
		last := map[codes.Key]codes.Colour{}
		w.OnHead = func(key *codes.Key, e *codes.Entry, _ bool) { last[*key] = e.State.Colour }
		for w.Next() {
			e, err := codes.DecodeEntry(w.RowEntry)
			require.NoError(t, err)
			require.Equal(t, *w.RowKey, e.Key)
			rows[e.Key] = append(rows[e.Key], e)
		}
		require.NoError(t, w.Err)
		before := map[codes.Key]int{}
		for _, k := range b.Keys {
			h, _ := mem.History(ctx, k)
			before[k] = len(h)
		}
		a, err := mem.Apply(ctx, batch)
		require.NoError(t, err)
		require.Equal(t, a, w.Applied, "round %d", round)
		for _, k := range b.Keys {
			h, _ := mem.History(ctx, k)
			require.Equal(t, len(h)-before[k], len(rows[k]), "round %d", round)
			for i, e := range rows[k] {
				require.Equal(t, h[before[k]+i], e, "round %d", round)
			}
		}
		rec, err := UnpackRecord("test", 1, base, false, "", nil, w.Feed, nil)
		require.NoError(t, err)
		require.Len(t, rec.Changes, len(last))
		for _, c := range rec.Changes {
			require.Equal(t, last[c.Key], c.Colour)
			e, _, _ := mem.Get(ctx, c.Key)
			require.Equal(t, e.State.Colour, c.Colour)
		}
		for _, rk := range b.RIDs {
			dups[rk] = struct{}{}
		}
	}
}
