package codes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memFeed is a MemStore with an in-memory feed: the fake beside the real
// one (codes/pgstore runs the same follower against PostgreSQL). It can
// fail reads and prune records on demand.
type memFeed struct {
	*MemStore
	mu       sync.Mutex
	recs     []FeedRecord // recs[i].Pos == pruned+i+1
	pruned   uint64
	wake     chan struct{}
	failRead int // ReadFeed fails this many more times
}

var _ Feed = (*memFeed)(nil)

func newMemFeed() *memFeed { return &memFeed{MemStore: NewMemStore(), wake: make(chan struct{})} }

func (m *memFeed) appendLocked(r FeedRecord) uint64 {
	r.Pos = m.pruned + uint64(len(m.recs)) + 1
	r.At = time.Now()
	m.recs = append(m.recs, r)
	close(m.wake)
	m.wake = make(chan struct{})
	return r.Pos
}

func (m *memFeed) Apply(ctx context.Context, changes []Change) (Applied, error) {
	m.mu.Lock() // one writer at a time: commit order is record order
	defer m.mu.Unlock()
	a, err := m.MemStore.Apply(ctx, changes)
	if err != nil || a.Changed == 0 {
		return a, err
	}
	seen := map[Key]bool{}
	var fc []FeedChange
	for i := len(changes) - 1; i >= 0; i-- {
		k := changes[i].Key
		if seen[k] {
			continue
		}
		seen[k] = true
		e, _, _ := m.MemStore.Get(ctx, k)
		fc = append(fc, FeedChange{Key: k, Colour: e.State.Colour})
	}
	m.appendLocked(FeedRecord{Changes: fc})
	return a, nil
}

func (m *memFeed) FeedPos(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pruned + uint64(len(m.recs)), nil
}

func (m *memFeed) ReadFeed(_ context.Context, after uint64, max int) ([]FeedRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRead > 0 {
		m.failRead--
		return nil, errors.New("memfeed: connection refused")
	}
	if after < m.pruned {
		return nil, ErrFeedGap
	}
	rest := m.recs[after-m.pruned:]
	return append([]FeedRecord(nil), rest[:min(len(rest), max)]...), nil
}

func (m *memFeed) WaitFeed(ctx context.Context, after uint64) error {
	m.mu.Lock()
	if m.pruned+uint64(len(m.recs)) > after {
		m.mu.Unlock()
		return nil
	}
	ch := m.wake
	m.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *memFeed) Publish(_ context.Context, topic string, body []byte) (uint64, error) {
	if err := ValidateNote(topic, body); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appendLocked(FeedRecord{Topic: topic, Body: body}), nil
}

func (m *memFeed) Notes(_ context.Context, after, upto uint64) ([]FeedRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FeedRecord
	for _, r := range m.recs {
		if r.IsNote() && r.Pos > after && r.Pos <= upto {
			out = append(out, r)
		}
	}
	return out, nil
}

// prune drops every record so far, as a retention limit would.
func (m *memFeed) prune() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruned += uint64(len(m.recs))
	m.recs = nil
}

// follow runs r.Follow until the test ends.
func follow(t *testing.T, r *Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Follow(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func colourOf(t *testing.T, r *Registry, k Key) Colour {
	t.Helper()
	st, err := r.Lookup(context.Background(), k)
	require.NoError(t, err)
	return st.Colour
}

func TestFollowSeesOtherRegistrysWrites(t *testing.T) {
	ctx := context.Background()
	store := newMemFeed()
	a := openTest(t, store, Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	b := openTest(t, store, Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	k := randKey(7)

	// Without Follow, b's filter never learns of a's write: the staleness
	// Follow exists to end.
	_, err := a.Apply(ctx, []Change{{Key: k, State: ruleState(Red, t0)}})
	require.NoError(t, err)
	require.Equal(t, Red, colourOf(t, a, k), "the writer reads its own write at once")
	require.Equal(t, Green, colourOf(t, b, k), "b answers from a filter built before the write")

	follow(t, b)
	eventually(t, "b sees red", func() bool { return colourOf(t, b, k) == Red })
	// b now has red cached; a transcode on a must invalidate it.
	for range 3 {
		require.Equal(t, Red, colourOf(t, b, k))
	}
	_, err = a.Transcode(ctx, k, Transcode{Colour: Green, Actor: "op-1", Authorisation: "A-1", Reason: "negative", At: t0.Add(time.Hour)})
	require.NoError(t, err)
	eventually(t, "b sees the transcode", func() bool { return colourOf(t, b, k) == Green })
	require.Equal(t, Green, colourOf(t, a, k))
	fs := b.FeedStats()
	require.Equal(t, uint64(2), fs.Pos)
	require.Equal(t, uint64(2), fs.Records)
	require.Equal(t, uint64(2), fs.Changes)
}

func TestFollowDeliversRecordsInOrderAndWaitFeed(t *testing.T) {
	ctx := context.Background()
	store := newMemFeed()
	var mu sync.Mutex
	var got []string
	b := openTest(t, store, Config{CacheEntries: 1000, OnFeed: func(r FeedRecord) {
		mu.Lock()
		defer mu.Unlock()
		if r.IsNote() {
			got = append(got, r.Topic+"="+string(r.Body))
		} else {
			got = append(got, fmt.Sprintf("changes:%d", len(r.Changes)))
		}
	}})
	follow(t, b)
	_, err := store.Publish(ctx, "rules/activate", []byte("v1"))
	require.NoError(t, err)
	_, err = store.Apply(ctx, []Change{{Key: randKey(1), State: ruleState(Red, t0)}, {Key: randKey(2), State: ruleState(Yellow, t0)}})
	require.NoError(t, err)
	pos, err := store.Publish(ctx, "rules/activate", []byte("v2"))
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, b.WaitFeed(wctx, pos))
	require.GreaterOrEqual(t, b.FeedPos(), pos)
	mu.Lock()
	require.Equal(t, []string{"rules/activate=v1", "changes:2", "rules/activate=v2"}, got,
		"OnFeed has run for every record up to pos when WaitFeed returns")
	mu.Unlock()

	// WaitFeed for a position nobody wrote ends with its context.
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	require.ErrorIs(t, b.WaitFeed(short, pos+1), context.DeadlineExceeded)
}

func TestFollowRetriesFailedReads(t *testing.T) {
	ctx := context.Background()
	store := newMemFeed()
	b := openTest(t, store, Config{CacheEntries: 1000})
	store.mu.Lock()
	store.failRead = 3
	store.mu.Unlock()
	follow(t, b)
	k := randKey(3)
	_, err := store.Apply(ctx, []Change{{Key: k, State: ruleState(Red, t0)}})
	require.NoError(t, err)
	eventually(t, "b sees red after the failed reads", func() bool { return colourOf(t, b, k) == Red })
	require.Equal(t, uint64(3), b.FeedStats().Errors)
}

func TestFollowReloadsAfterGap(t *testing.T) {
	ctx := context.Background()
	store := newMemFeed()
	b := openTest(t, store, Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	red, green := randKey(4), randKey(5)
	_, err := store.Apply(ctx, []Change{{Key: green, State: ruleState(Red, t0)}})
	require.NoError(t, err)
	// b is behind; cache a state it will have to drop.
	require.Equal(t, Green, colourOf(t, b, green), "not yet followed")
	_, err = store.Apply(ctx, []Change{{Key: red, State: ruleState(Red, t0)}, {Key: green, State: ruleState(Green, t0.Add(time.Hour))}})
	require.NoError(t, err)
	store.prune() // b never sees these records
	follow(t, b)
	eventually(t, "b reloads", func() bool { return b.FeedStats().Resyncs == 1 })
	require.Equal(t, Red, colourOf(t, b, red))
	require.Equal(t, Green, colourOf(t, b, green))
	pos, _ := store.FeedPos(ctx)
	require.Equal(t, pos, b.FeedPos())
}

func TestFollowRefusals(t *testing.T) {
	ctx := context.Background()
	plain := openTest(t, NewMemStore(), Config{CacheEntries: 1000})
	require.ErrorIs(t, plain.Follow(ctx), ErrNoFeed)
	require.ErrorIs(t, plain.WaitFeed(ctx, 1), ErrNoFeed)
	b := openTest(t, newMemFeed(), Config{CacheEntries: 1000})
	follow(t, b)
	eventually(t, "first Follow running", func() bool { return b.follow.running.Load() })
	require.ErrorIs(t, b.Follow(ctx), ErrFollowing)
	require.Error(t, Config{FeedPoll: -1}.Validate())
	require.ErrorIs(t, ValidateNote("", nil), ErrBadNote)
	require.ErrorIs(t, ValidateNote("t", make([]byte, MaxNoteBody+1)), ErrBadNote)
}

// TestFollowNoFalseNegativesDuringRebuild: writes made elsewhere while the
// follower's registry rebuilds its filter are never lost from it.
func TestFollowNoFalseNegativesDuringRebuild(t *testing.T) {
	ctx := context.Background()
	store := newMemFeed()
	a := openTest(t, store, Config{ExpectedNonGreen: 1000})
	b := openTest(t, store, Config{ExpectedNonGreen: 1000})
	follow(t, b)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if err := b.Rebuild(ctx, 0); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	const n = 400
	for i := range n {
		_, err := a.Apply(ctx, []Change{{Key: randKey(1000 + i), State: ruleState(Red, t0)}})
		require.NoError(t, err)
	}
	<-done
	pos, _ := store.FeedPos(ctx)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, b.WaitFeed(wctx, pos))
	for i := range n {
		require.Equal(t, Red, colourOf(t, b, randKey(1000+i)), "key %d", i)
	}
}

// Two registries over one shared store, as two processes over one
// database would hold them (memFeed stands in for codes/pgstore): b
// follows the feed and serves a's transcode; a note published on the feed
// reaches b's OnFeed in order.
func ExampleRegistry_Follow() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shared := newMemFeed()
	a, _ := Open(ctx, shared, Config{CacheEntries: 1000})
	defer a.Close()
	b, _ := Open(ctx, shared, Config{CacheEntries: 1000, OnFeed: func(r FeedRecord) {
		if r.IsNote() {
			fmt.Printf("b applies %s %s\n", r.Topic, r.Body)
		}
	}})
	defer b.Close()
	go b.Follow(ctx)

	key := randKey(42)
	_, _ = a.Transcode(ctx, key, Transcode{Colour: Red, Actor: "op-17", Authorisation: "HZ-2022-0613-001",
		Reason: "close contact", At: t0, RequestID: "HZ-2022-0613-001"})
	pos, _ := shared.Publish(ctx, "rules/activate", []byte("v8"))
	_ = b.WaitFeed(ctx, pos) // b has applied everything up to the note
	st, _ := b.Lookup(ctx, key)
	fmt.Println("b serves", st.Colour, "by", st.Cause.Actor)

	// The same transcode sent again after a lost answer appends nothing.
	_, _ = a.Transcode(ctx, key, Transcode{Colour: Red, Actor: "op-17", Authorisation: "HZ-2022-0613-001",
		Reason: "close contact", At: t0, RequestID: "HZ-2022-0613-001"})
	h, _ := b.History(ctx, key)
	fmt.Println("entries:", len(h))
	// Output:
	// b applies rules/activate v8
	// b serves red by op-17
	// entries: 1
}
