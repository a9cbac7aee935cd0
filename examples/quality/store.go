package quality

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketRuns = []byte("runs") // 8-byte big-endian sequence -> Run (JSON)

// ErrNotFound: no run has that ID.
var ErrNotFound = errors.New("quality: no such run")

// Store keeps runs in a bbolt file. Every Save is one transaction that
// writes a run whole, so a run is never half-written. A Store is safe for
// concurrent use; the file is locked against a second process.
type Store struct {
	db *bolt.DB
}

// OpenStore opens (or creates) the store at path. Runs left "running" by a
// previous process (a crash, a kill) are marked failed with the reason
// "interrupted".
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("quality: open store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRuns)
		if err != nil {
			return err
		}
		var fix []Run
		err = b.ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run %x: %w", k, err)
			}
			if r.State == Running {
				fix = append(fix, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range fix {
			r.State, r.Reason = Failed, "interrupted"
			if r.Ended.IsZero() {
				r.Ended = r.Started
			}
			r.Log = append(r.Log, LogLine{At: r.Ended, Msg: "failed: interrupted (the process ended during the run)"})
			if err := put(b, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("quality: open store: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// runKey turns a run ID ("run-42") into its key.
func runKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "run-"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "run-") || n == 0 {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, n), true
}

func put(b *bolt.Bucket, r Run) error {
	k, ok := runKey(r.ID)
	if !ok {
		return fmt.Errorf("quality: bad run ID %q", r.ID)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put(k, v)
}

// newID reserves the next run ID.
func (s *Store) newID() (string, error) {
	var id string
	err := s.db.Update(func(tx *bolt.Tx) error {
		n, err := tx.Bucket(bucketRuns).NextSequence()
		id = "run-" + strconv.FormatUint(n, 10)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("quality: new run: %w", err)
	}
	return id, nil
}

// Save writes r whole, replacing any earlier version, in one transaction.
func (s *Store) Save(r Run) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return put(tx.Bucket(bucketRuns), r) }); err != nil {
		return fmt.Errorf("quality: save run %s: %w", r.ID, err)
	}
	return nil
}

// Get returns the run with the given ID, or ErrNotFound.
func (s *Store) Get(id string) (Run, error) {
	k, ok := runKey(id)
	if !ok {
		return Run{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var r Run
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRuns).Get(k)
		if v == nil {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Run{}, fmt.Errorf("quality: get run %s: %w", id, err)
	}
	return r, err
}

// Runs returns up to limit runs of rule ("" for every rule), newest first;
// limit <= 0 means all. It reads the runs from the newest backwards.
func (s *Store) Runs(rule string, limit int) ([]Run, error) {
	var out []Run
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRuns).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if rule != "" && r.Rule != rule {
				continue
			}
			out = append(out, r)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("quality: list runs: %w", err)
	}
	return out, nil
}

// DayStat sums the runs of one rule for one day.
type DayStat struct {
	Rule string
	Day  string // YYYY-MM-DD
	// Runs counts every run of the rule for the day; Done, Stopped and
	// Failed count them by how they ended (the rest are still running).
	Runs, Done, Stopped, Failed int
	// Figures are the totals of the latest done run (a re-run replaces,
	// not adds to, the day's figures); LastRun is its ID, "" if no run
	// is done.
	Figures Figures
	LastRun string
}

// Stats returns one DayStat per rule and day with from <= day <= to
// (YYYY-MM-DD; "" leaves that end open), ordered by rule, then day.
func (s *Store) Stats(from, to string) ([]DayStat, error) {
	type key struct{ rule, day string }
	m := map[key]*DayStat{}
	err := s.db.View(func(tx *bolt.Tx) error {
		// Oldest first, so the latest done run is the last one seen.
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if (from != "" && r.Day < from) || (to != "" && r.Day > to) {
				return nil
			}
			st := m[key{r.Rule, r.Day}]
			if st == nil {
				st = &DayStat{Rule: r.Rule, Day: r.Day}
				m[key{r.Rule, r.Day}] = st
			}
			st.Runs++
			switch r.State {
			case Done:
				st.Done++
				st.Figures, st.LastRun = r.Total, r.ID
			case Stopped:
				st.Stopped++
			case Failed:
				st.Failed++
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("quality: stats: %w", err)
	}
	out := make([]DayStat, 0, len(m))
	for _, st := range m {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b DayStat) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Day, b.Day)
	})
	return out, nil
}
