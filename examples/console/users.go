package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// UsersBackend is what the red/yellow users list (红黄码人员名单, tender
// 2.2.7) needs of the server. A Backend that also implements it gets the
// page (/console/stats/users) and a link to it from the statistics page;
// one that does not is served as before. Implementations must be safe for
// concurrent use.
type UsersBackend interface {
	// Users returns one page of the people whose code is red or yellow
	// now, as q filters them, and audits the view (p, client; action
	// "console_users"): listing them is a personal-data access. A filter
	// value the server refuses is a *FieldError naming the query's field
	// ("colour", "region", "rule", "since", "until"). Every person is
	// masked.
	Users(ctx context.Context, p Principal, q UsersQuery, client string) (UsersResult, error)
}

// UsersQuery filters and pages the red/yellow users list. The zero value
// lists everyone red or yellow from the first. No field holds personal
// data, so the page carries them in its URL.
type UsersQuery struct {
	Colour string // "red", "yellow", or "" for both
	Region string // a GB/T 2260 region code or its prefix (2 to 6 digits); "" for any
	Rule   string // the deciding rule as the list shows it ("manual" for a transcode by hand); "" for any
	// Since and Until bound the calendar day (the server's day,
	// "2006-01-02") on which the person's state began, both inclusive;
	// "" is unbounded.
	Since, Until string
	Offset       int // rows to skip
	Limit        int // rows to return at most; 0 means all
}

// UsersResult is one page of the list.
type UsersResult struct {
	Total   int       // people matching the filter, on every page
	Rows    []UserRow // this page's, newest state first
	Regions []string  // the regions of everyone red or yellow, for the filter form
	Rules   []string  // likewise their rules
}

// UserRow is one person on the list.
type UserRow struct {
	Person      string // masked; never a document number or phone
	Colour      string // "red" or "yellow"
	Region      string // "" when unknown
	Rule        string
	RuleVersion string
	Reason      string
	Since       time.Time // when the state began
}

// usersPerPage is the list's page size.
const usersPerPage = 50

// roleUsers may view the list. It is roleLookup (reading a person's
// history needs the same), so the statistics page shows the link when
// .Can.lookup holds.
const roleUsers = roleLookup

// addUsers adds the users list when the Backend implements UsersBackend:
// its template, the link on the statistics page (templates/stats_users.html
// redefines the stats page's empty "users_link" block) and its route,
// served ahead of the other routes.
func (c *Console) addUsers() error {
	ub, ok := c.b.(UsersBackend)
	if !ok {
		return nil
	}
	c.users = ub
	t, err := template.New("users").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/users.html")
	if err != nil {
		return fmt.Errorf("console: template users: %w", err)
	}
	c.pages["users"] = t
	if _, err := c.pages["stats"].ParseFS(templateFS, "templates/stats_users.html"); err != nil {
		return fmt.Errorf("console: template stats_users: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /console/stats/users", headers(c.get(c.usersPage)))
	mux.Handle("/", c.handler)
	c.handler = mux
	return nil
}

// usersPage is the users list page's data.
type usersPage struct {
	Form       map[string]string // the filter's values, as typed
	Errors     map[string]string // field -> message
	Result     *UsersResult
	Regions    []string // choices for the form
	Rules      []string
	Page       int // 1-based
	Pages      int
	First      int // the first row shown, 1-based (0: none)
	Last       int
	Prev, Next string // links to the neighbouring pages; "" when none
}

// usersFields are the filter's query parameters.
var usersFields = []string{"colour", "region", "rule", "since", "until", "page"}

var (
	regionRE = regexp.MustCompile(`^[0-9]{2,6}$`)
	ruleRE   = regexp.MustCompile(`^[\p{L}\p{N}_.:/@-]{1,128}$`)
)

// parseUsers reads the filter from the query, noting each bad field.
func parseUsers(v url.Values, q *request, page *usersPage) (UsersQuery, bool) {
	for _, f := range usersFields {
		page.Form[f] = strings.TrimSpace(v.Get(f))
	}
	f := page.Form
	uq := UsersQuery{Region: f["region"], Rule: f["rule"], Since: f["since"], Until: f["until"]}
	switch f["colour"] {
	case "", "both":
	case "red", "yellow":
		uq.Colour = f["colour"]
	default:
		page.Errors["colour"] = q.T["bad_colour"]
	}
	if uq.Region != "" && !regionRE.MatchString(uq.Region) {
		page.Errors["region"] = q.T["bad_region"]
	}
	if uq.Rule != "" && !ruleRE.MatchString(uq.Rule) {
		page.Errors["rule"] = q.T["bad_rule"]
	}
	for _, d := range []string{"since", "until"} {
		if s := f[d]; s != "" {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				page.Errors[d] = q.T["bad_date"]
			}
		}
	}
	if page.Errors["since"] == "" && page.Errors["until"] == "" && uq.Since != "" && uq.Until != "" && uq.Until < uq.Since {
		page.Errors["until"] = q.T["bad_range"]
	}
	page.Page = 1
	if s := f["page"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			page.Errors["page"] = q.T["bad_page"]
		} else {
			page.Page = n
		}
	}
	uq.Offset, uq.Limit = (page.Page-1)*usersPerPage, usersPerPage
	return uq, len(page.Errors) == 0
}

// usersPage shows one page of the list: to auditors and transcoders only
// (anyone else is refused, 403, and the refusal audited); a bad filter
// value is named next to its field (422) and nothing is listed.
func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, q *request) {
	if !hasRole(q.s.p, roleUsers) {
		c.refuse(w, r, q, AuditAttempt{Actor: q.s.p.Actor, Action: "console_users", Role: roleUsers, Outcome: "forbidden", Detail: "lacks role " + roleUsers}, "forbidden")
		return
	}
	page := usersPage{Form: map[string]string{}, Errors: map[string]string{}}
	uq, ok := parseUsers(r.URL.Query(), q, &page)
	if !ok {
		c.render(w, q, http.StatusUnprocessableEntity, "users", page)
		return
	}
	res, err := c.users.Users(r.Context(), q.s.p, uq, clientHost(r))
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		page.Errors[fe.Field] = fe.Msg
		c.render(w, q, http.StatusUnprocessableEntity, "users", page)
		return
	case err != nil:
		c.internal(w, q, "users", err)
		return
	}
	page.Result, page.Regions, page.Rules = &res, res.Regions, res.Rules
	page.Pages = max(1, (res.Total+usersPerPage-1)/usersPerPage)
	if len(res.Rows) > 0 {
		page.First = uq.Offset + 1
		page.Last = uq.Offset + len(res.Rows)
	}
	link := func(n int) string {
		v := url.Values{}
		for _, f := range usersFields[:len(usersFields)-1] {
			if s := page.Form[f]; s != "" {
				v.Set(f, s)
			}
		}
		v.Set("page", strconv.Itoa(n))
		return "/console/stats/users?" + v.Encode()
	}
	if page.Page > 1 {
		page.Prev = link(min(page.Page-1, page.Pages))
	}
	if page.Page < page.Pages {
		page.Next = link(page.Page + 1)
	}
	c.render(w, q, http.StatusOK, "users", page)
}
