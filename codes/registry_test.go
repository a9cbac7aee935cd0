package codes

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/stretchr/testify/require"
)

func randKey(i int) Key {
	s := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24), 'k'})
	var k Key
	copy(k[:], s[:])
	return k
}

func openTest(t *testing.T, s Store, cfg Config) *Registry {
	t.Helper()
	r, err := Open(context.Background(), s, cfg)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

func TestFilterNoFalseNegativesAndRate(t *testing.T) {
	const n = 20000
	f := newFilter(n, 0.01)
	ref := bloom.New(uint(f.bits()), f.k)
	for i := 0; i < n; i++ {
		k := randKey(i)
		f.add(&k)
		ref.Add(k[:])
	}
	for i := 0; i < n; i++ {
		k := randKey(i)
		require.True(t, f.has(&k), "false negative for key %d", i)
	}
	fp, refFP := 0, 0
	const probes = 100000
	for i := n; i < n+probes; i++ {
		k := randKey(i)
		if f.has(&k) {
			fp++
		}
		if ref.Test(k[:]) {
			refFP++
		}
	}
	rate := float64(fp) / probes
	require.Less(t, rate, 0.01, "false-positive rate over target")
	// Blocking costs some precision against the unblocked filter of the same
	// size; it must stay within a small factor.
	require.Less(t, rate, 4*float64(refFP)/probes+0.001)
}

func TestRegistryLookup(t *testing.T) {
	ctx := context.Background()
	store := NewMemStore()
	r := openTest(t, store, Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	k := randKey(1)
	st, err := r.Lookup(ctx, k)
	require.NoError(t, err)
	require.Equal(t, State{}, st)

	steps := []Colour{Red, Red, Yellow, Green, Red}
	for i, c := range steps {
		_, err := r.Apply(ctx, []Change{{Key: k, State: ruleState(c, t0.Add(time.Duration(i)*time.Hour))}})
		require.NoError(t, err)
		for range 3 { // first from the store, then from the cache
			st, err := r.Lookup(ctx, k)
			require.NoError(t, err)
			require.Equal(t, c, st.Colour, "step %d", i)
		}
	}
	h, err := r.History(ctx, k)
	require.NoError(t, err)
	require.Len(t, h, 4) // the second red changed nothing
}

// TestRegistryOracle runs random applies and lookups against a plain map.
func TestRegistryOracle(t *testing.T) {
	ctx := context.Background()
	rng := newTestRand(7)
	r := openTest(t, NewMemStore(), Config{ExpectedNonGreen: 64, CacheEntries: 16})
	oracle := map[Key]Colour{}
	colours := []Colour{Green, Yellow, Red}
	for i := 0; i < 4000; i++ {
		k := randKey(rng.IntN(200))
		if rng.IntN(3) == 0 {
			c := colours[rng.IntN(3)]
			_, err := r.Apply(ctx, []Change{{Key: k, State: ruleState(c, t0.Add(time.Duration(i)*time.Second))}})
			require.NoError(t, err)
			oracle[k] = c
			continue
		}
		st, err := r.Lookup(ctx, k)
		require.NoError(t, err)
		require.Equal(t, oracle[k], st.Colour, "op %d", i)
		c, err := r.Colour(ctx, k, t0.Add(time.Duration(i)*time.Second))
		require.NoError(t, err)
		require.Equal(t, oracle[k], c, "op %d", i)
		if i%1000 == 999 {
			require.NoError(t, r.Rebuild(ctx, 0))
		}
	}
}

func TestOpenFillsFilterFromStore(t *testing.T) {
	ctx := context.Background()
	store := NewMemStore()
	var changes []Change
	for i := 0; i < 500; i++ {
		changes = append(changes, Change{Key: randKey(i), State: ruleState([]Colour{Red, Yellow}[i%2], t0)})
	}
	_, err := store.Apply(ctx, changes)
	require.NoError(t, err)
	r := openTest(t, store, Config{ExpectedNonGreen: 500, CacheEntries: 1000})
	for _, ch := range changes {
		st, err := r.Lookup(ctx, ch.Key)
		require.NoError(t, err)
		require.Equal(t, ch.State.Colour, st.Colour)
	}
}

// TestNoFalseNegativesConcurrent: writers turn keys non-green (never back),
// publishing each key once Apply has returned; readers check that every
// published key reads non-green, while a rebuild loop swaps filters. Run
// with -race.
func TestNoFalseNegativesConcurrent(t *testing.T) {
	ctx := context.Background()
	r := openTest(t, NewMemStore(), Config{ExpectedNonGreen: 2000, CacheEntries: 256})
	const writers, perWriter = 4, 400
	var published [writers * perWriter]atomic.Bool
	var done atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < perWriter; i++ {
				idx := w*perWriter + i
				c := Red
				if i%2 == 0 {
					c = Yellow
				}
				if _, err := r.Apply(ctx, []Change{{Key: randKey(idx), State: ruleState(c, t0)}}); err != nil {
					t.Error(err)
					return
				}
				published[idx].Store(true)
			}
		})
	}
	var readers sync.WaitGroup
	var checked atomic.Int64
	for g := 0; g < 3; g++ {
		readers.Go(func() {
			rng := newTestRand(uint64(g))
			for local := 0; !done.Load() || local < 500; {
				idx := rng.IntN(len(published))
				if !published[idx].Load() {
					continue
				}
				st, err := r.Lookup(ctx, randKey(idx))
				if err != nil {
					t.Error(err)
					return
				}
				if st.Colour == Green {
					t.Errorf("false negative: key %d acknowledged non-green reads green", idx)
					return
				}
				checked.Add(1)
				local++
			}
		})
	}
	readers.Go(func() {
		for !done.Load() {
			if err := r.Rebuild(ctx, 0); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	done.Store(true)
	readers.Wait()
	for idx := range published {
		st, err := r.Lookup(ctx, randKey(idx))
		require.NoError(t, err)
		require.NotEqual(t, Green, st.Colour)
	}
	require.Positive(t, checked.Load())
}

func TestTranscode(t *testing.T) {
	ctx := context.Background()
	store := NewMemStore()
	r := openTest(t, store, Config{ExpectedNonGreen: 100, CacheEntries: 100})
	k := randKey(3)
	_, err := r.Apply(ctx, []Change{{Key: k, State: ruleState(Red, t0)}})
	require.NoError(t, err)

	refused := []struct {
		t   Transcode
		err error
	}{
		{Transcode{Colour: Green, Authorisation: "HZ-1", Reason: "negative test", At: t0.Add(time.Hour)}, ErrUnauthorised},
		{Transcode{Colour: Green, Actor: "op-1", Reason: "negative test", At: t0.Add(time.Hour)}, ErrUnauthorised},
		{Transcode{Colour: Green, Actor: "op-1", Authorisation: "HZ-1", At: t0.Add(time.Hour)}, ErrMissingReason},
	}
	for _, tt := range refused {
		_, err := r.Transcode(ctx, k, tt.t)
		require.ErrorIs(t, err, tt.err)
		h, err := r.History(ctx, k)
		require.NoError(t, err)
		require.Len(t, h, 1, "refused transcode changed the history")
		st, err := r.Lookup(ctx, k)
		require.NoError(t, err)
		require.Equal(t, Red, st.Colour)
	}
	e, err := r.Transcode(ctx, k, Transcode{Colour: Green, Actor: "op-1", Authorisation: "HZ-1", Reason: "negative test", At: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, uint64(1), e.Seq)
	require.Equal(t, "op-1", e.State.Cause.Actor)
	st, err := r.Lookup(ctx, k)
	require.NoError(t, err)
	require.Equal(t, Green, st.Colour)
}

func TestDisplayPhoneAndDocument(t *testing.T) {
	ctx := context.Background()
	store := NewMemStore()
	r := openTest(t, store, Config{Links: store, ExpectedNonGreen: 100, CacheEntries: 100})
	keyer, err := NewKeyer(HMACSHA256, testSecret)
	require.NoError(t, err)
	id, _ := ParseResidentID("11010519491231002X")
	parentID, _ := ParseResidentID("440524188001010014")
	ph, _ := ParsePhone("13800138000")
	doc, phone, parent := keyer.Document(id), keyer.Phone(ph), keyer.Document(parentID)

	// Registered first by phone only: keyed by the phone.
	_, err = r.Apply(ctx, []Change{{Key: phone, State: ruleState(Yellow, t0)}})
	require.NoError(t, err)
	// Later the document is added and linked; both histories stay.
	require.NoError(t, store.Link(ctx, Link{Phone: phone, Person: doc, Role: RoleOwner, Since: t0.Add(time.Hour)}))
	require.NoError(t, store.Link(ctx, Link{Phone: phone, Person: parent, Role: RoleProxy, Since: t0.Add(time.Hour)}))
	_, err = r.Apply(ctx, []Change{{Key: doc, State: ruleState(Green, t0.Add(2*time.Hour))}})
	require.NoError(t, err)

	tests := []struct {
		name    string
		person  Key
		at      time.Time
		colour  Colour
		sources []Source
	}{
		{"owner sees the phone's yellow", doc, t0.Add(3 * time.Hour), Yellow, []Source{FromDocument, FromPhone}},
		{"proxy-registered parent is not affected", parent, t0.Add(3 * time.Hour), Green, []Source{FromDocument}},
	}
	for _, tt := range tests {
		d, err := r.Display(ctx, tt.person, FromDocument, tt.at)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.colour, d.Colour, tt.name)
		var src []Source
		for _, p := range d.Sources {
			src = append(src, p.Source)
		}
		require.Equal(t, tt.sources, src, tt.name)
	}
	d, err := r.Display(ctx, doc, FromDocument, t0.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, phone, d.Sources[1].Key)
	require.Equal(t, "travel-high", d.Sources[1].State.Cause.RuleID)

	_, err = r.Apply(ctx, []Change{{Key: doc, State: ruleState(Red, t0.Add(4*time.Hour))}})
	require.NoError(t, err)
	d, err = r.Display(ctx, doc, FromDocument, t0.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, Red, d.Colour)
	// A person keyed by phone alone shows the phone's state, labelled so.
	d, err = r.Display(ctx, phone, FromPhone, t0.Add(5*time.Hour))
	require.NoError(t, err)
	require.Equal(t, Yellow, d.Colour)
	require.Equal(t, []Provenance{{Source: FromPhone, Key: phone, State: d.Sources[0].State}}, d.Sources)
	ph1, err := r.History(ctx, phone)
	require.NoError(t, err)
	require.Len(t, ph1, 1)
}

// failGet is a store whose Get fails for one key.
type failGet struct {
	*MemStore
	key Key
}

var errGet = errors.New("disk on fire")

func (f failGet) Get(ctx context.Context, k Key) (Entry, bool, error) {
	if k == f.key {
		return Entry{}, false, errGet
	}
	return f.MemStore.Get(ctx, k)
}

func TestDisplayToReusesSources(t *testing.T) {
	ctx := context.Background()
	mem := NewMemStore()
	keyer, err := NewKeyer(HMACSHA256, testSecret)
	require.NoError(t, err)
	id, _ := ParseResidentID("11010519491231002X")
	ph, _ := ParsePhone("13800138000")
	doc, phone := keyer.Document(id), keyer.Phone(ph)
	require.NoError(t, mem.Link(ctx, Link{Phone: phone, Person: doc, Role: RoleOwner, Since: t0}))
	r := openTest(t, mem, Config{Links: mem, ExpectedNonGreen: 100, CacheEntries: 100})
	_, err = r.Apply(ctx, []Change{{Key: phone, State: ruleState(Red, t0)}, {Key: doc, State: ruleState(Yellow, t0)}})
	require.NoError(t, err)

	want, err := r.Display(ctx, doc, FromDocument, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, Red, want.Colour)
	require.Len(t, want.Sources, 2)

	d := Display{Colour: Yellow, Sources: make([]Provenance, 3, 4)}
	array := &d.Sources[:1][0]
	require.NoError(t, r.DisplayTo(ctx, &d, doc, FromDocument, t0.Add(time.Hour)))
	require.Equal(t, want, d)
	require.Same(t, array, &d.Sources[0], "the sources' array is reused")

	// A failure leaves no sources behind, and none of the last answer's.
	bad := openTest(t, failGet{mem, phone}, Config{Links: mem, ExpectedNonGreen: 100, CacheEntries: 100})
	err = bad.DisplayTo(ctx, &d, doc, FromDocument, t0.Add(time.Hour))
	require.ErrorIs(t, err, errGet)
	require.Empty(t, d.Sources)
	require.Equal(t, Green, d.Colour)
	require.Equal(t, Provenance{}, d.Sources[:1][0], "stale provenance cleared")

	// So does a failure on the person's own key, after a good answer.
	require.NoError(t, r.DisplayTo(ctx, &d, doc, FromDocument, t0.Add(time.Hour)))
	badDoc := openTest(t, failGet{mem, doc}, Config{Links: mem, ExpectedNonGreen: 100, CacheEntries: 100})
	require.ErrorIs(t, badDoc.DisplayTo(ctx, &d, doc, FromDocument, t0.Add(time.Hour)), errGet)
	require.Empty(t, d.Sources)
	require.Equal(t, []Provenance{{}, {}}, d.Sources[:2], "stale provenance cleared")
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	require.NoError(t, Config{}.Validate())
	require.ErrorContains(t, Config{FalsePositive: 0.7}.Validate(), "FalsePositive")
	require.ErrorContains(t, Config{CacheEntries: -1}.Validate(), "CacheEntries")
}

func TestRebuildClearsGreenKeys(t *testing.T) {
	ctx := context.Background()
	r := openTest(t, NewMemStore(), Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	var changes []Change
	for i := 0; i < 300; i++ {
		changes = append(changes, Change{Key: randKey(i), State: ruleState(Red, t0)})
	}
	_, err := r.Apply(ctx, changes)
	require.NoError(t, err)
	require.Equal(t, uint64(300), r.FilterStats().Added)
	for i := range changes {
		changes[i].State = ruleState(Green, t0.Add(time.Hour))
	}
	_, err = r.Apply(ctx, changes[:200])
	require.NoError(t, err)
	require.NoError(t, r.Rebuild(ctx, 5000))
	fs := r.FilterStats()
	require.Equal(t, uint64(100), fs.Added, "only the still-red keys are in the new filter")
	require.Equal(t, uint(5000), fs.Target)
	require.Greater(t, fs.Bits, uint64(5000))
	inFilter := 0
	for i := range changes {
		st, err := r.Lookup(ctx, changes[i].Key)
		require.NoError(t, err)
		require.Equal(t, i >= 200, st.Colour == Red)
		if r.filter.Load().has(&changes[i].Key) {
			inFilter++
		}
	}
	require.Less(t, inFilter, 110)
}

// TestHistoryDuringWrites: reading a history while it grows never reports a
// broken chain.
func TestHistoryDuringWrites(t *testing.T) {
	ctx := context.Background()
	r := openTest(t, NewMemStore(), Config{ExpectedNonGreen: 100, CacheEntries: 100})
	k := randKey(42)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < 400; i++ {
			c := []Colour{Red, Yellow}[i%2]
			if _, err := r.Apply(ctx, []Change{{Key: k, State: ruleState(c, t0.Add(time.Duration(i)*time.Minute))}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := 0; i < 400; i++ {
		if _, err := r.History(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	h, err := r.History(ctx, k)
	require.NoError(t, err)
	require.Len(t, h, 400)
}

func TestLookupStatsCountHowLookupsWereAnswered(t *testing.T) {
	ctx := context.Background()
	reg, err := Open(ctx, NewMemStore(), Config{ExpectedNonGreen: 1000, CacheEntries: 1000})
	require.NoError(t, err)
	defer reg.Close()
	k, err := NewKeyer(HMACSHA256, []byte("0123456789abcdef0123"))
	require.NoError(t, err)
	id, err := ParseResidentID("11010519491231002X")
	require.NoError(t, err)
	red := k.Document(id)
	_, err = reg.Apply(ctx, []Change{{Key: red, State: State{Colour: Red, Reason: "r", Since: time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC),
		Cause: Cause{RuleID: "r1", RuleVersion: "v1"}}}})
	require.NoError(t, err)

	var green Key
	green[0] = 1 // never applied, so never in the filter... unless a false positive
	for reg.filter.Load().has(&green) {
		green[1]++
	}
	for range 3 {
		_, err := reg.Lookup(ctx, green)
		require.NoError(t, err)
	}
	st, err := reg.Lookup(ctx, red) // first read of red goes to the store
	require.NoError(t, err)
	require.Equal(t, Red, st.Colour)
	_, err = reg.Colour(ctx, red, time.Date(2022, 4, 2, 8, 0, 0, 0, time.UTC)) // then the cache answers
	require.NoError(t, err)
	_, err = reg.Lookup(ctx, red)
	require.NoError(t, err)
	require.Equal(t, LookupStats{FilterGreen: 3, CacheHits: 2, StoreReads: 1}, reg.LookupStats())
	require.Equal(t, uint64(6), reg.LookupStats().Total())
}
