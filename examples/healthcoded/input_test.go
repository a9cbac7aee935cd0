package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 20 item 5: every endpoint fed what a careless or hostile client
// sends. A refusal is a 4xx with a JSON body that says what was wrong and
// where, and changes nothing.

// answer is one raw response: status, headers and the JSON body (nil when
// the body is not a JSON object).
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// send sends body with the given headers ("Authorization" gets its
// "Bearer " prefix from token).
func (s *server) send(method, path, token string, hdr map[string]string, body []byte) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

// refused checks a 4xx answer with a JSON error body, and returns its
// details (an empty map if it has none).
func (a answer) refused(t *testing.T, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, a.status, a.raw)
	require.NotNil(t, a.body, "want a JSON error body, got %q", a.raw)
	require.NotEmpty(t, a.body["error"], a.raw)
	require.NotEmpty(t, a.body["message"], a.raw)
	d, _ := a.body["details"].(map[string]any)
	if d == nil {
		d = map[string]any{}
	}
	return d
}

// endpoint is a route with a body that it accepts.
type endpoint struct {
	method, path, token string
	good                string
}

func endpoints(s *server) []endpoint {
	id, _ := s.person("green")
	return []endpoint{
		{"POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id)},
		{"POST", "/v1/token/verify", "", `{"token":"AAAA"}`},
		{"POST", "/v1/scans", "", fmt.Sprintf(`{"id":%q,"venue":"510104-0001"}`, id)},
		{"POST", "/admin/transcode", transcoder, fmt.Sprintf(`{"id":%q,"colour":"yellow","authorisation":"A-1","reason":"r"}`, id)},
		{"POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id)},
		{"POST", "/admin/rules/activate", rulesAdmin, `{"version":"nope"}`},
		{"PUT", "/admin/risk-areas", rulesAdmin, `{"version":"h1","areas":[{"region":"510104","level":"high"}]}`},
	}
}

// personState is what a refused admin call must leave alone: the
// person's displayed code and the length and head of their history.
func (s *server) personState(id string) string {
	s.t.Helper()
	var c codeResp
	require.Equal(s.t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id), &c))
	var h struct {
		Entries []struct {
			Seq  int
			Hash string
		}
	}
	require.Equal(s.t, 200, s.do("POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id), &h))
	last := h.Entries[len(h.Entries)-1]
	return fmt.Sprintf("%s %d %s", c.Colour, last.Seq, last.Hash)
}

func TestInputBodyTooLarge(t *testing.T) {
	s := start(t, t.TempDir())
	id, _ := s.person("green")
	before := s.personState(id)
	big := []byte(`{"id":"` + strings.Repeat("1", 10<<20) + `"}`)
	for _, e := range endpoints(s) {
		s.send(e.method, e.path, e.token, nil, big).refused(t, http.StatusRequestEntityTooLarge)
	}
	s.send("POST", "/admin/rules", rulesAdmin, nil, bytes.Repeat([]byte("# x\n"), 1<<19)).refused(t, http.StatusRequestEntityTooLarge)
	line := fmt.Sprintf(`{"id":%q,"facts":{"manual_flags":[%q]}}`, id, strings.Repeat("x", 10<<20))
	d := s.send("POST", "/admin/evaluate", rulesAdmin, nil, []byte(line+"\n")).refused(t, http.StatusRequestEntityTooLarge)
	require.EqualValues(t, 1, d["line"])
	require.Equal(t, before, s.personState(id))
}

func TestInputBOM(t *testing.T) {
	s := start(t, t.TempDir())
	for _, e := range endpoints(s) {
		a := s.send(e.method, e.path, e.token, nil, []byte("\ufeff"+e.good))
		require.Less(t, a.status, 500, "%s %s: %s", e.method, e.path, a.raw)
		if a.status >= 400 {
			require.NotContains(t, a.raw, "invalid character", "%s %s: a BOM is read as UTF-8's signature", e.method, e.path)
		}
	}
	id, _ := s.person("green")
	now := time.Now().UTC()
	bulk := fmt.Sprintf("\ufeff{\"id\":%q,\"facts\":{\"tests\":[{\"kind\":\"pcr\",\"positive\":false,\"sampled\":%q}]}}\r\n", id, now.Add(-time.Hour).Format(time.RFC3339))
	sum := evaluate(t, s, bulk)
	require.EqualValues(t, 1, sum["evaluated"], sum)
	require.EqualValues(t, 0, sum["rejected"], sum)
}

// evaluate posts a bulk upload that is accepted and returns its summary.
func evaluate(t *testing.T, s *server, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest("POST", s.base+"/admin/evaluate", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+rulesAdmin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var last map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		last = nil
		require.NoError(t, json.Unmarshal(sc.Bytes(), &last))
	}
	return last
}

// dryRunTotal is the size of the population a rule upload is dry-run
// against, which a bulk evaluation replaces.
func dryRunTotal(t *testing.T, s *server, version string) int {
	t.Helper()
	set := "id: t\nversion: " + version + "\ndefault: green\nrules:\n  - id: never\n    when: \"false\"\n    colour: red\n    reason: never\n"
	var up struct {
		DryRun struct {
			Total int `json:"total"`
		} `json:"dry_run"`
	}
	require.Equal(t, 200, s.do("POST", "/admin/rules", rulesAdmin, set, &up))
	return up.DryRun.Total
}

func TestInputEmptyAndMalformedBodies(t *testing.T) {
	s := start(t, t.TempDir())
	id, _ := s.person("green")
	before := s.personState(id)
	for _, e := range endpoints(s) {
		name := e.method + " " + e.path
		s.send(e.method, e.path, e.token, nil, nil).refused(t, 400)
		require.Contains(t, s.send(e.method, e.path, e.token, nil, []byte(" \r\n")).raw, "empty body", name)
		// CRLF line ends: the position is still line and column.
		d := s.send(e.method, e.path, e.token, nil, []byte("{\r\n\r\n  ]")).refused(t, 400)
		require.EqualValues(t, 3, d["line"], name)
		require.EqualValues(t, 3, d["column"], name)
		d = s.send(e.method, e.path, e.token, nil, []byte(`{"nosuch":1}`)).refused(t, 400)
		require.Equal(t, "nosuch", d["field"], name)
		a := s.send(e.method, e.path, e.token, nil, []byte(`[]`))
		a.refused(t, 400)
		require.Contains(t, a.raw, "want an object", name)
		require.Contains(t, s.send(e.method, e.path, e.token, nil, []byte(e.good+" {}")).raw, "after top-level value", name)
	}
	// Invalid UTF-8 inside a string names the field.
	d := s.send("POST", "/admin/transcode", transcoder, nil, []byte(fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"A","reason":"r\xff"}`, id))).refused(t, 400)
	require.Equal(t, "reason", d["field"])
	d = s.send("POST", "/v1/scans", "", nil, []byte(fmt.Sprintf(`{"id":%q,"venue":"V\xc3"}`, id))).refused(t, 400)
	require.Equal(t, "venue", d["field"])
	// Wrong types.
	d = s.send("POST", "/admin/transcode", transcoder, nil, []byte(fmt.Sprintf(`{"id":%q,"colour":1,"authorisation":"A","reason":"r"}`, id))).refused(t, 400)
	require.Equal(t, "colour", d["field"])
	d = s.send("PUT", "/admin/risk-areas", rulesAdmin, nil, []byte(`{"version":"h","areas":{"region":"510104"}}`)).refused(t, 400)
	require.Equal(t, "areas", d["field"])
	require.Equal(t, before, s.personState(id))

	// An empty bulk upload, or one whose every line is bad, is refused and
	// leaves the dry-run population alone.
	require.Equal(t, 300, dryRunTotal(t, s, "p1"))
	s.send("POST", "/admin/evaluate", rulesAdmin, nil, nil).refused(t, 400)
	s.send("POST", "/admin/evaluate", rulesAdmin, nil, []byte("\n\r\n\n")).refused(t, 400)
	a := s.send("POST", "/admin/evaluate", rulesAdmin, nil, []byte("{\"id\":\"not-an-id\",\"facts\":{}}\n[1]\n"))
	a.refused(t, 400)
	require.Contains(t, a.raw, `"line":2`)
	require.Equal(t, 300, dryRunTotal(t, s, "p2"), "a refused upload kept the population")
	require.Equal(t, before, s.personState(id))
}

func TestInputTimesOutOfRange(t *testing.T) {
	s := start(t, t.TempDir())
	id, _ := s.person("green")
	before := s.personState(id)
	for _, at := range []string{"2022-02-30T10:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z",
		time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "2022-01-05 10:00:00", "1641348000"} {
		d := s.send("POST", "/v1/scans", "", nil, []byte(fmt.Sprintf(`{"id":%q,"venue":"V1","time":%q}`, id, at))).refused(t, 400)
		require.Equal(t, "time", d["field"], at)
	}
	require.Equal(t, 201, s.send("POST", "/v1/scans", "", nil, []byte(fmt.Sprintf(`{"id":%q,"venue":"V1","time":%q}`, id, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))).status)

	for _, exp := range []string{"2022-02-30T10:00:00Z", "0000-01-01T00:00:00Z", "2001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"} {
		a := s.send("POST", "/admin/transcode", transcoder, nil, []byte(fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"A","reason":"r","expires":%q}`, id, exp)))
		require.True(t, a.status == 400 || a.status == 422, "%s: %s", exp, a.raw)
		require.Equal(t, "expires", a.refused(t, a.status)["field"], exp)
	}
	a := s.send("POST", "/admin/transcode", transcoder, map[string]string{"Idempotency-Key": strings.Repeat("k", 129)},
		[]byte(fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"A","reason":"r"}`, id)))
	require.Equal(t, "Idempotency-Key", a.refused(t, 400)["field"])
	require.Equal(t, before, s.personState(id))

	// A bulk line with a time out of range, or a negative count, is rejected
	// by line and field, not evaluated.
	now := time.Now().UTC()
	bulk := fmt.Sprintf(`{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":true,"sampled":"0001-01-01T00:00:00Z"}]}}
{"id":%q,"facts":{"vaccine_doses":-3}}
{"id":%q,"facts":{"now":"9999-01-01T00:00:00Z"}}
{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":true}]}}
{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":false,"sampled":%q}]}}
`, id, id, id, id, id, now.Add(-time.Hour).Format(time.RFC3339))
	sum := evaluate(t, s, bulk)
	require.EqualValues(t, 1, sum["evaluated"], sum)
	require.EqualValues(t, 4, sum["rejected"], sum)
	var fields []string
	for _, e := range sum["errors"].([]any) {
		fields = append(fields, fmt.Sprint(e.(map[string]any)["field"]))
	}
	require.Equal(t, []string{"facts.tests.0.sampled", "facts.vaccine_doses", "facts.now", "facts.tests.0.sampled"}, fields)
}

func TestInputMethodsAndHeaders(t *testing.T) {
	s := start(t, t.TempDir())
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/v1/code", "POST"},
		{"PUT", "/v1/scans", "POST"},
		{"DELETE", "/admin/transcode", "POST"},
		{"POST", "/admin/risk-areas", "PUT"},
		{"DELETE", "/admin/rules", "GET, HEAD, POST"},
		{"POST", "/admin/stats", "GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		a := s.send(c.method, c.path, rulesAdmin, nil, nil)
		a.refused(t, http.StatusMethodNotAllowed)
		require.Equal(t, c.allow, a.header.Get("Allow"), c.method+" "+c.path)
	}
	id, _ := s.person("green")
	body := []byte(fmt.Sprintf(`{"id":%q}`, id))
	// A JSON body in another charset would be misread; a multipart form
	// (curl -F) is not JSON at all.
	for _, ct := range []string{"application/json; charset=gbk", "multipart/form-data; boundary=x", "application/xml"} {
		s.send("POST", "/v1/code", "", map[string]string{"Content-Type": ct}, body).refused(t, http.StatusUnsupportedMediaType)
	}
	for _, ct := range []string{"", "application/json", "application/json; charset=UTF-8", "application/x-www-form-urlencoded", "text/plain"} {
		require.Equal(t, 200, s.send("POST", "/v1/code", "", map[string]string{"Content-Type": ct}, body).status, ct)
	}
	// Identities never travel in URLs: a query string is refused, by name.
	d := s.send("POST", "/v1/code?id="+id, "", nil, body).refused(t, 400)
	require.Equal(t, "id", d["parameter"])
	require.NotContains(t, s.stderr.String(), id)
	s.send("GET", "/admin/stats?days=%zz", auditor, nil, nil).refused(t, 400)
}

func TestInputAdminEnums(t *testing.T) {
	s := start(t, t.TempDir())
	id, _ := s.person("green")
	before := s.personState(id)
	for _, col := range []string{"RED", " red", "", "blue", "红"} {
		d := s.send("POST", "/admin/transcode", transcoder, nil, []byte(fmt.Sprintf(`{"id":%q,"colour":%q,"authorisation":"A","reason":"r"}`, id, col))).refused(t, 400)
		require.Equal(t, "colour", d["field"], col)
	}
	d := s.send("POST", "/admin/transcode", transcoder, nil, []byte(fmt.Sprintf(`{"id":%q,"doc_type":"licence","colour":"red","authorisation":"A","reason":"r"}`, id))).refused(t, 400)
	require.Equal(t, "doc_type", d["field"])
	require.Equal(t, before, s.personState(id))

	var rs map[string]any
	require.Equal(t, 200, s.do("GET", "/admin/rules", auditor, "", &rs))
	areas := rs["risk_areas"]
	d = s.send("PUT", "/admin/risk-areas", rulesAdmin, nil, []byte(`{"version":"h","areas":[{"region":"510104","level":"high"},{"region":"510104","level":"extreme"}]}`)).refused(t, 400)
	require.Equal(t, "areas.1.level", d["field"])
	d = s.send("PUT", "/admin/risk-areas", rulesAdmin, nil, []byte(`{"version":"h","areas":[{"region":"51010","level":"high"}]}`)).refused(t, 400)
	require.Equal(t, "areas.0.region", d["field"])
	d = s.send("POST", "/admin/rules/activate", rulesAdmin, nil, []byte(`{"version":""}`)).refused(t, 400)
	require.Equal(t, "version", d["field"])
	require.Equal(t, 200, s.do("GET", "/admin/rules", auditor, "", &rs))
	require.Equal(t, areas, rs["risk_areas"], "no refused snapshot was published")
}
