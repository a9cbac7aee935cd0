package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
)

// wires are the shared stores healthcoded runs on: each returns the
// -store URL of a fresh database, dropped when the test ends.
var wires = []struct {
	name  string
	fresh func(testing.TB) string
}{
	{"postgres", testenv.PostgresDB},
	{"mysql", func(t testing.TB) string { return "mysql://" + testenv.MySQLDB(t) }},
}

// eachWire runs f once per shared store, as a subtest.
func eachWire(t *testing.T, f func(t *testing.T, fresh func(testing.TB) string)) {
	for _, w := range wires {
		t.Run(w.name, func(t *testing.T) { f(t, w.fresh) })
	}
}

// twoNodes starts two healthcoded nodes in this process over one fresh
// database, sharing their keys as the README says: a seeds the demo
// population, b finds it there.
func twoNodes(t *testing.T, fresh func(testing.TB) string) (a, b *server) {
	t.Helper()
	db := fresh(t)
	keys := t.TempDir()
	a = start(t, t.TempDir(), "-store", db, "-keys", keys)
	b = start(t, t.TempDir(), "-store", db, "-keys", keys)
	b.people = a.people
	return a, b
}

// until polls f every millisecond until it holds, and returns how long it
// took; it fails the test after 10 s.
func until(t *testing.T, what string, f func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !f() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("not within 10 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

func (s *server) colour(id string) string {
	s.t.Helper()
	var c codeResp
	require.Equal(s.t, 200, s.do("POST", "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id), &c))
	return c.Colour
}

func TestClusterTranscodeOnOneNodeIsSeenOnTheOther(t *testing.T) {
	eachWire(t, testTranscodeSeen)
}

func testTranscodeSeen(t *testing.T, fresh func(testing.TB) string) {
	a, b := twoNodes(t, fresh)
	id, _ := a.person("green")
	require.Equal(t, "green", a.colour(id))
	require.Equal(t, "green", b.colour(id), "b shares a's codes and keys")

	for i, to := range []string{"red", "yellow", "green"} {
		body := fmt.Sprintf(`{"id":%q,"colour":%q,"authorisation":"HZ-%d","reason":"cluster test"}`, id, to, i)
		require.Equal(t, 200, a.do("POST", "/admin/transcode", transcoder, body, nil))
		require.Equal(t, to, a.colour(id), "the writing node reads its own write at once")
		took := until(t, "b serves "+to, func() bool { return b.colour(id) == to })
		t.Logf("transcode to %s on a served by b after %v", to, took)
	}
	// b's history is a's: one chain, verified.
	var h struct {
		Entries  []map[string]any `json:"entries"`
		Verified struct {
			OK bool `json:"ok"`
		} `json:"verified"`
	}
	require.Equal(t, 200, b.do("POST", "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id), &h))
	require.True(t, h.Verified.OK)
	var manual int
	for _, e := range h.Entries {
		if e["actor"] != nil && e["actor"] != "" {
			manual++
		}
	}
	require.Equal(t, 3, manual)
}

func TestClusterRuleActivationReachesEveryNode(t *testing.T) {
	eachWire(t, testActivationReaches)
}

func testActivationReaches(t *testing.T, fresh func(testing.TB) string) {
	a, b := twoNodes(t, fresh)
	set := `id: cluster
version: c-1
default: green
rules:
  - id: everyone-yellow
    when: "true"
    colour: yellow
    reason: cluster test
`
	var up map[string]any
	require.Equal(t, 200, a.do("POST", "/admin/rules", rulesAdmin, set, &up))
	// b learns of the upload from the feed and can activate it itself.
	until(t, "b holds c-1 as pending", func() bool {
		var r map[string]any
		b.do("GET", "/admin/rules", auditor, "", &r)
		for _, p := range asSlice(r["pending"]) {
			if p.(map[string]any)["version"] == "c-1" {
				return true
			}
		}
		return false
	})
	require.Equal(t, 200, b.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"c-1"}`, nil))
	took := until(t, "a runs c-1", func() bool {
		var r map[string]any
		a.do("GET", "/admin/rules", auditor, "", &r)
		act, _ := r["active"].(map[string]any)
		return act != nil && act["version"] == "c-1"
	})
	t.Logf("activation on b in force on a after %v", took)
	// Activating it again on a: it is no longer pending anywhere.
	require.Equal(t, 404, a.do("POST", "/admin/rules/activate", rulesAdmin, `{"version":"c-1"}`, nil))

	// Risk areas published on a are b's too.
	require.Equal(t, 200, a.do("PUT", "/admin/risk-areas", rulesAdmin, `{"version":"ra-cluster","areas":[{"region":"510104","level":"high"}]}`, nil))
	until(t, "b has the areas", func() bool {
		var r map[string]any
		b.do("GET", "/admin/rules", auditor, "", &r)
		ra, _ := r["risk_areas"].(map[string]any)
		return ra != nil && ra["version"] == "ra-cluster"
	})
	// Rollback on b returns both to the default set.
	require.Equal(t, 200, b.do("POST", "/admin/rules/rollback", rulesAdmin, "", nil))
	until(t, "a rolled back", func() bool {
		var r map[string]any
		a.do("GET", "/admin/rules", auditor, "", &r)
		act, _ := r["active"].(map[string]any)
		return act != nil && act["version"] != "c-1"
	})
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestClusterBadStoreURL(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", t.TempDir(),
		"-store", "postgres://postgres@127.0.0.1:1/test?connect_timeout=2"}, io.Discard, &stderr)
	require.Error(t, err)
	require.Contains(t, err.Error(), "127.0.0.1:1", "the error names host and port")
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", t.TempDir(),
		"-store", "redis://root:secret@127.0.0.1/x"}, io.Discard, &stderr)
	require.ErrorContains(t, err, "-store")
	require.NotContains(t, err.Error(), "secret", "no password in the message")
}

// proc is a healthcoded run as a separate process, for kill -9.
type proc struct {
	cmd  *exec.Cmd
	base string
}

func buildHealthcoded(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "healthcoded")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	_, rest, ok := strings.Cut(line, "http://")
	require.True(t, ok, line)
	addr, _, _ := strings.Cut(rest, " ")
	go io.Copy(io.Discard, stdout)
	return &proc{cmd: cmd, base: "http://" + addr}
}

func (p *proc) post(t *testing.T, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", p.base+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestClusterKillNineDuringBulkEvaluation: two processes on one database;
// node a is killed with SIGKILL in the middle of a bulk evaluation. Node b
// keeps serving; after a restarts, every change a acknowledged is there,
// on both nodes, and every history verifies.
func TestClusterKillNineDuringBulkEvaluation(t *testing.T) {
	bin := buildHealthcoded(t)
	eachWire(t, func(t *testing.T, fresh func(testing.TB) string) { testKillNine(t, bin, fresh(t)) })
}

func testKillNine(t *testing.T, bin, db string) {
	keys, dataA, dataB := t.TempDir(), t.TempDir(), t.TempDir()
	a := startProc(t, bin, "-data", dataA, "-keys", keys, "-store", db, "-demo-people", "200")
	b := startProc(t, bin, "-data", dataB, "-keys", keys, "-store", db, "-demo-people", "200")

	// 30 000 people with a positive test: red under the default rules.
	// The evaluation acknowledges every 10 000 applied decisions.
	people := synthIDs(t, 30_000)
	now := time.Now().UTC()
	var bulk strings.Builder
	for _, id := range people {
		fmt.Fprintf(&bulk, `{"id":%q,"facts":{"tests":[{"kind":"pcr","positive":true,"sampled":%q}]}}`+"\n", id, now.Add(-time.Hour).Format(time.RFC3339))
	}
	req, err := http.NewRequest("POST", a.base+"/admin/evaluate", strings.NewReader(bulk.String()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+rulesAdmin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	acked := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		if n, ok := m["applied"].(float64); ok && n > 0 {
			acked = int(n)
			require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
			break
		}
	}
	resp.Body.Close()
	_ = a.cmd.Wait()
	require.Positive(t, acked, "a acknowledged a batch before it was killed")
	t.Logf("killed a after %d of %d decisions were acknowledged", acked, len(people))

	// b never stopped serving, and serves a's acknowledged changes.
	for _, id := range people[:50] {
		st, body := b.post(t, "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id))
		require.Equal(t, 200, st, "%s", body)
	}
	checkRed := func(p *proc) {
		for i := 0; i < acked; i += max(1, acked/200) {
			id := people[i]
			var c codeResp
			st, body := p.post(t, "/v1/code", "", fmt.Sprintf(`{"id":%q}`, id))
			require.Equal(t, 200, st)
			require.NoError(t, json.Unmarshal(body, &c))
			require.Equal(t, "red", c.Colour, "acknowledged decision %d lost", i)
			var h struct {
				Verified struct {
					OK bool `json:"ok"`
				} `json:"verified"`
			}
			st, body = p.post(t, "/admin/history", auditor, fmt.Sprintf(`{"id":%q}`, id))
			require.Equal(t, 200, st)
			require.NoError(t, json.Unmarshal(body, &h))
			require.True(t, h.Verified.OK, "history of %d verifies", i)
		}
	}
	until(t, "b follows a's last acknowledged batch", func() bool {
		st, body := b.post(t, "/v1/code", "", fmt.Sprintf(`{"id":%q}`, people[acked-1]))
		return st == 200 && strings.Contains(string(body), `"colour":"red"`)
	})
	checkRed(b)

	a2 := startProc(t, bin, "-data", dataA, "-keys", keys, "-store", db, "-demo-people", "200")
	checkRed(a2)
}

// synthIDs returns n distinct 18-digit resident IDs from a seed the demo
// population does not use.
func synthIDs(t *testing.T, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	g := synth.New(77)
	for len(out) < n {
		for _, p := range g.People(n) {
			if p.DocType == synth.DocResident && !seen[p.DocNumber] && len(out) < n {
				seen[p.DocNumber] = true
				out = append(out, p.DocNumber)
			}
		}
	}
	return out
}
