package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/healthcode-sdk/healthcode/examples/console"
)

// The finder's saved tasks live in DATA/finder-tasks.db (bbolt, 0600): a
// summary bucket, read to list them, and a task bucket with each task's
// people and contacts, read to show, export, exclude or push one. People
// are keys (pseudonyms), never raw identities; the case is kept masked.
var (
	bucketTaskSummaries = []byte("summaries") // 8-byte sequence -> console.TaskSummary (JSON)
	bucketTasks         = []byte("tasks")     // 8-byte sequence -> savedTask (JSON)
)

// savedTask is a task as stored.
type savedTask struct {
	console.TaskSummary
	Cases  []string       // the index case's keys (hex)
	Found  []savedContact // the contacts
	Hops   []console.HopView
	Took   time.Duration
	Pushes []console.PushView // finished pushes, newest first
}

// savedContact is one contact, its person and via as keys.
type savedContact struct {
	Hop       int    `json:"h"`
	Person    string `json:"p"`
	Kind      string `json:"k"`
	Venue     string `json:"v,omitempty"`
	VenueName string `json:"n,omitempty"`
	Trip      string `json:"t,omitempty"`
	Seat      string `json:"s,omitempty"`
	Time      int64  `json:"at"`
	Via       string `json:"via,omitempty"`
	ViaTime   int64  `json:"vt,omitempty"`
}

// identified are the people a task identified: its cases and contacts.
func (t *savedTask) identified() []string {
	out := append([]string(nil), t.Cases...)
	for _, c := range t.Found {
		out = append(out, c.Person)
	}
	return out
}

// view is the task as the console shows it, every person masked.
func (t *savedTask) view() console.TaskView {
	v := console.TaskView{TaskSummary: t.TaskSummary, Pushes: t.Pushes,
		Result: console.FinderResult{Case: t.Case, Hops: t.Hops, Took: t.Took, Contacts: make([]console.ContactView, len(t.Found))}}
	for i, c := range t.Found {
		cv := console.ContactView{Hop: c.Hop, Person: maskKey(c.Person), Kind: c.Kind, Venue: c.Venue, VenueName: c.VenueName,
			Trip: c.Trip, Seat: c.Seat, Time: time.Unix(c.Time, 0)}
		if c.Via != "" {
			cv.Via, cv.ViaTime = maskKey(c.Via), time.Unix(c.ViaTime, 0)
		}
		v.Result.Contacts[i] = cv
	}
	return v
}

// taskStore keeps tasks in a bbolt file. Safe for concurrent use.
type taskStore struct {
	db *bolt.DB
}

func openTaskStore(path string) (*taskStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("finder tasks: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTaskSummaries, bucketTasks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("finder tasks: %w", err)
	}
	return &taskStore{db: db}, nil
}

func (s *taskStore) Close() error { return s.db.Close() }

// Task IDs are "T" and the sequence: short enough to type, opaque to a
// person's identity.
func taskID(seq uint64) string { return "T" + strconv.FormatUint(seq, 10) }

func taskKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "T"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "T") || n == 0 || taskID(n) != id {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, n), true
}

// add stores t under the next ID, which it sets.
func (s *taskStore) add(t *savedTask) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTasks)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		t.ID = taskID(seq)
		if t.Name == "" {
			t.Name = "任务 " + t.ID
		}
		return s.put(tx, t)
	})
}

func (s *taskStore) put(tx *bolt.Tx, t *savedTask) error {
	k, _ := taskKey(t.ID)
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	sum, err := json.Marshal(t.TaskSummary)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketTasks).Put(k, body); err != nil {
		return err
	}
	return tx.Bucket(bucketTaskSummaries).Put(k, sum)
}

// get returns the task id, or console.ErrNoTask.
func (s *taskStore) get(id string) (*savedTask, error) {
	k, ok := taskKey(id)
	if !ok {
		return nil, console.ErrNoTask
	}
	var t savedTask
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTasks).Get(k)
		if v == nil {
			return console.ErrNoTask
		}
		return json.Unmarshal(v, &t)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// list returns up to limit summaries, newest first.
func (s *taskStore) list(limit int) ([]console.TaskSummary, error) {
	var out []console.TaskSummary
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTaskSummaries).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var t console.TaskSummary
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("task %x: %w", k, err)
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// addPush records a finished push on its task.
func (s *taskStore) addPush(p console.PushView) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		k, ok := taskKey(p.Task)
		if !ok {
			return console.ErrNoTask
		}
		v := tx.Bucket(bucketTasks).Get(k)
		if v == nil {
			return console.ErrNoTask
		}
		var t savedTask
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		t.Pushes = append([]console.PushView{p}, t.Pushes...)
		return s.put(tx, &t)
	})
}
