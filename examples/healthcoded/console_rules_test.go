package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/rules"
	"github.com/stretchr/testify/require"
)

// consoleClient is a browser's cookie jar signed in to s's console.
type consoleClient struct {
	t    *testing.T
	s    *server
	c    *http.Client
	csrf string
}

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	confirmField = regexp.MustCompile(`name="confirm" value="([^"]+)"`)
)

func (cc *consoleClient) send(method, path string, form url.Values) (int, string) {
	cc.t.Helper()
	var res *http.Response
	var err error
	if method == "GET" {
		res, err = cc.c.Get(cc.s.base + path)
	} else {
		res, err = cc.c.PostForm(cc.s.base+path, form)
	}
	require.NoError(cc.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(cc.t, err)
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		cc.csrf = m[1]
	}
	return res.StatusCode, string(b)
}

func signInConsole(t *testing.T, s *server, token string) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	cc := &consoleClient{t: t, s: s, c: &http.Client{Jar: jar}}
	cc.send("GET", "/console/login", nil)
	status, body := cc.send("POST", "/console/login", url.Values{"csrf": {cc.csrf}, "token": {token}})
	require.Equal(t, http.StatusOK, status, body)
	return cc
}

// TestConsoleRules drives the real server's rules page over HTTP with a
// session: the default set with one rule changed (no-test-72h: yellow to
// red) is uploaded and shown as a matrix of the people who would move,
// activated through the confirmation page, and then in force on the admin
// API; every step is audited with the console's actor.
func TestConsoleRules(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	cc := signInConsole(t, s, rulesAdmin)

	status, body := cc.send("GET", "/console/rules", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="in-force">healthcode-default@2022.06-9<`)

	// A set that does not compile: its problems at line:column.
	bad := strings.Replace(string(rules.DefaultRuleSetYAML()), `when: '!negative_within(72)'`, `when: '!negative_within(72'`, 1)
	status, body = cc.send("POST", "/console/rules/upload", url.Values{"csrf": {cc.csrf}, "source": {bad}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Regexp(t, `<td class="pos">126:\d+</td><td>no-test-72h</td>`, body)

	set := string(rules.DefaultRuleSetYAML())
	set = strings.Replace(set, `version: "2022.06-9"`, `version: "2022.06-9b"`, 1)
	set = strings.Replace(set, "when: '!negative_within(72)'\n    colour: yellow", "when: '!negative_within(72)'\n    colour: red", 1)
	status, body = cc.send("POST", "/console/rules/upload", url.Values{"csrf": {cc.csrf}, "source": {set}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="matrix"`)
	// Columns: g→y g→r y→g y→r r→g r→y; the changed rule moves people yellow→red.
	row := regexp.MustCompile(`<tr><th>no-test-72h</th><td>0</td><td>0</td><td>0</td><td class="nz">(\d+)</td>`).FindStringSubmatch(body)
	require.NotNil(t, row, body)
	require.Contains(t, body, `<tr class="uploaded"><th>已上传待激活</th><td>healthcode-default@2022.06-9b</td>`)

	// Activation needs the confirmation page's token.
	status, _ = cc.send("POST", "/console/rules/activate", url.Values{"csrf": {cc.csrf}, "version": {"2022.06-9b"}})
	require.Equal(t, http.StatusForbidden, status)
	status, body = cc.send("POST", "/console/rules/activate/confirm", url.Values{"csrf": {cc.csrf}, "version": {"2022.06-9b"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "确认激活 2022.06-9b？")
	tok := confirmField.FindStringSubmatch(body)[1]
	status, body = cc.send("POST", "/console/rules/activate", url.Values{"csrf": {cc.csrf}, "version": {"2022.06-9b"}, "confirm": {tok}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="in-force">healthcode-default@2022.06-9b<`)

	var in struct {
		Active struct {
			Version string `json:"version"`
		} `json:"active"`
	}
	require.Equal(t, 200, s.do("GET", "/admin/rules", rulesAdmin, "", &in))
	require.Equal(t, "2022.06-9b", in.Active.Version)

	// Roll back, confirmed, to the default set.
	_, body = cc.send("POST", "/console/rules/rollback/confirm", url.Values{"csrf": {cc.csrf}})
	tok = confirmField.FindStringSubmatch(body)[1]
	status, body = cc.send("POST", "/console/rules/rollback", url.Values{"csrf": {cc.csrf}, "confirm": {tok}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, 200, s.do("GET", "/admin/rules", rulesAdmin, "", &in))
	require.Equal(t, "2022.06-9", in.Active.Version)

	// The demo transcoder is an auditor too: the page, read-only.
	status, body = signInConsole(t, s, transcoder).send("GET", "/console/rules", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `id="read-only"`)
	require.NotContains(t, body, "upload-form")

	s.stop()
	recs := trail(t, dir)
	var got []string
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "console_rules") {
			got = append(got, fmt.Sprintf("%s %s %s %s", r.Actor, r.Action, r.Outcome, r.Target))
		}
	}
	require.Equal(t, []string{
		"demo-rules-admin console_rules_upload refused ",
		"demo-rules-admin console_rules_upload ok healthcode-default@2022.06-9b",
		"demo-rules-admin console_rules_activate forbidden ",
		"demo-rules-admin console_rules_activate ok healthcode-default@2022.06-9b",
		"demo-rules-admin console_rules_rollback ok healthcode-default@2022.06-9",
	}, got)
}
