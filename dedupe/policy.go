package dedupe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Policy is the duplicate policy of a registry, as data: which fields make
// two records duplicates, which make them suspicious, and which record of
// a duplicate group survives. The zero Policy is DefaultPolicy (every zero
// field means its default). It is a plain value, safe to share read-only.
//
// The rules (Shaanxi population-data contract 1.5.3):
//
//   - Records equal on every DuplicateKey field (after Normalize) are
//     duplicates. When they are also equal on every Identical field they are
//     resolved automatically: the Keep rule picks the survivor, the others
//     are dropped. Duplicates that differ on an Identical field go to review
//     (ReviewConflict).
//   - Records equal on every SuspiciousKey field that are not all
//     duplicates of each other are suspicious and go to review as one group
//     (ReviewSuspicious), with every record sharing the key. Identical
//     duplicates inside such a group are still resolved automatically.
//   - A key whose fields are all empty matches nothing.
type Policy struct {
	// DuplicateKey lists the fields on which duplicates agree. Default:
	// name, doc_number, birth, ethnicity.
	DuplicateKey []Field `json:"duplicate_key,omitempty" yaml:"duplicate_key,omitempty"`
	// SuspiciousKey lists the fields on which suspicious records agree; it
	// must be a proper, non-empty subset of DuplicateKey (so that every
	// duplicate group lies inside one suspicious-key group). Default:
	// doc_number.
	SuspiciousKey []Field `json:"suspicious_key,omitempty" yaml:"suspicious_key,omitempty"`
	// Identical lists the fields that must also agree for a duplicate
	// group to be resolved without review ("fully identical"); the
	// DuplicateKey fields are always included. Default: every field but
	// source.
	Identical []Field `json:"identical,omitempty" yaml:"identical,omitempty"`
	// Keep picks the survivor of a duplicate group by the later of each
	// record's registration and update time. Default: KeepLatest.
	Keep KeepRule `json:"keep,omitempty" yaml:"keep,omitempty"`
	// Tie breaks equal times by record id. Default: TieLowestID.
	Tie TieRule `json:"tie,omitempty" yaml:"tie,omitempty"`
}

// KeepRule says which activity time wins. A plain value, safe for
// concurrent use.
type KeepRule uint8

// Keep rules.
const (
	KeepDefault  KeepRule = iota // KeepLatest
	KeepLatest                   // the latest registration or update survives
	KeepEarliest                 // the earliest survives (keep the original registration)
)

// TieRule breaks ties of the KeepRule. A plain value, safe for concurrent
// use.
type TieRule uint8

// Tie rules.
const (
	TieDefault   TieRule = iota // TieLowestID
	TieLowestID                 // the lowest record id survives (the first registration)
	TieHighestID                // the highest record id survives
)

var keepNames = map[KeepRule]string{KeepLatest: "latest", KeepEarliest: "earliest"}
var tieNames = map[TieRule]string{TieLowestID: "lowest_id", TieHighestID: "highest_id"}

func (k KeepRule) String() string {
	if s, ok := keepNames[k]; ok {
		return s
	}
	if k == KeepDefault {
		return "default"
	}
	return fmt.Sprintf("KeepRule(%d)", int(k))
}

// MarshalText writes "latest" or "earliest".
func (k KeepRule) MarshalText() ([]byte, error) {
	if k == KeepDefault {
		k = KeepLatest
	}
	s, ok := keepNames[k]
	if !ok {
		return nil, fmt.Errorf("%w: keep: unknown rule %d", ErrInvalidPolicy, int(k))
	}
	return []byte(s), nil
}

// UnmarshalText parses "latest" or "earliest".
func (k *KeepRule) UnmarshalText(b []byte) error {
	for v, s := range keepNames {
		if strings.EqualFold(string(b), s) {
			*k = v
			return nil
		}
	}
	return fmt.Errorf("%w: keep: %q is not latest or earliest", ErrInvalidPolicy, b)
}

func (t TieRule) String() string {
	if s, ok := tieNames[t]; ok {
		return s
	}
	if t == TieDefault {
		return "default"
	}
	return fmt.Sprintf("TieRule(%d)", int(t))
}

// MarshalText writes "lowest_id" or "highest_id".
func (t TieRule) MarshalText() ([]byte, error) {
	if t == TieDefault {
		t = TieLowestID
	}
	s, ok := tieNames[t]
	if !ok {
		return nil, fmt.Errorf("%w: tie: unknown rule %d", ErrInvalidPolicy, int(t))
	}
	return []byte(s), nil
}

// UnmarshalText parses "lowest_id" or "highest_id".
func (t *TieRule) UnmarshalText(b []byte) error {
	for v, s := range tieNames {
		if strings.EqualFold(string(b), s) {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("%w: tie: %q is not lowest_id or highest_id", ErrInvalidPolicy, b)
}

// DefaultPolicy returns the contract's policy: duplicates agree on name,
// document number, birth date and ethnicity; records sharing a document
// number that are not all duplicates are suspicious; identical means equal
// on every field but source; the latest registration or update survives,
// and on equal times the lowest record id.
func DefaultPolicy() Policy {
	return Policy{
		DuplicateKey:  []Field{FieldName, FieldDocNumber, FieldBirth, FieldEthnicity},
		SuspiciousKey: []Field{FieldDocNumber},
		Identical:     []Field{FieldName, FieldDocType, FieldDocNumber, FieldBirth, FieldSex, FieldEthnicity, FieldAddress, FieldPhone},
		Keep:          KeepLatest,
		Tie:           TieLowestID,
	}
}

// withDefaults fills zero fields from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if len(p.DuplicateKey) == 0 {
		p.DuplicateKey = d.DuplicateKey
	}
	if len(p.SuspiciousKey) == 0 {
		p.SuspiciousKey = d.SuspiciousKey
	}
	if len(p.Identical) == 0 {
		p.Identical = d.Identical
	}
	if p.Keep == KeepDefault {
		p.Keep = d.Keep
	}
	if p.Tie == TieDefault {
		p.Tie = d.Tie
	}
	return p
}

// Validate reports the first problem of p (after defaults), naming the
// policy field; the error wraps ErrInvalidPolicy.
func (p Policy) Validate() error {
	p = p.withDefaults()
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPolicy, field, fmt.Sprintf(format, args...))
	}
	lists := []struct {
		name string
		fs   []Field
	}{{"duplicate_key", p.DuplicateKey}, {"suspicious_key", p.SuspiciousKey}, {"identical", p.Identical}}
	for _, l := range lists {
		seen := map[Field]bool{}
		for _, f := range l.fs {
			if !f.valid() {
				return bad(l.name, "unknown field %d", int(f))
			}
			if seen[f] {
				return bad(l.name, "field %s listed twice", f)
			}
			seen[f] = true
		}
	}
	for _, f := range p.SuspiciousKey {
		if !slices.Contains(p.DuplicateKey, f) {
			return bad("suspicious_key", "field %s is not in duplicate_key (the suspicious key must be a subset of it)", f)
		}
	}
	if len(p.SuspiciousKey) == len(p.DuplicateKey) {
		return bad("suspicious_key", "must leave out at least one duplicate_key field, or no record could be suspicious")
	}
	if _, ok := keepNames[p.Keep]; !ok {
		return bad("keep", "unknown rule %d", int(p.Keep))
	}
	if _, ok := tieNames[p.Tie]; !ok {
		return bad("tie", "unknown rule %d", int(p.Tie))
	}
	return nil
}

// identicalFields returns the DuplicateKey fields followed by the other
// Identical fields.
func (p Policy) identicalFields() []Field {
	out := slices.Clone(p.DuplicateKey)
	for _, f := range p.Identical {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// LoadPolicy reads a Policy from YAML or JSON (JSON is YAML). Unknown keys
// are errors with their line; the result is validated. Missing keys take
// their defaults.
//
//	duplicate_key: [name, doc_number, birth, ethnicity]
//	suspicious_key: [doc_number]
//	keep: latest
//	tie: lowest_id
func LoadPolicy(r io.Reader) (Policy, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Policy{}, fmt.Errorf("dedupe: read policy: %w", err)
	}
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, ErrInvalidPolicy) {
			return Policy{}, err
		}
		return Policy{}, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p.withDefaults(), nil
}
