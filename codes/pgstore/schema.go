package pgstore

import "strings"

// migrations are the schema's layouts in order: migrations[v] takes a
// schema at version v to v+1. Append only; never edit one that shipped.
// {s} stands for the quoted schema name.
var migrations = []string{
	// 1: the first layout.
	`
CREATE TABLE {s}.heads (
	key     bytea    PRIMARY KEY,
	seq     bigint   NOT NULL,
	colour  smallint NOT NULL,
	expires bigint   NOT NULL, -- Unix nanoseconds; 0: none
	hash    bytea    NOT NULL
) WITH (fillfactor = 70); -- room on each page for HOT updates: a new head changes no indexed column
CREATE TABLE {s}.history (
	key        bytea  NOT NULL,
	seq        bigint NOT NULL,
	entry      bytea  NOT NULL, -- codes.AppendEntry
	request_id text,
	PRIMARY KEY (key, seq)
);
CREATE UNIQUE INDEX history_request ON {s}.history (key, request_id) WHERE request_id IS NOT NULL;
-- RequestIDs of changes that appended nothing (codes.Change.RequestID).
CREATE TABLE {s}.requests (
	key        bytea NOT NULL,
	request_id text  NOT NULL,
	PRIMARY KEY (key, request_id)
);
CREATE TABLE {s}.feed (
	pos     bigint      PRIMARY KEY,
	at      timestamptz NOT NULL DEFAULT now(),
	topic   text,  -- notes only
	body    bytea, -- notes only
	changes bytea, -- key (16 bytes) + colour (1 byte) per changed key
	links   bytea  -- person keys (16 bytes each)
);
CREATE INDEX feed_notes ON {s}.feed (pos) WHERE topic IS NOT NULL;
CREATE TABLE {s}.links (
	phone  bytea    NOT NULL,
	person bytea    NOT NULL,
	role   smallint NOT NULL,
	since  bigint, -- Unix nanoseconds; NULL: zero time
	PRIMARY KEY (phone, person)
);
CREATE INDEX links_person ON {s}.links (person, phone);
CREATE UNIQUE INDEX links_owner ON {s}.links (phone) WHERE role = 1;
INSERT INTO {s}.meta (name, value) VALUES ('feed_pos', 0), ('feed_pruned', 0);
`,
	// 2: the audit trail of admin attempts (codes.AuditTrail).
	`
CREATE TABLE {s}.audit (
	seq bigint PRIMARY KEY,
	rec bytea  NOT NULL -- codes.AppendAuditRecord, as it is
);
-- The last record's seq and hash (seq 0: none yet). Appenders lock this
-- one row, which exists from the start, so they take turns.
CREATE TABLE {s}.audit_head (
	id   smallint PRIMARY KEY CHECK (id = 1),
	seq  bigint   NOT NULL,
	hash bytea    NOT NULL
);
INSERT INTO {s}.audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
`,
}

// quoteIdent quotes a schema name Config.Validate accepted.
func quoteIdent(s string) string { return `"` + s + `"` }

func fillSchema(sql, schema string) string { return strings.ReplaceAll(sql, "{s}", quoteIdent(schema)) }

// queries are the statements of one schema.
type queries struct {
	bootstrap, version, setVersion string

	get, history, scan                          string
	lockHeads, dups, stageKeys, lockStaged      string
	insHistory, insHeads, updHeads, insRequests string
	stageHeads, updFromStage                    string
	feedChanges, feedLinks, feedNote            string
	feedPos, readFeed, notes                    string
	prunedLock, pruneCut, prune, setPruned      string

	link, unlink, owners, linkAll, phonesOf, personsOf string

	auditHead, auditInsert, auditSetHead, auditRead string
}

// feedAppend takes the next position and appends a record, selecting
// its position: the counter's row lock, held from here to COMMIT, is
// what orders the records. $cond is an extra condition on the counter
// update (the record is appended only if it holds).
const feedAppend = `p AS (UPDATE {s}.meta SET value = value + 1 WHERE name = 'feed_pos' AND $cond RETURNING value),
f AS (INSERT INTO {s}.feed (pos, at, topic, body, changes, links) SELECT value, clock_timestamp(), $cols FROM p RETURNING pos)
SELECT pos, pg_notify('{channel}', pos::text)::text FROM f`

func buildQueries(schema string) queries {
	fill := func(sql string) string {
		sql = strings.ReplaceAll(sql, "{channel}", schema+"_feed")
		return fillSchema(sql, schema)
	}
	feed := func(prefix, cond, cols string) string {
		r := strings.NewReplacer("$cond", cond, "$cols", cols)
		return fill(prefix + r.Replace(feedAppend))
	}
	const heads = `unnest($1::bytea[], $2::int8[], $3::int2[], $4::int8[], $5::bytea[])`
	return queries{
		bootstrap: fill(`CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.meta (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO {s}.meta (name, value) VALUES ('schema_version', 0) ON CONFLICT (name) DO NOTHING`),
		version:    fill(`SELECT value FROM {s}.meta WHERE name = 'schema_version'`),
		setVersion: fill(`UPDATE {s}.meta SET value = $1 WHERE name = 'schema_version'`),

		get:     fill(`SELECT entry FROM {s}.history WHERE key = $1 ORDER BY seq DESC LIMIT 1`),
		history: fill(`SELECT entry FROM {s}.history WHERE key = $1 ORDER BY seq`),
		scan:    fill(`SELECT key, colour FROM {s}.heads`),

		lockHeads:  fill(`SELECT key, seq, colour, expires, hash FROM {s}.heads WHERE key = ANY($1) ORDER BY key FOR UPDATE`),
		stageKeys:  `CREATE TEMPORARY TABLE IF NOT EXISTS batch_keys (key bytea NOT NULL) ON COMMIT DELETE ROWS`,
		lockStaged: fill(`SELECT h.key, h.seq, h.colour, h.expires, h.hash FROM pg_temp.batch_keys k JOIN {s}.heads h ON h.key = k.key ORDER BY h.key FOR UPDATE OF h`),
		dups: fill(`SELECT q.key, q.rid FROM unnest($1::bytea[], $2::text[]) AS q(key, rid)
WHERE EXISTS (SELECT 1 FROM {s}.history h WHERE h.key = q.key AND h.request_id = q.rid AND h.request_id IS NOT NULL)
   OR EXISTS (SELECT 1 FROM {s}.requests r WHERE r.key = q.key AND r.request_id = q.rid)`),
		insHistory:  fill(`INSERT INTO {s}.history (key, seq, entry, request_id) SELECT * FROM unnest($1::bytea[], $2::int8[], $3::bytea[], $4::text[])`),
		insHeads:    fill(`INSERT INTO {s}.heads (key, seq, colour, expires, hash) SELECT * FROM ` + heads),
		updHeads:    fill(`UPDATE {s}.heads h SET seq = u.seq, colour = u.colour, expires = u.expires, hash = u.hash FROM ` + heads + ` AS u(key, seq, colour, expires, hash) WHERE h.key = u.key`),
		insRequests: fill(`INSERT INTO {s}.requests (key, request_id) SELECT * FROM unnest($1::bytea[], $2::text[])`),

		stageHeads:   `CREATE TEMPORARY TABLE IF NOT EXISTS heads_stage (key bytea NOT NULL, seq bigint NOT NULL, colour smallint NOT NULL, expires bigint NOT NULL, hash bytea NOT NULL) ON COMMIT DELETE ROWS`,
		updFromStage: fill(`UPDATE {s}.heads h SET seq = u.seq, colour = u.colour, expires = u.expires, hash = u.hash FROM pg_temp.heads_stage u WHERE h.key = u.key`),

		feedChanges: feed("WITH ", "true", "NULL, NULL, $1::bytea, NULL"),
		feedLinks:   feed("WITH ", "true", "NULL, NULL, NULL, $1::bytea"),
		feedNote:    feed("WITH ", "true", "$1::text, $2::bytea, NULL, NULL"),
		feedPos:     fill(`SELECT value FROM {s}.meta WHERE name = 'feed_pos'`),
		readFeed: fill(`SELECT m.value, f.pos, f.at, f.topic, f.body, f.changes, f.links FROM {s}.meta m
LEFT JOIN LATERAL (SELECT * FROM {s}.feed WHERE pos > $1 ORDER BY pos LIMIT $2) f ON true
WHERE m.name = 'feed_pruned' ORDER BY f.pos`),
		notes: fill(`SELECT pos, at, topic, body FROM {s}.feed WHERE topic IS NOT NULL AND pos > $1 AND pos <= $2 ORDER BY pos`),

		prunedLock: fill(`SELECT value FROM {s}.meta WHERE name = 'feed_pruned' FOR UPDATE`),
		pruneCut:   fill(`SELECT max(pos) FROM {s}.feed WHERE pos > $2 AND pos <= $3 AND at < $1`),
		prune:      fill(`DELETE FROM {s}.feed WHERE topic IS NULL AND pos > $1 AND pos <= $2`),
		setPruned:  fill(`UPDATE {s}.meta SET value = $1 WHERE name = 'feed_pruned'`),

		link: feed(`WITH l AS (INSERT INTO {s}.links (phone, person, role, since) VALUES ($1, $2, $3, $4)
	ON CONFLICT (phone, person) DO UPDATE SET role = excluded.role, since = excluded.since RETURNING person),
`, "EXISTS (SELECT 1 FROM l)", "NULL, NULL, NULL, $2::bytea"),
		unlink: feed(`WITH l AS (DELETE FROM {s}.links WHERE phone = $1 AND person = $2 RETURNING person),
`, "EXISTS (SELECT 1 FROM l)", "NULL, NULL, NULL, $2::bytea"),
		owners: fill(`SELECT phone, person FROM {s}.links WHERE role = 1 AND phone = ANY($1)`),
		linkAll: fill(`INSERT INTO {s}.links (phone, person, role, since)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int2[], $4::int8[]) AS u(phone, person, role, since) ORDER BY role DESC
ON CONFLICT (phone, person) DO UPDATE SET role = excluded.role, since = excluded.since`),
		phonesOf:  fill(`SELECT phone, person, role, since FROM {s}.links WHERE person = $1 ORDER BY phone`),
		personsOf: fill(`SELECT phone, person, role, since FROM {s}.links WHERE phone = $1 ORDER BY person`),

		auditHead:    fill(`SELECT seq, hash FROM {s}.audit_head WHERE id = 1 FOR UPDATE`),
		auditInsert:  fill(`INSERT INTO {s}.audit (seq, rec) SELECT * FROM unnest($1::int8[], $2::bytea[])`),
		auditSetHead: fill(`UPDATE {s}.audit_head SET seq = $1, hash = $2 WHERE id = 1`),
		auditRead:    fill(`SELECT seq, rec FROM {s}.audit WHERE seq > $1 ORDER BY seq LIMIT $2`),
	}
}
