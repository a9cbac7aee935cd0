package alarms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"text/template"
)

// MaxSMSRunes is the most runes of alarm text an SMS body carries. SMS
// platforms limit a message's length (and split or refuse longer ones);
// a longer text keeps its first MaxSMSRunes-1 runes and ends in "…". The
// text is already masked (Alarm.Text), so the cut never reveals anything.
const MaxSMSRunes = 300

// SMS posts each alarm to an SMS gateway described by configuration,
// since every province's SMS platform has its own HTTP API: the body is
// the entry's text/template, executed with SMSData; the content type is
// the entry's content_type (default application/json); the headers are the
// entry's headers with ${NAME} resolved from the environment when the
// notifier was built, plus Idempotency-Key: the alarm's ID.
//
// A template for a JSON API quotes strings with json:
//
//	{"to": ["13800000000"], "text": {{json .Text}}, "ref": {{json .Alarm.ID}}}
//
// and one for a form-encoded API with text/template's own urlquery:
//
//	to=13800000000&text={{urlquery .Text}}
//
// Build it with NewNotifiers; it is safe for concurrent use.
type SMS struct {
	httpSender
	body        *template.Template
	contentType string
	headers     map[string]string // ${NAME} resolved
}

var _ Notifier = (*SMS)(nil)

// SMSData is what an SMS body template sees.
type SMSData struct {
	Text  string // Alarm.Text cut to MaxSMSRunes
	Alarm Alarm
}

// smsFuncs are the functions an SMS body template may call besides
// text/template's own.
var smsFuncs = template.FuncMap{
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
}

// newSMS builds an SMS notifier from c; an error comes with the field it
// is about.
func newSMS(h httpSender, c NotifierConfig, getenv func(string) string) (*SMS, string, error) {
	if c.Body == "" {
		return nil, "body", errors.New("is required: a text/template for the request body")
	}
	t, err := template.New(c.Name).Funcs(smsFuncs).Option("missingkey=error").Parse(c.Body)
	if err != nil {
		return nil, "body", err
	}
	s := &SMS{httpSender: h, body: t, contentType: c.ContentType, headers: make(map[string]string, len(c.Headers))}
	if s.contentType == "" {
		s.contentType = "application/json"
	}
	for _, k := range slices.Sorted(maps.Keys(c.Headers)) {
		v, err := expandHeaderEnv(c.Headers[k], getenv)
		if err != nil {
			return nil, "headers." + k, err
		}
		s.headers[k] = v
	}
	// A body the template cannot render is a configuration error; find it
	// now rather than at the first alarm.
	if _, err := s.render(Alarm{ID: "check", Text: "check"}); err != nil {
		return nil, "body", err
	}
	return s, "", nil
}

// Name returns the notifier's name in the rules file.
func (s *SMS) Name() string { return s.name }

func (s *SMS) render(a Alarm) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.body.Execute(&buf, SMSData{Text: cutRunes(a.Text, MaxSMSRunes), Alarm: a}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Notify posts a's rendered body; see Notifier for what the error means.
func (s *SMS) Notify(ctx context.Context, a Alarm) error {
	body, err := s.render(a)
	if err != nil {
		return fmt.Errorf("alarms: notifier %q: body: %w: %w", s.name, ErrPermanent, err)
	}
	h := http.Header{}
	for k, v := range s.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", s.contentType)
	h.Set(HeaderIdempotencyKey, a.ID)
	return s.post(ctx, body, h)
}
