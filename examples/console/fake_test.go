package console

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// fakeBackend is a Backend over a few people, with tokens for each role.
type fakeBackend struct {
	mu         sync.Mutex
	audits     []AuditAttempt
	transcodes []string // "actor colour authorisation reason who"
	colour     map[Who]string
	reason     string // the reason shown on every source (to test escaping)
	stats      StatsView
	rules      fakeRules
	finds      []FinderQuery
	pushes     []PushView // the finder's pushes (finder_test.go)
}

const (
	rawID    = "11010519491231002X"
	rawPhone = "13800138000"
)

func newFake() *fakeBackend {
	f := &fakeBackend{colour: map[Who]string{}, reason: "核酸阳性 <b>&</b>"}
	day := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 15 {
		f.stats.Days = append(f.stats.Days, DayRow{Date: day.AddDate(0, 0, i).Format(time.DateOnly), Red: 10 + i, Yellow: 40 + 2*i, Green: 900 + 13*i})
	}
	f.stats.Today = f.stats.Days[14].Date
	for i := range 20 {
		f.stats.Causes = append(f.stats.Causes, Ranked{Label: fmt.Sprintf("rule-%02d 密接", i), Count: 200 - 9*i})
		f.stats.Regions = append(f.stats.Regions, Ranked{Label: fmt.Sprintf("5101%02d", i), Count: 150 - 7*i})
	}
	f.stats.Anomalies = []string{"red total: 24 today against a mean of 17.0 (+41%)"}
	f.stats.Venues = fakeVenueStats(f.stats.Days)
	f.rules.active = &RuleSetView{ID: "sichuan", Version: "v2", EffectiveFrom: time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC), Rules: 6}
	return f
}

var roles = map[string]Principal{
	"t-token": {Actor: "alice", Roles: []string{RoleTranscoder, RoleAuditor}},
	"a-token": {Actor: "bob", Roles: []string{RoleAuditor}},
	"r-token": {Actor: "carol", Roles: []string{RoleRulesAdmin}},
	"x-token": {Actor: "dave", Roles: []string{RoleTranscoder}},
}

func (f *fakeBackend) Authenticate(token string) (Principal, error) {
	p, ok := roles[token]
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func mask(who Who) string {
	if who.ID != "" {
		return who.ID[:1] + strings.Repeat("*", len(who.ID)-2) + who.ID[len(who.ID)-1:]
	}
	return who.Phone[:3] + "****" + who.Phone[7:]
}

func (f *fakeBackend) Person(_ context.Context, who Who) (PersonView, error) {
	switch {
	case who.ID == "" && who.Phone == "":
		return PersonView{}, &FieldError{Field: "id", Msg: "give a document number or a phone"}
	case who.ID != "" && len(who.ID) != 18:
		return PersonView{}, &FieldError{Field: "id", Msg: fmt.Sprintf("%d characters: want 18", len(who.ID))}
	case who.ID == "" && len(who.Phone) != 11:
		return PersonView{}, &FieldError{Field: "phone", Msg: "want 11 digits"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	col := f.colour[who]
	if col == "" {
		col = "yellow"
	}
	at := time.Date(2022, 5, 14, 9, 30, 0, 0, time.UTC)
	v := PersonView{Masked: mask(who), Colour: col, ChainOK: true,
		Sources: []Source{{Kind: "document", Colour: col, Reason: f.reason, RuleID: "contact", RuleVersion: "v3", Since: at}}}
	for i := range 30 {
		v.History = append(v.History, HistoryRow{Seq: uint64(i + 1), At: at.Add(time.Duration(i) * time.Hour), Colour: []string{"green", "yellow", "red"}[i%3],
			Reason: "规则赋码", RuleID: "contact", RuleVersion: "v3", Hash: fmt.Sprintf("%064x", i*7919)})
	}
	return v, nil
}

func (f *fakeBackend) Transcode(_ context.Context, p Principal, who Who, colour, authorisation, reason, _ string) error {
	if colour != "red" && colour != "yellow" && colour != "green" {
		return &FieldError{Field: "colour", Msg: "want green, yellow or red"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.colour[who] = colour
	f.transcodes = append(f.transcodes, strings.Join([]string{p.Actor, colour, authorisation, reason, who.ID + who.Phone}, " "))
	return nil
}

func (f *fakeBackend) Stats(context.Context, time.Time) (StatsView, error) { return f.stats, nil }

func (f *fakeBackend) Audit(_ context.Context, rec AuditAttempt) {
	f.mu.Lock()
	f.audits = append(f.audits, rec)
	f.mu.Unlock()
}

func (f *fakeBackend) auditLog() []AuditAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]AuditAttempt(nil), f.audits...)
}

func (f *fakeBackend) transcodeLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.transcodes...)
}

// The fake's rules: a set in force, sets scheduled at a chosen time,
// uploads kept by version, activations undone by rollback. An upload
// containing "when: (" does not compile; a chosen time in 2099 is refused.
type fakeRules struct {
	active    *RuleSetView
	scheduled []RuleSetView
	uploaded  []RuleSetView
	prev      []fakeRulesState
	actions   []string // "actor action version [at]"
}

type fakeRulesState struct {
	active    *RuleSetView
	scheduled []RuleSetView
}

var _ RulesBackend = (*fakeBackend)(nil)

func (f *fakeBackend) Rules(context.Context) (RulesView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := RulesView{Uploaded: append([]RuleSetView(nil), f.rules.uploaded...), Scheduled: append([]RuleSetView(nil), f.rules.scheduled...), RiskAreas: "ra-1 (12)"}
	if f.rules.active != nil {
		a := *f.rules.active
		v.Active = &a
	}
	return v, nil
}

func (f *fakeBackend) UploadRules(_ context.Context, p Principal, src []byte, _ string) (DryRunView, error) {
	s := string(src)
	if i := strings.Index(s, "when: ("); i >= 0 {
		line := strings.Count(s[:i], "\n") + 1
		col := i - strings.LastIndex(s[:i], "\n") + len("when: ")
		return DryRunView{}, &RulesProblems{Problems: []Problem{{Line: line, Column: col, RuleID: "contact", Msg: "syntax error: missing ')'"}}}
	}
	version := "v?"
	for l := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "version:"); ok {
			version = strings.TrimSpace(v)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// An upload replaces one of the same version.
	f.rules.uploaded = slices.DeleteFunc(f.rules.uploaded, func(u RuleSetView) bool { return u.Version == version })
	f.rules.uploaded = append(f.rules.uploaded, RuleSetView{ID: "sichuan", Version: version, EffectiveFrom: time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC), Rules: 7})
	f.rules.actions = append(f.rules.actions, p.Actor+" upload "+version)
	return DryRunView{Candidate: "sichuan@" + version, Version: version, Total: 10000, Changed: 1234 + 56 + 7, Errors: 0,
		Transitions: []TransitionView{
			{From: "green", To: "yellow", ToRule: "contact", Count: 1234},
			{From: "green", To: "red", ToRule: "positive", Count: 56},
			{From: "red", To: "green", FromRule: "travel", Count: 7},
		}}, nil
}

func (f *fakeBackend) ActivateRules(_ context.Context, p Principal, version string, at time.Time, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if at.Year() == 2099 {
		return &FieldError{Field: "effective_at", Msg: "more than 90 days ahead"}
	}
	for i, u := range f.rules.uploaded {
		if u.Version == version {
			f.rules.prev = append(f.rules.prev, fakeRulesState{f.rules.active, f.rules.scheduled})
			f.rules.uploaded = append(f.rules.uploaded[:i], f.rules.uploaded[i+1:]...)
			if at.IsZero() {
				f.rules.active = &u
				f.rules.actions = append(f.rules.actions, p.Actor+" activate "+version)
				return nil
			}
			u.EffectiveFrom = at
			f.rules.scheduled = append(slices.Clip(f.rules.scheduled), u)
			f.rules.actions = append(f.rules.actions, p.Actor+" activate "+version+" "+at.Format(time.RFC3339))
			return nil
		}
	}
	return &FieldError{Field: "version", Msg: "no uploaded rule set " + version}
}

func (f *fakeBackend) RollbackRules(_ context.Context, p Principal, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.rules.prev)
	if n == 0 {
		return &FieldError{Field: "rollback", Msg: "nothing to roll back to"}
	}
	f.rules.active, f.rules.scheduled, f.rules.prev = f.rules.prev[n-1].active, f.rules.prev[n-1].scheduled, f.rules.prev[:n-1]
	f.rules.actions = append(f.rules.actions, p.Actor+" rollback")
	return nil
}

func (f *fakeBackend) rulesLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rules.actions...)
}
