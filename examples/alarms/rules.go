package alarms

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/examples/internal/yamlcheck"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/sla"
	"go.yaml.in/yaml/v3"
)

// Kind is what a rule watches.
type Kind string

// The kinds of rule a rules file may use; README.md describes each.
const (
	// KindAnomaly fires when the red/yellow anomaly check
	// (codes.CheckAnomalies) reports a matching colour and dimension.
	KindAnomaly Kind = "anomaly"
	// KindTranscodeRate fires when one actor transcodes more than
	// Threshold distinct persons within Window.
	KindTranscodeRate Kind = "transcode_rate"
	// KindHistoryViews fires when one actor views the histories of more
	// than Threshold distinct persons within Window (the data-leak
	// pattern).
	KindHistoryViews Kind = "history_views"
	// KindOffHoursBulk fires when one actor changes the codes of more than
	// Threshold persons within Window outside working hours.
	KindOffHoursBulk Kind = "off_hours_bulk"
	// KindRefusedBurst fires when more than Threshold attempts from one
	// client (or by one actor) are refused within Window.
	KindRefusedBurst Kind = "refused_burst"
	// KindQuality fires when a data-quality run (examples/quality) finds
	// at least Threshold problems (default 1); the server reports runs
	// with Engine.ObserveQuality.
	KindQuality Kind = "quality_problems"
)

var kinds = []Kind{KindAnomaly, KindTranscodeRate, KindHistoryViews, KindOffHoursBulk, KindRefusedBurst, KindQuality}

// Limits on what a rules file may say.
const (
	MaxThreshold    = 100000
	MaxWindow       = 24 * time.Hour
	MaxResolveAfter = 7 * 24 * time.Hour
	// MaxRulesFile is the largest rules file ParseRules reads.
	MaxRulesFile = 1 << 20
	// DefaultAnomalyResolveAfter is how long an anomaly alarm stays open
	// after the last check that reported it, unless resolve_after says.
	DefaultAnomalyResolveAfter = time.Hour
	// DefaultQualityResolveAfter keeps a quality alarm open for a day: the
	// next daily run that finds problems updates it rather than opening
	// another.
	DefaultQualityResolveAfter = 24 * time.Hour
	// maxText bounds a rendered alarm text (an SMS is short).
	maxText = 500
)

// Rules is a parsed rules file. Build it with ParseRules; it is not
// modified afterwards (the engine relies on that), so it is safe for
// concurrent reads.
type Rules struct {
	File         string // the name given to ParseRules
	WorkingHours WorkingHours
	Notifiers    []NotifierConfig
	Rules        []Rule
}

// Rule returns the rule called name.
func (r *Rules) Rule(name string) (Rule, bool) {
	for _, x := range r.Rules {
		if x.Name == name {
			return x, true
		}
	}
	return Rule{}, false
}

// Notifier returns the notifier called name.
func (r *Rules) Notifier(name string) (NotifierConfig, bool) {
	for _, n := range r.Notifiers {
		if n.Name == name {
			return n, true
		}
	}
	return NotifierConfig{}, false
}

// Rule is one entry of the rules file's rules: section, with its defaults
// filled in. A plain value.
type Rule struct {
	Name      string
	Kind      Kind
	Severity  Severity
	Threshold int           // more than this many fires; 0 for anomaly
	Window    time.Duration // the sliding window; 0 for anomaly
	// ResolveAfter is the quiet period after which an open alarm of this
	// rule resolves by itself: default Window (anomaly: one hour).
	ResolveAfter time.Duration
	Notify       []string // notifier names; none: shown on the console only
	Text         string   // the text template's source (the kind's default if the file gave none)
	// Colours and Dimensions (anomaly) are the anomalies that match:
	// default red and yellow, and total, cause and region.
	Colours    []codes.Colour
	Dimensions []string
	// By (refused_burst) keys the count: "client" (default) or "actor".
	By           string
	Line, Column int // where the entry starts

	text *template.Template
}

// NotifierConfig is one entry of the rules file's notifiers: section.
type NotifierConfig struct {
	Name         string            `yaml:"name"`
	Type         string            `yaml:"type"`         // "webhook" or "sms"
	URL          string            `yaml:"url"`          //
	SecretEnv    string            `yaml:"secret_env"`   // webhook: HMAC key read from this environment variable
	Headers      map[string]string `yaml:"headers"`      // sms: extra headers; values may hold ${ENV} references
	Body         string            `yaml:"body"`         // sms: text/template for the body; .Text is the masked alarm text, .Alarm the Alarm; func json quotes a string
	ContentType  string            `yaml:"content_type"` // sms: default application/json
	Timeout      Duration          `yaml:"timeout"`      // default 10s
	Line, Column int               `yaml:"-"`            // where the entry starts, for the delivery side's errors
}

// Duration is a time.Duration written as "30s", "5m", "1h".
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads the written form.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < 0 {
		return fmt.Errorf("alarms: line %d:%d: %q is not a duration like 30s, 5m or 1h", n.Line, n.Column, n.Value)
	}
	*d = Duration(v)
	return nil
}

// WorkingHours says when bulk changes are expected. Start and End are
// clock times as offsets from midnight in Zone; End before Start means the
// working day runs past midnight. A plain value.
type WorkingHours struct {
	Start, End time.Duration
	Weekdays   []time.Weekday // none: every moment is outside working hours
	Zone       *time.Location
	// Holidays marks public holidays (not worked, whatever the weekday)
	// and make-up working days (调休, worked on a weekend). Default the
	// mainland's (sla.ChinaMainland), so that a bulk change on the
	// National Day holiday is off hours; nil (holidays: none in the file)
	// goes by Weekdays alone, as does a year the set does not cover.
	Holidays *sla.HolidaySet
}

// chinaStandardTime is Asia/Shanghai without the tz database: China has
// kept UTC+8 without daylight saving since 1991.
var chinaStandardTime = time.FixedZone("Asia/Shanghai", 8*3600)

// DefaultWorkingHours is 08:30 to 18:00, Monday to Friday, Asia/Shanghai.
func DefaultWorkingHours() WorkingHours {
	return WorkingHours{
		Start:    8*time.Hour + 30*time.Minute,
		End:      18 * time.Hour,
		Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		Zone:     chinaStandardTime,
		Holidays: sla.ChinaMainland(),
	}
}

// Contains reports whether t falls within working hours. A working day
// that runs past midnight belongs to the weekday it starts on.
func (w WorkingHours) Contains(t time.Time) bool {
	zone := w.Zone
	if zone == nil {
		zone = chinaStandardTime
	}
	t = t.In(zone)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, zone)
	clock := t.Sub(midnight)
	if w.End > w.Start {
		return clock >= w.Start && clock < w.End && w.worked(midnight)
	}
	if clock >= w.Start {
		return w.worked(midnight)
	}
	return clock < w.End && w.worked(midnight.AddDate(0, 0, -1))
}

// worked reports whether the day starting at midnight is a working day:
// a holiday is not, a make-up working day is, and otherwise its weekday
// decides.
func (w WorkingHours) worked(midnight time.Time) bool {
	if w.Holidays != nil {
		// A year the set lacks (sla.ErrNoCalendarData) falls back to
		// the weekdays rather than stopping the alarms.
		kind, _, err := w.Holidays.Lookup(sla.DateOf(midnight, midnight.Location()))
		switch {
		case err == nil && kind == sla.Off:
			return false
		case err == nil && kind == sla.Workday:
			return true
		}
	}
	return slices.Contains(w.Weekdays, midnight.Weekday())
}

// Problem is one thing wrong with a rules file: its 1-based line and
// column, the field ("rules[2].window", "document") and what is wrong.
type Problem = yamlcheck.Problem

// RulesError lists every problem found in a rules file; ParseRules does
// not stop at the first. Safe for concurrent reads.
type RulesError = yamlcheck.Error

// TextData is what a rule's text template sees. It holds no target: the
// persons an alarm is about are never named in its text.
type TextData struct {
	Rule      string
	Kind      Kind
	Severity  Severity
	Subject   string    // "actor=zhang.san", "client=10.0.0.7", "red/region/海淀"
	Actor     string    // the operator account, for per-actor rules
	Client    string    // the client address, for refused_burst by client
	Count     int       // what the rule counted in the window; anomaly: today's count
	Threshold int       //
	Window    string    // the window in words: "1 分钟"
	At        time.Time // when the condition held, in the working-hours zone
	// Anomaly only.
	Colour    string // "red", "yellow"
	Dimension string // "total", "cause", "region"
	Label     string // the cause or region; "" for totals
	Mean      float64
	StdDev    float64
	Rise      bool
}

// defaultTexts are the kinds' texts when a rule gives none.
var defaultTexts = map[Kind]string{
	KindAnomaly: `{{if eq .Colour "red"}}红{{else if eq .Colour "yellow"}}黄{{else}}绿{{end}}码数量异常：` +
		`{{if eq .Dimension "total"}}全部{{else if eq .Dimension "cause"}}原因 {{.Label}}{{else}}地区 {{.Label}}{{end}}` +
		` 今日 {{.Count}}，基线均值 {{printf "%.1f" .Mean}}，{{if .Rise}}高于{{else}}低于{{end}}正常范围`,
	KindTranscodeRate: `操作员 {{.Actor}} 在 {{.Window}} 内转码 {{.Count}} 人，超过阈值 {{.Threshold}}`,
	KindHistoryViews:  `操作员 {{.Actor}} 在 {{.Window}} 内查看 {{.Count}} 人的历史记录，超过阈值 {{.Threshold}}，疑似数据泄露`,
	KindOffHoursBulk:  `操作员 {{.Actor}} 在工作时间外 {{.Window}} 内变更 {{.Count}} 人的健康码，超过阈值 {{.Threshold}}`,
	KindQuality:       `数据质量核查 {{.Subject}}（{{.Label}}）发现 {{.Count}} 个问题`,
	KindRefusedBurst:  `{{if .Actor}}操作员 {{.Actor}}{{else}}地址 {{.Client}}{{end}} 在 {{.Window}} 内被拒绝 {{.Count}} 次（登录失败或越权），超过阈值 {{.Threshold}}`,
}

// bodyFuncs are the functions a notifier body may call; the delivery side
// gives them their meaning, the parser only needs their names.
var bodyFuncs = template.FuncMap{"json": strconv.Quote}

// ParseRules reads a rules file (README.md describes the format). It is
// strict: unknown keys, wrong types, repeated keys and names, unknown kinds,
// out-of-range numbers, bad durations and templates, and notifiers that do
// not exist are errors. It reports every problem it finds, as a
// *RulesError, each with its line and column.
func ParseRules(file string, data []byte) (*Rules, error) {
	p := &parser{file: file}
	r := p.parse(data)
	if len(p.Problems) > 0 {
		return nil, &RulesError{File: file, Problems: p.Sorted()}
	}
	return r, nil
}

type parser struct {
	yamlcheck.Checker
	file string
}

func (p *parser) parse(data []byte) (r *Rules) {
	root := p.Document(data, MaxRulesFile)
	if root == nil {
		return nil
	}
	r = &Rules{File: p.file, WorkingHours: DefaultWorkingHours()}
	var rulesNode *yaml.Node
	p.Fields(root, "document", []string{"working_hours", "notifiers", "rules"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "working_hours":
			p.workingHours(v, &r.WorkingHours)
		case "notifiers":
			p.List(v, "notifiers", func(i int, n *yaml.Node) {
				r.Notifiers = append(r.Notifiers, p.notifier(n, fmt.Sprintf("notifiers[%d]", i)))
			})
		case "rules":
			rulesNode = v
		}
	})
	if root.Kind == yaml.MappingNode && rulesNode == nil {
		p.Add(root, "rules", "required")
	}
	// Notifiers first, so that rules can check their references.
	names := map[string]bool{}
	for i, n := range r.Notifiers {
		if n.Name == "" {
			continue
		}
		if names[n.Name] {
			p.Problems = append(p.Problems, Problem{Line: n.Line, Column: n.Column, Field: fmt.Sprintf("notifiers[%d].name", i), Msg: fmt.Sprintf("notifier %q defined twice", n.Name)})
		}
		names[n.Name] = true
	}
	if rulesNode != nil {
		ruleNames := map[string]bool{}
		p.List(rulesNode, "rules", func(i int, n *yaml.Node) {
			path := fmt.Sprintf("rules[%d]", i)
			rule := p.rule(n, path, names, r.WorkingHours.Zone)
			if rule.Name != "" {
				if ruleNames[rule.Name] {
					p.Problems = append(p.Problems, Problem{Line: rule.Line, Column: rule.Column, Field: path + ".name", Msg: fmt.Sprintf("rule %q defined twice", rule.Name)})
				}
				ruleNames[rule.Name] = true
			}
			r.Rules = append(r.Rules, rule)
		})
	}
	return r
}

func (p *parser) duration(n *yaml.Node, path string, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := p.Str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.Add(n, path, "%q is not a duration like 30s, 5m or 1h", s)
		return 0, false
	}
	if d < lo || d > hi {
		p.Add(n, path, "%s is out of range %s..%s", d, lo, hi)
		return 0, false
	}
	return d, true
}

func (p *parser) name(n *yaml.Node, path string) string {
	s, ok := p.Str(n, path)
	if !ok {
		return ""
	}
	if !yamlcheck.ValidName(s) {
		p.Add(n, path, "%q: names are 1 to 64 of a-z, 0-9, '-', '_', '.', starting with a letter or digit", s)
		return ""
	}
	return s
}

// validEnv is a POSIX environment variable name.
func validEnv(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// validToken is an HTTP header name (RFC 9110 token).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c >= 0x80 || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (p *parser) workingHours(n *yaml.Node, w *WorkingHours) {
	var startNode *yaml.Node
	p.Fields(n, "working_hours", []string{"start", "end", "weekdays", "zone", "holidays"}, func(key string, k, v *yaml.Node) {
		path := "working_hours." + key
		switch key {
		case "start", "end":
			s, ok := p.Str(v, path)
			if !ok {
				return
			}
			t, err := time.Parse("15:04", s)
			if err != nil {
				p.Add(v, path, "%q is not a clock time like 08:30", s)
				return
			}
			d := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
			if key == "start" {
				w.Start, startNode = d, v
			} else {
				w.End = d
			}
		case "weekdays":
			w.Weekdays = []time.Weekday{}
			p.List(v, path, func(i int, c *yaml.Node) {
				s, ok := p.Str(c, fmt.Sprintf("%s[%d]", path, i))
				if !ok {
					return
				}
				d, ok := weekdayNames[strings.ToLower(s)]
				switch {
				case !ok:
					p.Add(c, fmt.Sprintf("%s[%d]", path, i), "%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", s)
				case slices.Contains(w.Weekdays, d):
					p.Add(c, fmt.Sprintf("%s[%d]", path, i), "%q listed twice", s)
				default:
					w.Weekdays = append(w.Weekdays, d)
				}
			})
		case "holidays":
			s, ok := p.Str(v, path)
			if !ok {
				return
			}
			switch s {
			case "china":
				w.Holidays = sla.ChinaMainland()
			case "none":
				w.Holidays = nil
			default:
				p.Add(v, path, "%q: want china (the mainland's public holidays and make-up days) or none", s)
			}
		case "zone":
			s, ok := p.Str(v, path)
			if !ok {
				return
			}
			if s == "Asia/Shanghai" {
				w.Zone = chinaStandardTime
				return
			}
			loc, err := time.LoadLocation(s)
			if err != nil || s == "" || s == "Local" {
				p.Add(v, path, "%q is not a time zone like Asia/Shanghai", s)
				return
			}
			w.Zone = loc
		}
	})
	if w.Start == w.End {
		at := startNode
		if at == nil {
			at = n
		}
		p.Add(at, "working_hours", "start and end are the same time")
	}
}

func (p *parser) notifier(n *yaml.Node, path string) NotifierConfig {
	c := NotifierConfig{Line: n.Line, Column: n.Column}
	seen := map[string]bool{}
	p.Fields(n, path, []string{"name", "type", "url", "secret_env", "headers", "body", "content_type", "timeout"}, func(key string, k, v *yaml.Node) {
		field := path + "." + key
		seen[key] = true
		switch key {
		case "name":
			c.Name = p.name(v, field)
		case "type":
			if s, ok := p.Str(v, field); ok {
				if s != "webhook" && s != "sms" {
					p.Add(v, field, "%q: the types are webhook and sms", s)
				}
				c.Type = s
			}
		case "url":
			s, ok := p.Str(v, field)
			if !ok {
				return
			}
			u, err := url.Parse(s)
			switch {
			case err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
				p.Add(v, field, "%q is not an absolute http or https URL", s)
			case u.User != nil:
				p.Add(v, field, "credentials do not belong in the URL: use secret_env or headers")
			default:
				c.URL = s
			}
		case "secret_env":
			if s, ok := p.Str(v, field); ok {
				if !validEnv(s) {
					p.Add(v, field, "%q is not an environment variable name", s)
				}
				c.SecretEnv = s
			}
		case "headers":
			if v.Kind != yaml.MappingNode {
				p.Add(v, field, "expected a mapping, got %s", yamlcheck.KindName(v))
				return
			}
			c.Headers = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				hk, hv := v.Content[i], v.Content[i+1]
				hf := field + "." + hk.Value
				if hk.Kind != yaml.ScalarNode || !validToken(hk.Value) {
					p.Add(hk, hf, "not a header name")
					continue
				}
				if _, dup := c.Headers[hk.Value]; dup {
					p.Add(hk, hf, "repeated key")
					continue
				}
				s, ok := p.Str(hv, hf)
				if !ok {
					continue
				}
				if msg := checkEnvRefs(s); msg != "" {
					p.Add(hv, hf, "%s", msg)
				}
				c.Headers[hk.Value] = s
			}
		case "body":
			if s, ok := p.Str(v, field); ok {
				if _, err := template.New("body").Funcs(bodyFuncs).Parse(s); err != nil {
					p.Add(v, field, "%v", err)
				}
				c.Body = s
			}
		case "content_type":
			if s, ok := p.Str(v, field); ok {
				if _, _, err := mime.ParseMediaType(s); err != nil {
					p.Add(v, field, "%q is not a media type", s)
				}
				c.ContentType = s
			}
		case "timeout":
			if d, ok := p.duration(v, field, time.Second, 2*time.Minute); ok {
				c.Timeout = Duration(d)
			}
		}
	})
	if n.Kind == yaml.MappingNode {
		for _, req := range []string{"name", "type", "url"} {
			if !seen[req] {
				p.Add(n, path+"."+req, "required")
			}
		}
	}
	return c
}

// checkEnvRefs checks the ${NAME} references in a header value.
func checkEnvRefs(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return ""
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "unclosed ${"
		}
		if name := s[i+2 : i+j]; !validEnv(name) {
			return fmt.Sprintf("${%s}: not an environment variable name", name)
		}
		s = s[i+j+1:]
	}
}

func (p *parser) rule(n *yaml.Node, path string, notifiers map[string]bool, zone *time.Location) Rule {
	r := Rule{Line: n.Line, Column: n.Column}
	if n.Kind != yaml.MappingNode {
		p.Add(n, path, "expected a mapping, got %s", yamlcheck.KindName(n))
		return r
	}
	// The kind decides which keys are allowed, so read it first.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "kind" && r.Kind == "" {
			s, ok := p.Str(v, path+".kind")
			if !ok {
				r.Kind = "?"
			} else if !slices.Contains(kinds, Kind(s)) {
				p.Add(v, path+".kind", "%q: the kinds are anomaly, transcode_rate, history_views, off_hours_bulk, refused_burst and quality_problems", s)
				r.Kind = "?"
			} else {
				r.Kind = Kind(s)
			}
		}
	}
	known := []string{"name", "kind", "severity", "notify", "resolve_after", "text"}
	switch r.Kind {
	case KindAnomaly:
		known = append(known, "colours", "dimensions")
	case KindRefusedBurst:
		known = append(known, "threshold", "window", "by")
	case KindQuality:
		known = append(known, "threshold")
	case "?":
		known = append(known, "threshold", "window", "by", "colours", "dimensions")
	default:
		known = append(known, "threshold", "window")
	}
	seen := map[string]bool{}
	var textNode, resolveNode *yaml.Node
	all := []string{"name", "kind", "severity", "threshold", "window", "resolve_after", "notify", "text", "by", "colours", "dimensions"}
	p.Fields(n, path, all, func(key string, k, v *yaml.Node) {
		field := path + "." + key
		if !slices.Contains(known, key) {
			p.Add(k, field, "not used by kind %s", r.Kind)
			return
		}
		seen[key] = true
		switch key {
		case "name":
			r.Name = p.name(v, field)
		case "kind":
		case "severity":
			if s, ok := p.Str(v, field); ok {
				switch Severity(s) {
				case Info, Warning, Critical:
					r.Severity = Severity(s)
				default:
					p.Add(v, field, "%q: the severities are info, warning and critical", s)
				}
			}
		case "threshold":
			r.Threshold, _ = p.Integer(v, field, 1, MaxThreshold)
		case "window":
			r.Window, _ = p.duration(v, field, time.Second, MaxWindow)
		case "resolve_after":
			r.ResolveAfter, _ = p.duration(v, field, time.Second, MaxResolveAfter)
			resolveNode = v
		case "notify":
			r.Notify = p.Strs(v, field)
			for i, name := range r.Notify {
				if !notifiers[name] {
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "no notifier called %q in notifiers:", name)
				}
			}
			for i, name := range r.Notify {
				if slices.Index(r.Notify, name) < i {
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "%q listed twice", name)
				}
			}
		case "text":
			if s, ok := p.Str(v, field); ok {
				r.Text, textNode = s, v
			}
		case "by":
			if s, ok := p.Str(v, field); ok {
				if s != "client" && s != "actor" {
					p.Add(v, field, "%q: by is client or actor", s)
				}
				r.By = s
			}
		case "colours":
			r.Colours = []codes.Colour{}
			for i, s := range p.Strs(v, field) {
				var c codes.Colour
				switch s {
				case "red":
					c = codes.Red
				case "yellow":
					c = codes.Yellow
				case "green":
					c = codes.Green
				default:
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "%q: the colours are red, yellow and green", s)
					continue
				}
				if slices.Contains(r.Colours, c) {
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "%q listed twice", s)
					continue
				}
				r.Colours = append(r.Colours, c)
			}
		case "dimensions":
			r.Dimensions = []string{}
			for i, s := range p.Strs(v, field) {
				switch {
				case s != "total" && s != "cause" && s != "region":
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "%q: the dimensions are total, cause and region", s)
				case slices.Contains(r.Dimensions, s):
					p.Add(v.Content[i], fmt.Sprintf("%s[%d]", field, i), "%q listed twice", s)
				default:
					r.Dimensions = append(r.Dimensions, s)
				}
			}
		}
	})
	required := []string{"name", "kind", "severity"}
	if r.Kind != KindAnomaly && r.Kind != KindQuality && r.Kind != "?" {
		required = append(required, "threshold", "window")
	}
	for _, req := range required {
		if !seen[req] {
			p.Add(n, path+"."+req, "required")
		}
	}
	// Defaults.
	switch r.Kind {
	case KindAnomaly:
		if r.Colours == nil {
			r.Colours = []codes.Colour{codes.Red, codes.Yellow}
		}
		if r.Dimensions == nil {
			r.Dimensions = []string{"total", "cause", "region"}
		}
		if r.ResolveAfter == 0 && resolveNode == nil {
			r.ResolveAfter = DefaultAnomalyResolveAfter
		}
	case KindRefusedBurst:
		if r.By == "" {
			r.By = "client"
		}
	case KindQuality:
		if r.Threshold == 0 {
			r.Threshold = 1
		}
		if r.ResolveAfter == 0 && resolveNode == nil {
			r.ResolveAfter = DefaultQualityResolveAfter
		}
	}
	if r.ResolveAfter == 0 {
		r.ResolveAfter = r.Window
	}
	if r.Notify == nil {
		r.Notify = []string{}
	}
	if r.Kind == "?" {
		return r
	}
	if textNode == nil {
		r.Text = defaultTexts[r.Kind]
	}
	t, err := template.New(r.Name).Option("missingkey=error").Parse(r.Text)
	if err == nil {
		// Run it once on sample data, so a field that does not exist
		// (such as .Target) is refused now rather than at 3 a.m.
		err = t.Execute(&limitWriter{w: io.Discard, n: 4 * maxText}, sampleData(r, zone))
	}
	if err != nil {
		p.Add(textNode, path+".text", "%v", err)
		return r
	}
	r.text = t
	return r
}

func sampleData(r Rule, zone *time.Location) TextData {
	if zone == nil {
		zone = chinaStandardTime
	}
	return TextData{Rule: r.Name, Kind: r.Kind, Severity: r.Severity, Subject: "actor=sample", Actor: "sample",
		Client: "192.0.2.1", Count: r.Threshold + 1, Threshold: r.Threshold, Window: window(r.Window),
		At: time.Date(2024, 1, 1, 0, 0, 0, 0, zone), Colour: "red", Dimension: "total"}
}

// window writes a window in words.
func window(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " 小时"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " 分钟"
	case d%time.Second == 0:
		return strconv.Itoa(int(d/time.Second)) + " 秒"
	}
	return d.String()
}

// render runs the rule's text; a template that fails at run time still
// yields a text that names the rule and subject.
func (r *Rule) render(d TextData) string {
	if r.text == nil { // a Rule not from ParseRules
		return r.Name + " " + d.Subject
	}
	var b strings.Builder
	err := r.text.Execute(&limitWriter{w: &b, n: maxText + 1}, d)
	if err != nil && !errors.Is(err, errTooLong) || b.Len() == 0 {
		return r.Name + " " + d.Subject
	}
	s := b.String()
	if len(s) > maxText {
		s = s[:maxText]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

var errTooLong = errors.New("alarms: text too long")

// limitWriter refuses to write more than n bytes, so that a template
// cannot fill memory.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		n, _ := l.w.Write(p[:l.n])
		l.n = 0
		return n, errTooLong
	}
	l.n -= len(p)
	return l.w.Write(p)
}
