package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func since(t time.Time) pgtype.Int8 {
	if t.IsZero() {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: t.UnixNano(), Valid: true}
}

// ownerTaken reports whether err is the unique index that allows one
// owner a phone refusing a second.
func ownerTaken(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "links_owner"
}

// Link implements codes.LinkStore in one statement that writes the link
// and its feed record. A second owner of a phone fails with an error
// wrapping codes.ErrPhoneOwned; a unique index on the owners of phones
// makes that hold across nodes.
func (s *Store) Link(ctx context.Context, l codes.Link) error {
	if err := codes.ValidateLink(l); err != nil {
		return err
	}
	err := s.retry(ctx, "link", func() error {
		c, cancel := s.bound(ctx, 0)
		defer cancel()
		_, err := s.pool.Exec(c, s.q.link, l.Phone[:], l.Person[:], int16(l.Role), since(l.Since))
		if ownerTaken(err) {
			return fmt.Errorf("phone %s: %w", l.Phone.String()[:12], codes.ErrPhoneOwned)
		}
		return err
	})
	return s.fail(ctx, "link", err)
}

// Unlink implements codes.LinkStore; it appends a feed record if the link
// existed.
func (s *Store) Unlink(ctx context.Context, phone, person codes.Key) error {
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	_, err := s.pool.Exec(c, s.q.unlink, phone[:], person[:])
	return s.fail(ctx, "unlink", err)
}

// LinkAll records many links in one transaction, as a first load of a
// registry's phones needs, with one feed record naming every person. It
// is all or nothing: an invalid link, or a second owner of a phone (in the
// store or earlier in links), refuses the whole batch with an error naming
// its index, and nothing is written. Links are applied in order, so a
// later link of the same pair wins, and an owner turned proxy earlier in
// the batch frees the phone for another.
func (s *Store) LinkAll(ctx context.Context, links []codes.Link) error {
	for i, l := range links {
		if err := codes.ValidateLink(l); err != nil {
			return fmt.Errorf("pgstore: link %d: %w", i, err)
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
	var phones [][]byte
	seen := map[codes.Key]bool{}
	for i := range links {
		if p := &links[i].Phone; !seen[*p] {
			seen[*p] = true
			phones = append(phones, p[:])
		}
	}
	c, cancel := s.bound(ctx, len(links))
	defer cancel()
	conn, err := s.pool.Acquire(c)
	if err != nil {
		return nil, err
	}
	defer s.rollback(conn)
	owner := map[codes.Key]codes.Key{}
	read := &pgx.Batch{}
	read.Queue("BEGIN")
	read.Queue(s.q.owners, phones).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var ph, pe []byte
			if err := rows.Scan(&ph, &pe); err != nil {
				return err
			}
			owner[codes.Key(ph)] = codes.Key(pe)
		}
		return rows.Err()
	})
	if err := conn.SendBatch(c, read).Close(); err != nil {
		return nil, err
	}
	last := map[pair]int{}
	for i, l := range links {
		o, owned := owner[l.Phone]
		switch {
		case l.Role == codes.RoleOwner && owned && o != l.Person:
			return fmt.Errorf("pgstore: link %d: phone %s: %w", i, l.Phone.String()[:12], codes.ErrPhoneOwned), nil
		case l.Role == codes.RoleOwner:
			owner[l.Phone] = l.Person
		case owned && o == l.Person:
			delete(owner, l.Phone)
		}
		last[pair{l.Phone, l.Person}] = i
	}
	var ph, pe [][]byte
	var roles []int16
	var sinces []pgtype.Int8
	var persons []codes.Key
	for i, l := range links {
		if last[pair{l.Phone, l.Person}] != i {
			continue
		}
		ph, pe = append(ph, links[i].Phone[:]), append(pe, links[i].Person[:])
		roles, sinces = append(roles, int16(l.Role)), append(sinces, since(l.Since))
		persons = append(persons, l.Person)
	}
	slices.SortFunc(persons, func(a, b codes.Key) int { return bytes.Compare(a[:], b[:]) })
	persons = slices.Compact(persons)
	packed := make([]byte, 0, 16*len(persons))
	for _, p := range persons {
		packed = append(packed, p[:]...)
	}
	write := &pgx.Batch{}
	write.Queue(s.q.linkAll, ph, pe, roles, sinces)
	write.Queue(s.q.feedLinks, packed)
	write.Queue("COMMIT")
	return nil, conn.SendBatch(c, write).Close()
}

// PhonesOf implements codes.LinkStore.
func (s *Store) PhonesOf(ctx context.Context, person codes.Key) ([]codes.Link, error) {
	return s.links(ctx, "phones of", s.q.phonesOf, person)
}

// PersonsOf implements codes.LinkStore.
func (s *Store) PersonsOf(ctx context.Context, phone codes.Key) ([]codes.Link, error) {
	return s.links(ctx, "persons of", s.q.personsOf, phone)
}

func (s *Store) links(ctx context.Context, op, sql string, key codes.Key) ([]codes.Link, error) {
	c, cancel := s.bound(ctx, 0)
	defer cancel()
	rows, err := s.pool.Query(c, sql, key[:])
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	out := []codes.Link{}
	for rows.Next() {
		var ph, pe []byte
		var role int16
		var at pgtype.Int8
		if err := rows.Scan(&ph, &pe, &role, &at); err != nil {
			return nil, s.fail(ctx, op, err)
		}
		if len(ph) != 16 || len(pe) != 16 {
			return nil, fmt.Errorf("pgstore: link: %w", codes.ErrCorrupt)
		}
		l := codes.Link{Phone: codes.Key(ph), Person: codes.Key(pe), Role: codes.Role(role)}
		if at.Valid {
			l.Since = time.Unix(0, at.Int64).UTC()
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}
