package contacttrace

import (
	"fmt"
	"slices"
	"time"
)

// Mode is a means of public transport.
type Mode uint8

// Transport modes. Seat numbering follows the carriers: a plane or bus has
// Car 0 and rows from 1; a sealed (high-speed) train has cars and rows; an
// unsealed (conventional) train has cars and compartments, the compartment
// carried in Seat.Row.
const (
	ModePlane Mode = iota
	ModeTrainSealed
	ModeTrainUnsealed
	ModeBus
)

func (m Mode) String() string {
	switch m {
	case ModePlane:
		return "plane"
	case ModeTrainSealed:
		return "train-sealed"
	case ModeTrainUnsealed:
		return "train-unsealed"
	case ModeBus:
		return "bus"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Seat is where one passenger sat.
type Seat struct {
	Person uint32
	Car    int // carriage; 0 for planes and buses
	Row    int // row; the compartment on an unsealed train
	Seat   byte
}

// Trip is one run of a flight, train or bus with its passengers. Date is
// the departure time if known, else the local midnight of the travel day;
// co-travellers are exposed at Date.
type Trip struct {
	Mode       Mode
	Number     string // "CA4193", "G1234", "川A·12345"
	Date       time.Time
	Passengers []Seat
}

// TripRef names a trip and a seat on it, as an epidemiological report
// gives them ("G1234 on 5 Jan, car 3, 12F"). Date must be the same instant
// as the indexed Trip's Date.
type TripRef struct {
	Mode   Mode
	Number string
	Date   time.Time
	Car    int
	Row    int
	Seat   byte
}

// ProximityPolicy decides whether a passenger in seat other is a contact
// of one in seat index on a trip of the given mode.
type ProximityPolicy interface {
	Near(mode Mode, index, other Seat) bool
}

// ProximityFunc adapts a function to a ProximityPolicy.
type ProximityFunc func(mode Mode, index, other Seat) bool

// Near calls f.
func (f ProximityFunc) Near(mode Mode, index, other Seat) bool { return f(mode, index, other) }

// planPolicy is the national prevention and control plan's rule.
type planPolicy struct{ busRows int }

// NationalPlan returns the co-travel rule of the national prevention and
// control plan: on a plane, the same row and the 3 rows either side; on a
// sealed train, the same carriage; on an unsealed train, the same or an
// adjacent compartment of the same carriage; on a bus, the whole vehicle.
// An unknown mode counts everyone on board. It is safe for concurrent use.
func NationalPlan() ProximityPolicy { return planPolicy{} }

// NationalPlanBusRows is [NationalPlan] with buses limited to the same row
// and rows rows either side (the plan's option for large coaches; 3 is
// usual).
func NationalPlanBusRows(rows int) ProximityPolicy { return planPolicy{busRows: max(rows, 0)} }

// Near implements ProximityPolicy.
func (p planPolicy) Near(mode Mode, a, b Seat) bool {
	switch mode {
	case ModePlane:
		return abs(a.Row-b.Row) <= 3
	case ModeTrainSealed:
		return a.Car == b.Car
	case ModeTrainUnsealed:
		return a.Car == b.Car && abs(a.Row-b.Row) <= 1
	case ModeBus:
		return p.busRows == 0 || abs(a.Row-b.Row) <= p.busRows
	}
	return true
}

// WholeTrip returns a policy that counts everyone on board as a contact.
func WholeTrip() ProximityPolicy {
	return ProximityFunc(func(Mode, Seat, Seat) bool { return true })
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

type tripKey struct {
	mode   Mode
	number string
	date   int64
}

// Trips indexes trips by (mode, number, date) and by passenger.
//
// A Trips is immutable and safe for concurrent use. The caller must not
// modify the trips slice passed to [NewTrips] afterwards.
type Trips struct {
	trips  []Trip
	byKey  map[tripKey]int32
	off    []uint32 // person CSR: len persons+1
	seats  []tripSeat
	dayLen int64
}

type tripSeat struct {
	trip int32
	seat int32 // index into the trip's Passengers
}

// NewTrips indexes trips. It fails on an empty Number, a zero Date, a
// passenger id at or above cfg.MaxPersons, or two trips with the same mode,
// number and date.
func NewTrips(trips []Trip, cfg Config) (*Trips, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t := &Trips{trips: trips, byKey: make(map[tripKey]int32, len(trips)), dayLen: 24 * 3600}
	if len(trips) > 1<<31-1 {
		return nil, fmt.Errorf("%w: %d trips", ErrTooLarge, len(trips))
	}
	np := 0
	for i, tr := range trips {
		switch {
		case tr.Number == "":
			return nil, fieldErr(fmt.Sprintf("Trips[%d].Number", i), "empty")
		case tr.Date.IsZero():
			return nil, fieldErr(fmt.Sprintf("Trips[%d].Date", i), "zero")
		}
		k := tripKey{tr.Mode, tr.Number, tr.Date.Unix()}
		if j, dup := t.byKey[k]; dup {
			return nil, fieldErr(fmt.Sprintf("Trips[%d]", i), "same mode, number and date as Trips[%d]", j)
		}
		t.byKey[k] = int32(i)
		for j, s := range tr.Passengers {
			if uint64(s.Person) >= uint64(cfg.MaxPersons) {
				return nil, fmt.Errorf("%w: Trips[%d].Passengers[%d].Person %d at or above Config.MaxPersons %d",
					ErrTooLarge, i, j, s.Person, cfg.MaxPersons)
			}
			np = max(np, int(s.Person)+1)
		}
	}
	counts := make([]uint32, np+1)
	for _, tr := range trips {
		for _, s := range tr.Passengers {
			counts[s.Person]++
		}
	}
	t.off = prefixSums(counts)
	t.seats = make([]tripSeat, t.off[np])
	next := slices.Clone(t.off[:np])
	for i, tr := range trips {
		for j, s := range tr.Passengers {
			t.seats[next[s.Person]] = tripSeat{trip: int32(i), seat: int32(j)}
			next[s.Person]++
		}
	}
	return t, nil
}

// Len is the number of trips.
func (t *Trips) Len() int {
	if t == nil {
		return 0
	}
	return len(t.trips)
}

// Trip returns trip i (the index a [Contact] carries).
func (t *Trips) Trip(i int) Trip { return t.trips[i] }

// Seat returns the seat of a trip contact; ok is false for a venue
// contact or one from another index.
func (t *Trips) Seat(c Contact) (s Seat, ok bool) {
	if t == nil || c.Kind != KindTrip || c.Trip < 0 || int(c.Trip) >= len(t.trips) {
		return Seat{}, false
	}
	ps := t.trips[c.Trip].Passengers
	if c.Passenger < 0 || int(c.Passenger) >= len(ps) {
		return Seat{}, false
	}
	return ps[c.Passenger], true
}

// Find returns the index of the trip ref names.
func (t *Trips) Find(ref TripRef) (int, bool) {
	if t == nil {
		return 0, false
	}
	i, ok := t.byKey[tripKey{ref.Mode, ref.Number, ref.Date.Unix()}]
	return int(i), ok
}

// personTrips calls f for each of p's seats on a trip whose day is not
// over by from (Date + 24 h > from) and that departs by to (Date <= to).
func (t *Trips) personTrips(p uint32, from, to int64, f func(trip int, seat Seat)) {
	if t == nil || int(p)+1 >= len(t.off) {
		return
	}
	for _, ts := range t.seats[t.off[p]:t.off[p+1]] {
		tr := &t.trips[ts.trip]
		d := tr.Date.Unix()
		if d+t.dayLen > from && d <= to {
			f(int(ts.trip), tr.Passengers[ts.seat])
		}
	}
}
