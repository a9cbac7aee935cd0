package synth

import "time"

// Record is one row of a population registry, with raw strings as a CSV
// export would carry them.
type Record struct {
	ID         int64  // unique, ascending in output order, from 1
	Name       string // may carry stray spaces when NoiseRate > 0
	DocType    string // "身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证", "护照"
	DocNumber  string // may be full-width, lower-case x or 15-digit when NoiseRate > 0
	Birth      string // "1990-01-02"; with noise also "19900102" or "1990/1/2"
	Sex        string // "男" or "女"
	Ethnicity  string // "汉", "回", ...
	Address    string
	Phone      string
	Source     string // the registering system, e.g. "社区登记"
	Registered time.Time
	Updated    time.Time
}

// RegistryConfig configures Registry. A zero field means its default,
// except the rates, where zero means none.
type RegistryConfig struct {
	Records        int       // total records; default 1000
	DupRate        float64   // share of records that exactly duplicate an earlier one
	SuspiciousRate float64   // share of records that share an ID with an earlier one but differ in name, birth or ethnicity
	NoiseRate      float64   // share of records with formatting noise that normalises away
	Start          time.Time // first registration time; default DefaultStart()
}

// RegistryTruth is the ground truth of a generated registry. Groups list
// record IDs in ascending order; groups are sorted by their first ID.
type RegistryTruth struct {
	// Duplicates are groups of two or more records equal on normalised
	// name, document number, birth date and ethnicity.
	Duplicates [][]int64
	// Suspicious are groups of all records sharing a normalised document
	// number when they are not all duplicates of each other.
	Suspicious [][]int64
}
