package synth

import "time"

// Incident is one service incident with its event history.
type Incident struct {
	ID     string // "INC-000001"
	Level  string
	Events []IncidentEvent // in time order
}

// IncidentEvent is one step of an incident.
type IncidentEvent struct {
	Kind string // "opened", "responded", "paused", "resumed", "resolved", "reopened"
	At   time.Time
}

// IncidentConfig configures Incidents. A zero field means its default.
type IncidentConfig struct {
	N      int       // number of incidents; default 100
	Start  time.Time // window start; default DefaultStart()
	Days   int       // window length; default 30
	Levels []string  // levels to draw from, most severe first; default {"L1", "L2", "L3"}
}

// Outage is a period when a service was down.
type Outage struct {
	Start, End time.Time
	Kind       string // "vendor", "non_vendor" or "planned"
}

// OutageConfig configures Outages. A zero field means its default.
type OutageConfig struct {
	N     int       // number of outages; default 10
	Start time.Time // window start; default DefaultStart()
	Days  int       // window length; default 365
}
