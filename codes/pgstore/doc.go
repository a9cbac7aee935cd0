// Package pgstore is a codes.Store, codes.LinkStore, codes.Feed and
// codes.AuditTrail on PostgreSQL, for several processes (healthcoded nodes) sharing one state:
// each keeps its own Registry, and Registry.Follow keeps it current with
// the writes of the others through the feed.
//
// # Usage
//
//	s, err := pgstore.Open(ctx, "postgres://healthcode@db:5432/codes", pgstore.DefaultConfig())
//	if err != nil { ... } // names host:port when the database is away
//	defer s.Close()
//	reg, err := codes.Open(ctx, s, codes.Config{Links: s})
//	go reg.Follow(ctx) // serve the other nodes' writes too
//
// Open creates Config.Schema if it is missing and migrates it, in one
// transaction under an advisory lock, so nodes starting at once take
// turns; a schema migrated by newer code is refused with ErrSchemaTooNew.
// The schema's meta table holds the version; migrations are an ordered
// list of SQL and only ever appended to.
//
// # Layout
//
// Keys are HMAC pseudonyms (bytea); times are Unix nanoseconds.
//
//   - heads(key, seq, colour, expires, hash): one slim row per key, what
//     codes.Advance needs of the last entry. Apply locks it; Scan reads it.
//   - history(key, seq, entry, request_id), primary key (key, seq): every
//     entry in the codes.AppendEntry encoding the hash chain covers, with
//     a unique index on (key, request_id) for changes that carry one. Get
//     reads a key's last row by one backward index scan, in one round trip.
//   - requests(key, request_id): RequestIDs of changes that appended
//     nothing, so that a retried one counts as Applied.Duplicate as
//     codes.MemStore counts it.
//   - feed(pos, at, topic, body, changes, links): one record per committed
//     write. changes packs key (16 bytes) + colour (1 byte) per changed key,
//     links the persons (16 bytes each) whose links changed; notes have a
//     topic and a body.
//   - links(phone, person, role, since), primary key (phone, person), an
//     index (person, phone), and a unique index on phone where the role is
//     owner, which is what makes "one owner a phone" hold across nodes.
//   - meta(name, value): schema_version, feed_pos (the feed's counter) and
//     feed_pruned (the last position pruned).
//   - audit(seq, rec): the audit trail of admin attempts, one row per
//     record in the codes.AppendAuditRecord encoding, kept as it is, so
//     that a byte changed in the table is a broken link.
//   - audit_head(id, seq, hash): one row (id 1), the trail's last seq and
//     hash (seq 0 when empty), inserted by the migration that made the
//     table (version 2).
//
// # Why chains cannot fork
//
// Apply runs one transaction per batch: the batch is atomic here, unlike
// codes/boltstore, which commits large batches in parts. It sorts the
// batch by key (a key's changes keep their order) and locks the heads of
// its keys with SELECT ... ORDER BY key FOR UPDATE, so two writers of one
// key take turns, and, locking in one order, do not deadlock on each
// other. Under READ COMMITTED a writer that waited reads the head the
// other committed, and chains from it. A key that has no head yet cannot
// be locked: two writers creating it at once both insert history (key, 0)
// and the second fails on the primary key (unique_violation). That, a
// deadlock, or a serialization failure rolls the whole transaction back
// and runs it again from the reads, up to Config.Retries times with
// jittered exponential backoff (5 ms doubling to 500 ms): on the second
// attempt the key has a head and is locked like any other. So every
// entry is chained to the entry that really precedes it, on any number of
// nodes.
//
// Small batches (under 512 changes) take two round trips: BEGIN with the
// reads, then every write with COMMIT, pipelined. Larger ones send their
// keys by COPY into a temporary table and join it to heads; the history
// rows are computed while COPY streams them into history; the heads of
// new keys are COPYed into heads, those of existing keys into a temporary
// table that one UPDATE applies. No statement is sent per row.
//
// # How the feed orders commits
//
// A write that changed something ends its transaction with one statement
// that increments the counter row (UPDATE meta SET value = value + 1 ...
// RETURNING value), inserts the feed record at that position and calls
// pg_notify, and then COMMIT, sent in the same pipeline. The counter's
// row lock is held from that statement to COMMIT only (not during the
// rest of the write), and the next writer cannot take a position until
// the last one has committed or rolled back. So positions follow commit
// order, have no gaps (a rolled-back increment is undone with its write),
// and a reader that sees position p has seen everything before it. The
// price is that committing writers pass one at a time through the time
// of that statement and the commit's WAL flush.
//
// The order could instead come from transaction ids (xid8 and snapshot
// horizons, as some outbox readers do). That was not chosen: it ties the
// feed to PostgreSQL's internals, which openGauss, KingbaseES and
// CockroachDB do not share, and a reader must then wait for every older
// transaction in the database, its own or another application's,
// so one long transaction stalls every follower. The counter depends only
// on our own short transactions.
//
// Records are appended in the same transaction as the write they
// describe, so a record exists exactly when its write does. WaitFeed
// wakes on the NOTIFY: one LISTEN connection per Store, outside the pool,
// started by the first WaitFeed and reconnected with backoff when it
// drops. The channel is the schema's name + "_feed", so stores in two
// schemas of one database do not wake each other. A lost notification
// costs a follower its poll interval (codes.Config.FeedPoll), never a
// record: the records are read from the table.
//
// With Config.FeedRetention set, a background task prunes code and link
// records older than it (notes are kept, and Notes replays them); a
// reader behind the pruned range gets codes.ErrFeedGap, upon which
// Registry.Follow reloads from the store.
//
// # The audit trail
//
// AppendAudit validates every record (codes.ValidateAudit; one invalid
// record refuses the call and nothing is written), then runs one
// transaction: BEGIN with SELECT ... FROM audit_head FOR UPDATE, then the
// records (chained in Go with codes.ChainAudit from the head it read), the
// new head and COMMIT, pipelined. The head row exists from the migration
// on, so even the first appenders of an empty trail have a row to lock
// (the largest seq of an empty table is no row, and cannot be locked):
// appenders on every node take turns on it, and one that waited reads the
// head the other committed. So the trail is one chain without gaps, and a
// call's records are consecutive in it. The transaction is never that of
// a change to the codes, so an attempt is recorded even when the change
// it attempted is refused. A unique violation on audit means the head row
// was moved back by hand: that is codes.ErrCorrupt, not retried.
// ReadAudit reads rows by seq and decodes them with codes.DecodeAuditAt;
// codes.VerifyAudit checks the chain and names the first broken link.
//
// # Timeouts
//
// Every round trip that ctx does not bound sooner gets Config.QueryTimeout
// (a COPY, or a statement carrying many rows, QueryTimeout per 100 000
// rows; Scan, QueryTimeout without a row). When it passes, the connection
// asks the server to cancel the statement, so its locks go at once, and
// the call fails with an error matching context.DeadlineExceeded and
// codes.ErrUnavailable: a caller learns within seconds that the database
// is away, or that a row it needs stays locked, instead of hanging. Open
// fails the same way, naming host and port. No error or log line carries
// more of a key than a prefix of its pseudonym, nor the DSN's password.
//
// # Engines
//
// The SQL is plain PostgreSQL 12+ (tested on 15): data-modifying CTEs,
// partial indexes, unnest, FOR UPDATE, COPY, LISTEN/NOTIFY and advisory
// locks, and nothing tied to system columns or transaction ids, so that
// the PostgreSQL-wire engines openGauss and KingbaseES can run it. They
// and CockroachDB (which has no LISTEN/NOTIFY and would need pg_notify
// replaced) are targets, not tested ones.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores (in one
// process or many) may share a schema. Close stops the listener and the
// pruner and closes the pool. The reference server examples/healthcoded
// opens one Store per process.
package pgstore
