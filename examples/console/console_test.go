package console

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t     *testing.T
	srv   *httptest.Server
	fake  *fakeBackend
	clock *clock
	c     *Console
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, fake: newFake(), clock: &clock{t: time.Date(2022, 5, 15, 10, 0, 0, 0, time.UTC)}}
	cfg := Config{Backend: e.fake, Now: e.clock.now}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	e.c = c
	e.srv = httptest.NewServer(c.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser: a cookie jar, redirects not followed.
func (e *env) client() *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(c *http.Client, path string) resp {
	e.t.Helper()
	r, err := c.Get(e.srv.URL + path)
	require.NoError(e.t, err)
	return read(e.t, r)
}

func (e *env) post(c *http.Client, path string, form url.Values) resp {
	e.t.Helper()
	r, err := c.PostForm(e.srv.URL+path, form)
	require.NoError(e.t, err)
	return read(e.t, r)
}

func read(t *testing.T, r *http.Response) resp {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return resp{r.StatusCode, r.Header, string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf field in %s", body)
	return m[1]
}

// signIn signs c in with token and returns the session's CSRF token.
func (e *env) signIn(c *http.Client, token string) string {
	e.t.Helper()
	page := e.get(c, "/console/login")
	require.Equal(e.t, http.StatusOK, page.status)
	r := e.post(c, "/console/login", url.Values{"csrf": {csrfOf(e.t, page.body)}, "token": {token}})
	require.Equal(e.t, http.StatusSeeOther, r.status, r.body)
	p := e.get(c, "/console/person")
	require.Equal(e.t, http.StatusOK, p.status)
	return csrfOf(e.t, p.body)
}

func (e *env) sessionCookie(c *http.Client) string {
	u, _ := url.Parse(e.srv.URL + "/console/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	return ""
}

func TestSignInCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(c *Config) { c.Secure = secure })
		c := e.client()
		page := e.get(c, "/console/login")
		r := e.post(c, "/console/login", url.Values{"csrf": {csrfOf(t, page.body)}, "token": {"t-token"}})
		require.Equal(t, http.StatusSeeOther, r.status)
		assert.Equal(t, "/console/person", r.header.Get("Location"))
		var set *http.Cookie
		for _, line := range r.header.Values("Set-Cookie") {
			ck, err := http.ParseSetCookie(line)
			require.NoError(t, err)
			if ck.Name == sessionCookie {
				set = ck
			}
		}
		require.NotNil(t, set)
		assert.True(t, set.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, set.SameSite)
		assert.Equal(t, "/console/", set.Path)
		assert.Equal(t, secure, set.Secure)
		assert.Len(t, set.Value, 43, "32 random bytes, base64url")
		if !secure { // the jar will not send a Secure cookie over http
			p := e.get(c, "/console/person")
			assert.Contains(t, p.body, `id="actor">alice<`)
		}
	}
}

func TestSignInRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	page := e.get(c, "/console/login")
	r := e.post(c, "/console/login", url.Values{"csrf": {csrfOf(t, page.body)}, "token": {"nope"}})
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.body, `id="token-error"`)
	assert.Empty(t, e.sessionCookie(c))
	// Without the sign-in form's token: a forged sign-in.
	r = e.post(e.client(), "/console/login", url.Values{"token": {"t-token"}})
	assert.Equal(t, http.StatusForbidden, r.status)
	a := e.fake.auditLog()
	require.Len(t, a, 2)
	assert.Equal(t, "unauthenticated", a[0].Outcome)
	assert.Equal(t, "forbidden", a[1].Outcome)
	assert.Equal(t, "console_signin", a[1].Action)
	assert.Equal(t, 0, e.c.sessions.len())
}

func TestNoSessionFixation(t *testing.T) {
	e := newEnv(t, nil)
	// An attacker plants a session id of their own before sign-in.
	c := e.client()
	u, _ := url.Parse(e.srv.URL + "/console/")
	planted := strings.Repeat("A", 43)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/console/"}})
	e.signIn(c, "t-token")
	assert.NotEqual(t, planted, e.sessionCookie(c))
	attacker := e.client()
	attacker.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/console/"}})
	assert.Equal(t, http.StatusSeeOther, e.get(attacker, "/console/person").status)

	// Signing in again over a live session ends it and issues a new id.
	first := e.sessionCookie(c)
	e.signIn(c, "a-token")
	second := e.sessionCookie(c)
	assert.NotEqual(t, first, second)
	replay := e.client()
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first, Path: "/console/"}})
	assert.Equal(t, http.StatusSeeOther, e.get(replay, "/console/person").status)
	assert.Equal(t, 1, e.c.sessions.len())
}

func TestExpiry(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "t-token")
	e.clock.add(29 * time.Minute)
	assert.Equal(t, http.StatusOK, e.get(c, "/console/stats").status)
	e.clock.add(31 * time.Minute) // idle past 30 min
	r := e.get(c, "/console/stats")
	assert.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, "/console/login", r.header.Get("Location"))

	// Active every 20 min, the session still ends 8 h after sign-in.
	e.signIn(c, "t-token")
	for range 23 {
		e.clock.add(20 * time.Minute)
		require.Equal(t, http.StatusOK, e.get(c, "/console/stats").status)
	}
	e.clock.add(20 * time.Minute)
	assert.Equal(t, http.StatusSeeOther, e.get(c, "/console/stats").status)
	assert.Equal(t, 0, e.c.sessions.len())
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "t-token")
	id := e.sessionCookie(c)
	r := e.post(c, "/console/logout", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, 0, e.c.sessions.len())
	// The id is dead server-side, whoever still holds it.
	replay := e.client()
	u, _ := url.Parse(e.srv.URL + "/console/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: id, Path: "/console/"}})
	assert.Equal(t, http.StatusSeeOther, e.get(replay, "/console/person").status)
}

func TestSessionsBounded(t *testing.T) {
	s := newSessions(3, time.Hour, 8*time.Hour)
	t0 := time.Date(2022, 5, 15, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		id, _ := s.create(Principal{Actor: "x"}, t0.Add(time.Duration(i)*time.Second))
		ids = append(ids, id)
	}
	assert.Equal(t, 3, s.len())
	now := t0.Add(time.Minute)
	for i, id := range ids {
		_, ok := s.get(id, now)
		assert.Equal(t, i >= 2, ok, "session %d", i)
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "t-token")
	e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {rawID}})
	for _, bad := range []url.Values{{}, {"csrf": {""}}, {"csrf": {csrf[:42] + "x"}}} {
		for _, path := range []string{"/console/person", "/console/person/transcode", "/console/logout"} {
			form := url.Values{"id": {rawID}, "colour": {"red"}, "authorisation": {"A-1"}, "reason": {"r"}}
			for k, v := range bad {
				form[k] = v
			}
			r := e.post(c, path, form)
			assert.Equal(t, http.StatusForbidden, r.status, path)
		}
	}
	assert.Empty(t, e.fake.transcodeLog())
	a := e.fake.auditLog()
	require.Len(t, a, 9)
	for _, rec := range a {
		assert.Equal(t, "alice", rec.Actor)
		assert.Equal(t, "forbidden", rec.Outcome)
		assert.Contains(t, rec.Detail, "csrf")
		assert.Equal(t, "127.0.0.1", rec.Client)
	}
	assert.Equal(t, "console_transcode", a[1].Action)
	// Still signed in: a forged POST does not end the session.
	assert.Equal(t, http.StatusOK, e.get(c, "/console/person").status)
	// No session at all: 403 too, audited as unauthenticated.
	r := e.post(e.client(), "/console/person/transcode", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "unauthenticated", e.fake.auditLog()[9].Outcome)
}

func TestRoleRefused(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "a-token")
	r := e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {rawID}})
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="history"`)
	assert.NotContains(t, r.body, `transcode-form`, "auditors see no transcode form")
	handle := regexp.MustCompile(`name="person" value="`).FindString(r.body)
	assert.Empty(t, handle)
	r = e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {"x"}, "colour": {"red"}, "authorisation": {"A"}, "reason": {"R"}})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Empty(t, e.fake.transcodeLog())
	a := e.fake.auditLog()
	require.Len(t, a, 1)
	assert.Equal(t, AuditAttempt{At: e.clock.now(), Actor: "bob", Action: "console_transcode", Role: RoleTranscoder,
		Outcome: "forbidden", Detail: "lacks role transcoder", Client: "127.0.0.1"}, a[0])

	// rules-admin alone may not look people up.
	c2 := e.client()
	csrf2 := e.signIn(c2, "r-token")
	r = e.post(c2, "/console/person", url.Values{"csrf": {csrf2}, "id": {rawID}})
	assert.Equal(t, http.StatusForbidden, r.status)
}

var handleRE = regexp.MustCompile(`name="person" value="([^"]+)"`)

func TestTranscode(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "t-token")
	r := e.post(c, "/console/person", url.Values{"csrf": {csrf}, "doc_type": {"resident_id"}, "id": {rawID}})
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="displayed">黄码<`)
	assert.Contains(t, r.body, `哈希链校验通过`)
	m := handleRE.FindStringSubmatch(r.body)
	require.NotNil(t, m)

	// Without a reason: an inline error, nothing changed, the form kept.
	r = e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {m[1]}, "colour": {"red"}, "authorisation": {"卫健委〔2022〕12号"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="reason-error">必填<`)
	assert.Contains(t, r.body, `value="卫健委〔2022〕12号"`)
	assert.Contains(t, r.body, `id="displayed">黄码<`)
	assert.Empty(t, e.fake.transcodeLog())

	// A refusal of the backend's is shown at its field.
	r = e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {m[1]}, "colour": {"blue"}, "authorisation": {"A"}, "reason": {"R"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="colour-error">want green, yellow or red<`)

	r = e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {m[1]}, "colour": {"red"}, "authorisation": {"A-12"}, "reason": {"密接"}})
	assert.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="notice">已转码<`)
	assert.Contains(t, r.body, `id="displayed">红码<`)
	assert.Equal(t, []string{"alice red A-12 密接 " + rawID}, e.fake.transcodeLog())

	// A handle from another session names nobody here.
	c2 := e.client()
	csrf2 := e.signIn(c2, "t-token")
	r = e.post(c2, "/console/person/transcode", url.Values{"csrf": {csrf2}, "person": {m[1]}, "colour": {"green"}, "authorisation": {"A"}, "reason": {"R"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Len(t, e.fake.transcodeLog(), 1)
}

func TestLookupFieldError(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "t-token")
	r := e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {"1234"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="id-error">4 characters: want 18<`)
	assert.NotContains(t, r.body, `value="1234"`, "the typed identity is not echoed")
}

// TestNoRawIdentity: a looked-up person's document number and phone
// appear in no response, header or audit record; only the masked form.
func TestNoRawIdentity(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	csrf := e.signIn(c, "t-token")
	var all []resp
	for _, form := range []url.Values{{"id": {rawID}}, {"phone": {rawPhone}}} {
		form.Set("csrf", csrf)
		r := e.post(c, "/console/person", form)
		require.Equal(t, http.StatusOK, r.status)
		all = append(all, r)
		m := handleRE.FindStringSubmatch(r.body)
		require.NotNil(t, m)
		all = append(all, e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {m[1]}, "colour": {"red"}, "authorisation": {"A"}}))
		all = append(all, e.post(c, "/console/person/transcode", url.Values{"csrf": {csrf}, "person": {m[1]}, "colour": {"red"}, "authorisation": {"A"}, "reason": {"R"}}))
		all = append(all, e.post(c, "/console/person/transcode", url.Values{"person": {m[1]}}))
	}
	assert.Contains(t, all[0].body, mask(Who{ID: rawID}))
	assert.Contains(t, all[4].body, mask(Who{Phone: rawPhone}))
	for _, p := range []string{"/console/person", "/console/stats", "/console/screen", "/console/screen.json"} {
		all = append(all, e.get(c, p))
	}
	for i, r := range all {
		for _, raw := range []string{rawID, rawPhone, "X491231", "38000"} {
			assert.NotContains(t, r.body, raw, "response %d", i)
			for k, vs := range r.header {
				for _, v := range vs {
					assert.NotContains(t, v, raw, "response %d header %s", i, k)
				}
			}
		}
	}
	for _, a := range e.fake.auditLog() {
		assert.NotContains(t, a.Detail, "0019", a)
	}
}

func TestEscaping(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.reason = `<script>alert("x")</script>`
	e.fake.stats.Causes[0].Label = `<img src=x onerror=alert(1)>`
	c := e.client()
	csrf := e.signIn(c, "t-token")
	r := e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {rawID}})
	assert.NotContains(t, r.body, `<script>alert`)
	assert.Contains(t, r.body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
	for _, p := range []string{"/console/stats", "/console/screen"} {
		r = e.get(c, p)
		assert.NotContains(t, r.body, `<img src=x`)
		assert.Contains(t, r.body, `&lt;img src=x onerror=alert(1)&gt;`)
	}
}

var inlineRE = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<script>|<style|\sstyle=|\son[a-z]+=|javascript:`)

// TestSecurityHeaders: every response carries the headers, and no page has
// inline script or style (which the CSP would block).
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	check := func(path string, r resp) {
		t.Helper()
		assert.Equal(t, CSP, r.header.Get("Content-Security-Policy"), path)
		assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"), path)
		if strings.Contains(r.header.Get("Content-Type"), "html") {
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"), path)
			assert.Empty(t, inlineRE.FindAllString(r.body, -1), path)
		}
	}
	for _, p := range []string{"/console/login", "/console/person", "/console/nope", "/console/static/console.css"} {
		check(p, e.get(c, p))
	}
	check("forged", e.post(c, "/console/person", nil))
	csrf := e.signIn(c, "t-token")
	for _, p := range []string{"/console/", "/console/person", "/console/stats", "/console/screen", "/console/screen.json", "/console/static/screen.js", "/console/login?lang=en"} {
		check(p, e.get(c, p))
	}
	check("lookup", e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {rawID}}))
	check("bad lookup", e.post(c, "/console/person", url.Values{"csrf": {csrf}, "id": {"1"}}))
	r := e.get(c, "/console/static/console.css")
	assert.Equal(t, "public, max-age=3600", r.header.Get("Cache-Control"))
	assert.Contains(t, r.header.Get("Content-Type"), "text/css")
}

func TestStatsAndScreen(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "a-token")
	r := e.get(c, "/console/stats")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `<li class="anomaly">red total: 24 today`)
	assert.Contains(t, r.body, "rule-00 密接")
	assert.Contains(t, r.body, "2022-05-15")
	r = e.get(c, "/console/screen")
	assert.Contains(t, r.body, `<script src="/console/static/screen.js" defer></script>`)
	assert.Contains(t, r.body, `id="t-red">24<`)
	r = e.get(c, "/console/screen.json")
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Contains(t, r.body, `"today":{"Date":"2022-05-15","Red":24,"Yellow":68,"Green":1082}`)
	e.fake.stats.Anomalies = nil
	r = e.get(c, "/console/screen.json")
	assert.Contains(t, r.body, `"anomalies":[]`)
}

func TestLang(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	e.signIn(c, "t-token")
	assert.Contains(t, e.get(c, "/console/stats").body, "<title>统计 · 健康码管理后台</title>")
	assert.Contains(t, e.get(c, "/console/stats?lang=en").body, "<title>Statistics · Health code console</title>")
	assert.Contains(t, e.get(c, "/console/stats").body, "<title>Statistics", "remembered in a cookie")
}

func TestConfig(t *testing.T) {
	_, err := New(Config{})
	assert.ErrorContains(t, err, "Backend")
	_, err = New(Config{Backend: newFake(), Lang: "fr"})
	assert.ErrorContains(t, err, "Lang")
	_, err = New(Config{Backend: newFake(), SessionIdle: -1})
	assert.ErrorContains(t, err, "SessionIdle")
}
