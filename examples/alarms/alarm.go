// Package alarms turns what healthcoded sees into alarms that leave the
// process (tender 2.2.6: alarms through the province's SMS platform):
// alarm rules as data, evaluated continuously over admin events and the
// red/yellow anomaly check; one open alarm per cause until it is resolved;
// silences with a reason; and delivery with nothing lost, through a
// persistent outbox, retries with backoff and an idempotency key per
// alarm, to a signed webhook or an SMS gateway described by configuration.
//
// It belongs to the reference servers (examples/), not to the SDK: the
// codes package detects (codes.CheckAnomalies), this package decides whom
// to tell and makes sure they are told.
package alarms

import "time"

// Severity orders alarms by urgency.
type Severity string

// Severities, as the rules file spells them.
const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Event is one administrative attempt as the server saw it: the same facts
// the audit trail records. Target is a pseudonym, never a raw identity.
type Event struct {
	At      time.Time
	Actor   string // "" when unauthenticated
	Action  string // "transcode", "history", "sign_in", "evaluate", ...
	Target  string // pseudonym or non-personal name
	Outcome string // "ok", "forbidden", "unauthenticated", "invalid", "error"
	Client  string // client address
	Changed int    // persons whose code the action changed (a bulk run: many)
}

// Alarm is one open (or resolved) cause: a rule that fired for a subject
// (an actor, a client, a colour). Its ID is the idempotency key every
// notifier passes on, so a receiver that sees it twice can tell.
type Alarm struct {
	ID       string    `json:"id"`       // stable for this opening of Cause: rule, subject and opening time
	Cause    string    `json:"cause"`    // rule name and subject: "transcode-burst actor=zhang.san"
	Rule     string    `json:"rule"`     // the rule's name
	Severity Severity  `json:"severity"` // from the rule
	Subject  string    `json:"subject"`  // who or what: "actor=zhang.san", "client=10.0.0.7", "red/region"
	Text     string    `json:"text"`     // what a person reads (SMS): masked, no raw identity
	Opened   time.Time `json:"opened"`
	LastSeen time.Time `json:"last_seen"`         // last time the condition held
	Count    int       `json:"count"`             // how many times the condition held while open
	Resolved time.Time `json:"resolved,omitzero"` // zero while open
	// SilencedUntil, if in the future, holds notifications back (the
	// alarm stays open and shown); SilenceReason and SilencedBy say why
	// and who.
	SilencedUntil time.Time `json:"silenced_until,omitzero"`
	SilenceReason string    `json:"silence_reason,omitempty"`
	SilencedBy    string    `json:"silenced_by,omitempty"`
}
