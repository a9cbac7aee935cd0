package dedupe

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ValidateConfig says what Validate checks. The zero value is
// DefaultValidateConfig; a nil field means its default. A plain value,
// safe to share read-only.
type ValidateConfig struct {
	// Required fields must not be empty (after NormalizeText). Default:
	// name, doc_type, doc_number, birth.
	Required []Field
	// IDDocTypes are the document types (after NormalizeDocType) whose
	// numbers are 18-character IDs with the ISO 7064 MOD 11-2 check
	// character and a birth date in positions 7-14 (15-digit legacy IDs
	// are upgraded first). Default: 身份证, 港澳居民居住证, 台湾居民居住证,
	// 外国人永久居留身份证. Numbers of other types must be 5 to 20 ASCII
	// letters and digits.
	IDDocTypes []string
	// Today, if set, refuses birth dates after its date (in its own
	// zone), in the birth field and in an ID number's positions 7-14.
	// Validate never reads the clock: the zero value skips this check,
	// and callers pass time.Now() or the date the data was exported.
	Today time.Time
	// EarliestBirth refuses birth dates before it, in the birth field and
	// in an ID number. Default 1900-01-01.
	EarliestBirth time.Time
	// MaxFieldBytes refuses a field longer than this many bytes, a value
	// no registry holds and that would make comparisons slow. Default
	// DefaultMaxFieldBytes; negative turns the check off.
	MaxFieldBytes int
}

// DefaultMaxFieldBytes is the default limit on the length of a registry
// field (ValidateConfig.MaxFieldBytes, CSVConfig.MaxFieldBytes): 4 KiB,
// over a thousand Chinese characters, far above any name or address.
const DefaultMaxFieldBytes = 4096

// DefaultValidateConfig returns the default checks.
func DefaultValidateConfig() ValidateConfig {
	return ValidateConfig{
		Required:      []Field{FieldName, FieldDocType, FieldDocNumber, FieldBirth},
		IDDocTypes:    []string{"身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证"},
		EarliestBirth: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		MaxFieldBytes: DefaultMaxFieldBytes,
	}
}

func (c ValidateConfig) withDefaults() ValidateConfig {
	d := DefaultValidateConfig()
	if c.Required == nil {
		c.Required = d.Required
	}
	if c.IDDocTypes == nil {
		c.IDDocTypes = d.IDDocTypes
	}
	if c.EarliestBirth.IsZero() {
		c.EarliestBirth = d.EarliestBirth
	}
	if c.MaxFieldBytes == 0 {
		c.MaxFieldBytes = d.MaxFieldBytes
	}
	return c
}

// Validate checks one record on ingest and returns every problem found,
// or nil: every field, the extra ones included, is valid UTF-8 and no
// field is longer than MaxFieldBytes (a field failing either is checked
// no further); required fields present; the document number's format (and
// for ID documents its checksum and embedded date); the birth date parses,
// exists and lies between EarliestBirth and Today; a phone, if given, is
// an 11-digit mainland mobile number (+86 and separators allowed) or a
// landline with area code (0 then 9 to 11 digits); a sex, if given, is one
// NormalizeSex recognises. Reasons never contain the values.
func Validate(r *Record, cfg ValidateConfig) []*FieldError {
	cfg = cfg.withDefaults()
	var errs []*FieldError
	add := func(f Field, err error, format string, args ...any) {
		errs = append(errs, &FieldError{Field: f, Err: err, Reason: fmt.Sprintf(format, args...)})
	}
	var unreadable [numFields]bool // not UTF-8, or too long: checked no further
	for _, f := range AllFields() {
		if fe, _ := checkText(r.Get(f), cfg.MaxFieldBytes); fe != nil {
			fe.Field = f
			errs = append(errs, fe)
			unreadable[f] = true
		}
	}
	for _, x := range r.Extra {
		if fe, _ := checkText(x.Value, -1); fe != nil {
			fe.Column = x.Name
			errs = append(errs, fe)
		}
	}
	for _, f := range cfg.Required {
		if !unreadable[f] && NormalizeText(r.Get(f)) == "" {
			add(f, ErrRequired, "required")
		}
	}
	missing := func(f Field) bool { return unreadable[f] || NormalizeText(r.Get(f)) == "" }
	if !missing(FieldDocNumber) {
		n := NormalizeDocNumber(r.DocNumber)
		if slices.Contains(cfg.IDDocTypes, NormalizeDocType(r.DocType)) {
			if fe := checkID18(n); fe != nil {
				errs = append(errs, fe)
			} else if reason := cfg.birthRange(time.Parse("20060102", n[6:14])); reason != "" {
				add(FieldDocNumber, ErrDate, "positions 7-14 are a date %s", reason)
			}
		} else if len(n) < 5 || len(n) > 20 || !isUpperAlnum(n) {
			add(FieldDocNumber, ErrFormat, "want 5 to 20 letters and digits")
		}
	}
	if !missing(FieldBirth) {
		if d, err := ParseDate(r.Birth); err != nil {
			add(FieldBirth, ErrDate, "%s", strings.TrimPrefix(err.Error(), ErrDate.Error()+": "))
		} else if reason := cfg.birthRange(d, nil); reason != "" {
			add(FieldBirth, ErrDate, "%s", reason)
		}
	}
	if !missing(FieldPhone) {
		p := NormalizePhone(r.Phone)
		mobile := len(p) == 11 && p[0] == '1' && allDigits(p)
		landline := len(p) >= 10 && len(p) <= 12 && p[0] == '0' && allDigits(p)
		if !mobile && !landline {
			add(FieldPhone, ErrFormat, "want an 11-digit mobile number or a landline with area code")
		}
	}
	if !missing(FieldSex) {
		if s := NormalizeSex(r.Sex); s != "男" && s != "女" {
			add(FieldSex, ErrFormat, "want 男 or 女 (or M/F, 1/2)")
		}
	}
	return errs
}

// birthRange says what is wrong with birth date d (a date at 00:00 UTC,
// already parsed without err): "" when it lies in the range.
func (c ValidateConfig) birthRange(d time.Time, err error) string {
	if err != nil {
		return ""
	}
	if y, m, day := c.EarliestBirth.Date(); d.Before(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return "before " + c.EarliestBirth.Format("2006-01-02")
	}
	if c.Today.IsZero() {
		return ""
	}
	if y, m, day := c.Today.Date(); d.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return "after today"
	}
	return ""
}

// checkText returns a *FieldError (without Field or Column) when s is
// longer than max bytes (max < 0: no limit) or is not valid UTF-8, and
// then the 0-based offset in s of the first byte that is not.
func checkText(s string, max int) (*FieldError, int) {
	if max >= 0 && len(s) > max {
		return &FieldError{Err: ErrFormat, Reason: fmt.Sprintf("longer than %d bytes", max)}, 0
	}
	if utf8.ValidString(s) {
		return nil, 0
	}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return &FieldError{Err: ErrEncoding, Reason: fmt.Sprintf("not valid UTF-8 (byte %d of the field)", i+1)}, i
}
