// Package mysqlstore is a codes.Store, codes.LinkStore, codes.Feed and
// codes.AuditTrail on databases that speak MySQL's wire protocol — TiDB,
// OceanBase (MySQL mode), MySQL 5.7+ and MariaDB 10.3+ — for several
// processes (healthcoded nodes) sharing one state: each keeps its own
// Registry, and Registry.Follow keeps it current with the writes of the
// others through the feed. It is codes/pgstore's design on the other
// wire, and passes the same conformance suite, codes/storetest.
//
// # Usage
//
//	s, err := mysqlstore.Open(ctx, "mysql://healthcode@tcp(db:4000)/codes", mysqlstore.DefaultConfig())
//	if err != nil { ... } // names host:port when the database is away
//	defer s.Close()
//	reg, err := codes.Open(ctx, s, codes.Config{Links: s})
//	go reg.Follow(ctx) // serve the other nodes' writes too
//
// The DSN is go-sql-driver/mysql's (user:password@tcp(host:port)/db?
// param=value; tls=true and the driver's other parameters work), with or
// without a mysql:// in front, or a URL mysql://user:password@host:port/db.
// It must name a database. Open migrates the store's tables (prefixed
// Config.TablePrefix, "hc_" by default, so that a database can hold
// several stores) under a named lock (GET_LOCK), so nodes starting at
// once take turns; tables migrated by newer code are refused with
// ErrSchemaTooNew. The meta table holds the version; migrations are an
// ordered list, only ever appended to, of statements that may run twice
// (MySQL commits DDL one statement at a time, so a migration cut short is
// finished by the next Open). LinkAll loads many links in one
// transaction, all or nothing.
//
// # Layout
//
// Keys are HMAC pseudonyms (VARBINARY(16)); times are Unix nanoseconds
// (BIGINT); every column is binary, so no collation or character set
// enters a comparison.
//
//   - heads(key, seq, colour, expires, hash): one slim row per key, what
//     codes.Advance needs of the last entry. Apply locks it; Scan reads it.
//   - history(key, seq, entry, request_id), primary key (key, seq): every
//     entry in the codes.AppendEntry encoding the hash chain covers, and
//     a unique index on (key, request_id); a MySQL unique index admits any
//     number of NULLs, so entries without a RequestID do not clash. Get
//     reads a key's last row backwards through the primary key, in one
//     round trip.
//   - requests(key, request_id): RequestIDs of changes that appended
//     nothing, so that a retried one counts as Applied.Duplicate as
//     codes.MemStore counts it.
//   - feed(pos, at, topic, body, changes, links): one record per committed
//     write. changes packs key (16 bytes) + colour (1 byte) per changed key,
//     links the persons (16 bytes each) whose links changed; notes have a
//     topic and a body (LONGBLOB). A stored generated column note_pos
//     (pos for notes, NULL otherwise) and its index let Notes skip the
//     other records: MySQL has no partial indexes.
//   - links(phone, person, role, since), primary key (phone, person), an
//     index (person, phone), and a unique index on a stored generated
//     column owner_phone = IF(role = 1, phone, NULL): the partial unique
//     index pgstore has, in the form MySQL, MariaDB, TiDB and OceanBase
//     all accept. It is what makes "one owner a phone" hold across nodes.
//   - meta(name, value): schema_version, feed_pos (the feed's counter)
//     and feed_pruned (the last position pruned).
//   - audit(seq, rec): the audit trail of admin attempts, one row per
//     record in the codes.AppendAuditRecord encoding (LONGBLOB), kept as
//     it is, so that a byte changed in the table is a broken link.
//   - audit_head(id, seq, hash): one row (id 1, held to it by a CHECK
//     where the engine enforces one), the trail's last seq and hash (seq 0
//     when empty), inserted by the migration that made the table
//     (version 2).
//
// # Why chains cannot fork
//
// Apply runs one transaction per batch: the batch is atomic. It sorts the
// batch by key (a key's changes keep their order) and locks the heads of
// its keys with SELECT ... WHERE key IN (...) ORDER BY key FOR UPDATE, in
// chunks of 4096 keys sent in key order, so two writers of one key take
// turns and, locking in one order, do not deadlock on each other. A
// locking read reads the latest committed row version, not the
// transaction's snapshot, under READ COMMITTED and REPEATABLE READ alike
// in InnoDB: a writer that waited chains from the head the other
// committed. Transactions run at READ COMMITTED (SET TRANSACTION, before
// each one), so that the plain read of the batch's RequestIDs that
// follows the locks also sees every commit up to then, and so that InnoDB
// takes no gap locks on the keys that have no head yet, which under
// REPEATABLE READ would make two writers of new keys deadlock. A key
// without a head cannot be locked: two writers creating it at once both
// insert history (key, 0) and the second fails on the primary key
// (duplicate entry 1062). That, a deadlock (1213), a lock wait timeout
// (1205) or TiDB's write conflict (9007) rolls the whole transaction back
// and runs it again from the reads, up to Config.Retries times with
// jittered exponential backoff (5 ms doubling to 500 ms): on the second
// attempt the key has a head and is locked like any other. So every entry
// is chained to the entry that really precedes it, on any number of
// nodes. Heads of new keys are written with a plain INSERT, which fails
// rather than overwrite if another writer got there first; those of
// locked keys with a multi-row INSERT ... ON DUPLICATE KEY UPDATE.
//
// # Statements
//
// Every value the store sends is one it encodes itself: keys, hashes,
// entries, RequestIDs and topics as hexadecimal literals (X'...'), numbers
// in decimal. No placeholder is used, so a statement may carry as many
// rows as max_allowed_packet allows (placeholders stop at 65 535 a
// statement, and cost a prepare round trip), and nothing depends on the
// connection's character set or sql_mode. Hexadecimal doubles the bytes
// on the wire; a prepared binary path was measured and saved the server
// no time worth its code, because InnoDB's own work per row dominates.
// Open reads max_allowed_packet once and cuts multi-row statements at a
// quarter of it (at most 8 MiB), sending several statements in one round
// trip (the driver's multiStatements) up to the packet less 64 KiB.
//
// A small batch takes two round trips: BEGIN with the locking reads, then
// every write with COMMIT. A large one takes as many as its bytes need,
// and builds the next round trip on the client (chaining, SHA-256,
// encoding) while the server runs the last.
//
// What that costs, against the floor of plain multi-row INSERTs of the
// same history rows into a table without indexes, in one transaction
// (BenchmarkApply): on MariaDB 10.11 with its defaults (128 MiB buffer
// pool, 96 MiB redo log), 2 cores shared with the client, a million new
// keys in one Apply ran at 75 000 to 87 000 changes/s, 0.36 to 0.44 of
// the floor in quiet runs (lower while other work loaded the machine);
// batches of 10 000 at 0.6 of it. The server is the bottleneck, one core
// busy: for each change it inserts an entry into a clustered primary key
// and a unique index and a head into another table, after a locking
// read, where the floor appends one row; at a million rows the larger
// redo volume also meets the small redo log's checkpoints sooner.
//
// # How the feed orders commits
//
// A write that changed something ends its transaction with
//
//	UPDATE meta SET value = LAST_INSERT_ID(value + 1) WHERE name = 'feed_pos';
//	INSERT INTO feed (pos, ...) VALUES (LAST_INSERT_ID(), ...);
//	COMMIT
//
// in the same round trip as its last writes. LAST_INSERT_ID(expr) keeps
// the new value in the session, so the INSERT (and Publish's SELECT
// LAST_INSERT_ID(), which returns the position) reads it on the same
// connection with no other round trip. The UPDATE takes the counter row's
// exclusive lock, held to COMMIT, and reads the latest committed value (it
// is a locking read): the next writer cannot take a position until the
// last one has committed or rolled back. So positions follow commit order
// and have no gaps (a rolled-back increment is undone with its write),
// and a reader that sees position p has seen every position before it:
// the writer of p took its position after the writer of p-1 had
// committed. A writer that started first but commits later gets the later
// position (TestCommitOrder). The counter's lock is held only from that
// statement to COMMIT, not during the rest of the write; committing
// writers pass one at a time through that moment and the commit's log
// flush.
//
// AUTO_INCREMENT cannot be the cursor. An id is allocated when its row
// is inserted, not when it commits: a transaction holding id 5 may commit
// after one holding id 6, and a reader that has moved past 6 never reads
// 5. A rolled-back insert leaves a hole that a reader cannot tell from an
// id not yet committed. TiDB makes it worse: each TiDB server allocates
// AUTO_INCREMENT ids from a cached range of its own (AUTO_ID_CACHE,
// 30 000 by default), so ids from two servers interleave out of commit
// order by thousands. AUTO_ID_CACHE 1 makes them sequential but still
// allocation-ordered; an overlap window re-read with dedupe only narrows
// the loss. The counter row gives a cursor that misses nothing on every
// engine, at the price of one row lock per write.
//
// A write that names more than 65 536 keys (or persons) is told in
// consecutive records of at most that many, fewer if max_allowed_packet
// is small, taken by one UPDATE (LAST_INSERT_ID(value + k)) and committed
// together, so no record outgrows what the server can send back. Records
// are appended in the same transaction as the write they describe, so a
// record exists exactly when its write does.
//
// MySQL has no LISTEN/NOTIFY, so WaitFeed polls: one goroutine per Store,
// started by the first WaitFeed and stopped by Close, reads the counter
// every Config.FeedPollInterval (20 ms by default) while any WaitFeed
// waits, and at once when a waiter arrives with none waiting; it wakes the
// waiters when the counter grows. A change committed on one node is seen
// on another within the poll interval plus one ReadFeed: about 15 ms at
// the median and 25 ms at p99 between two Stores here
// (TestFeedPropagation), well within the second the issue asks. The
// records are read from the table, so a late poll costs time, never a
// record.
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
// transaction of two round trips: START TRANSACTION with SELECT ... FROM
// audit_head WHERE id = 1 FOR UPDATE, then the records (chained in Go with
// codes.ChainAudit from the head it read) in one multi-row INSERT, the
// UPDATE of the head and COMMIT. The head row exists from the migration
// on, so even the first appenders of an empty trail have a row to lock
// (MAX(seq) of an empty table locks nothing, or, under REPEATABLE READ, a
// gap that two appenders could both hold): appenders on every node take
// turns on it, and one that waited reads the head the other committed, as
// a locking read does. So the trail is one chain without gaps, and a
// call's records are consecutive in it; AUTO_INCREMENT is not used, for
// the reasons the feed does not use it. The transaction is never that of
// a change to the codes, so an attempt is recorded even when the change
// it attempted is refused. A duplicate seq means the head row was moved
// back by hand: that is codes.ErrCorrupt, not retried. ReadAudit reads
// rows by seq and decodes them with codes.DecodeAuditAt; codes.VerifyAudit
// checks the chain and names the first broken link.
//
// # Timeouts and failures
//
// Every round trip that ctx does not bound sooner gets Config.QueryTimeout
// (a round trip carrying many rows, QueryTimeout per 100 000 rows). When
// it passes, the driver closes the connection and the call fails with an
// error matching context.DeadlineExceeded and codes.ErrUnavailable: a
// caller learns within seconds that the database is away, or that a row
// it needs stays locked, instead of hanging. MySQL cannot cancel a
// statement from the client side of its connection (pgstore's cancel
// request has no equivalent short of KILL from another connection, which
// a load balancer in front of TiDB or OceanBase may route to the wrong
// server), so every connection also sets innodb_lock_wait_timeout to
// QueryTimeout rounded up to a second: a lock wait the client gave up
// ends on the server about as soon, and its transaction's locks go with
// it. A connection the server dropped while it sat in the pool fails
// with driver.ErrBadConn before anything is sent, and the transaction is
// run again on another. An error from the round trip that carries COMMIT
// leaves its outcome unknown, as with any database; RequestIDs make the
// retry safe. Open fails the same way, naming host and port. No error or
// log line carries more of a key than a prefix of its pseudonym, nor the
// DSN's password.
//
// # Engines
//
// The SQL is the common subset of MySQL 5.7+/8, MariaDB 10.3+, TiDB and
// OceanBase's MySQL mode: InnoDB tables, VARBINARY and BLOB columns,
// BIGINT, stored generated columns, multi-row INSERT, INSERT ... ON
// DUPLICATE KEY UPDATE with VALUES() (deprecated in MySQL 8.0.20 but
// still there, and the only form MariaDB and TiDB share), SELECT ... FOR
// UPDATE, LAST_INSERT_ID(expr) and GET_LOCK; no JSON type, no CTEs that
// modify data, no RETURNING (MariaDB has it, MySQL does not), no partial
// indexes. It is tested on MariaDB 10.11; MySQL, TiDB and OceanBase are
// targets, not tested ones. What differs, and what the store does about
// it:
//
//   - Transaction model. InnoDB (MySQL, MariaDB) locks pessimistically.
//     TiDB has been pessimistic by default since 3.0.8
//     (tidb_txn_mode = 'pessimistic'), and then SELECT ... FOR UPDATE
//     locks at once as in InnoDB. In optimistic mode it locks nothing
//     until commit, and two writers of one head collide at COMMIT with
//     write conflict 9007 (or 8002 for a SELECT ... FOR UPDATE it cannot
//     retry itself): the store retries the transaction, which is still
//     correct, but under contention slower; run TiDB pessimistic.
//     OceanBase locks rows at write time, like InnoDB.
//   - Isolation. The store asks for READ COMMITTED per transaction. In
//     InnoDB a locking read (FOR UPDATE, UPDATE) reads the latest
//     committed version whatever the level, which is what chaining from
//     the locked head needs; READ COMMITTED adds fresh plain reads and no
//     gap locks. TiDB's REPEATABLE READ is snapshot isolation and its
//     READ COMMITTED works in pessimistic mode only; in both, a FOR UPDATE
//     read in a pessimistic transaction reads at a fresh for-update
//     timestamp, the latest committed data, as InnoDB's does. OceanBase's
//     default is READ COMMITTED. MySQL and MariaDB with binary logging
//     need binlog_format ROW or MIXED under READ COMMITTED (the defaults
//     of MySQL 8 and MariaDB 10.11); with STATEMENT, InnoDB refuses the
//     writes (error 1665).
//   - AUTO_INCREMENT. Not used: see above. TiDB's per-server ranges are why
//     the feed has its own counter.
//   - JSON. Not used: MariaDB's JSON is LONGTEXT with a CHECK, MySQL's a
//     binary type, TiDB's and OceanBase's their own. Feed records pack
//     fixed-width binary instead.
//   - Index key length. InnoDB's limit is 3072 bytes a key with DYNAMIC
//     rows (767 with COMPACT, MySQL 5.6's default), TiDB's 3072 by default
//     (max-index-length); the widest key here, history (key, request_id),
//     is 16 + 128 bytes, under all of them.
//   - max_allowed_packet. 4 MiB by default in MySQL 5.7, 16 MiB in MariaDB,
//     64 MiB in MySQL 8 and TiDB; OceanBase's is configurable. Open reads
//     it, and every statement and round trip is cut to fit. A note travels
//     as hexadecimal, so Publish refuses (naming the variable) a note whose
//     body is more than about half the packet: at 16 MiB every note
//     codes.ValidateNote accepts fits.
//   - Transaction size. One Apply is one transaction. TiDB refuses a
//     transaction over txn-total-size-limit (100 MB by default, about
//     300 000 new keys here) and any single row over txn-entry-size-limit
//     (6 MB); split larger loads into several Applies, or raise the limit.
//     OceanBase bounds a transaction by ob_trx_timeout (100 s by default).
//   - Lock waits. innodb_lock_wait_timeout is honoured by MySQL, MariaDB
//     and TiDB's pessimistic transactions; an engine without the variable
//     keeps its own (OceanBase: ob_trx_lock_timeout), and the store still
//     gives up after QueryTimeout on the client side.
//   - Primary keys. TiDB stores a table without a clustered primary key
//     on a hidden row id, which piles writes onto one region; the
//     migrations mark every primary key /*T![clustered_index] CLUSTERED */,
//     a comment to every other engine.
//   - GET_LOCK. MySQL and MariaDB lock per server, TiDB (documented from
//     6.1 on) across the cluster; names are at most 64 characters, which
//     the store keeps to. Where it is missing, Open migrates without the
//     lock, since every migration statement may run twice.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores (in one
// process or many) may share a database and prefix. Close stops the
// poller and the pruner and closes the pool. The reference server
// examples/healthcoded opens one Store per process with -store
// mysql://user@tcp(host:port)/db.
package mysqlstore
