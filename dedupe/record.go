package dedupe

import (
	"fmt"
	"strings"
	"time"
)

// Record is one row of a population registry, with its fields as the
// source carries them (raw strings: full-width digits, 15-digit IDs, stray
// spaces and odd date formats are all allowed; Normalize cleans them).
//
// A Record is a plain value; it is safe to copy and to read from several
// goroutines, but not to modify while another goroutine reads it.
type Record struct {
	// ID identifies the row in its registry. It must be unique within
	// one call to Resolve; it breaks ties of the keep rule.
	ID        int64
	Name      string
	DocType   string // document type, e.g. "身份证", "护照"
	DocNumber string // document number as registered
	Birth     string // birth date in any format NormalizeDate accepts
	Sex       string
	Ethnicity string
	Address   string
	Phone     string
	Source    string // the registering system
	// Registered and Updated are the registration and last update times;
	// the keep rule compares the later of the two.
	Registered time.Time
	Updated    time.Time
	// Extra holds columns the registry has beyond the fields above. They
	// are carried through unchanged (CSV in, CSV out) and are never
	// compared.
	Extra []ExtraField
}

// ExtraField is one column of a Record beyond the registry fields. A plain
// value, like Record.
type ExtraField struct {
	Name  string
	Value string
}

// activity returns the later of r.Registered and r.Updated, the time the
// keep rule compares.
func (r *Record) activity() time.Time {
	if r.Updated.After(r.Registered) {
		return r.Updated
	}
	return r.Registered
}

// Field names one comparable field of a Record. Fields are written in
// policies and reports by their names ("name", "doc_number", ...). A Field
// is a plain value, safe for concurrent use.
type Field uint8

// The comparable fields of a Record. ID, times and Extra are not fields:
// they are never compared.
const (
	FieldName Field = iota + 1
	FieldDocType
	FieldDocNumber
	FieldBirth
	FieldSex
	FieldEthnicity
	FieldAddress
	FieldPhone
	FieldSource
)

// numFields is one more than the largest Field.
const numFields = int(FieldSource) + 1

var fieldNames = [numFields]string{
	FieldName:      "name",
	FieldDocType:   "doc_type",
	FieldDocNumber: "doc_number",
	FieldBirth:     "birth",
	FieldSex:       "sex",
	FieldEthnicity: "ethnicity",
	FieldAddress:   "address",
	FieldPhone:     "phone",
	FieldSource:    "source",
}

// AllFields returns every comparable field in declaration order.
func AllFields() []Field {
	fs := make([]Field, 0, numFields-1)
	for f := FieldName; int(f) < numFields; f++ {
		fs = append(fs, f)
	}
	return fs
}

// String returns the field's name as used in policies ("doc_number").
func (f Field) String() string {
	if f.valid() {
		return fieldNames[f]
	}
	return fmt.Sprintf("Field(%d)", int(f))
}

func (f Field) valid() bool { return f >= FieldName && int(f) < numFields }

// ParseField returns the Field named s ("name", "doc_number", ...). It
// accepts the names case-insensitively, and "-" or " " for "_".
func ParseField(s string) (Field, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("-", "_", " ", "_").Replace(k)
	for f := FieldName; int(f) < numFields; f++ {
		if fieldNames[f] == k {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownField, s)
}

// MarshalText writes the field's name.
func (f Field) MarshalText() ([]byte, error) {
	if !f.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownField, int(f))
	}
	return []byte(fieldNames[f]), nil
}

// UnmarshalText parses a field name, as ParseField.
func (f *Field) UnmarshalText(b []byte) error {
	v, err := ParseField(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Get returns the value of field f of r, or "" for an unknown field.
func (r *Record) Get(f Field) string {
	switch f {
	case FieldName:
		return r.Name
	case FieldDocType:
		return r.DocType
	case FieldDocNumber:
		return r.DocNumber
	case FieldBirth:
		return r.Birth
	case FieldSex:
		return r.Sex
	case FieldEthnicity:
		return r.Ethnicity
	case FieldAddress:
		return r.Address
	case FieldPhone:
		return r.Phone
	case FieldSource:
		return r.Source
	}
	return ""
}

// Set sets field f of r to v. It reports false, changing nothing, for an
// unknown field.
func (r *Record) Set(f Field, v string) bool {
	switch f {
	case FieldName:
		r.Name = v
	case FieldDocType:
		r.DocType = v
	case FieldDocNumber:
		r.DocNumber = v
	case FieldBirth:
		r.Birth = v
	case FieldSex:
		r.Sex = v
	case FieldEthnicity:
		r.Ethnicity = v
	case FieldAddress:
		r.Address = v
	case FieldPhone:
		r.Phone = v
	case FieldSource:
		r.Source = v
	default:
		return false
	}
	return true
}

// Mask hides all but the first three and last four characters of a
// personal value (an ID number, phone or name), so that it can appear in
// a log or error: "110***********123X". Values of seven characters or
// fewer keep only their first character.
func Mask(s string) string {
	rs := []rune(s)
	if len(rs) == 0 {
		return ""
	}
	if len(rs) <= 7 {
		return string(rs[0]) + strings.Repeat("*", len(rs)-1)
	}
	return string(rs[:3]) + strings.Repeat("*", len(rs)-7) + string(rs[len(rs)-4:])
}
