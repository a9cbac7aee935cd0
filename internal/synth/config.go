package synth

import "fmt"

// DefaultScanConfig returns the configuration Scans uses for zero fields.
func DefaultScanConfig() ScanConfig { return ScanConfig{}.withDefaults() }

// DefaultTripConfig returns the configuration Trips uses for zero fields.
func DefaultTripConfig() TripConfig { return TripConfig{}.withDefaults() }

// DefaultRegistryConfig returns the configuration Registry uses for zero
// fields (no duplicates, no noise).
func DefaultRegistryConfig() RegistryConfig { return RegistryConfig{}.withDefaults() }

// DefaultIncidentConfig returns the configuration Incidents uses for zero
// fields.
func DefaultIncidentConfig() IncidentConfig { return IncidentConfig{}.withDefaults() }

// DefaultOutageConfig returns the configuration Outages uses for zero
// fields.
func DefaultOutageConfig() OutageConfig { return OutageConfig{}.withDefaults() }

// negative returns an error naming the first negative field.
func negative(cfg string, fields ...struct {
	name string
	v    int
}) error {
	for _, f := range fields {
		if f.v < 0 {
			return fmt.Errorf("synth: %s.%s = %d, want >= 0", cfg, f.name, f.v)
		}
	}
	return nil
}

type field = struct {
	name string
	v    int
}

// maxTripsPerDay bounds Trips so that distinct (mode, number, day) keys
// are always easy to find.
const maxTripsPerDay = 200000

// Validate reports negative counts and more trips than the generator can
// number distinctly (200 000 per day).
func (c TripConfig) Validate() error {
	if err := negative("TripConfig", field{"Trips", c.Trips}, field{"Persons", c.Persons}, field{"Days", c.Days}, field{"MaxPassengers", c.MaxPassengers}); err != nil {
		return err
	}
	d := c.withDefaults()
	if d.Trips > maxTripsPerDay*d.Days {
		return fmt.Errorf("synth: TripConfig.Trips = %d, want at most %d per day", c.Trips, maxTripsPerDay)
	}
	return nil
}

// Validate reports negative counts.
func (c IncidentConfig) Validate() error {
	return negative("IncidentConfig", field{"N", c.N}, field{"Days", c.Days})
}

// Validate reports negative counts.
func (c OutageConfig) Validate() error {
	return negative("OutageConfig", field{"N", c.N}, field{"Days", c.Days})
}
