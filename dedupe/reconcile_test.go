package dedupe

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/stretchr/testify/require"
)

// TestReconcileKnownChanges issues a copy of a source with records left
// out, issued twice and invented, and checks that Reconcile finds exactly
// those.
func TestReconcileKnownChanges(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		g := synth.New(seed)
		raw, _ := g.Registry(synth.RegistryConfig{Records: 3000, NoiseRate: 0.3})
		src := fromSynth(raw)
		r := rand.New(rand.NewPCG(seed, 1))
		var issued []Record
		var missing, extra []int64
		next := int64(100000)
		for _, s := range src {
			x := r.IntN(100)
			if x < 3 {
				missing = append(missing, s.ID)
				continue
			}
			c := s
			c.ID, next = next, next+1
			issued = append(issued, c)
			if x < 5 {
				// Issued twice, with formatting noise on the later copy,
				// which is the one counted as extra.
				c.ID, next = next, next+1
				c.Name = " " + c.Name
				issued = append(issued, c)
				extra = append(extra, c.ID)
			}
		}
		otherRaw, _ := synth.New(seed + 1000).Registry(synth.RegistryConfig{Records: 50})
		for _, o := range fromSynth(otherRaw) {
			o.ID, next = next, next+1
			issued = append(issued, o)
			extra = append(extra, o.ID)
		}
		r.Shuffle(len(issued), func(i, j int) { issued[i], issued[j] = issued[j], issued[i] })
		rep, err := Reconcile(context.Background(), SliceReader(src), SliceReader(issued), ReconcileConfig{})
		require.NoError(t, err)
		slices.Sort(extra)
		require.Equal(t, missing, rep.Missing)
		require.Equal(t, extra, rep.Extra)
		require.Equal(t, int64(len(src)-len(missing)), rep.Matched)
		require.Empty(t, rep.DuplicatedSource)
		require.Len(t, rep.DuplicatedIssued, len(extra)-50)
		require.False(t, rep.OK())
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read() (Record, error) {
	if f.n == 0 {
		return Record{}, errors.New("disk on fire")
	}
	f.n--
	return Record{ID: int64(f.n)}, nil
}

func TestReconcileErrors(t *testing.T) {
	_, err := Reconcile(context.Background(), &failingReader{n: 3}, SliceReader(nil), ReconcileConfig{})
	require.ErrorContains(t, err, "disk on fire")
	_, err = Reconcile(context.Background(), SliceReader(nil), SliceReader(nil), ReconcileConfig{Key: []Field{FieldName, FieldName}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Reconcile(ctx, SliceReader([]Record{{ID: 1}}), SliceReader(nil), ReconcileConfig{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestResolveCancelAndDuplicateIDs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recs := []Record{{ID: 1, DocNumber: "E12345678"}, {ID: 1, DocNumber: "E12345678"}}
	_, err := Resolve(ctx, recs, Policy{})
	require.ErrorIs(t, err, context.Canceled)
	_, err = Resolve(context.Background(), recs, Policy{})
	require.ErrorIs(t, err, ErrDuplicateID)
	r, err := NewResolver(Policy{}, Config{})
	require.NoError(t, err)
	_, err = r.Stream(context.Background(), &failingReader{n: 2}, &Result{})
	require.ErrorContains(t, err, "disk on fire")
}

// cancellingReader cancels its context after n records and then keeps
// yielding records, so only the resolver's own checks can stop the run.
type cancellingReader struct {
	n      int
	cancel context.CancelFunc
	i      int64
}

func (c *cancellingReader) Read() (Record, error) {
	c.i++
	if c.i == int64(c.n) {
		c.cancel()
	}
	if c.i > 1_000_000 {
		return Record{}, io.EOF
	}
	return Record{ID: c.i, DocNumber: "E12345678"}, nil
}

func TestStreamCancel(t *testing.T) {
	for _, workers := range []int{1, 2} {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := NewResolver(Policy{}, Config{Workers: workers, Spill: MemSpill()})
		require.NoError(t, err)
		src := &cancellingReader{n: 10, cancel: cancel}
		_, err = r.Stream(ctx, src, &Result{})
		require.ErrorIs(t, err, context.Canceled, "workers=%d", workers)
		// Reading src.i here races with the read-ahead goroutine if that
		// were still running: go test -race checks that Stream waited.
		require.Less(t, src.i, int64(1_000_000), "stopped early")
	}
}

// oracleReconcile is the plain version: map from normalised key to the
// ids on each side.
func oracleReconcile(src, iss []Record) *Reconciliation {
	rep := &Reconciliation{Key: ReconcileConfig{}.withDefaults().Key, Source: int64(len(src)), Issued: int64(len(iss))}
	type sides struct{ s, i []int64 }
	m := map[string]*sides{}
	var keys []string
	add := func(r Record, issued bool) {
		n := Normalize(r)
		k := n.DocType + "|" + n.DocNumber + "|" + n.Name + "|" + n.Phone
		if k == "|||" {
			if issued {
				rep.Extra = append(rep.Extra, r.ID)
			} else {
				rep.Missing = append(rep.Missing, r.ID)
			}
			return
		}
		if m[k] == nil {
			m[k] = &sides{}
			keys = append(keys, k)
		}
		if issued {
			m[k].i = append(m[k].i, r.ID)
		} else {
			m[k].s = append(m[k].s, r.ID)
		}
	}
	for _, r := range src {
		add(r, false)
	}
	for _, r := range iss {
		add(r, true)
	}
	for _, k := range keys {
		sd := m[k]
		slices.Sort(sd.s)
		slices.Sort(sd.i)
		n := min(len(sd.s), len(sd.i))
		rep.Matched += int64(n)
		rep.Missing = append(rep.Missing, sd.s[n:]...)
		rep.Extra = append(rep.Extra, sd.i[n:]...)
		if len(sd.s) > 1 {
			rep.DuplicatedSource = append(rep.DuplicatedSource, sd.s)
		}
		if len(sd.i) > 1 {
			rep.DuplicatedIssued = append(rep.DuplicatedIssued, sd.i)
		}
	}
	slices.Sort(rep.Missing)
	slices.Sort(rep.Extra)
	first := func(a, b []int64) int { return int(a[0] - b[0]) }
	slices.SortFunc(rep.DuplicatedSource, first)
	slices.SortFunc(rep.DuplicatedIssued, first)
	return rep
}

func TestReconcileAgreesWithOracle(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		src := randomRecords(r, r.IntN(80))
		iss := randomRecords(r, r.IntN(80))
		for i := range iss {
			iss[i].ID += 1000
		}
		want := oracleReconcile(src, iss)
		got, err := Reconcile(context.Background(), SliceReader(src), SliceReader(iss), ReconcileConfig{})
		require.NoError(t, err, "seed %d", seed)
		require.Equal(t, want, got, "seed %d", seed)
	}
}
