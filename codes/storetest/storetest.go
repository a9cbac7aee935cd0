// Package storetest is the conformance suite every codes.Store passes:
// codes.MemStore, codes/boltstore, codes/pgstore and codes/mysqlstore run
// it from their tests, and so can a store of your own.
//
// # Usage
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{
//			Open: func(t *testing.T) codes.Store { return openEmptyStore(t) },
//		})
//	}
//
// Each subtest opens a fresh, empty store. A store that is also a
// codes.LinkStore, a codes.Feed or a codes.AuditTrail gets those parts of
// the suite too; one that can be opened twice over the same data
// (Config.Reopen) gets the tests of two processes sharing it; one whose
// test can change its stored bytes (Config.Tamper) gets the test that the
// audit trail finds the change.
//
// # What it checks
//
// Histories are compared entry for entry with an oracle that builds them
// with codes.Advance alone, on seeded random batches. Batches apply in
// order and an invalid one changes nothing. Every chain verifies
// (codes.VerifyHistory against the head Get reports). Scan sees every key
// once with its last colour and stops at fn's first error. A change whose
// Key and RequestID the store already holds appends nothing. Concurrent
// writers to one key, through one store, two Registries or two handles,
// never fork a history or lose an acknowledged change. A cancelled context
// stops Apply and a long Scan. Links and feeds behave as codes.MemStore and
// the codes.Feed contract say.
//
// The audit trail: AppendAudit numbers records 1, 2, ... and chains each
// to the one before exactly as codes.ChainAudit does; ReadAudit pages in
// Seq order and returns nothing past the end; a batch with one record that
// fails codes.ValidateAudit, or a cancelled context, appends nothing;
// every field, Chinese text and empty ones, reads back as written; a long
// trail passes codes.VerifyAudit; 16 concurrent appenders (through two
// handles with Config.Reopen) form one gapless chain that verifies; and a
// byte changed in stored record 7 (Config.Tamper) makes codes.VerifyAudit
// fail with an *codes.AuditChainError naming record 7.
//
// The data is generated from fixed seeds, so a failure repeats. The suite
// is a test-support package, like net/http/httptest: it imports testing,
// and only _test files may import it.
package storetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/stretchr/testify/require"
)

// Config says how to open the stores under test.
type Config struct {
	// Open returns a new, empty store; the suite closes nothing, so Open
	// registers its own cleanup with t.Cleanup.
	Open func(t *testing.T) codes.Store
	// Reopen, if set, returns a second, independent handle (its own
	// connections, its own caches) on the data of s, as a second process
	// would open it. Stores that one process owns (a bbolt file) leave it
	// nil.
	Reopen func(t *testing.T, s codes.Store) codes.Store
	// Tamper, if set, changes one byte of the stored audit record seq
	// (seq counts from 1), as someone with write access to the storage
	// would: a byte of the file, a row's bytes, in place. The suite then
	// requires codes.VerifyAudit to name record seq. Nil skips the test.
	Tamper func(t *testing.T, s codes.Store, seq uint64)
}

// Run runs the suite.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Open == nil {
		t.Fatal("storetest: Config.Open is nil")
	}
	probe := cfg.open(t)
	_, isLinks := probe.(codes.LinkStore)
	_, isFeed := probe.(codes.Feed)
	_, isAudit := probe.(codes.AuditTrail)

	t.Run("AdvanceMatchesOracle", cfg.testAdvanceMatchesOracle)
	t.Run("UnchangedAppendsNothing", cfg.testUnchangedAppendsNothing)
	t.Run("ManualAlwaysAppends", cfg.testManualAlwaysAppends)
	t.Run("BatchOrder", cfg.testBatchOrder)
	t.Run("InvalidBatchChangesNothing", cfg.testInvalidBatchChangesNothing)
	t.Run("LongHistoriesVerify", cfg.testLongHistoriesVerify)
	t.Run("Scan", cfg.testScan)
	t.Run("RequestID", cfg.testRequestID)
	t.Run("Concurrent", cfg.testConcurrent)
	t.Run("TwoHandles", func(t *testing.T) {
		if cfg.Reopen == nil {
			t.Skip("Config.Reopen is nil: the store has one handle per process")
		}
		cfg.testTwoHandles(t)
	})
	t.Run("CancelledContext", cfg.testCancelledContext)
	t.Run("Links", func(t *testing.T) {
		if !isLinks {
			t.Skipf("%T is not a codes.LinkStore", probe)
		}
		cfg.testLinks(t)
	})
	t.Run("Feed", func(t *testing.T) {
		if !isFeed {
			t.Skipf("%T is not a codes.Feed", probe)
		}
		cfg.testFeed(t)
	})
	t.Run("Audit", func(t *testing.T) {
		if !isAudit {
			t.Skipf("%T is not a codes.AuditTrail", probe)
		}
		cfg.testAudit(t)
	})
}

// open returns a fresh store.
func (cfg Config) open(t *testing.T) codes.Store {
	t.Helper()
	s := cfg.Open(t)
	require.NotNil(t, s, "storetest: Config.Open returned nil")
	return s
}

// reopen returns a second handle on the data of s.
func (cfg Config) reopen(t *testing.T, s codes.Store) codes.Store {
	t.Helper()
	s2 := cfg.Reopen(t, s)
	require.NotNil(t, s2, "storetest: Config.Reopen returned nil")
	return s2
}

// base is the time of the first change; later ones add minutes to it.
var base = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// decision is a rule decision setting k to c at since.
func decision(k codes.Key, c codes.Colour, since time.Time) codes.Change {
	return codes.Change{Key: k, State: codes.State{
		Colour: c, Reason: "close contact",
		Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "v1"}, Since: since,
	}}
}

// transcode is a manual transcode of k to c at since.
func transcode(k codes.Key, c codes.Colour, since time.Time, reason string) codes.Change {
	return codes.Change{Key: k, State: codes.State{
		Colour: c, Reason: reason,
		Cause: codes.Cause{Actor: "op-17", Authorisation: "HZ-2024-0301-001"}, Since: since,
	}}
}

// withRequest returns ch with RequestID id.
func withRequest(ch codes.Change, id string) codes.Change {
	ch.RequestID = id
	return ch
}

// newRand returns the deterministic source of a subtest.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6865616c7468)) }

// randKey returns a random non-zero key.
func randKey(r *rand.Rand) codes.Key {
	var k codes.Key
	for k.IsZero() {
		binary.LittleEndian.PutUint64(k[:8], r.Uint64())
		binary.LittleEndian.PutUint64(k[8:], r.Uint64())
	}
	return k
}

// randKeys returns n distinct random keys.
func randKeys(r *rand.Rand, n int) []codes.Key {
	seen := make(map[codes.Key]bool, n)
	out := make([]codes.Key, 0, n)
	for len(out) < n {
		if k := randKey(r); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func short(k codes.Key) string { return k.String()[:12] }

// apply applies changes and requires success.
func apply(t *testing.T, s codes.Store, changes ...codes.Change) codes.Applied {
	t.Helper()
	a, err := s.Apply(context.Background(), changes)
	require.NoError(t, err)
	return a
}

// history returns the history of k after checking that it verifies
// against the head Get reports, that Get and History agree, and that no two
// entries share a Seq.
func history(t *testing.T, s codes.Store, k codes.Key) []codes.Entry {
	t.Helper()
	ctx := context.Background()
	head, ok, err := s.Get(ctx, k)
	require.NoError(t, err)
	h, err := s.History(ctx, k)
	require.NoError(t, err)
	if !ok {
		require.Empty(t, h, "key %s: Get reports no entry, History has some", short(k))
		return h
	}
	require.NoError(t, codes.VerifyHistory(k, h, &head), "key %s", short(k))
	require.Equal(t, head, h[len(h)-1], "key %s: Get is not the last entry of History", short(k))
	seqs := make(map[uint64]bool, len(h))
	for _, e := range h {
		require.False(t, seqs[e.Seq], "key %s: two entries with Seq %d (a forked history)", short(k), e.Seq)
		seqs[e.Seq] = true
	}
	return h
}

// scan returns what Scan reports, requiring each key at most once.
func scan(t *testing.T, s codes.Store) map[codes.Key]codes.Colour {
	t.Helper()
	got := map[codes.Key]codes.Colour{}
	err := s.Scan(context.Background(), func(k codes.Key, c codes.Colour) error {
		if _, dup := got[k]; dup {
			return fmt.Errorf("storetest: Scan reported key %s twice", short(k))
		}
		got[k] = c
		return nil
	})
	require.NoError(t, err)
	return got
}

// snapshot is everything a store says about some keys. Its fields are
// exported because testify's diff of a failed require.Equal panics on maps
// reached through unexported fields.
type snapshot struct {
	Heads   map[codes.Key]codes.Entry
	History map[codes.Key][]codes.Entry
	Scan    map[codes.Key]codes.Colour
}

func takeSnapshot(t *testing.T, s codes.Store, keys []codes.Key) snapshot {
	t.Helper()
	snap := snapshot{Heads: map[codes.Key]codes.Entry{}, History: map[codes.Key][]codes.Entry{}, Scan: scan(t, s)}
	for _, k := range keys {
		h := history(t, s, k)
		if len(h) > 0 {
			snap.Heads[k] = h[len(h)-1]
			snap.History[k] = h
		}
	}
	return snap
}

// model is the oracle: histories built with codes.Advance alone, and the
// RequestIDs each key holds, as the codes.Store contract describes them. A
// RequestID is held once its change is applied, whether or not the change
// appended an entry (as codes.MemStore does).
type model struct {
	hist map[codes.Key][]codes.Entry
	reqs map[requestKey]bool
}

type requestKey struct {
	key codes.Key
	id  string
}

func newModel() *model {
	return &model{hist: map[codes.Key][]codes.Entry{}, reqs: map[requestKey]bool{}}
}

func (m *model) apply(changes ...codes.Change) codes.Applied {
	var a codes.Applied
	for _, ch := range changes {
		if ch.RequestID != "" {
			rk := requestKey{ch.Key, ch.RequestID}
			if m.reqs[rk] {
				a.Duplicate++
				continue
			}
			m.reqs[rk] = true
		}
		h := m.hist[ch.Key]
		var head codes.Entry
		if len(h) > 0 {
			head = h[len(h)-1]
		}
		next, changed := codes.Advance(head, len(h) > 0, ch)
		if changed {
			m.hist[ch.Key] = append(h, next)
			a.Changed++
		} else {
			a.Unchanged++
		}
	}
	return a
}

// colours is what Scan must report.
func (m *model) colours() map[codes.Key]codes.Colour {
	out := make(map[codes.Key]codes.Colour, len(m.hist))
	for k, h := range m.hist {
		out[k] = h[len(h)-1].State.Colour
	}
	return out
}

// check requires the store to hold exactly the model's histories for keys,
// and Scan to report exactly the model's keys and colours.
func (m *model) check(t *testing.T, s codes.Store, keys []codes.Key) {
	t.Helper()
	for _, k := range keys {
		got := history(t, s, k)
		if want := m.hist[k]; len(want) == 0 {
			require.Empty(t, got, "key %s", short(k))
		} else {
			require.Equal(t, want, got, "key %s: history differs from codes.Advance's", short(k))
		}
	}
	require.Equal(t, m.colours(), scan(t, s), "Scan")
}
