package synth

import "time"

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
