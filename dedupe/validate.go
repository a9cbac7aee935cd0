package dedupe

import (
	"fmt"
	"slices"
	"strings"
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
}

// DefaultValidateConfig returns the default checks.
func DefaultValidateConfig() ValidateConfig {
	return ValidateConfig{
		Required:   []Field{FieldName, FieldDocType, FieldDocNumber, FieldBirth},
		IDDocTypes: []string{"身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证"},
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
	return c
}

// Validate checks one record on ingest and returns every problem found,
// or nil: required fields present; the document number's format (and for
// ID documents its checksum and embedded date); the birth date parses and
// exists; a phone, if given, is an 11-digit mainland mobile number (+86
// and separators allowed) or a landline with area code (0 then 9 to 11
// digits); a sex, if given, is one NormalizeSex recognises. Reasons never
// contain the values.
func Validate(r *Record, cfg ValidateConfig) []*FieldError {
	cfg = cfg.withDefaults()
	var errs []*FieldError
	add := func(f Field, err error, format string, args ...any) {
		errs = append(errs, &FieldError{Field: f, Err: err, Reason: fmt.Sprintf(format, args...)})
	}
	for _, f := range cfg.Required {
		if NormalizeText(r.Get(f)) == "" {
			add(f, ErrRequired, "required")
		}
	}
	missing := func(f Field) bool { return NormalizeText(r.Get(f)) == "" }
	if !missing(FieldDocNumber) {
		n := NormalizeDocNumber(r.DocNumber)
		if slices.Contains(cfg.IDDocTypes, NormalizeDocType(r.DocType)) {
			if fe := checkID18(n); fe != nil {
				errs = append(errs, fe)
			}
		} else if len(n) < 5 || len(n) > 20 || !isUpperAlnum(n) {
			add(FieldDocNumber, ErrFormat, "want 5 to 20 letters and digits")
		}
	}
	if !missing(FieldBirth) {
		if _, err := NormalizeDate(r.Birth); err != nil {
			add(FieldBirth, ErrDate, "%s", strings.TrimPrefix(err.Error(), ErrDate.Error()+": "))
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
