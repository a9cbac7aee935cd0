package console

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	goodRules = "id: sichuan\nversion: v3\nrules:\n  - id: contact\n    when: contact.kind == \"close\"\n    colour: yellow\n"
	badRules  = "id: sichuan\nversion: v3\nrules:\n  - id: contact\n    when: (contact.kind == \"close\"\n    colour: yellow\n"
)

var confirmRE = regexp.MustCompile(`name="confirm" value="([^"]+)"`)

// rulesCSRF signs in with token and returns the rules page's CSRF token.
func (e *env) rulesCSRF(c *http.Client, token string) string {
	e.t.Helper()
	e.signIn(c, token)
	r := e.get(c, "/console/rules")
	require.Equal(e.t, http.StatusOK, r.status, r.body)
	return csrfOf(e.t, r.body)
}

// confirm opens action's confirmation page and returns its token.
func (e *env) confirm(c *http.Client, csrf, action, version string) (resp, string) {
	e.t.Helper()
	r := e.post(c, "/console/rules/"+action+"/confirm", url.Values{"csrf": {csrf}, "version": {version}})
	require.Equal(e.t, http.StatusOK, r.status, r.body)
	m := confirmRE.FindStringSubmatch(r.body)
	require.NotNil(e.t, m, r.body)
	return r, m[1]
}

func TestRulesRoles(t *testing.T) {
	e := newEnv(t, nil)

	admin := e.client()
	e.signIn(admin, "r-token")
	r := e.get(admin, "/console/rules")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="nav-rules"`)
	assert.Contains(t, r.body, `id="in-force">sichuan@v2<`)
	assert.Contains(t, r.body, `id="upload-form"`)
	assert.Contains(t, r.body, `id="rollback"`)

	// Auditors read, with no form to act.
	aud := e.client()
	csrf := e.rulesCSRF(aud, "a-token")
	r = e.get(aud, "/console/rules")
	assert.Contains(t, r.body, `id="in-force">sichuan@v2<`)
	assert.Contains(t, r.body, `id="read-only"`)
	for _, form := range []string{"upload-form", `id="rollback"`, "/console/rules/activate"} {
		assert.NotContains(t, r.body, form)
	}
	for _, path := range []string{"/console/rules/upload", "/console/rules/activate/confirm", "/console/rules/activate", "/console/rules/rollback/confirm", "/console/rules/rollback"} {
		r = e.post(aud, path, url.Values{"csrf": {csrf}, "source": {goodRules}, "version": {"v3"}})
		assert.Equal(t, http.StatusForbidden, r.status, path)
	}

	// Transcoders neither see the link nor the page, and the attempt is audited.
	tc := e.client()
	e.signIn(tc, "x-token")
	assert.NotContains(t, e.get(tc, "/console/person").body, `id="nav-rules"`)
	r = e.get(tc, "/console/rules")
	assert.Equal(t, http.StatusForbidden, r.status)

	assert.Empty(t, e.fake.rulesLog())
	a := e.fake.auditLog()
	require.Len(t, a, 6)
	for _, rec := range a[:5] {
		assert.Equal(t, "bob", rec.Actor)
		assert.Equal(t, "lacks role rules-admin", rec.Detail)
		assert.Contains(t, rec.Action, "console_rules_")
	}
	assert.Equal(t, AuditAttempt{At: e.clock.now(), Actor: "dave", Action: "console_rules", Role: roleRulesView,
		Outcome: "forbidden", Detail: "lacks role auditor|rules-admin", Client: "127.0.0.1"}, a[5])
}

// TestRulesOptional: a Backend without the rules methods has no rules
// page and no link to it.
func TestRulesOptional(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Backend = struct{ Backend }{c.Backend} })
	c := e.client()
	e.signIn(c, "r-token")
	assert.NotContains(t, e.get(c, "/console/person").body, "/console/rules")
	assert.Equal(t, http.StatusNotFound, e.get(c, "/console/rules").status)
}

func TestRulesCSRF(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	_, tok := e.confirm(c, csrf, "rollback", "")
	paths := []string{"/console/rules/upload", "/console/rules/activate/confirm", "/console/rules/activate", "/console/rules/rollback/confirm", "/console/rules/rollback"}
	for _, bad := range []url.Values{{}, {"csrf": {""}}, {"csrf": {csrf[:42] + "x"}}} {
		for _, path := range paths {
			form := url.Values{"source": {goodRules}, "version": {"v3"}, "confirm": {tok}}
			for k, v := range bad {
				form[k] = v
			}
			r := e.post(c, path, form)
			assert.Equal(t, http.StatusForbidden, r.status, path)
		}
	}
	assert.Empty(t, e.fake.rulesLog())
	a := e.fake.auditLog()
	require.Len(t, a, 3*len(paths))
	for _, rec := range a {
		assert.Equal(t, "carol", rec.Actor)
		assert.Contains(t, rec.Detail, "csrf")
	}
}

func TestRulesUploadProblems(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	r := e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {badRules}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `<td class="pos">5:11</td><td>contact</td><td>syntax error: missing &#39;)&#39;</td>`)
	assert.Contains(t, r.body, "when: (contact.kind == &#34;close&#34;", "the upload is kept in the textarea")
	assert.NotContains(t, r.body, `id="matrix"`)
	assert.Empty(t, e.fake.rulesLog())

	r = e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {"  \n"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="rules-error">请粘贴或选择规则集<`)
}

func TestRulesMatrix(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	r := e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {goodRules}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="dr-total">10000<`)
	assert.Contains(t, r.body, `id="dr-changed">1297<`)
	// Columns: g→y g→r y→g y→r r→g r→y.
	for _, row := range []string{
		`<tr><th>contact</th><td class="nz">1234</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>`,
		`<tr><th>positive</th><td>0</td><td class="nz">56</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>`,
		`<tr><th>travel</th><td>0</td><td>0</td><td>0</td><td>0</td><td class="nz">7</td><td>0</td></tr>`,
		`<tfoot><tr><th>合计</th><td>1234</td><td>56</td><td>0</td><td>0</td><td>7</td><td>0</td></tr></tfoot>`,
	} {
		assert.Contains(t, r.body, row)
	}
	assert.Contains(t, r.body, `<span class="code colour-green">绿码</span>→<span class="code colour-red">红码</span>`)
	assert.Contains(t, r.body, `id="activate">激活 v3<`)
	assert.Contains(t, r.body, `<tr class="uploaded"><th>已上传待激活</th><td>sichuan@v3</td>`)
	assert.Equal(t, []string{"carol upload v3"}, e.fake.rulesLog())
	assert.Contains(t, r.body, `id="in-force">sichuan@v2<`, "nothing activated by an upload")
}

func TestRulesUploadFile(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	mw.WriteField("source", "")
	fw, err := mw.CreateFormFile("file", "v3.yaml")
	require.NoError(t, err)
	fw.Write([]byte(goodRules))
	require.NoError(t, mw.Close())
	res, err := c.Post(e.srv.URL+"/console/rules/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	r := read(t, res)
	assert.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="matrix"`)
	assert.Equal(t, []string{"carol upload v3"}, e.fake.rulesLog())
}

func TestRulesConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {goodRules}})
	e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {strings.Replace(goodRules, "v3", "v4", 1)}})

	// The final POST without the confirmation page's token is refused and audited.
	r := e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}})
	assert.Equal(t, http.StatusForbidden, r.status)
	r = e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusForbidden, r.status)
	a := e.fake.auditLog()
	require.Len(t, a, 2)
	assert.Equal(t, AuditAttempt{At: e.clock.now(), Actor: "carol", Action: "console_rules_activate", Role: RoleRulesAdmin,
		Outcome: "forbidden", Detail: "confirmation token missing or wrong", Client: "127.0.0.1"}, a[0])
	assert.Equal(t, "console_rules_rollback", a[1].Action)

	page, tok := e.confirm(c, csrf, "activate", "v3")
	assert.Contains(t, page.body, `id="confirm-question">确认激活 v3？<`)
	assert.Empty(t, inlineRE.FindAllString(page.body, -1))
	// Not for another version, another action or another session.
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v4"}, "confirm": {tok}}).status)
	_, tok = e.confirm(c, csrf, "activate", "v3")
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}, "confirm": {tok}}).status)
	other := e.client()
	ocsrf := e.rulesCSRF(other, "r-token")
	_, tok = e.confirm(c, csrf, "activate", "v3")
	assert.Equal(t, http.StatusForbidden, e.post(other, "/console/rules/activate", url.Values{"csrf": {ocsrf}, "version": {"v3"}, "confirm": {tok}}).status)
	assert.Empty(t, e.fake.rulesLog()[2:], "nothing activated")

	_, tok = e.confirm(c, csrf, "activate", "v3")
	r = e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {tok}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="notice">已激活<`)
	assert.Contains(t, r.body, `id="in-force">sichuan@v3<`)
	// Single use.
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {tok}}).status)

	page, tok = e.confirm(c, csrf, "rollback", "")
	assert.Contains(t, page.body, `确认回滚到上一个规则集？`)
	r = e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}, "confirm": {tok}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="in-force">sichuan@v2<`)
	assert.Equal(t, []string{"carol upload v3", "carol upload v4", "carol activate v3", "carol rollback"}, e.fake.rulesLog())

	// A refusal by the backend shows on the page.
	_, tok = e.confirm(c, csrf, "rollback", "")
	r = e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}, "confirm": {tok}})
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Contains(t, r.body, `id="rules-error">nothing to roll back to<`)
}

func TestRulesNoInlineScript(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	_, tok := e.confirm(c, csrf, "rollback", "")
	for name, r := range map[string]resp{
		"page":     e.get(c, "/console/rules"),
		"problems": e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {badRules}}),
		"matrix":   e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {goodRules}}),
		"confirm":  e.post(c, "/console/rules/activate/confirm", url.Values{"csrf": {csrf}, "version": {"v3"}}),
		"refused":  e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}}),
		"rollback": e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}, "confirm": {tok}}),
	} {
		assert.Equal(t, CSP, r.header.Get("Content-Security-Policy"), name)
		assert.Empty(t, inlineRE.FindAllString(r.body, -1), name)
	}
}

func TestMakeMatrix(t *testing.T) {
	m := makeMatrix(DryRunView{Transitions: []TransitionView{
		{From: "green", To: "yellow", FromRule: "", ToRule: "a", Count: 3},
		{From: "red", To: "green", FromRule: "b", ToRule: "", Count: 2},
		{From: "green", To: "yellow", FromRule: "c", ToRule: "a", Count: 1},
		{From: "yellow", To: "yellow", ToRule: "a", Count: 9}, // not a change: no column
	}})
	assert.Equal(t, []matrixRow{{"a", []int{4, 0, 0, 0, 0, 0}}, {"b", []int{0, 0, 0, 0, 2, 0}}}, m.Rows)
	assert.Equal(t, []int{4, 0, 0, 0, 2, 0}, m.Totals)
}

func TestParseEffectiveAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"2022-05-16T00:00", time.Date(2022, 5, 15, 16, 0, 0, 0, time.UTC), false}, // Beijing midnight
		{"2022-12-31T23:59", time.Date(2022, 12, 31, 15, 59, 0, 0, time.UTC), false},
		{"2022-05-16", time.Time{}, true},
		{"2022-05-16T00:00:00Z", time.Time{}, true},
		{"2022-02-30T00:00", time.Time{}, true},
		{"tomorrow", time.Time{}, true},
	} {
		got, err := parseEffectiveAt(tc.in)
		if tc.bad {
			var fe *FieldError
			require.ErrorAs(t, err, &fe, tc.in)
			assert.Equal(t, "effective_at", fe.Field, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: %s", tc.in, got)
	}
}

// TestRulesActivateAt: the activate form's optional time goes through the
// confirmation page, which names it and whose token binds it; the set is
// then listed as scheduled at it. A bad time, or one the backend refuses,
// is shown next to the field with what was typed.
func TestRulesActivateAt(t *testing.T) {
	e := newEnv(t, nil) // now: 2022-05-15 18:00 in Beijing
	c := e.client()
	csrf := e.rulesCSRF(c, "r-token")
	r := e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {goodRules}})
	assert.Contains(t, r.body, `name="effective_at" id="effective-at"`, "the dry run's activate form")
	assert.Contains(t, r.body, `name="effective_at" id="effective-at-v3"`, "the uploaded row's")

	// A time that does not parse: refused before any confirmation.
	r = e.post(c, "/console/rules/activate/confirm", url.Values{"csrf": {csrf}, "version": {"v3"}, "effective_at": {"2022-05-16 24:00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="effective-at-v3" value="2022-05-16 24:00">`)
	assert.Contains(t, r.body, `id="effective-at-error">生效时间无效，应为 年-月-日 时:分<`)

	confirm := func(at string) (resp, string) {
		t.Helper()
		r := e.post(c, "/console/rules/activate/confirm", url.Values{"csrf": {csrf}, "version": {"v3"}, "effective_at": {at}})
		require.Equal(t, http.StatusOK, r.status, r.body)
		return r, confirmRE.FindStringSubmatch(r.body)[1]
	}
	page, tok := confirm("2022-05-16T00:00")
	assert.Contains(t, page.body, `id="confirm-question">确认激活 v3？<`)
	assert.Contains(t, page.body, `<p id="confirm-at">生效时间（北京时间）: <b>2022-05-16 00:00</b></p>`)
	assert.Contains(t, page.body, `name="effective_at" value="2022-05-16T00:00"`)
	assert.Empty(t, inlineRE.FindAllString(page.body, -1))
	// The token is for that time only: another time, none, or one that
	// does not parse is not confirmed, and the token is spent.
	for _, at := range []string{"2022-05-16T00:01", "", "x"} {
		form := url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {tok}, "effective_at": {at}}
		assert.Equal(t, http.StatusForbidden, e.post(c, "/console/rules/activate", form).status, at)
		_, tok = confirm("2022-05-16T00:00")
	}
	// Nor is a token confirmed without a time good for one.
	_, plain := e.confirm(c, csrf, "activate", "v3")
	assert.Equal(t, http.StatusForbidden, e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {plain}, "effective_at": {"2022-05-16T00:00"}}).status)

	r = e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {tok}, "effective_at": {"2022-05-16T00:00"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `id="notice">已排期，2022-05-16 00:00 生效<`)
	assert.Contains(t, r.body, `<tr class="scheduled"><th>已排期</th><td>sichuan@v3</td><td>2022-05-16 00:00</td>`)
	assert.Contains(t, r.body, `id="in-force">sichuan@v2<`, "v2 stays in force until then")
	assert.Equal(t, []string{"carol upload v3", "carol activate v3 2022-05-16T00:00:00+08:00"}, e.fake.rulesLog())

	// Rolled back, the schedule is gone.
	_, tok = e.confirm(c, csrf, "rollback", "")
	r = e.post(c, "/console/rules/rollback", url.Values{"csrf": {csrf}, "confirm": {tok}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, `class="scheduled"`)

	// A past time takes effect at once, and the confirmation says so.
	e.post(c, "/console/rules/upload", url.Values{"csrf": {csrf}, "source": {goodRules}})
	page, _ = confirm("2022-05-15T17:59")
	assert.Contains(t, page.body, `id="confirm-at-once">该时间已过，确认后立即生效<`)
	page, _ = confirm("2022-05-15T18:01")
	assert.NotContains(t, page.body, `confirm-at-once`)

	// A time the backend refuses: shown next to the field, typed value kept.
	_, tok = confirm("2099-01-01T00:00")
	r = e.post(c, "/console/rules/activate", url.Values{"csrf": {csrf}, "version": {"v3"}, "confirm": {tok}, "effective_at": {"2099-01-01T00:00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="effective-at-v3" value="2099-01-01T00:00">`)
	assert.Contains(t, r.body, `id="effective-at-error">more than 90 days ahead<`)
	assert.Equal(t, []string{"carol upload v3", "carol activate v3 2022-05-16T00:00:00+08:00", "carol rollback", "carol upload v3"}, e.fake.rulesLog())
}
