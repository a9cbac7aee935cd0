package rules

import _ "embed"

// defaultYAML is the default rule set shipped with the package: twenty rules
// expressing a 2022-style health-code policy (ninth-edition protocol) for
// the default health schema.
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultRuleSetYAML returns a copy of the default rule set's YAML source.
func DefaultRuleSetYAML() []byte { return append([]byte(nil), defaultYAML...) }

// DefaultRuleSet parses the default rule set. It never fails for the
// shipped file; the error is returned rather than hidden all the same.
func DefaultRuleSet() (*RuleSet, error) { return ParseRuleSet("default.yaml", defaultYAML) }
