package codes

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)

func testKey(i int) Key {
	var k Key
	k[0], k[1], k[2], k[15] = byte(i), byte(i>>8), byte(i>>16), byte(i*7+1)
	k[8], k[9] = byte(i*31), byte(i>>4)
	return k
}

func ruleState(c Colour, at time.Time) State {
	return State{Colour: c, Reason: "travel through a high-risk area", Cause: Cause{RuleID: "travel-high", RuleVersion: "2022.06.1"}, Since: at}
}

func TestChangeValidate(t *testing.T) {
	k := testKey(1)
	manual := State{Colour: Green, Reason: "verified negative", Cause: Cause{Actor: "op-17", Authorisation: "HZ-2022-0613-001"}, Since: t0}
	tests := []struct {
		name  string
		mod   func(*Change)
		err   error
		field string
	}{
		{"rule ok", func(*Change) {}, nil, ""},
		{"manual ok", func(c *Change) { c.State = manual }, nil, ""},
		{"zero key", func(c *Change) { c.Key = Key{} }, ErrBadChange, "Key"},
		{"no time", func(c *Change) { c.State.Since = time.Time{} }, ErrBadChange, "State.Since"},
		{"expiry before since", func(c *Change) { c.State.Expires = t0.Add(-time.Hour) }, ErrBadChange, "State.Expires"},
		{"no cause", func(c *Change) { c.State.Cause = Cause{} }, ErrMissingCause, "Cause"},
		{"rule without version", func(c *Change) { c.State.Cause.RuleVersion = "" }, ErrMissingCause, "Cause.RuleVersion"},
		{"both", func(c *Change) { c.State.Cause.Actor = "op" }, ErrAmbiguous, "Cause"},
		{"manual without authorisation", func(c *Change) { c.State = manual; c.State.Cause.Authorisation = "" }, ErrUnauthorised, "Cause.Authorisation"},
		{"manual without actor", func(c *Change) { c.State = manual; c.State.Cause.Actor = "" }, ErrUnauthorised, "Cause.Actor"},
		{"manual without reason", func(c *Change) { c.State = manual; c.State.Reason = "" }, ErrMissingReason, "State.Reason"},
		{"bad utf8", func(c *Change) { c.State.Reason = "\xff" }, ErrBadChange, "State.Reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Change{Key: k, State: ruleState(Red, t0)}
			tt.mod(&c)
			err := c.Validate(3)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var ce *ChangeError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, 3, ce.Index)
			require.Equal(t, tt.field, ce.Field)
		})
	}
}

func TestAdvance(t *testing.T) {
	k := testKey(2)
	red := Change{Key: k, State: ruleState(Red, t0)}
	redExp := red
	redExp.State.Expires = t0.Add(7 * 24 * time.Hour)
	head, changed := Advance(Entry{}, false, red)
	require.True(t, changed)
	require.Equal(t, uint64(0), head.Seq)
	require.Equal(t, [32]byte{}, head.Prev)

	tests := []struct {
		name    string
		head    Entry
		exists  bool
		ch      Change
		changed bool
	}{
		{"green on empty is no change", Entry{}, false, Change{Key: k, State: ruleState(Green, t0)}, false},
		{"red on empty", Entry{}, false, red, true},
		{"red again", head, true, Change{Key: k, State: ruleState(Red, t0.Add(time.Hour))}, false},
		{"red with expiry is a change", head, true, redExp, true},
		{"yellow", head, true, Change{Key: k, State: ruleState(Yellow, t0.Add(time.Hour))}, true},
		{"manual red again is recorded", head, true, Change{Key: k, State: State{Colour: Red, Reason: "confirmed", Cause: Cause{Actor: "a", Authorisation: "b"}, Since: t0.Add(time.Hour)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, changed := Advance(tt.head, tt.exists, tt.ch)
			require.Equal(t, tt.changed, changed)
			if changed && tt.exists {
				require.Equal(t, tt.head.Seq+1, next.Seq)
				require.Equal(t, tt.head.Hash, next.Prev)
			}
		})
	}

	// An expired red reads as green: a green decision after expiry changes nothing.
	expired, _ := Advance(Entry{}, false, redExp)
	_, changed = Advance(expired, true, Change{Key: k, State: ruleState(Green, t0.Add(8*24*time.Hour))})
	require.False(t, changed)
	_, changed = Advance(expired, true, Change{Key: k, State: ruleState(Green, t0.Add(24*time.Hour))})
	require.True(t, changed)
}

func buildHistory(t *testing.T, k Key, n int) []Entry {
	t.Helper()
	var h []Entry
	var head Entry
	for i := 0; i < n; i++ {
		c := []Colour{Red, Yellow, Green}[i%3]
		next, changed := Advance(head, i > 0, Change{Key: k, State: ruleState(c, t0.Add(time.Duration(i)*time.Hour))})
		require.True(t, changed)
		h = append(h, next)
		head = next
	}
	return h
}

func TestEntryEncoding(t *testing.T) {
	h := buildHistory(t, testKey(3), 4)
	h[1].State.Expires = t0.Add(time.Hour).In(time.FixedZone("CST", 8*3600))
	for _, e := range h {
		b := AppendEntry(nil, &e)
		got, err := DecodeEntry(b)
		require.NoError(t, err)
		require.Equal(t, e.Hash, got.Hash)
		require.True(t, e.State.Since.Equal(got.State.Since))
		require.True(t, e.State.Expires.Equal(got.State.Expires))
		require.Equal(t, e.State.Cause, got.State.Cause)
		require.Equal(t, e.State.Reason, got.State.Reason)
		for cut := 0; cut < len(b); cut += 7 {
			_, err := DecodeEntry(b[:cut])
			require.ErrorIs(t, err, ErrCorrupt)
		}
	}
}

func TestVerifyHistoryDetectsTampering(t *testing.T) {
	k := testKey(4)
	good := buildHistory(t, k, 6)
	require.NoError(t, VerifyHistory(k, good, &good[5]))
	require.NoError(t, VerifyHistory(k, good, &good[3]), "entries appended after the head was read")
	tests := []struct {
		name  string
		mod   func([]Entry) ([]Entry, *Entry)
		index int
	}{
		{"colour changed", func(h []Entry) ([]Entry, *Entry) { h[2].State.Colour = Red; return h, &h[5] }, 2},
		{"reason changed", func(h []Entry) ([]Entry, *Entry) { h[4].State.Reason = "nothing"; return h, &h[5] }, 4},
		{"actor forged", func(h []Entry) ([]Entry, *Entry) { h[0].State.Cause.Actor = "x"; return h, &h[5] }, 0},
		{"entry removed", func(h []Entry) ([]Entry, *Entry) { return append(h[:1:1], h[2:]...), &h[5] }, 1},
		{"entries swapped", func(h []Entry) ([]Entry, *Entry) { h[1], h[2] = h[2], h[1]; return h, &h[5] }, 1},
		{"rehashed but unchained", func(h []Entry) ([]Entry, *Entry) {
			h[3].State.Colour = Yellow
			h[3], _ = Advance(h[2], true, Change{Key: k, State: h[3].State}) // valid hash, but h[4].Prev no longer matches
			return h, &h[5]
		}, 4},
		{"tail truncated", func(h []Entry) ([]Entry, *Entry) { head := h[5]; return h[:4], &head }, 4},
		{"other key", func(h []Entry) ([]Entry, *Entry) { h[0].Key = testKey(5); return h, nil }, 0},
		{"head from another chain", func(h []Entry) ([]Entry, *Entry) { forged := h[3]; forged.Hash[0] ^= 1; return h, &forged }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := append([]Entry(nil), good...)
			h, head := tt.mod(h)
			err := VerifyHistory(k, h, head)
			require.ErrorIs(t, err, ErrTampered)
			var ce *ChainError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.index, ce.Index)
		})
	}
}

// storeContract runs the behaviour every Store must have.
func storeContract(t *testing.T, s Store) {
	ctx := context.Background()
	k1, k2 := testKey(10), testKey(11)
	a, err := s.Apply(ctx, []Change{
		{Key: k1, State: ruleState(Red, t0)},
		{Key: k2, State: ruleState(Green, t0)},
		{Key: k1, State: ruleState(Red, t0.Add(time.Minute))},
		{Key: k1, State: ruleState(Yellow, t0.Add(time.Hour))},
	})
	require.NoError(t, err)
	require.Equal(t, Applied{Changed: 2, Unchanged: 2}, a)

	e, ok, err := s.Get(ctx, k1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, Yellow, e.State.Colour)
	require.Equal(t, uint64(1), e.Seq)
	_, ok, err = s.Get(ctx, k2)
	require.NoError(t, err)
	require.False(t, ok, "green on an empty key must not create a record")

	h, err := s.History(ctx, k1)
	require.NoError(t, err)
	require.Len(t, h, 2)
	require.NoError(t, VerifyHistory(k1, h, &e))

	// A batch with one bad change is refused whole.
	_, err = s.Apply(ctx, []Change{
		{Key: k1, State: ruleState(Red, t0.Add(2*time.Hour))},
		{Key: k2, State: State{Colour: Red, Reason: "x", Cause: Cause{Actor: "op"}, Since: t0}},
	})
	require.ErrorIs(t, err, ErrUnauthorised)
	after, _, err := s.Get(ctx, k1)
	require.NoError(t, err)
	require.Equal(t, e.Hash, after.Hash, "refused batch changed the store")

	seen := map[Key]Colour{}
	require.NoError(t, s.Scan(ctx, func(k Key, c Colour) error { seen[k] = c; return nil }))
	require.Equal(t, map[Key]Colour{k1: Yellow}, seen)
}

func linkContract(t *testing.T, s LinkStore) {
	ctx := context.Background()
	phone, child, parent, stranger := testKey(20), testKey(21), testKey(22), testKey(23)
	require.NoError(t, s.Link(ctx, Link{Phone: phone, Person: child, Role: RoleOwner, Since: t0}))
	require.NoError(t, s.Link(ctx, Link{Phone: phone, Person: parent, Role: RoleProxy, Since: t0}))
	require.ErrorIs(t, s.Link(ctx, Link{Phone: phone, Person: stranger, Role: RoleOwner, Since: t0}), ErrPhoneOwned)
	require.ErrorIs(t, s.Link(ctx, Link{Phone: phone, Person: stranger, Role: 9}), ErrBadLink)
	ps, err := s.PersonsOf(ctx, phone)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	roles := map[Key]Role{}
	for _, l := range ps {
		roles[l.Person] = l.Role
	}
	require.Equal(t, map[Key]Role{child: RoleOwner, parent: RoleProxy}, roles)
	ls, err := s.PhonesOf(ctx, parent)
	require.NoError(t, err)
	require.Equal(t, []Link{{Phone: phone, Person: parent, Role: RoleProxy, Since: t0}}, normLinks(ls))
	require.NoError(t, s.Unlink(ctx, phone, child))
	require.NoError(t, s.Link(ctx, Link{Phone: phone, Person: stranger, Role: RoleOwner, Since: t0}))
	ls, err = s.PhonesOf(ctx, child)
	require.NoError(t, err)
	require.Empty(t, ls)
}

func normLinks(ls []Link) []Link {
	for i := range ls {
		ls[i].Since = ls[i].Since.UTC()
	}
	return ls
}

func TestMemStore(t *testing.T) {
	storeContract(t, NewMemStore())
	linkContract(t, NewMemStore())
}
