package synth

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mode is a means of public transport.
type Mode int

// Transport modes.
const (
	ModePlane         Mode = iota // rows 1-40, seats A-F
	ModeTrainSealed               // high-speed train: cars 1-16, rows 1-20, seats A,B,C,D,F
	ModeTrainUnsealed             // conventional train: cars 1-18, compartment 1-11, berth A-F
	ModeBus                       // coach: rows 1-13, seats A-D
)

// Trip is one run of a flight, train or bus with its passengers.
type Trip struct {
	Mode       Mode
	Number     string    // e.g. "CA4193", "G1234", "K546", "川A·12345"
	Date       time.Time // local midnight of the travel day
	Passengers []Seat
}

// Seat is where one passenger sat. Car is 0 for planes and buses.
type Seat struct {
	Person uint32
	Car    int
	Row    int
	Seat   byte
}

// TripConfig configures Trips. A zero field means its default.
type TripConfig struct {
	Trips   int       // number of trips; default 100
	Persons int       // people drawn as passengers; default 10000
	Days    int       // days spanned; default 1
	Start   time.Time // local midnight of the first day; default DefaultStart()
	// MaxPassengers bounds the passengers per trip (at least 2 are drawn);
	// default 40.
	MaxPassengers int
}

// String returns "plane", "train_sealed", "train_unsealed" or "bus".
func (m Mode) String() string {
	switch m {
	case ModePlane:
		return "plane"
	case ModeTrainSealed:
		return "train_sealed"
	case ModeTrainUnsealed:
		return "train_unsealed"
	case ModeBus:
		return "bus"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// seatLayout describes the seat grid of a mode.
type seatLayout struct {
	cars, rows int
	letters    string
}

// Layout returns the number of cars (0 for planes and buses), rows per car
// (compartments for unsealed trains) and the seat letters of a mode.
func (m Mode) Layout() (cars, rows int, letters string) {
	l := layouts[m]
	return l.cars, l.rows, l.letters
}

var layouts = map[Mode]seatLayout{
	ModePlane:         {0, 40, "ABCDEF"},
	ModeTrainSealed:   {16, 20, "ABCDF"}, // CRH second class has no seat E
	ModeTrainUnsealed: {18, 11, "ABCDEF"},
	ModeBus:           {0, 13, "ABCD"},
}

func (c TripConfig) withDefaults() TripConfig {
	if c.Trips <= 0 {
		c.Trips = 100
	}
	if c.Persons <= 0 {
		c.Persons = 10000
	}
	if c.Days <= 0 {
		c.Days = 1
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	if c.MaxPassengers < 2 {
		c.MaxPassengers = 40
	}
	return c
}

var (
	airlines     = []string{"CA", "MU", "CZ", "3U", "HU", "ZH", "MF", "SC", "8L", "EU", "FM", "HO"}
	plateRegions = []string{"川A", "川B", "陕A", "豫A", "京A", "沪A", "渝A", "粤A", "鄂A", "湘A"}
)

// Trips returns trips sorted by date, mode and number; (Mode, Number, Date)
// is unique. Modes are drawn 30 % sealed train, 20 % unsealed train, 20 %
// plane, 30 % bus. Each trip has 2 to MaxPassengers distinct passengers
// (at most the seats available and Persons) on distinct seats, listed in
// seat order. It panics if cfg.Validate fails.
func (g *Gen) Trips(cfg TripConfig) []Trip {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	r := g.rng
	type key struct {
		m Mode
		n string
		d int
	}
	seen := make(map[key]bool, cfg.Trips)
	out := make([]Trip, 0, cfg.Trips)
	for len(out) < cfg.Trips {
		var m Mode
		switch x := r.IntN(10); {
		case x < 3:
			m = ModeTrainSealed
		case x < 5:
			m = ModeTrainUnsealed
		case x < 7:
			m = ModePlane
		default:
			m = ModeBus
		}
		num := g.tripNumber(m)
		day := r.IntN(cfg.Days)
		if seen[key{m, num, day}] {
			continue
		}
		seen[key{m, num, day}] = true
		out = append(out, Trip{
			Mode:       m,
			Number:     num,
			Date:       cfg.Start.AddDate(0, 0, day),
			Passengers: g.passengers(m, cfg),
		})
	}
	slices.SortFunc(out, func(a, b Trip) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		if a.Mode != b.Mode {
			return int(a.Mode) - int(b.Mode)
		}
		return strings.Compare(a.Number, b.Number)
	})
	return out
}

func (g *Gen) tripNumber(m Mode) string {
	r := g.rng
	switch m {
	case ModePlane:
		return pick(r, airlines) + strconv.Itoa(1000+r.IntN(9000))
	case ModeTrainSealed:
		return string("GDC"[r.IntN(3)]) + strconv.Itoa(1+r.IntN(9999))
	case ModeTrainUnsealed:
		if r.IntN(2) == 0 {
			return "K" + strconv.Itoa(1+r.IntN(9999))
		}
		return string("TZ"[r.IntN(2)]) + strconv.Itoa(1+r.IntN(399))
	default:
		b := []byte(pick(r, plateRegions))
		b = append(b, "·"...)
		return string(appendPad(b, r.IntN(100000), 5))
	}
}

// passengers draws distinct people on distinct seats.
func (g *Gen) passengers(m Mode, cfg TripConfig) []Seat {
	r := g.rng
	l := layouts[m]
	cars := max(l.cars, 1)
	capacity := cars * l.rows * len(l.letters)
	k := 2 + r.IntN(cfg.MaxPassengers-1)
	k = min(k, capacity, cfg.Persons)
	seats := make(map[int]bool, k)
	people := make(map[uint32]bool, k)
	out := make([]Seat, 0, k)
	for len(out) < k {
		s := r.IntN(capacity)
		p := uint32(r.IntN(cfg.Persons))
		if seats[s] || people[p] {
			continue
		}
		seats[s], people[p] = true, true
		car := s / (l.rows * len(l.letters))
		rest := s % (l.rows * len(l.letters))
		st := Seat{Person: p, Row: 1 + rest/len(l.letters), Seat: l.letters[rest%len(l.letters)]}
		if l.cars > 0 {
			st.Car = 1 + car
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Seat) int {
		if a.Car != b.Car {
			return a.Car - b.Car
		}
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		return int(a.Seat) - int(b.Seat)
	})
	return out
}
