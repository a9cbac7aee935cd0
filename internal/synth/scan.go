package synth

import "time"

// Scan is one venue-code scan.
type Scan struct {
	Person uint32 // person index, 0..Persons-1
	Venue  uint32 // venue ID, 0..Venues-1
	Time   int64  // unix seconds
}

// ScanConfig configures Scans and ScanSeq. A zero field means its default.
type ScanConfig struct {
	Persons int       // number of distinct people; default 10000
	Venues  int       // number of venues; default 1000
	Days    int       // number of days; default 1
	PerDay  int       // scans per day; default 10000
	Start   time.Time // local midnight of the first day; default DefaultStart()
	ZipfS   float64   // Zipf exponent of venue popularity; default DefaultZipfS
	// PersonSkew, if > 0, is a Zipf exponent for how often each person
	// scans (some people scan much more); 0 means uniform.
	PersonSkew float64
}

// DefaultZipfS is the default Zipf exponent of venue popularity.
const DefaultZipfS = 1.0
