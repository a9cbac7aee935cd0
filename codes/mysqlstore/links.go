package mysqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/healthcode-sdk/healthcode/codes"
)

// ownerTaken reports whether err is the unique index that allows one
// owner a phone refusing a second.
func ownerTaken(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == erDupEntry && strings.Contains(me.Message, "links_owner")
}

// linkRow is a link as the values of a row of links.
func linkRow(q *script, l *codes.Link) {
	q.str("(").hex(l.Phone[:]).str(",").hex(l.Person[:]).str(",").int(int64(l.Role)).str(",")
	if l.Since.IsZero() {
		q.str("NULL")
	} else {
		q.int(l.Since.UnixNano())
	}
	q.str(")")
}

// Link implements codes.LinkStore in one round trip: the pair's old row
// is deleted and the link inserted, with its feed record, in one
// transaction. A second owner of a phone fails with an error wrapping
// codes.ErrPhoneOwned: a unique index on a generated column that holds
// the phone of owners only (MySQL has no partial indexes) makes that hold
// across nodes. Delete and insert rather than an upsert, because INSERT
// ... ON DUPLICATE KEY UPDATE would update the other owner's row when
// the owner index is the one that clashes.
func (s *Store) Link(ctx context.Context, l codes.Link) error {
	if err := codes.ValidateLink(l); err != nil {
		return err
	}
	err := s.retry(ctx, "link", func() error {
		t, err := s.takeConn(ctx)
		if err != nil {
			return err
		}
		defer t.close()
		w := s.newWriter(ctx, t)
		defer w.wait()
		var q script
		q.str(beginTx).str("DELETE FROM ").str(s.t.links).str(" WHERE phone = ").hex(l.Phone[:]).str(" AND person = ").hex(l.Person[:]).
			str(";INSERT INTO ").str(s.t.links).str(" (phone, person, role, since) VALUES ")
		linkRow(&q, &l)
		if err := w.stmt(q.String()); err != nil {
			return err
		}
		if err := s.writeFeed(w, "links", l.Person[:], 16); err != nil {
			return err
		}
		err = w.commit()
		if ownerTaken(err) {
			return fmt.Errorf("phone %s: %w", l.Phone.String()[:12], codes.ErrPhoneOwned)
		}
		return err
	})
	if errors.Is(err, codes.ErrPhoneOwned) {
		return fmt.Errorf("mysqlstore: link: %w", err)
	}
	return s.fail(ctx, "link", err)
}

// Unlink implements codes.LinkStore; it appends a feed record if the link
// existed.
func (s *Store) Unlink(ctx context.Context, phone, person codes.Key) error {
	err := s.retry(ctx, "unlink", func() error {
		t, err := s.takeConn(ctx)
		if err != nil {
			return err
		}
		defer t.close()
		var q script
		q.str(beginTx).str("DELETE FROM ").str(s.t.links).str(" WHERE phone = ").hex(phone[:]).str(" AND person = ").hex(person[:])
		t.open = true
		c, cancel := s.bound(ctx)
		res, err := t.conn.ExecContext(c, q.String())
		cancel()
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return t.commit(ctx, 0, "ROLLBACK")
		}
		w := s.newWriter(ctx, t)
		defer w.wait()
		if err := s.writeFeed(w, "links", person[:], 16); err != nil {
			return err
		}
		return w.commit()
	})
	return s.fail(ctx, "unlink", err)
}

// LinkAll records many links in one transaction, as a first load of a
// registry's phones needs, with one feed record naming every person (or
// several consecutive ones, past 65 536 persons). It is all or nothing:
// an invalid link, or a second owner of a phone (in the store or earlier
// in links), refuses the whole batch with an error naming its index, and
// nothing is written. Links are applied in order, so a later link of the
// same pair wins, and an owner turned proxy earlier in the batch frees
// the phone for another.
func (s *Store) LinkAll(ctx context.Context, links []codes.Link) error {
	for i, l := range links {
		if err := codes.ValidateLink(l); err != nil {
			return fmt.Errorf("mysqlstore: link %d: %w", i, err)
		}
	}
	if len(links) == 0 {
		return ctx.Err()
	}
	var refused error
	err := s.retry(ctx, "link all", func() error {
		var err error
		refused, err = s.linkAllOnce(ctx, links)
		return err
	})
	if refused != nil {
		return refused
	}
	return s.fail(ctx, "link all", err)
}

type pair struct{ phone, person codes.Key }

func (s *Store) linkAllOnce(ctx context.Context, links []codes.Link) (refused, err error) {
	var phones []codes.Key
	seen := map[codes.Key]bool{}
	for i := range links {
		if p := links[i].Phone; !seen[p] {
			seen[p] = true
			phones = append(phones, p)
		}
	}
	slices.SortFunc(phones, func(a, b codes.Key) int { return bytes.Compare(a[:], b[:]) })
	t, err := s.takeConn(ctx)
	if err != nil {
		return nil, err
	}
	defer t.close()
	// Every link of the batch's phones, locked, so that what the checks
	// below see holds until COMMIT; an owner another node adds meanwhile
	// makes the write fail on the owner index, and the next attempt sees
	// it.
	owner := map[codes.Key]codes.Key{}
	exists := map[pair]bool{}
	r := &reader{t: t, ctx: ctx, first: true}
	var q script
	readLinks := func(rows *sql.Rows) error {
		for rows.Next() {
			var ph, pe sql.RawBytes
			var role uint8
			if err := rows.Scan(&ph, &pe, &role); err != nil {
				return err
			}
			if len(ph) != 16 || len(pe) != 16 {
				return fmt.Errorf("mysqlstore: links: %w", codes.ErrCorrupt)
			}
			exists[pair{codes.Key(ph), codes.Key(pe)}] = true
			if codes.Role(role) == codes.RoleOwner {
				owner[codes.Key(ph)] = codes.Key(pe)
			}
		}
		return nil
	}
	for chunk := range slices.Chunk(phones, s.inChunk()) {
		q.reset()
		q.str("SELECT phone, person, role FROM ").str(s.t.links).str(" WHERE phone IN (")
		for i := range chunk {
			if i > 0 {
				q.str(",")
			}
			q.hex(chunk[i][:])
		}
		q.str(") ORDER BY phone, person FOR UPDATE")
		if err := r.add(q.b, len(chunk), readLinks); err != nil {
			return nil, err
		}
	}
	if err := r.send(); err != nil {
		return nil, err
	}
	last := map[pair]int{}
	for i, l := range links {
		o, owned := owner[l.Phone]
		switch {
		case l.Role == codes.RoleOwner && owned && o != l.Person:
			return fmt.Errorf("mysqlstore: link %d: phone %s: %w", i, l.Phone.String()[:12], codes.ErrPhoneOwned), nil
		case l.Role == codes.RoleOwner:
			owner[l.Phone] = l.Person
		case owned && o == l.Person:
			delete(owner, l.Phone)
		}
		last[pair{l.Phone, l.Person}] = i
	}
	// The last link of each pair: proxies first (an owner turned proxy
	// frees its phone), then owners; for each role, the pairs that exist
	// are updated by primary key, one statement each (an upsert would
	// update another owner's row when the owner index is the one that
	// clashes, and a multi-row DELETE by (phone, person) pairs plans
	// badly beside the index on (person, phone)), and the new ones
	// inserted in multi-row statements.
	var final []*codes.Link
	for i := range links {
		if last[pair{links[i].Phone, links[i].Person}] == i {
			final = append(final, &links[i])
		}
	}
	w := s.newWriter(ctx, t)
	defer w.wait()
	var row script
	for _, role := range []codes.Role{codes.RoleProxy, codes.RoleOwner} {
		for _, l := range final {
			if l.Role != role || !exists[pair{l.Phone, l.Person}] {
				continue
			}
			row.reset()
			row.str("UPDATE ").str(s.t.links).str(" SET role = ").int(int64(l.Role)).str(", since = ")
			if l.Since.IsZero() {
				row.str("NULL")
			} else {
				row.int(l.Since.UnixNano())
			}
			row.str(" WHERE phone = ").hex(l.Phone[:]).str(" AND person = ").hex(l.Person[:])
			if err := w.stmt(row.String()); err != nil {
				return nil, err
			}
		}
		w.begin("INSERT INTO "+s.t.links+" (phone, person, role, since) VALUES ", "")
		for _, l := range final {
			if l.Role != role || exists[pair{l.Phone, l.Person}] {
				continue
			}
			row.reset()
			linkRow(&row, l)
			if err := w.row(row.b); err != nil {
				return nil, err
			}
		}
	}
	persons := make([]codes.Key, 0, len(final))
	for _, l := range final {
		persons = append(persons, l.Person)
	}
	slices.SortFunc(persons, func(a, b codes.Key) int { return bytes.Compare(a[:], b[:]) })
	persons = slices.Compact(persons)
	packed := make([]byte, 0, 16*len(persons))
	for _, p := range persons {
		packed = append(packed, p[:]...)
	}
	if err := s.writeFeed(w, "links", packed, 16); err != nil {
		return nil, err
	}
	return nil, w.commit()
}

// PhonesOf implements codes.LinkStore.
func (s *Store) PhonesOf(ctx context.Context, person codes.Key) ([]codes.Link, error) {
	var q script
	q.str("SELECT phone, person, role, since FROM ").str(s.t.links).str(" WHERE person = ").hex(person[:]).str(" ORDER BY phone")
	return s.links(ctx, "phones of", q.String())
}

// PersonsOf implements codes.LinkStore.
func (s *Store) PersonsOf(ctx context.Context, phone codes.Key) ([]codes.Link, error) {
	var q script
	q.str("SELECT phone, person, role, since FROM ").str(s.t.links).str(" WHERE phone = ").hex(phone[:]).str(" ORDER BY person")
	return s.links(ctx, "persons of", q.String())
}

func (s *Store) links(ctx context.Context, op, query string) ([]codes.Link, error) {
	c, cancel := s.bound(ctx)
	defer cancel()
	out := []codes.Link{}
	err := queryConn(c, s.db, query, func(rows *sql.Rows) error {
		for rows.Next() {
			var ph, pe sql.RawBytes
			var role uint8
			var at sql.NullInt64
			if err := rows.Scan(&ph, &pe, &role, &at); err != nil {
				return err
			}
			if len(ph) != 16 || len(pe) != 16 {
				return fmt.Errorf("mysqlstore: link: %w", codes.ErrCorrupt)
			}
			l := codes.Link{Phone: codes.Key(ph), Person: codes.Key(pe), Role: codes.Role(role)}
			if at.Valid {
				l.Since = time.Unix(0, at.Int64).UTC()
			}
			out = append(out, l)
		}
		return nil
	})
	if errors.Is(err, codes.ErrCorrupt) {
		return nil, err
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}
