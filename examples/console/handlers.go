package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
)

// CSP is the Content-Security-Policy of every console response: no inline
// script or style, nothing from elsewhere, never framed. connect-src 'self'
// lets the dashboard's script poll screen.json (default-src 'none' would
// block its fetch).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Cookie names.
const (
	sessionCookie = "hc_console"
	preCookie     = "hc_console_pre" // before sign-in: keys the sign-in form's CSRF token
	langCookie    = "hc_console_lang"
	maxForm       = 16 << 10
)

func (c *Console) routes(static fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/person", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.Handle("POST /console/logout", c.post("console_signout", "", c.logout))
	mux.Handle("GET /console/person", c.get(func(w http.ResponseWriter, r *http.Request, q *request) {
		c.render(w, q, http.StatusOK, "person", personPage{})
	}))
	mux.Handle("POST /console/person", c.post("console_lookup", roleLookup, c.lookup))
	mux.Handle("POST /console/person/transcode", c.post("console_transcode", RoleTranscoder, c.transcode))
	mux.Handle("GET /console/stats", c.get(c.statsPage))
	mux.Handle("GET /console/screen", c.get(c.screenPage))
	mux.Handle("GET /console/screen.json", c.get(c.screenJSON))
	c.rulesRoutes(mux)
	c.finderRoutes(mux)
	files := http.StripPrefix("/console/static/", http.FileServerFS(static))
	mux.Handle("GET /console/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	return headers(mux)
}

// roleLookup is any role that may read a person's history: the console
// checks it as "auditor or transcoder".
const roleLookup = "auditor|transcoder"

// headers sets the security headers on every response; pages are not
// cached (the static handler overrides Cache-Control).
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// request is what a page handler gets: the session and the language.
type request struct {
	s    sessionView
	lang string
	T    map[string]string
}

func hasRole(p Principal, role string) bool {
	if role == "" {
		return true
	}
	for r := range strings.SplitSeq(role, "|") {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// lang picks the language: ?lang= (remembered in a cookie), the cookie,
// the default.
func (c *Console) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); labels[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/console/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure, MaxAge: 365 * 24 * 3600})
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil && labels[ck.Value] != nil {
		return ck.Value
	}
	return c.cfg.Lang
}

func (c *Console) session(r *http.Request) (sessionView, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return sessionView{}, false
	}
	return c.sessions.get(ck.Value, c.cfg.Now())
}

// get wraps a page that needs a session: without one, the sign-in page.
func (c *Console) get(h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := c.lang(w, r)
		s, ok := c.session(r)
		if !ok {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		h(w, r, &request{s: s, lang: l, T: labels[l]})
	})
}

// post wraps a form's action: it needs a session, the session's CSRF
// token and role; otherwise it answers 403 and audits the refusal.
func (c *Console) post(action, role string, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return c.postMax(action, role, maxForm, h)
}

// postMax is post with a body of at most max bytes.
func (c *Console) postMax(action, role string, max int64, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := c.lang(w, r)
		q := &request{lang: l, T: labels[l]}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		s, ok := c.session(r)
		if !ok {
			c.refuse(w, r, q, AuditAttempt{Action: action, Role: role, Outcome: "unauthenticated", Detail: "no live session"}, "expired")
			return
		}
		q.s = s
		if !equalToken(r.PostFormValue("csrf"), s.csrf) {
			c.refuse(w, r, q, AuditAttempt{Actor: s.p.Actor, Action: action, Role: role, Outcome: "forbidden", Detail: "csrf token missing or wrong"}, "forbidden")
			return
		}
		if !hasRole(s.p, role) {
			c.refuse(w, r, q, AuditAttempt{Actor: s.p.Actor, Action: action, Role: role, Outcome: "forbidden", Detail: "lacks role " + role}, "forbidden")
			return
		}
		h(w, r, q)
	})
}

// refuse answers 403 and audits the attempt.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, q *request, rec AuditAttempt, msg string) {
	rec.At, rec.Client = c.cfg.Now(), clientHost(r)
	c.b.Audit(r.Context(), rec)
	c.render(w, q, http.StatusForbidden, "error", errorPage{Message: q.T[msg]})
}

func equalToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// preToken is the sign-in form's CSRF token: an HMAC of the pre-session
// cookie, so a page on another site can neither read nor forge it, and the
// console keeps nothing for visitors who have not signed in.
func (c *Console) preToken(pre string) string {
	m := hmac.New(sha256.New, c.preKey[:])
	m.Write([]byte(pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type signinPage struct {
	CSRF  string
	Error string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	l := c.lang(w, r)
	q := &request{lang: l, T: labels[l]}
	c.render(w, q, http.StatusOK, "signin", signinPage{CSRF: c.preToken(c.preCookie(w, r))})
}

// preCookie returns the pre-session cookie, setting a new one if absent.
func (c *Console) preCookie(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: v, Path: "/console/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure})
	return v
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	l := c.lang(w, r)
	q := &request{lang: l, T: labels[l]}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	pre := ""
	if ck, err := r.Cookie(preCookie); err == nil {
		pre = ck.Value
	}
	if pre == "" || !equalToken(r.PostFormValue("csrf"), c.preToken(pre)) {
		c.refuse(w, r, q, AuditAttempt{Action: "console_signin", Outcome: "forbidden", Detail: "csrf token missing or wrong"}, "forbidden")
		return
	}
	p, err := c.b.Authenticate(strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		c.b.Audit(r.Context(), AuditAttempt{At: c.cfg.Now(), Action: "console_signin", Outcome: "unauthenticated", Detail: "unknown token", Client: clientHost(r)})
		c.render(w, q, http.StatusUnauthorized, "signin", signinPage{CSRF: c.preToken(pre), Error: q.T["bad_token"]})
		return
	}
	// Whatever session cookie came with the request is ended, never
	// promoted: the signed-in session gets a fresh id.
	if old, ok := c.session(r); ok {
		c.sessions.remove(old.key)
	}
	id, _ := c.sessions.create(p, c.cfg.Now())
	c.setSession(w, id, int(c.cfg.SessionMax.Seconds()))
	http.SetCookie(w, &http.Cookie{Name: preCookie, Path: "/console/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure})
	http.Redirect(w, r, "/console/person", http.StatusSeeOther)
}

func (c *Console) setSession(w http.ResponseWriter, id string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure})
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, q *request) {
	c.sessions.remove(q.s.key)
	c.setSession(w, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// personPage is the person page's data.
type personPage struct {
	Person  *PersonView
	Handle  string            // names the person in the session, for the transcode form
	Errors  map[string]string // field -> message
	Form    map[string]string // the transcode form's values, kept on a refusal
	Notice  string
	DocType string
}

var docTypes = []string{"resident_id", "passport", "hk_macao_travel_permit", "taiwan_travel_permit", "home_return_permit"}

func (c *Console) lookup(w http.ResponseWriter, r *http.Request, q *request) {
	who := Who{ID: strings.TrimSpace(r.PostFormValue("id")), DocType: r.PostFormValue("doc_type"), Phone: strings.TrimSpace(r.PostFormValue("phone"))}
	if who.DocType == "resident_id" {
		who.DocType = ""
	}
	c.showPerson(w, r, q, who, "", http.StatusOK, personPage{DocType: r.PostFormValue("doc_type")})
}

// showPerson renders who's page (with a new handle when handle is "").
func (c *Console) showPerson(w http.ResponseWriter, r *http.Request, q *request, who Who, handle string, status int, page personPage) {
	v, err := c.b.Person(r.Context(), who)
	var fe *FieldError
	if errors.As(err, &fe) {
		page.Errors = map[string]string{fe.Field: fe.Msg}
		c.render(w, q, http.StatusUnprocessableEntity, "person", page)
		return
	}
	if err != nil {
		c.internal(w, q, "person", err)
		return
	}
	if handle == "" {
		handle = c.sessions.remember(q.s.key, who)
	}
	page.Person, page.Handle = &v, handle
	c.render(w, q, status, "person", page)
}

func (c *Console) transcode(w http.ResponseWriter, r *http.Request, q *request) {
	handle := r.PostFormValue("person")
	who, ok := c.sessions.person(q.s.key, handle)
	if !ok {
		c.render(w, q, http.StatusUnprocessableEntity, "person", personPage{Errors: map[string]string{"id": q.T["no_person"]}})
		return
	}
	form := map[string]string{"colour": r.PostFormValue("colour"), "authorisation": r.PostFormValue("authorisation"), "reason": r.PostFormValue("reason")}
	errs := map[string]string{}
	for _, f := range []string{"colour", "authorisation", "reason"} {
		if strings.TrimSpace(form[f]) == "" {
			errs[f] = required[q.lang]
		}
	}
	if len(errs) == 0 {
		err := c.b.Transcode(r.Context(), q.s.p, who, form["colour"], form["authorisation"], form["reason"], clientHost(r))
		var fe *FieldError
		switch {
		case errors.As(err, &fe):
			errs[fe.Field] = fe.Msg
		case err != nil:
			c.internal(w, q, "transcode", err)
			return
		}
	}
	if len(errs) > 0 {
		c.showPerson(w, r, q, who, handle, http.StatusUnprocessableEntity, personPage{Errors: errs, Form: form})
		return
	}
	c.showPerson(w, r, q, who, handle, http.StatusOK, personPage{Notice: q.T["transcoded"]})
}

var required = map[string]string{"zh": "必填", "en": "required"}

type statsPage struct {
	Stats  StatsView
	Charts charts
}

func (c *Console) statsPage(w http.ResponseWriter, r *http.Request, q *request) {
	st, err := c.b.Stats(r.Context(), c.cfg.Now())
	if err != nil {
		c.internal(w, q, "stats", err)
		return
	}
	c.render(w, q, http.StatusOK, "stats", statsPage{Stats: st, Charts: makeCharts(st, q.T)})
}

// screenData is the dashboard's data, as the page and as screen.json.
type screenData struct {
	Today     DayRow        `json:"today"`
	Trend     template.HTML `json:"trend"` // the trend chart's markup
	Causes    []Ranked      `json:"causes"`
	Regions   []Ranked      `json:"regions"`
	Anomalies []string      `json:"anomalies"`
	Updated   string        `json:"updated"`
}

func (c *Console) screen(r *http.Request, q *request) (screenData, error) {
	now := c.cfg.Now()
	st, err := c.b.Stats(r.Context(), now)
	if err != nil {
		return screenData{}, err
	}
	d := screenData{Causes: top(st.Causes, 8), Regions: top(st.Regions, 8), Anomalies: st.Anomalies,
		Updated: now.Format("15:04:05"), Trend: makeCharts(st, q.T).Days}
	if d.Anomalies == nil {
		d.Anomalies = []string{}
	}
	if n := len(st.Days); n > 0 {
		d.Today = st.Days[n-1]
	}
	return d, nil
}

func top(r []Ranked, n int) []Ranked {
	if len(r) > n {
		return r[:n]
	}
	if r == nil {
		return []Ranked{}
	}
	return r
}

func (c *Console) screenPage(w http.ResponseWriter, r *http.Request, q *request) {
	d, err := c.screen(r, q)
	if err != nil {
		c.internal(w, q, "screen", err)
		return
	}
	c.render(w, q, http.StatusOK, "screen", d)
}

func (c *Console) screenJSON(w http.ResponseWriter, r *http.Request, q *request) {
	d, err := c.screen(r, q)
	if err != nil {
		c.cfg.Logger.Error("console: screen.json", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(d)
}

type errorPage struct{ Message string }

// internal logs err (the Backend's errors carry no personal data) and
// answers 500.
func (c *Console) internal(w http.ResponseWriter, q *request, what string, err error) {
	c.cfg.Logger.Error("console: "+what, "err", err)
	c.render(w, q, http.StatusInternalServerError, "error", errorPage{Message: "internal error"})
}

// view is what every template gets.
type view struct {
	T      map[string]string
	Lang   string
	Actor  string
	Roles  []string
	CSRF   string
	Can    map[string]bool
	Page   string
	Data   any
	Docs   []string
	SignIn bool
}

func (c *Console) render(w http.ResponseWriter, q *request, status int, page string, data any) {
	v := view{T: q.T, Lang: q.lang, Actor: q.s.p.Actor, Roles: q.s.p.Roles, CSRF: q.s.csrf, Page: page, Data: data, Docs: docTypes,
		Can: map[string]bool{"transcode": q.s.p.Has(RoleTranscoder), "lookup": hasRole(q.s.p, roleLookup),
			"rules": c.rules != nil && hasRole(q.s.p, roleRulesView), "rules_admin": c.rules != nil && q.s.p.Has(RoleRulesAdmin),
			"finder": c.finder != nil && hasRole(q.s.p, roleFinder)}}
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, "base", v); err != nil {
		c.cfg.Logger.Error("console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
