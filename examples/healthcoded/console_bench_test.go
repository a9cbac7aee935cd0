package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/console"
)

// BenchmarkConsolePages renders every console page from the real server
// over the default 10 000 demo people (their 14 days of decisions, about
// 30 000 scans and 300 trips), through HTTP on loopback with a signed-in
// session: what a CDC operator waits for, server side. Issue 17's budget
// is 200 ms a page and 1 s a person-finder run (finder-run: a two-hop
// query saved as a task).
func BenchmarkConsolePages(b *testing.B) {
	a, rows := openDemo(b, nil)
	srv := httptest.NewServer(a.Routes())
	defer srv.Close()
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	type client struct {
		c    *http.Client
		csrf string
	}
	send := func(cl *client, method, path string, form url.Values) (int, string) {
		var res *http.Response
		var err error
		if method == "GET" {
			res, err = cl.c.Get(srv.URL + path)
		} else {
			res, err = cl.c.PostForm(srv.URL+path, form)
		}
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
			cl.csrf = m[1]
		}
		return res.StatusCode, string(body)
	}
	signIn := func(token string) *client {
		jar, err := cookiejar.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		cl := &client{c: &http.Client{Jar: jar}}
		send(cl, "GET", "/console/login", nil)
		if status, body := send(cl, "POST", "/console/login", url.Values{"csrf": {cl.csrf}, "token": {token}}); status != http.StatusOK {
			b.Fatalf("sign in: %d %s", status, body)
		}
		return cl
	}
	tr := signIn(transcoder)
	rulesAdm := signIn(rulesAdmin)
	anon := &client{c: &http.Client{}}

	// An index case with contacts, and its task.
	var people []string
	for _, r := range rows[1:] {
		people = append(people, r[0])
	}
	var id, task string
	for _, p := range people {
		status, body := send(tr, "POST", "/console/finder", findForm(tr.csrf, p, "depth", "2"))
		if m := taskIDField.FindStringSubmatch(body); status == http.StatusOK && m != nil && contactCount.FindStringSubmatch(body)[1] != "0" {
			id, task = p, m[1]
			break
		}
	}
	if task == "" {
		b.Fatal("no demo person has contacts")
	}

	for _, p := range []struct {
		name   string
		cl     *client
		method string
		path   string
		form   func() url.Values
		want   string
	}{
		{"signin", anon, "GET", "/console/login", nil, `id="token"`},
		{"person-lookup", tr, "POST", "/console/person", func() url.Values { return url.Values{"csrf": {tr.csrf}, "id": {id}} }, `id="displayed"`},
		{"stats", tr, "GET", "/console/stats", nil, `id="chart-venue-days"`},
		{"users", tr, "GET", "/console/stats/users", nil, `<tr class="user">`},
		{"users-region", tr, "GET", "/console/stats/users?colour=yellow&region=51&page=2", nil, `id="users-total"`},
		{"screen", tr, "GET", "/console/screen", nil, `id="screen"`},
		{"screen-json", tr, "GET", "/console/screen.json", nil, `"trend"`},
		{"rules", rulesAdm, "GET", "/console/rules", nil, `id="in-force"`},
		{"finder-form", tr, "GET", "/console/finder", nil, `id="finder-form"`},
		{"finder-venues", tr, "POST", "/console/finder/venues", func() url.Values {
			return url.Values{"csrf": {tr.csrf}, "venue_q": {"成都 店"}, "search": {"all"}, "proximity": {"plan"}}
		}, `id="finder-form"`},
		{"finder-run", tr, "POST", "/console/finder", func() url.Values { return findForm(tr.csrf, id, "depth", "2") }, `id="contact-count"`},
		{"finder-task", tr, "GET", "/console/finder/tasks/" + task, nil, `id="contact-count"`},
		{"finder-csv", tr, "GET", "/console/finder/tasks/" + task + "/contacts.csv", nil, "hop,person"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				var form url.Values
				if p.form != nil {
					form = p.form()
				}
				status, body := send(p.cl, p.method, p.path, form)
				if status != http.StatusOK || !strings.Contains(body, p.want) {
					b.Fatalf("%s: status %d, no %s", p.path, status, p.want)
				}
				if m := contactCount.FindStringSubmatch(body); m != nil {
					n, _ := strconv.Atoi(m[1])
					b.ReportMetric(float64(n), "contacts")
				}
			}
		})
	}
}

// BenchmarkFinder is one two-hop person-finder query (2 h windows) over
// the demo scans of the default 10 000 people, through the console's
// backend: refresh check, identity to pseudonym, trace, masking, and the
// task saved (one bbolt commit) and audited.
func BenchmarkFinder(b *testing.B) {
	a, rows := openDemo(b, nil)
	be := consoleBackend{a}
	ctx := context.Background()
	p := console.Principal{Actor: "bench", Roles: []string{console.RoleAuditor}}
	contacts := 0
	b.ResetTimer()
	for i := range b.N {
		q := console.FinderQuery{Who: console.Who{ID: rows[1+i%(len(rows)-1)][0]}, Before: 2 * time.Hour, After: 2 * time.Hour, Depth: 2}
		res, err := be.Find(ctx, p, q, "127.0.0.1")
		var fe *console.FieldError
		if err != nil && !errors.As(err, &fe) {
			b.Fatal(err)
		}
		contacts += len(res.Result.Contacts)
	}
	b.ReportMetric(float64(contacts)/float64(b.N), "contacts/op")
}
