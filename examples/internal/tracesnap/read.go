package tracesnap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// TripColumns are the columns of a trips file, the input's and the
// snapshot's alike, one row per passenger. An input needs the first four
// (mode, number, date, person) and may have the rest (car, row, seat); a
// snapshot's trips.csv has all seven. Do not modify.
var TripColumns = []string{"mode", "number", "date", "person", "car", "row", "seat"}

// ParseMode reads a mode of transport: plane (flight), train-sealed,
// train-unsealed or bus (coach), in any case, "_" for "-".
func ParseMode(s string) (contacttrace.Mode, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "_", "-") {
	case "plane", "flight":
		return contacttrace.ModePlane, nil
	case "train-sealed":
		return contacttrace.ModeTrainSealed, nil
	case "train-unsealed":
		return contacttrace.ModeTrainUnsealed, nil
	case "bus", "coach":
		return contacttrace.ModeBus, nil
	}
	return 0, fmt.Errorf("mode %q: want plane, train-sealed, train-unsealed or bus", Clip(s))
}

// maxSeatNumber bounds a car or row: no train has 10,000 carriages, and a
// larger number is a shifted column or a ticket number.
const maxSeatNumber = 9999

// ReadTrips reads the rows of t (TripColumns), one per passenger, and
// gives each person its dense id in s. Rows of a trip (same mode, number
// and date) may be anywhere in the file. A bad value is a *cli.RowError
// naming the file, line and column. prog, when not nil, counts the rows.
func ReadTrips(t *cli.Table, s *Snapshot, prog *cli.Progress) ([]contacttrace.Trip, error) {
	type key struct {
		mode   contacttrace.Mode
		number string
		date   int64
	}
	idx := map[key]int{}
	var trips []contacttrace.Trip
	for {
		ok, err := t.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return trips, nil
		}
		if prog != nil {
			prog.Row()
		}
		mode, err := ParseMode(t.Get("mode"))
		if err != nil {
			return nil, t.Errf("mode", err)
		}
		num := t.Get("number")
		if num == "" {
			return nil, t.Errf("number", errors.New("empty"))
		}
		if err := checkText(num, maxID); err != nil {
			return nil, t.Errf("number", err)
		}
		date, err := ParseTime(t.Get("date"))
		if err != nil {
			return nil, t.Errf("date", err)
		}
		p := t.Get("person")
		if p == "" {
			return nil, t.Errf("person", errors.New("empty"))
		}
		if err := checkText(p, maxID); err != nil {
			return nil, t.Errf("person", err)
		}
		seat := contacttrace.Seat{Person: s.Person(p)}
		for _, c := range []struct {
			col string
			dst *int
		}{{"car", &seat.Car}, {"row", &seat.Row}} {
			if v := t.Get(c.col); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > maxSeatNumber {
					return nil, t.Errf(c.col, fmt.Errorf("%q: want a whole number from 0 to %d", Clip(v), maxSeatNumber))
				}
				*c.dst = n
			}
		}
		if v := t.Get("seat"); v != "" {
			if len(v) != 1 || v[0] < 'A' || v[0] > 'Z' {
				return nil, t.Errf("seat", fmt.Errorf("%q: want one letter A-Z", Clip(v)))
			}
			seat.Seat = v[0]
		}
		k := key{mode, num, date.Unix()}
		i, seen := idx[k]
		if !seen {
			i = len(trips)
			idx[k] = i
			trips = append(trips, contacttrace.Trip{Mode: mode, Number: num, Date: date})
		}
		trips[i].Passengers = append(trips[i].Passengers, seat)
	}
}

// ReadScans reads the rows of t (person,venue,time), giving persons and
// venues their dense ids in s. A bad value is a *cli.RowError naming the
// file, line and column. prog, when not nil, counts the rows; ctx is
// checked every 65536 rows.
func ReadScans(ctx context.Context, t *cli.Table, s *Snapshot, prog *cli.Progress) ([]contacttrace.Scan, error) {
	var scans []contacttrace.Scan
	for {
		ok, err := t.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return scans, nil
		}
		if prog != nil {
			prog.Row()
		}
		if len(scans)%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, v := t.Get("person"), t.Get("venue")
		if p == "" {
			return nil, t.Errf("person", errors.New("empty"))
		}
		if v == "" {
			return nil, t.Errf("venue", errors.New("empty"))
		}
		if err := checkText(p, maxID); err != nil {
			return nil, t.Errf("person", err)
		}
		if err := checkText(v, maxID); err != nil {
			return nil, t.Errf("venue", err)
		}
		at, err := ParseTime(t.Get("time"))
		if err != nil {
			return nil, t.Errf("time", err)
		}
		scans = append(scans, contacttrace.Scan{Person: s.Person(p), Venue: s.Venue(v), Time: at.Unix()})
	}
}

// ReadVenueNames reads the rows of t (venue,name) into s.VenueNames,
// giving a venue not yet in s the next dense id. A venue named twice in
// the file is refused: which name is right? A bad value is a
// *cli.RowError naming the file, line and column.
func ReadVenueNames(t *cli.Table, s *Snapshot) error {
	seen := map[string]int{} // venue -> line
	for {
		ok, err := t.Next()
		if err != nil || !ok {
			return err
		}
		v, name := t.Get("venue"), t.Get("name")
		if v == "" {
			return t.Errf("venue", errors.New("empty"))
		}
		if err := checkText(v, maxID); err != nil {
			return t.Errf("venue", err)
		}
		if err := checkText(name, maxName); err != nil {
			return t.Errf("name", err)
		}
		if l, dup := seen[v]; dup {
			return t.Errf("venue", fmt.Errorf("%s named twice (line %d)", Clip(v), l))
		}
		seen[v] = t.Line()
		s.VenueNames[s.Venue(v)] = name
	}
}
