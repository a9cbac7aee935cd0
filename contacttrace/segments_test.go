package contacttrace

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSegmentsMatchOracle: scans ingested into day segments in random
// batches (several days in one batch, late scans for a day already held)
// answer every query as the brute-force oracle does, one query at a time
// and in batches, with day boundaries in UTC and in Beijing time; and
// VenueScans and PersonScans agree with one Index of the same scans.
func TestSegmentsMatchOracle(t *testing.T) {
	ctx := context.Background()
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	cst := time.FixedZone("CST", 8*3600)
	multi := 0
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 11))
		scans, trips := randomWorld(rng)
		loc := time.UTC
		if rng.IntN(2) == 0 {
			loc = cst
		}
		segs := NewSegments(SegmentConfig{Location: loc, RetainDays: -1})
		rest := append([]Scan(nil), scans...)
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		for len(rest) > 0 {
			n := 1 + rng.IntN(len(rest))
			var err error
			segs, err = segs.Append(ctx, rest[:n], Config{Workers: 1 + rng.IntN(3)})
			require.NoError(t, err)
			rest = rest[n:]
		}
		require.Equal(t, len(scans), segs.Len())
		if len(segs.Days()) > 1 {
			multi++
		}
		tix, err := NewTrips(trips, Config{})
		require.NoError(t, err)
		tr, err := NewSegmentTracer(segs, tix, Config{})
		require.NoError(t, err)
		oracleRound(t, tr, rng, scans, trips, seed)

		ix, err := Build(ctx, scans, Config{})
		require.NoError(t, err)
		from := time.Unix(scans[rng.IntN(len(scans))].Time, 0).Add(-time.Duration(rng.IntN(30)) * time.Hour)
		to := from.Add(time.Duration(rng.IntN(60)) * time.Hour)
		for v := range uint32(ix.NumVenues()) {
			require.Equal(t, ix.VenueScans(nil, v, from, to), segs.VenueScans(nil, v, from, to), "seed %d venue %d", seed, v)
		}
		for p := range uint32(ix.NumPersons()) {
			require.Equal(t, ix.PersonScans(nil, p, from, to), segs.PersonScans(nil, p, from, to), "seed %d person %d", seed, p)
		}
	}
	require.Greater(t, multi, seeds/2, "most worlds span several days")
}

// TestSegmentsAppendTouchesOneDay: appending a new day leaves every held
// day's index as it was (the same memory, not a copy), and the new day's
// index holds that day's scans alone; late scans for a held day rebuild
// that day only.
func TestSegmentsAppendTouchesOneDay(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)
	day := func(d, n int) []Scan {
		var out []Scan
		for i := range n {
			out = append(out, Scan{Person: uint32(i % 50), Venue: uint32(i % 7), Time: base.AddDate(0, 0, d).Unix() + int64(i*60)})
		}
		return out
	}
	s := NewSegments(SegmentConfig{})
	var err error
	for d := range 5 {
		before := s
		s, err = s.Append(ctx, day(d, 100+d), Config{})
		require.NoError(t, err)
		for _, old := range before.Days() {
			a, _ := before.Day(old)
			b, ok := s.Day(old)
			require.True(t, ok)
			require.Same(t, a, b, "day %s was rebuilt by appending day %d", old.Format(time.DateOnly), d)
		}
		ix, ok := s.Day(base.AddDate(0, 0, d))
		require.True(t, ok)
		require.Equal(t, 100+d, ix.Len())
		require.Len(t, before.Days(), d, "the old value is unchanged")
	}
	// A late scan for day 2 rebuilds day 2 and nothing else.
	late := []Scan{{Person: 7, Venue: 3, Time: base.AddDate(0, 0, 2).Unix() + 3600 + 1}}
	next, err := s.Append(ctx, late, Config{})
	require.NoError(t, err)
	for d := range 5 {
		a, _ := s.Day(base.AddDate(0, 0, d))
		b, _ := next.Day(base.AddDate(0, 0, d))
		if d == 2 {
			require.NotSame(t, a, b)
			require.Equal(t, a.Len()+1, b.Len())
		} else {
			require.Same(t, a, b)
		}
	}
}

// TestSegmentsRetention: with the default 21 days, the 22nd day drops the
// first at once; scans for a dropped day are ignored; Retain drops days
// before a time.
func TestSegmentsRetention(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)
	s := NewSegments(SegmentConfig{})
	var err error
	for d := range 25 {
		s, err = s.Append(ctx, []Scan{{Person: uint32(d), Venue: 1, Time: base.AddDate(0, 0, d).Unix() + 100}}, Config{})
		require.NoError(t, err)
		require.Len(t, s.Days(), min(d+1, DefaultRetainDays))
	}
	require.Equal(t, base.AddDate(0, 0, 4), s.Days()[0], "days 0-3 dropped")
	old, err := s.Append(ctx, []Scan{{Person: 99, Venue: 1, Time: base.AddDate(0, 0, 1).Unix()}}, Config{})
	require.NoError(t, err)
	require.Equal(t, s.Len(), old.Len(), "a scan of a dropped day is ignored")
	r := s.Retain(base.AddDate(0, 0, 20).Add(time.Hour))
	require.Equal(t, []time.Time{base.AddDate(0, 0, 20), base.AddDate(0, 0, 21), base.AddDate(0, 0, 22), base.AddDate(0, 0, 23), base.AddDate(0, 0, 24)}, r.Days())
	require.Len(t, s.Days(), DefaultRetainDays, "Retain leaves s as it was")
	// Negative: everything kept.
	all := NewSegments(SegmentConfig{RetainDays: -1})
	for d := range 25 {
		all, err = all.Append(ctx, []Scan{{Person: 1, Venue: 1, Time: base.AddDate(0, 0, d).Unix()}}, Config{})
		require.NoError(t, err)
	}
	require.Len(t, all.Days(), 25)
}

// TestSegmentsDir: a snapshot directory round-trips the days and the
// caller's files; a second write writes only the day that changed; a
// reader holding some days reads only the others; a changed byte in a day
// file, an extra file or the manifest is refused, naming the file.
func TestSegmentsDir(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2022, 5, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	s := NewSegments(SegmentConfig{Location: base.Location()})
	var err error
	for d := range 4 {
		var scans []Scan
		for i := range 200 {
			scans = append(scans, Scan{Person: uint32(i % 37), Venue: uint32(i % 5), Time: base.AddDate(0, 0, d).Unix() + int64(i*97)})
		}
		s, err = s.Append(ctx, scans, Config{})
		require.NoError(t, err)
	}
	dir := t.TempDir()
	ids := func(w io.Writer) error { _, err := io.WriteString(w, "person\nu1\nu2\n"); return err }
	wrote, err := s.WriteDir(dir, map[string]func(io.Writer) error{"persons.csv": ids})
	require.NoError(t, err)
	require.Len(t, wrote, 4)

	got, extras, err := ReadDir(dir, nil)
	require.NoError(t, err)
	require.Equal(t, s.Days(), got.Days())
	for _, d := range s.Days() {
		a, _ := s.Day(d)
		b, _ := got.Day(d)
		require.Equal(t, a, b)
	}
	body, err := os.ReadFile(extras["persons.csv"])
	require.NoError(t, err)
	require.Equal(t, "person\nu1\nu2\n", string(body))

	// A late scan for day 3: one day file written; the old one removed.
	s2, err := s.Append(ctx, []Scan{{Person: 1, Venue: 1, Time: base.AddDate(0, 0, 3).Unix() + 5}}, Config{})
	require.NoError(t, err)
	wrote, err = s2.WriteDir(dir, map[string]func(io.Writer) error{"persons.csv": ids})
	require.NoError(t, err)
	require.Equal(t, []string{dayFile(base.AddDate(0, 0, 3), 201)}, wrote)
	files, _ := filepath.Glob(filepath.Join(dir, "*.hct"))
	require.Len(t, files, 4)

	// A reader holding s reads only day 3, and reuses the rest.
	got, _, err = ReadDir(dir, s)
	require.NoError(t, err)
	for d, day := range s2.Days() {
		a, _ := s.Day(day)
		b, _ := got.Day(day)
		if d == 3 {
			require.NotSame(t, a, b)
			require.Equal(t, 201, b.Len())
		} else {
			require.Same(t, a, b)
		}
	}

	// Corruption, each named.
	flip := func(name string, at int64) {
		t.Helper()
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		if at < 0 {
			at += int64(len(b))
		}
		b[at] ^= 0x20
		require.NoError(t, os.WriteFile(p, b, 0o600))
	}
	for _, name := range []string{dayFile(base.AddDate(0, 0, 1), 200), "persons.csv", ManifestName} {
		t.Run(name, func(t *testing.T) {
			at := int64(60)
			if name == "persons.csv" {
				at = 3
			}
			flip(name, at)
			defer flip(name, at)
			_, _, err := ReadDir(dir, nil)
			var se *SnapshotError
			require.ErrorAs(t, err, &se)
			require.ErrorIs(t, err, ErrCorrupt)
			require.Equal(t, name, se.Section)
		})
	}
}
