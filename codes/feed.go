package codes

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FeedChange is one key's colour after a committed write.
type FeedChange struct {
	Key    Key
	Colour Colour
}

// FeedRecord is one committed write as a Feed tells it: the code changes
// of one Apply, the persons whose phone links one link write touched, or a
// note (Topic and Body) that Publish appended. A plain value.
type FeedRecord struct {
	Pos     uint64       // position in commit order: from 1, without gaps
	At      time.Time    // commit time, by the store's clock
	Changes []FeedChange // each changed key once, with its colour after the write
	Links   []Key        // persons whose links changed
	Topic   string       // a note's topic; "" for code and link records
	Body    []byte       // a note's body
}

// IsNote reports whether the record is a note.
func (r FeedRecord) IsNote() bool { return r.Topic != "" }

// Errors of feeds.
var (
	// ErrNoFeed: Registry.Follow over a store that is not a Feed.
	ErrNoFeed = errors.New("codes: store has no change feed")
	// ErrFeedGap: the records after the asked position were pruned; a
	// follower that gets it must read the state afresh (Registry.Follow
	// does: it rebuilds its filter and drops its cache).
	ErrFeedGap = errors.New("codes: feed records pruned past the cursor")
	// ErrBadNote: Publish with an empty or oversized topic or body.
	ErrBadNote = errors.New("codes: invalid note")
	// ErrUnavailable is wrapped by a store's errors when it cannot reach
	// its database (refused, reset, timed out): nothing was done, and the
	// call may succeed later. Servers answer 503 for it.
	ErrUnavailable = errors.New("codes: store unavailable")
)

// Limits of notes.
const (
	MaxNoteTopic = 128     // bytes of a note's topic
	MaxNoteBody  = 4 << 20 // bytes of a note's body
)

// ValidateNote checks a note before a Feed stores it.
func ValidateNote(topic string, body []byte) error {
	if topic == "" || len(topic) > MaxNoteTopic {
		return fmt.Errorf("%w: topic of %d bytes, want 1 to %d", ErrBadNote, len(topic), MaxNoteTopic)
	}
	if len(body) > MaxNoteBody {
		return fmt.Errorf("%w: body of %d bytes, over %d", ErrBadNote, len(body), MaxNoteBody)
	}
	return nil
}

// Feed is implemented by a Store that several processes write to, such as
// codes/pgstore. It lists what was committed after a position, in commit
// order, so that each process's Registry follows the writes of the others
// (Registry.Follow) and each process replays the notes its peers publish
// (rule sets, activations, risk areas: whatever the caller shares).
//
// Every Apply that appended an entry, every link write and every Publish is
// one record, in the same transaction as the write it describes, so a
// record exists exactly when its write does. Positions start at 1, only
// grow and have no gaps, and a record is readable only once every record
// before it is: a reader that has seen position p has seen everything up to
// p. Implementations are safe for concurrent use.
type Feed interface {
	// FeedPos returns the position of the last committed record (0: none).
	FeedPos(ctx context.Context) (uint64, error)
	// ReadFeed returns at most max records after position after, oldest
	// first; none if there are none yet. It fails with ErrFeedGap if the
	// record after after was pruned.
	ReadFeed(ctx context.Context, after uint64, max int) ([]FeedRecord, error)
	// WaitFeed blocks until a record after after may have been committed
	// (it may return early: ReadFeed tells), or ctx ends.
	WaitFeed(ctx context.Context, after uint64) error
	// Publish appends a note and returns its position. Notes are never
	// pruned: a process that starts later replays them with Notes.
	Publish(ctx context.Context, topic string, body []byte) (uint64, error)
	// Notes returns the notes at positions in (after, upto], oldest first.
	Notes(ctx context.Context, after, upto uint64) ([]FeedRecord, error)
}
