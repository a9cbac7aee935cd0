package bulkbench

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
)

// storeEngine is codes/boltstore itself, the whole write path (hash-chained
// log, heads, transactions of Config.Batch changes, each synced), fed the
// same records as the key-value engines, each as a rule decision:
//
//   - boltstore: Store.Apply a batch, the path of every write today;
//   - boltstore-load: Store.Load over the whole load (its external sort
//     through spilled runs of 4 M changes, then appends in key order), and
//     over the re-evaluation's changes.
//
// A record becomes a change that keeps all of its bytes: the value's first
// 8 bytes (its log position in the key-value engines) as the rule version,
// its colour byte (1 or 2) as yellow or red, its expiry word as the time of
// the change and any filler, in hex, as the reason. get rebuilds the value
// from the key's last entry, so the read-back checks the store's answer
// byte for byte. Before the re-evaluation writes a batch it reads each key's
// state and compares it with the loaded value, as the other engines do.
type storeEngine struct {
	s    *boltstore.Store
	bulk bool
	vs   int

	// boltstore-load: the load's changes go to Load through feed, one
	// batch at a time; tenth is set before feed is closed and called as
	// commits pass each tenth of keys.
	feed  chan []codes.Change
	done  chan error
	tenth func(int)
	keys  int
}

func openStore(dir string, cfg Config, bulk bool) (*storeEngine, error) {
	s, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.Config{BatchSize: cfg.Batch, LoadDir: dir})
	if err != nil {
		return nil, err
	}
	return &storeEngine{s: s, bulk: bulk, vs: cfg.ValueSize}, nil
}

// change returns record j of b as a rule decision.
func (e *storeEngine) change(b *batch, j int) codes.Change {
	v := b.val(j)
	ch := codes.Change{State: codes.State{
		Colour: codes.Yellow,
		Reason: hex.EncodeToString(v[HeadSize:]),
		Cause:  codes.Cause{RuleID: "bulkbench", RuleVersion: strconv.FormatUint(binary.BigEndian.Uint64(v), 10)},
		Since:  time.Unix(0, int64(binary.BigEndian.Uint64(v[9:]))).UTC(),
	}}
	if v[8] == 2 {
		ch.State.Colour = codes.Red
	}
	copy(ch.Key[:], b.key(j))
	return ch
}

func (e *storeEngine) changes(b *batch) []codes.Change {
	out := make([]codes.Change, b.len())
	for j := range out {
		out[j] = e.change(b, j)
	}
	return out
}

// value rebuilds a record's value from a state.
func (e *storeEngine) value(st codes.State) ([]byte, error) {
	v := make([]byte, HeadSize, e.vs)
	pos, err := strconv.ParseUint(st.Cause.RuleVersion, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("rule version %q: %w", st.Cause.RuleVersion, err)
	}
	binary.BigEndian.PutUint64(v, pos)
	v[8] = 1
	if st.Colour == codes.Red {
		v[8] = 2
	}
	binary.BigEndian.PutUint64(v[9:], uint64(st.Since.UnixNano()))
	filler, err := hex.DecodeString(st.Reason)
	if err != nil {
		return nil, fmt.Errorf("reason: %w", err)
	}
	return append(v, filler...), nil
}

func (e *storeEngine) load(b *batch) error {
	if !e.bulk {
		_, err := e.s.Apply(context.Background(), e.changes(b))
		return err
	}
	e.keys += b.len()
	return e.send(e.changes(b))
}

// send hands chs to the running Load, starting one if none runs.
func (e *storeEngine) send(chs []codes.Change) error {
	if e.feed == nil {
		feed, done := make(chan []codes.Change, 1), make(chan error, 1)
		e.feed, e.done = feed, done
		go func() { done <- e.bulkLoad(feed) }()
	}
	select {
	case e.feed <- chs:
		return nil
	case err := <-e.done: // Load stopped early
		e.feed = nil
		return err
	}
}

// bulkLoad loads what arrives on feed until it is closed.
func (e *storeEngine) bulkLoad(feed <-chan []codes.Change) error {
	t := 0
	_, err := e.s.Load(context.Background(), func(yield func(codes.Change, error) bool) {
		for chs := range feed {
			for _, ch := range chs {
				if !yield(ch, nil) {
					return
				}
			}
		}
	}, func(p codes.LoadProgress) {
		for e.tenth != nil && t < 10 && p.Committed > 0 && p.Committed >= e.keys*(t+1)/10 {
			e.tenth(t)
			t++
		}
	})
	for range feed { // let a load that stopped early not block the sender
	}
	return err
}

// wait ends the running Load's stream and waits for it.
func (e *storeEngine) wait() error {
	if e.feed == nil {
		return nil
	}
	close(e.feed)
	e.feed = nil
	return <-e.done
}

func (e *storeEngine) finish(tenth func(int)) error {
	e.tenth = tenth
	err := e.wait()
	e.tenth = nil
	return err
}

func (e *storeEngine) reeval(b *batch) error {
	if err := checkOlds(e.get, b); err != nil {
		return err
	}
	if e.bulk {
		return e.send(e.changes(b))
	}
	_, err := e.s.Apply(context.Background(), e.changes(b))
	return err
}

// finishReeval ends boltstore-load's re-evaluation: one Load over all of
// its batches.
func (e *storeEngine) finishReeval() error { return e.wait() }

func (e *storeEngine) get(k []byte) ([]byte, bool, error) {
	var key codes.Key
	copy(key[:], k)
	ent, ok, err := e.s.Get(context.Background(), key)
	if !ok || err != nil {
		return nil, ok, err
	}
	v, err := e.value(ent.State)
	return v, err == nil, err
}

func (e *storeEngine) close() error {
	_ = e.wait()
	return e.s.Close()
}
