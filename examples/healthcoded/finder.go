package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/console"
)

// finder keeps a contacttrace index of the scan log for the console's
// person finder. It is built at start from scans.csv (the demo scans and
// those recorded by POST /v1/scans) and brought up to date before each
// query: the scans appended since are read from where the last read
// stopped and merged in. Queries run on an immutable snapshot, so they
// never wait for a merge, and merges are serialised. Safe for concurrent
// use.
type finder struct {
	scansPath, venuesPath string
	log                   *slog.Logger

	mu  sync.Mutex // serialises refresh
	cur atomic.Pointer[traceState]
}

// traceState is one immutable snapshot: the index and the mappings
// between the log's strings and the index's dense ids.
type traceState struct {
	ix     *contacttrace.Index
	tr     *contacttrace.Tracer
	names  *contacttrace.VenueNames
	offset int64 // bytes of scans.csv read

	persons   []string          // dense id -> key (hex)
	personIdx map[string]uint32 // key (hex) -> dense id
	venues    []string          // dense id -> venue code
	venueIdx  map[string]uint32
	venueName []string // dense id -> display name (the code when unnamed)
	named     map[string]string
}

func newFinder(ctx context.Context, scansPath, venuesPath string, log *slog.Logger) (*finder, error) {
	named, err := readVenueNames(venuesPath)
	if err != nil {
		return nil, err
	}
	f := &finder{scansPath: scansPath, venuesPath: venuesPath, log: log}
	f.cur.Store(&traceState{personIdx: map[string]uint32{}, venueIdx: map[string]uint32{}, named: named})
	if _, err := f.refresh(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// refresh merges the scans appended to the log since the last read and
// returns the current snapshot.
func (f *finder) refresh(ctx context.Context) (*traceState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.cur.Load()
	file, err := os.Open(f.scansPath)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() <= st.offset && st.ix != nil {
		return st, nil
	}
	buf := make([]byte, fi.Size()-st.offset)
	if _, err := file.ReadAt(buf, st.offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// A line still being written is left for the next read.
	buf = buf[:bytes.LastIndexByte(buf, '\n')+1]
	next := &traceState{offset: st.offset + int64(len(buf)), persons: st.persons, venues: st.venues, venueName: st.venueName,
		personIdx: maps.Clone(st.personIdx), venueIdx: maps.Clone(st.venueIdx), named: st.named, names: st.names}
	var scans []contacttrace.Scan
	bad := 0
	rd := csv.NewReader(bytes.NewReader(buf))
	rd.FieldsPerRecord = -1
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) != 3 {
			bad++
			continue
		}
		t, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			if rec[0] != "time" {
				bad++
			}
			continue
		}
		p, ok := next.personIdx[rec[2]]
		if !ok {
			p = uint32(len(next.persons))
			next.persons = append(next.persons, rec[2])
			next.personIdx[rec[2]] = p
		}
		v, ok := next.venueIdx[rec[1]]
		if !ok {
			v = uint32(len(next.venues))
			next.venues = append(next.venues, rec[1])
			next.venueIdx[rec[1]] = v
			name := next.named[rec[1]]
			if name == "" {
				name = rec[1]
			}
			next.venueName = append(next.venueName, name)
		}
		scans = append(scans, contacttrace.Scan{Person: p, Venue: v, Time: t})
	}
	if bad > 0 {
		f.log.Warn("finder: unreadable lines in the scan log", "lines", bad)
	}
	cfg := contacttrace.Config{Logger: f.log}
	switch {
	case st.ix == nil:
		next.ix, err = contacttrace.Build(ctx, scans, cfg)
	case len(scans) == 0:
		next.ix = st.ix
	default:
		next.ix, err = st.ix.Append(ctx, scans, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("finder: index: %w", err)
	}
	if next.tr, err = contacttrace.NewTracer(next.ix, nil, cfg); err != nil {
		return nil, fmt.Errorf("finder: %w", err)
	}
	if next.names == nil || len(next.venues) != len(st.venues) {
		list := make([]contacttrace.VenueName, len(next.venues))
		for i, n := range next.venueName {
			list[i] = contacttrace.VenueName{ID: uint32(i), Name: n}
		}
		if next.names, err = contacttrace.NewVenueNames(ctx, list, cfg); err != nil {
			return nil, fmt.Errorf("finder: venue names: %w", err)
		}
	}
	f.cur.Store(next)
	return next, nil
}

// maskKey shows enough of a pseudonym to tell rows apart, not to look it
// up: "3fa2c1…9e0b".
func maskKey(k string) string {
	if len(k) < 12 {
		return "…"
	}
	return k[:6] + "…" + k[len(k)-4:]
}

var _ console.FinderBackend = consoleBackend{}

func (b consoleBackend) FindVenues(ctx context.Context, query string, k int) ([]console.VenueView, error) {
	st, err := b.a.finder.refresh(ctx)
	if err != nil {
		return nil, err
	}
	var out []console.VenueView
	for _, m := range st.names.Search(query, k) {
		out = append(out, console.VenueView{ID: st.venues[m.ID], Name: m.Name})
	}
	return out, nil
}

// Find runs a person-finder query on the current index and audits it
// (action "console_finder", the case's pseudonym as target).
func (b consoleBackend) Find(ctx context.Context, p console.Principal, q console.FinderQuery, client string) (console.FinderResult, error) {
	a := b.a
	rec := codes.AuditRecord{At: a.now(), Node: a.cfg.Node, Role: "auditor|transcoder", Action: "console_finder", Client: client, Actor: p.Actor}
	res, outcome, err := b.find(ctx, q, &rec)
	rec.Outcome = outcome
	a.record(ctx, rec)
	return res, err
}

func (b consoleBackend) find(ctx context.Context, q console.FinderQuery, rec *codes.AuditRecord) (console.FinderResult, string, error) {
	a := b.a
	st, err := a.finder.refresh(ctx)
	if err != nil {
		return console.FinderResult{}, "error", err
	}
	ct := contacttrace.Query{Since: q.Since, Until: q.Until, Before: q.Before, After: q.After, Depth: q.Depth,
		MaxPerWindow: q.MaxPerWindow, MaxPerHop: q.MaxPerHop}
	var res console.FinderResult
	if q.Who != (console.Who{}) {
		key, _, masked, err := a.key(who{ID: q.Who.ID, DocType: q.Who.DocType, Phone: q.Who.Phone})
		if err != nil {
			rec.Detail = "bad identity"
			return res, "invalid", consoleFieldError(err)
		}
		rec.Target = key.String()
		id, ok := st.personIdx[key.String()]
		if !ok {
			field := "id"
			if q.Who.ID == "" {
				field = "phone"
			}
			rec.Detail = "no scans"
			return res, "invalid", &console.FieldError{Field: field, Msg: "no scans recorded for this person"}
		}
		ct.Cases, res.Case = []uint32{id}, masked
	}
	for _, v := range q.Visits {
		id, ok := st.venueIdx[v.Venue]
		if !ok {
			rec.Detail = "unknown venue"
			return res, "invalid", &console.FieldError{Field: "venue", Msg: fmt.Sprintf("unknown venue %q", v.Venue)}
		}
		ct.Visits = append(ct.Visits, contacttrace.Visit{Venue: id, From: v.From, To: v.To})
	}
	if err := ct.Validate(); err != nil {
		rec.Detail = "bad query"
		return res, "invalid", &console.FieldError{Field: "id", Msg: err.Error()}
	}
	start := time.Now()
	r, err := st.tr.Trace(ctx, ct)
	if err != nil {
		return res, "error", fmt.Errorf("finder: %w", err)
	}
	res.Took = time.Since(start)
	res.Contacts = make([]console.ContactView, len(r.Contacts))
	for i, c := range r.Contacts {
		v := console.ContactView{Hop: int(c.Hop), Person: maskKey(st.persons[c.Person]), Venue: st.venues[c.Venue],
			VenueName: st.venueName[c.Venue], Time: time.Unix(c.Time, 0), ViaTime: time.Unix(c.ViaTime, 0)}
		if c.Via != contacttrace.NoPerson {
			v.Via = maskKey(st.persons[c.Via])
		}
		res.Contacts[i] = v
	}
	for _, h := range r.Hops {
		res.Hops = append(res.Hops, console.HopView{Hop: h.Hop, Windows: h.Windows, Contacts: h.Contacts,
			CappedWindows: h.CappedWindows, CutByWindow: h.CutByWindow, CutByHop: h.CutByHop})
	}
	rec.Detail = fmt.Sprintf("%d contacts, depth %d, %d cut", len(r.Contacts), max(q.Depth, 1), r.Cut())
	return res, "ok", nil
}
