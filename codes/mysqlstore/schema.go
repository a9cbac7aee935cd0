package mysqlstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

// migrations are the layouts in order: migrations[v] takes the tables at
// version v to v+1. Append only; never edit one that shipped. Each is a
// list of statements, each safe to run again (CREATE TABLE IF NOT EXISTS,
// INSERT IGNORE), because MySQL commits DDL at once: a migration that
// stopped half way is finished by the next Open. {p} stands for the
// table prefix.
//
// The SQL is the common subset of MySQL 5.7+, MariaDB 10.3+, TiDB and
// OceanBase's MySQL mode. /*T![clustered_index] CLUSTERED */ is a
// comment everywhere but TiDB, where it stores rows in primary-key order
// (random HMAC keys spread the writes over the cluster instead of piling
// them onto a hidden row id).
var migrations = [][]string{
	// 1: the first layout.
	{
		`CREATE TABLE IF NOT EXISTS {p}heads (
	` + "`key`" + `  VARBINARY(16)    NOT NULL,
	seq     BIGINT           NOT NULL,
	colour  TINYINT UNSIGNED NOT NULL,
	expires BIGINT           NOT NULL COMMENT 'Unix nanoseconds; 0: none',
	hash    VARBINARY(32)    NOT NULL,
	PRIMARY KEY (` + "`key`" + `) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS {p}history (
	` + "`key`" + `     VARBINARY(16)  NOT NULL,
	seq        BIGINT         NOT NULL,
	entry      BLOB           NOT NULL COMMENT 'codes.AppendEntry',
	request_id VARBINARY(128) NULL,
	PRIMARY KEY (` + "`key`" + `, seq) /*T![clustered_index] CLUSTERED */,
	UNIQUE KEY history_request (` + "`key`" + `, request_id)
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS {p}requests (
	` + "`key`" + `     VARBINARY(16)  NOT NULL,
	request_id VARBINARY(128) NOT NULL,
	PRIMARY KEY (` + "`key`" + `, request_id) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB COMMENT 'RequestIDs of changes that appended nothing'`,
		`CREATE TABLE IF NOT EXISTS {p}feed (
	pos      BIGINT        NOT NULL,
	at       BIGINT        NOT NULL COMMENT 'Unix microseconds, by the database clock',
	topic    VARBINARY(128) NULL COMMENT 'notes only',
	body     LONGBLOB      NULL COMMENT 'notes only',
	changes  LONGBLOB      NULL COMMENT 'key (16 bytes) + colour (1 byte) per changed key',
	links    LONGBLOB      NULL COMMENT 'person keys, 16 bytes each',
	note_pos BIGINT AS (IF(topic IS NULL, NULL, pos)) STORED,
	PRIMARY KEY (pos) /*T![clustered_index] CLUSTERED */,
	KEY feed_notes (note_pos)
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS {p}links (
	phone       VARBINARY(16)    NOT NULL,
	person      VARBINARY(16)    NOT NULL,
	role        TINYINT UNSIGNED NOT NULL,
	since       BIGINT           NULL COMMENT 'Unix nanoseconds; NULL: zero time',
	owner_phone VARBINARY(16) AS (IF(role = 1, phone, NULL)) STORED,
	PRIMARY KEY (phone, person) /*T![clustered_index] CLUSTERED */,
	KEY links_person (person, phone),
	UNIQUE KEY links_owner (owner_phone)
) ENGINE=InnoDB`,
		`INSERT IGNORE INTO {p}meta (name, value) VALUES ('feed_pos', 0), ('feed_pruned', 0)`,
	},
	// 2: the audit trail of admin attempts (codes.AuditTrail). audit_head
	// is one row, the trail's last seq and hash (seq 0: none yet), which
	// exists from the start so that appenders can lock it and take turns.
	// The CHECK is enforced by MySQL 8.0.16+ and MariaDB, parsed and
	// ignored by MySQL 5.7 and TiDB: the store writes only id 1.
	{
		`CREATE TABLE IF NOT EXISTS {p}audit (
	seq BIGINT   NOT NULL,
	rec LONGBLOB NOT NULL COMMENT 'codes.AppendAuditRecord, as it is',
	PRIMARY KEY (seq) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB`,
		`CREATE TABLE IF NOT EXISTS {p}audit_head (
	id   TINYINT UNSIGNED NOT NULL,
	seq  BIGINT           NOT NULL,
	hash BINARY(32)       NOT NULL,
	PRIMARY KEY (id) /*T![clustered_index] CLUSTERED */,
	CHECK (id = 1)
) ENGINE=InnoDB COMMENT 'last seq and hash of the audit trail'`,
		`INSERT IGNORE INTO {p}audit_head (id, seq, hash) VALUES (1, 0, X'` + strings.Repeat("00", 32) + `')`,
	},
}

// tables are the quoted names of one prefix's tables.
type tables struct {
	prefix                                      string
	meta, heads, history, requests, feed, links string
	audit, auditHead                            string
}

func newTables(prefix string) tables {
	q := func(name string) string { return "`" + prefix + name + "`" }
	return tables{prefix: prefix, meta: q("meta"), heads: q("heads"), history: q("history"),
		requests: q("requests"), feed: q("feed"), links: q("links"), audit: q("audit"), auditHead: q("audit_head")}
}

// bootstrap creates the meta table, which records the version.
const bootstrap = `CREATE TABLE IF NOT EXISTS {p}meta (
	name  VARBINARY(64) NOT NULL,
	value BIGINT        NOT NULL,
	PRIMARY KEY (name) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB`

// fill replaces each {p}name in sql with the quoted name of the table.
func (t tables) fill(sql string) string {
	var b strings.Builder
	for {
		i := strings.Index(sql, "{p}")
		if i < 0 {
			b.WriteString(sql)
			return b.String()
		}
		b.WriteString(sql[:i])
		sql = sql[i+3:]
		j := 0
		for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z') {
			j++
		}
		b.WriteString("`" + t.prefix + sql[:j] + "`")
		sql = sql[j:]
	}
}

// lockName is the GET_LOCK name that serialises migrations of one prefix
// in one database: at most 64 characters, whatever their lengths.
func lockName(db, prefix string) string {
	sum := sha1.Sum([]byte("healthcode/mysqlstore/" + db + "/" + prefix))
	return "hc_migrate_" + hex.EncodeToString(sum[:])
}

// migrate brings the tables to the layout of this code, under a named
// lock held by one connection, so that Stores opening at once take turns.
// An engine without GET_LOCK migrates without it: every statement is
// safe to run twice.
func (s *Store) migrate(ctx context.Context) error {
	c, cancel := s.bound(ctx)
	conn, err := s.db.Conn(c)
	cancel()
	if err != nil {
		return s.failConnect(ctx, err)
	}
	defer conn.Close()
	// query runs one statement under its own QueryTimeout (plus extra,
	// for GET_LOCK's own wait), scanning its row into dest if any.
	query := func(sql string, extra time.Duration, dest ...any) error {
		c, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout+extra)
		defer cancel()
		sql = s.t.fill(sql)
		if len(dest) == 0 {
			_, err := conn.ExecContext(c, sql)
			return err
		}
		return conn.QueryRowContext(c, sql).Scan(dest...)
	}
	var db string
	if err := query("SELECT DATABASE()", 0, &db); err != nil {
		return s.failConnect(ctx, err)
	}
	name := lockName(db, s.cfg.TablePrefix)
	wait := int(max(s.cfg.QueryTimeout.Seconds(), 1))
	var got *int64
	err = query(fmt.Sprintf("SELECT GET_LOCK('%s', %d)", name, wait), time.Duration(wait)*time.Second, &got)
	switch {
	case errorNumber(err) == erFunctionMissing:
		s.log.Warn("mysqlstore: the database has no GET_LOCK; migrating without it")
	case err != nil:
		return s.fail(ctx, "migrate: take the migration lock", err)
	case got == nil || *got != 1:
		return fmt.Errorf("mysqlstore: migrate: another node held the migration lock for %ds: %w: %w", wait, codes.ErrUnavailable, context.DeadlineExceeded)
	default:
		defer func() {
			c, cancel := s.bound(context.Background())
			defer cancel()
			_, _ = conn.ExecContext(c, fmt.Sprintf("DO RELEASE_LOCK('%s')", name))
		}()
	}
	if err := query(bootstrap, 0); err != nil {
		return s.fail(ctx, "migrate", err)
	}
	if err := query(`INSERT IGNORE INTO {p}meta (name, value) VALUES ('schema_version', 0)`, 0); err != nil {
		return s.fail(ctx, "migrate", err)
	}
	var have int
	if err := query(`SELECT value FROM {p}meta WHERE name = 'schema_version'`, 0, &have); err != nil {
		return s.fail(ctx, "migrate", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("%w: tables %s* of database %s are at version %d, this code knows versions up to %d", ErrSchemaTooNew, s.cfg.TablePrefix, db, have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		for i, sql := range migrations[v] {
			if err := query(sql, 0); err != nil {
				return s.fail(ctx, fmt.Sprintf("migration to version %d, statement %d", v+1, i+1), err)
			}
		}
		if err := query(fmt.Sprintf(`UPDATE {p}meta SET value = %d WHERE name = 'schema_version' AND value < %d`, v+1, v+1), 0); err != nil {
			return s.fail(ctx, fmt.Sprintf("migration to version %d", v+1), err)
		}
	}
	s.log.Info("mysqlstore: opened", "addr", s.addr, "database", db, "prefix", s.cfg.TablePrefix, "version", len(migrations), "migrated_from", have)
	return nil
}
