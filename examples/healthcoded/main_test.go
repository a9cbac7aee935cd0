package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// server is a healthcoded started by run() on a loopback port.
type server struct {
	t      *testing.T
	stop   func() // stops the server and waits for run to return
	base   string
	data   string
	stderr *testenv.Buffer
	people [][]string // demo-people.csv rows
}

// start runs healthcoded with args until the test ends, and waits for it
// to print where it listens.
func start(t *testing.T, data string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testenv.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", data, "-demo-people", "300"}, args...), pw, stderr)
		pw.CloseWithError(err)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "server did not start: %s", stderr.String())
	go io.Copy(io.Discard, pr)
	_, rest, ok := strings.Cut(line, "http://")
	require.True(t, ok, line)
	addr, _, _ := strings.Cut(rest, " ")
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	s := &server{t: t, stop: stop, base: "http://" + addr, data: data, stderr: stderr}
	f, err := os.Open(filepath.Join(data, "demo-people.csv"))
	if os.IsNotExist(err) && slices.Contains(args, "-store") {
		return s // a later node of a shared store: the first one seeded
	}
	require.NoError(t, err)
	defer f.Close()
	s.people, err = csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return s
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (s *server) do(method, path, token, body string, out any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	if out != nil {
		require.NoError(s.t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode
}

// person returns the document number and phone of the first demo person
// seeded with colour.
func (s *server) person(colour string) (id, phone string) {
	for _, row := range s.people[1:] {
		if row[4] == colour && row[1] == "身份证" {
			return row[0], row[2]
		}
	}
	s.t.Fatalf("no %s person in the demo population", colour)
	return "", ""
}

const (
	transcoder = "demo-transcoder-token"
	auditor    = "demo-auditor-token"
	rulesAdmin = "demo-rules-token"
)

type codeResp struct {
	Colour  string `json:"colour"`
	Token   string `json:"token"`
	Sources []struct {
		Source string `json:"source"`
		Colour string `json:"colour"`
		RuleID string `json:"rule_id"`
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	} `json:"sources"`
}

func TestEndToEnd(t *testing.T) {
	s := start(t, t.TempDir())
	redID, _ := s.person("red")
	greenID, greenPhone := s.person("green")

	// Public lookup: by document, with provenance and a token that verifies.
	var red codeResp
	require.Equal(t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q,"name":"张三"}`, redID), &red))
	require.Equal(t, "red", red.Colour)
	require.Equal(t, "document", red.Sources[0].Source)
	require.NotEmpty(t, red.Sources[0].RuleID)
	var ver map[string]any
	require.Equal(t, 200, s.do("POST", "/v1/token/verify", "", fmt.Sprintf(`{"token":%q}`, red.Token), &ver))
	require.Equal(t, true, ver["valid"])
	require.Equal(t, "red", ver["colour"])
	require.Equal(t, "张*", ver["name"])
	require.Equal(t, 200, s.do("POST", "/v1/token/verify", "", `{"token":"AAAA"}`, &ver))
	require.Equal(t, false, ver["valid"])

	// The lowercase-x and full-width forms of an ID name the same person.
	var green codeResp
	require.Equal(t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, greenID), &green))
	require.Equal(t, "green", green.Colour)

	// Malformed ID: 400 with what and where, the number masked.
	var e map[string]any
	bad := greenID[:17] + string("0123456789"[(int(greenID[17]-'0')+1)%10])
	if greenID[17] == 'X' {
		bad = greenID[:17] + "0"
	}
	require.Equal(t, 400, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, bad), &e))
	require.Contains(t, e["message"], "check digit")
	require.NotContains(t, e["message"], bad, "the raw number must not be echoed")
	require.EqualValues(t, 18, e["details"].(map[string]any)["position"])
	require.Equal(t, 400, s.do("POST", "/v1/code", "", `{"id": 12}`, &e))
	require.EqualValues(t, "id", e["details"].(map[string]any)["field"])
	require.Equal(t, 400, s.do("POST", "/v1/code", "", `{}`, &e))
	require.Contains(t, e["message"], "give id")

	// Scans are recorded under the pseudonym.
	require.Equal(t, 201, s.do("POST", "/v1/scans", "", fmt.Sprintf(`{"phone":%q,"venue":"510104-0001"}`, greenPhone), nil))
	require.Equal(t, 400, s.do("POST", "/v1/scans", "", fmt.Sprintf(`{"id":%q}`, greenID), &e))
	require.Equal(t, "venue", e["details"].(map[string]any)["field"])

	// Admin refusals: no token, wrong role, missing reason, malformed ID.
	tc := fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-2022-0131","reason":"close contact confirmed by CDC"}`, greenID)
	require.Equal(t, 401, s.do("POST", "/admin/transcode", "", tc, &e))
	require.Equal(t, 401, s.do("POST", "/admin/transcode", "wrong", tc, &e))
	require.Equal(t, 403, s.do("POST", "/admin/transcode", auditor, tc, &e))
	noReason := fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-2022-0131"}`, greenID)
	require.Equal(t, 422, s.do("POST", "/admin/transcode", transcoder, noReason, &e))
	require.Contains(t, e["message"], "reason")
	noAuth := fmt.Sprintf(`{"id":%q,"colour":"red","reason":"x"}`, greenID)
	require.Equal(t, 422, s.do("POST", "/admin/transcode", transcoder, noAuth, &e))
	require.Equal(t, 400, s.do("POST", "/admin/transcode", transcoder, `{"id":"12345","colour":"red","authorisation":"a","reason":"b"}`, &e))
	require.Equal(t, 400, s.do("POST", "/admin/transcode", transcoder, strings.Replace(tc, `"red"`, `"purple"`, 1), &e))
	require.Equal(t, "colour", e["details"].(map[string]any)["field"])
	// The refusals changed nothing.
	require.Equal(t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, greenID), &green))
	require.Equal(t, "green", green.Colour)

	// An authorised transcode is attributed and shows in the history.
	require.Equal(t, 200, s.do("POST", "/admin/transcode", transcoder, tc, nil))
	require.Equal(t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, greenID), &green))
	require.Equal(t, "red", green.Colour)
	require.Equal(t, "demo-transcoder", green.Sources[0].Actor)
	var hist struct {
		Entries []struct {
			Seq    int
			Colour string
			Actor  string
		}
		Verified map[string]any
	}
	require.Equal(t, 200, s.do("POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, greenID), &hist))
	require.Equal(t, true, hist.Verified["ok"])
	last := hist.Entries[len(hist.Entries)-1]
	require.Equal(t, "red", last.Colour)
	require.Equal(t, "demo-transcoder", last.Actor)
	require.Equal(t, len(hist.Entries)-1, last.Seq)

	// Rule upload: a broken set is refused with positions; a good one is
	// dry-run, then activated and rolled back.
	broken := "id: t\nversion: v-bad\ndefault: green\nrules:\n  - id: r1\n    when: nosuchfact > 1\n    colour: red\n    reason: x\n"
	require.Equal(t, 422, s.do("POST", "/admin/rules", rulesAdmin, broken, &e))
	p := e["details"].([]any)[0].(map[string]any)
	require.Equal(t, "r1", p["rule_id"])
	require.EqualValues(t, 6, p["line"])
	require.Equal(t, 403, s.do("POST", "/admin/rules", auditor, broken, &e))

	allYellow := "id: t\nversion: v-yellow\ndefault: yellow\nrules:\n  - id: never\n    when: \"false\"\n    colour: red\n    reason: never\n"
	var up struct {
		Pending string
		DryRun  struct {
			Total       int `json:"total"`
			Changed     int `json:"changed"`
			Transitions []struct {
				From  string `json:"from"`
				To    string `json:"to"`
				Count int    `json:"count"`
			} `json:"transitions"`
		} `json:"dry_run"`
	}
	require.Equal(t, 200, s.do("POST", "/admin/rules", rulesAdmin, allYellow, &up))
	require.Equal(t, "t@v-yellow", up.Pending)
	require.Equal(t, 300, up.DryRun.Total)
	require.Positive(t, up.DryRun.Changed)
	moved := 0
	for _, tr := range up.DryRun.Transitions {
		require.Equal(t, "yellow", tr.To, "the candidate makes everyone yellow")
		moved += tr.Count
	}
	require.Equal(t, up.DryRun.Changed, moved)
	require.Equal(t, 404, s.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"nope"}`, &e))
	require.Equal(t, 200, s.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"v-yellow"}`, nil))
	var rs map[string]any
	require.Equal(t, 200, s.do("GET", "/admin/rules", auditor, "", &rs))
	require.Equal(t, "v-yellow", rs["active"].(map[string]any)["version"])
	require.Equal(t, 200, s.do("POST", "/admin/rules/rollback", rulesAdmin, "", nil))
	require.Equal(t, 200, s.do("GET", "/admin/rules", auditor, "", &rs))
	require.NotEqual(t, "v-yellow", rs["active"].(map[string]any)["version"])

	// Risk areas are data: a bad level is refused, a good set published.
	require.Equal(t, 400, s.do("PUT", "/admin/risk-areas", rulesAdmin, `{"version":"h1","areas":[{"region":"510104","level":"extreme"}]}`, &e))
	require.Equal(t, 200, s.do("PUT", "/admin/risk-areas", rulesAdmin, `{"version":"h2","areas":[{"region":"510104","level":"high"}]}`, nil))

	// Bulk evaluation: a positive test turns a green person red; a bad line
	// is reported by number and skipped.
	now := time.Now().UTC()
	bulk := fmt.Sprintf(`{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":true,"sampled":%q}]}}
{"id":"not-an-id!","facts":{}}
{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":false,"sampled":%q}]}}
`, s.people[5][0], now.Add(-2*time.Hour).Format(time.RFC3339), redID, now.Add(-3*time.Hour).Format(time.RFC3339))
	req, err := http.NewRequest("POST", s.base+"/admin/evaluate", strings.NewReader(bulk))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+rulesAdmin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var summary map[string]any
	sc := bufio.NewScanner(resp.Body)
	sawProgress := false
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		if _, ok := m["done"]; ok {
			sawProgress = true
			continue
		}
		summary = m
	}
	require.True(t, sawProgress)
	require.EqualValues(t, 2, summary["evaluated"])
	require.EqualValues(t, 1, summary["rejected"])
	require.EqualValues(t, 2, summary["errors"].([]any)[0].(map[string]any)["line"])
	var after codeResp
	require.Equal(t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, s.people[5][0]), &after))
	require.Equal(t, "red", after.Colour)

	// Statistics over the seeded baseline.
	var st map[string]any
	require.Equal(t, 200, s.do("GET", "/admin/stats", auditor, "", &st))
	require.Len(t, st["days"], demoDays+1)
	require.Contains(t, st, "anomalies")

	// Operations endpoints, and no raw identity in the logs.
	require.Equal(t, 200, s.do("GET", "/healthz", "", "", nil))
	require.Equal(t, 200, s.do("GET", "/readyz", "", "", nil))
	resp2, err := http.Get(s.base + "/metrics")
	require.NoError(t, err)
	mb, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	require.Contains(t, string(mb), `healthcoded_http_requests_total{code="200",route="code"}`)
	require.Contains(t, string(mb), `healthcoded_codes_in_force{colour="red"}`)
	require.NotContains(t, string(mb), `healthcoded_codes_in_force{colour="green"} -`, "the gauge counts keys, never below zero")
	require.Contains(t, string(mb), `healthcoded_http_shed_total{reason="concurrency"} 0`)
	require.Contains(t, string(mb), `healthcoded_lookups_total{answered_by="filter"}`)
	require.Contains(t, string(mb), `healthcoded_cache_hit_ratio`)
	logs := s.stderr.String()
	require.Contains(t, logs, `"action":"transcode"`)
	for _, raw := range []string{redID, greenID, greenPhone} {
		require.NotContains(t, logs, raw)
	}
}

func TestRestartKeepsStateAndSkipsSeeding(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	id, _ := s.person("green")
	tc := fmt.Sprintf(`{"id":%q,"colour":"yellow","authorisation":"A-1","reason":"travel check"}`, id)
	require.Equal(t, 200, s.do("POST", "/admin/transcode", transcoder, tc, nil))
	s.stop()
	s2 := start(t, dir)
	var c codeResp
	require.Equal(t, 200, s2.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id), &c))
	require.Equal(t, "yellow", c.Colour)
	require.NotContains(t, s2.stderr.String(), "demo population seeded")
}

func TestOverloadAnswers429AtOnce(t *testing.T) {
	s := start(t, t.TempDir(), "-rps", "5", "-burst", "5", "-client-rps", "-1")
	id, _ := s.person("green")
	codes := map[int]int{}
	for range 50 {
		req, _ := http.NewRequest("POST", s.base+"/v1/code", strings.NewReader(fmt.Sprintf(`{"id":%q}`, id)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 {
			require.NotEmpty(t, resp.Header.Get("Retry-After"))
		}
	}
	require.Positive(t, codes[429])
	require.Positive(t, codes[200])
	require.Equal(t, 50, codes[200]+codes[429])
	// Health checks are never shed.
	require.Equal(t, 200, s.do("GET", "/healthz", "", "", nil))
}

// TestSeedingLeavesAFreshFilter: 14 days of demo decisions turn many codes
// red or yellow and back; the filter rebuilt after seeding holds exactly
// the keys that are non-green now, so lookups of recovered people stop at
// the filter instead of reaching the cache and the store.
func TestSeedingLeavesAFreshFilter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.DemoPeople = t.TempDir(), 2000
	a, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	defer a.Close()
	nonGreen := 0
	require.NoError(t, a.store.Scan(context.Background(), func(_ codes.Key, c codes.Colour) error {
		if c != codes.Green {
			nonGreen++
		}
		return nil
	}))
	require.Positive(t, nonGreen)
	require.Equal(t, uint64(nonGreen), a.reg.FilterStats().Added)
}

// trail reads every record of the audit trail in the bolt store of the
// data directory dir (its server stopped).
func trail(t *testing.T, dir string) []codes.AuditRecord {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dir, "codes.db"), boltstore.DefaultConfig())
	require.NoError(t, err)
	defer st.Close()
	var recs []codes.AuditRecord
	for {
		page, err := st.ReadAudit(context.Background(), uint64(len(recs)), 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			return recs
		}
		recs = append(recs, page...)
	}
}
