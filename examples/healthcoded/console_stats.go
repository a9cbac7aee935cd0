package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/console"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// The console's statistics page, the parts after the codes issued: venue
// statistics over the finder's scan index, and the red/yellow users list
// (tender 2.2.7, 2.3.2).

// topVenues is how many venues each ranking shows.
const topVenues = 10

// venueStats counts the scans of the finder's current index over the
// statistics' days (today and the demoDays before, Asia/Shanghai days):
// one binary search per venue for the window, then one pass over the
// window's scans (30 k in the 10 k-person demo: about a millisecond), so
// nothing is cached. Nil without a scan log.
func (b consoleBackend) venueStats(ctx context.Context, now time.Time) (*console.VenueStats, error) {
	if b.a.finder == nil {
		return nil, nil
	}
	st, err := b.a.finder.refresh(ctx)
	if err != nil {
		return nil, fmt.Errorf("venue statistics: %w", err)
	}
	return venueStatsOf(st, now, demoDays+1), nil
}

// venueStatsOf computes the venue statistics of st over days days ending
// with now's. A pure function of its inputs.
func venueStatsOf(st *traceState, now time.Time, days int) *console.VenueStats {
	y, m, d := now.In(shanghai).Date()
	first := time.Date(y, m, d-(days-1), 0, 0, 0, 0, shanghai)
	end := time.Date(y, m, d+1, 0, 0, 0, 0, shanghai).Add(-time.Second) // the last second of today
	v := &console.VenueStats{Registered: len(st.named), Days: make([]console.VenueDay, days)}
	for i := range v.Days {
		v.Days[i].Date = dayOf(first.AddDate(0, 0, i))
	}
	if st.segs == nil {
		return v
	}
	var today, week []console.VenueRank
	var buf []contacttrace.Scan
	for id := range len(st.venues) {
		buf = st.segs.VenueScans(buf[:0], uint32(id), first, end)
		if len(buf) == 0 {
			continue
		}
		v.Active++
		nToday, nWeek := 0, 0
		for _, s := range buf {
			// Shanghai has no daylight saving: a day is 86 400 s.
			i := int((s.Time - first.Unix()) / 86400)
			v.Days[i].Scans++
			if i == days-1 {
				nToday++
			}
			if i >= days-7 {
				nWeek++
			}
		}
		r := console.VenueRank{Code: st.venues[id], Name: st.venueName[id]}
		if nToday > 0 {
			r.Scans = nToday
			today = append(today, r)
		}
		if nWeek > 0 {
			r.Scans = nWeek
			week = append(week, r)
		}
	}
	v.Today = v.Days[days-1].Scans
	v.TopToday, v.TopWeek = topRanked(today), topRanked(week)
	return v
}

// topRanked sorts rs, most scans first (ties by code), and keeps the
// first topVenues.
func topRanked(rs []console.VenueRank) []console.VenueRank {
	slices.SortFunc(rs, func(x, y console.VenueRank) int {
		return cmp.Or(cmp.Compare(y.Scans, x.Scans), cmp.Compare(x.Code, y.Code))
	})
	return rs[:min(len(rs), topVenues)]
}

var _ console.UsersBackend = consoleBackend{}

// Users lists the people red or yellow now, filtered and paged, and
// audits the view (action "console_users", the filter and the counts in
// the detail, no person).
//
// Cost. Each view scans every record's head (codes.Store.Scan), reads the
// head entry of each red or yellow one (Get), filters and sorts them in
// memory, and appends its audit record (a durable write): over the 10
// k-person demo, about 1 500 red or yellow, a few milliseconds besides the
// audit's write (BenchmarkStatsPages). All of it is
// linear in the population: a province of 80 million people, of whom a
// few hundred thousand red or yellow, would read 80 million heads per
// page. A real deployment keeps the list in the database as an index on
// (colour, region, rule, since) over the records in force, maintained as
// codes change, and pages it with a keyset (since, key) rather than an
// offset, so a page costs one index range read whatever the population.
// Not built here.
func (b consoleBackend) Users(ctx context.Context, p console.Principal, q console.UsersQuery, client string) (console.UsersResult, error) {
	a := b.a
	now := a.now()
	rec := codes.AuditRecord{At: now, Node: a.cfg.Node, Role: "auditor|transcoder", Action: "console_users", Client: client, Actor: p.Actor}
	res, err := b.users(ctx, q, now)
	rec.Outcome, rec.Detail = "ok", fmt.Sprintf("colour=%q region=%q rule=%q since=%q until=%q offset=%d: %d of %d",
		q.Colour, q.Region, q.Rule, q.Since, q.Until, q.Offset, len(res.Rows), res.Total)
	if err != nil {
		rec.Outcome = "error"
		var fe *console.FieldError
		if errors.As(err, &fe) {
			rec.Outcome = "invalid"
		}
	}
	a.record(ctx, rec)
	return res, err
}

var (
	usersRegionRE = regexp.MustCompile(`^[0-9]{2,6}$`)
	usersDayRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// manualRule is the rule the list shows for a transcode by hand.
const manualRule = "manual"

// users answers Users. The console checks the filter's form; this checks
// it again, since it is the authority.
func (b consoleBackend) users(ctx context.Context, q console.UsersQuery, now time.Time) (console.UsersResult, error) {
	a := b.a
	var res console.UsersResult
	var want codes.Colour
	switch q.Colour {
	case "":
	case "red", "yellow":
		want, _ = parseColour(q.Colour)
	default:
		return res, &console.FieldError{Field: "colour", Msg: fmt.Sprintf("want red or yellow, got %q", q.Colour)}
	}
	if q.Region != "" && !usersRegionRE.MatchString(q.Region) {
		return res, &console.FieldError{Field: "region", Msg: "want a region code of 2 to 6 digits"}
	}
	for _, d := range []struct{ field, day string }{{"since", q.Since}, {"until", q.Until}} {
		if d.day == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.day); err != nil || !usersDayRE.MatchString(d.day) {
			return res, &console.FieldError{Field: d.field, Msg: "want a date, YYYY-MM-DD"}
		}
	}
	if q.Offset < 0 || q.Limit < 0 {
		return res, fmt.Errorf("users: negative offset %d or limit %d", q.Offset, q.Limit)
	}

	var keys []codes.Key
	if err := a.store.Scan(ctx, func(k codes.Key, c codes.Colour) error {
		if c == codes.Red || c == codes.Yellow {
			keys = append(keys, k)
		}
		return nil
	}); err != nil {
		return res, fmt.Errorf("users: scan: %w", err)
	}
	regions, err := a.demoRegions(ctx)
	if err != nil {
		return res, err
	}
	type row struct {
		key string
		console.UserRow
	}
	var rows []row
	seenRegion, seenRule := map[string]bool{}, map[string]bool{}
	for i, k := range keys {
		if i%256 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		e, ok, err := a.store.Get(ctx, k)
		if err != nil {
			return res, fmt.Errorf("users: get: %w", err)
		}
		col := e.State.ColourAt(now) // an expired state reads green
		if !ok || (col != codes.Red && col != codes.Yellow) {
			continue
		}
		r := row{key: k.String(), UserRow: console.UserRow{Colour: col.String(), Region: regions[k], Rule: e.State.Cause.RuleID,
			RuleVersion: e.State.Cause.RuleVersion, Reason: e.State.Reason, Since: e.State.Since.In(shanghai)}}
		if r.Rule == "" && e.State.Cause.Actor != "" {
			r.Rule = manualRule
		}
		if r.Region != "" {
			seenRegion[r.Region] = true
		}
		if r.Rule != "" {
			seenRule[r.Rule] = true
		}
		day := dayOf(e.State.Since)
		if (q.Colour != "" && col != want) || !strings.HasPrefix(r.Region, q.Region) || (q.Rule != "" && r.Rule != q.Rule) ||
			(q.Since != "" && day < q.Since) || (q.Until != "" && day > q.Until) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y row) int {
		return cmp.Or(y.Since.Compare(x.Since), cmp.Compare(x.key, y.key))
	})
	res.Total = len(rows)
	lo := min(q.Offset, len(rows))
	hi := len(rows)
	if q.Limit > 0 {
		hi = min(hi, lo+q.Limit)
	}
	res.Rows = make([]console.UserRow, 0, hi-lo)
	for _, r := range rows[lo:hi] {
		r.Person = maskKey(r.key)
		res.Rows = append(res.Rows, r.UserRow)
	}
	res.Regions, res.Rules = sortedKeys(seenRegion), sortedKeys(seenRule)
	return res, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// consoleStatsCache holds what the console's statistics compute once per
// App. The zero value is ready; safe for concurrent use.
type consoleStatsCache struct {
	mu      sync.Mutex
	regions map[codes.Key]string // nil until computed
}

// demoRegions is the demo's person table reduced to what the users list
// needs: each synthetic resident's key and GB/T 2260 region, derived as
// seedDemo derives them (the same seed, the same keyer), once (15 to 40 ms
// for 10 k people) and kept: about 1 MB for 10 k. The documents are parsed,
// keyed and dropped; nothing of them is kept, shown or logged. People
// outside the demo (a transcode of someone else, a phone's record) have no
// region here. A real deployment keeps each person's registered region
// beside their record, written when a decision or a transcode (which both
// know it) changes the code.
func (a *App) demoRegions(ctx context.Context) (map[codes.Key]string, error) {
	c := &a.consoleStats
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.regions != nil {
		return c.regions, nil
	}
	people := synth.New(a.cfg.DemoSeed).People(a.cfg.DemoPeople)
	out := make(map[codes.Key]string, len(people))
	for i, p := range people {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		id, err := codes.Parse(p.DocNumber)
		if err != nil {
			// Not wrapped: the error would quote the document number.
			return nil, fmt.Errorf("users: synthetic person %d: document does not parse", i)
		}
		if r, ok := id.(codes.ResidentID); ok {
			out[a.keyer.Document(id)] = r.Region()
		}
	}
	c.regions = out
	return out, nil
}
